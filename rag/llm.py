"""The one place the project talks to LLMs.

Any OpenAI-compatible chat endpoint works (DeepSeek, Qwen, vLLM, llama.cpp's
server, Ollama's ``/v1`` path). It is configured only through the environment:

==================  ===========================================================
RAG_LLM_BASE_URL    OpenAI-compatible base URL, e.g. ``http://127.0.0.1:8000/v1``
RAG_LLM_MODEL       model name the endpoint serves (required with either host)
RAG_LLM_API_KEY     optional; ``"none"`` when unset (local servers ignore it)
RAG_LLM_TIMEOUT     seconds, default 60: the deadline for one whole reply —
                    connect, first token and the complete stream together
RAG_OLLAMA_HOST     an Ollama host, e.g. ``http://127.0.0.1:11434``; its
                    OpenAI-compatible ``/v1`` path is used (not ``/api/chat``)
==================  ===========================================================

Without them :func:`config_from_env` returns ``None``: the LLM is off and the
project answers extractively. Every failure of a configured endpoint is raised
as :class:`LLMError` with a one-line message meant for a person.

A streamed reply (:func:`stream_reply`, :func:`stream_chat`) is held to three
rules: it has one deadline (``RAG_LLM_TIMEOUT`` from the call, however slowly
the endpoint connects, starts or trickles: the stream is read on a worker
thread, so a socket that never answers cannot block the caller past it); it
must end with a ``finish_reason`` (a stream that just stops — a dropped
connection, no ``[DONE]`` — is an error, kind "truncated"); and
``finish_reason: "length"`` (cut off at ``max_tokens``) is an error too unless
the caller accepts cut replies.

Heavy imports (langchain-openai, openai) are lazy: importing this module costs
nothing, so the extractive path never loads them.
"""
from __future__ import annotations

import contextvars
import json
import os
import queue
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LLMConfig",
    "LLMError",
    "config_from_env",
    "chat_model",
    "stream_chat",
    "stream_reply",
    "complete",
    "ping",
    "describe",
]

DEFAULT_API_KEY = "none"
DEFAULT_TIMEOUT = 60.0
PING_TIMEOUT = 5.0
_FALLBACK = "answering extractively"

Messages = Sequence[tuple[str, str]] | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to reach one OpenAI-compatible chat endpoint."""

    base_url: str  # OpenAI-compatible base, e.g. "http://127.0.0.1:8012/v1" (no trailing "/")
    model: str
    api_key: str = DEFAULT_API_KEY
    timeout: float = DEFAULT_TIMEOUT
    provider: str = "openai"  # "openai" | "ollama" (Ollama through its /v1 path)

    def __repr__(self) -> str:  # never print the key
        key = "none" if self.api_key in ("", DEFAULT_API_KEY) else "***"
        return (
            f"LLMConfig(base_url={self.base_url!r}, model={self.model!r}, api_key={key!r}, "
            f"timeout={self.timeout!r}, provider={self.provider!r})"
        )


class LLMError(Exception):
    """An LLM endpoint failed; ``str(err)`` is one line for a person.

    ``kind`` is one of: "config", "unreachable", "timeout", "auth", "model",
    "http", "junk", "empty", "truncated" (a stream cut off: ``finish_reason``
    "length", or no end at all — the connection dropped).
    """

    def __init__(self, message: str, kind: str = "http") -> None:
        message = " ".join(str(message).split())  # always one line
        super().__init__(message)
        self.message = message
        self.kind = kind


# --------------------------------------------------------------------------- config


def _env(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def _check_url(url: str, var: str) -> str:
    if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1]) == 0:
        raise LLMError(f"{var}={url!r} is not an http(s) URL", kind="config")
    return url.rstrip("/")


def config_from_env(env: Mapping[str, str] = os.environ) -> LLMConfig | None:
    """Read the LLM settings; ``None`` when no endpoint is configured (LLM off).

    ``RAG_LLM_BASE_URL`` wins over ``RAG_OLLAMA_HOST`` when both are set. An
    Ollama host without a scheme (``127.0.0.1:11434``, as Ollama itself allows)
    gets ``http://``; ``/v1`` is appended unless already there.

    Raises :class:`LLMError` (kind "config") for a half or broken configuration:
    an endpoint without ``RAG_LLM_MODEL``, a URL that is not http(s), or a
    timeout that is not a positive number.
    """
    base = _env(env, "RAG_LLM_BASE_URL")
    ollama = _env(env, "RAG_OLLAMA_HOST")
    if not base and not ollama:
        return None
    if base:
        provider, base_url = "openai", _check_url(base, "RAG_LLM_BASE_URL")
    else:
        host = ollama if "://" in ollama else "http://" + ollama
        host = _check_url(host, "RAG_OLLAMA_HOST")
        if host.endswith("/v1"):
            host = host[: -len("/v1")]
        provider, base_url = "ollama", host + "/v1"
    model = _env(env, "RAG_LLM_MODEL")
    if not model:
        var = "RAG_LLM_BASE_URL" if base else "RAG_OLLAMA_HOST"
        raise LLMError(f"{var} is set but RAG_LLM_MODEL is empty; set the model name to use", kind="config")
    raw_timeout = _env(env, "RAG_LLM_TIMEOUT")
    try:
        timeout = float(raw_timeout) if raw_timeout else DEFAULT_TIMEOUT
    except ValueError:
        timeout = float("nan")
    if not timeout > 0 or timeout == float("inf"):
        raise LLMError(f"RAG_LLM_TIMEOUT={raw_timeout!r} is not a positive number of seconds", kind="config")
    api_key = _env(env, "RAG_LLM_API_KEY") or DEFAULT_API_KEY
    return LLMConfig(base_url=base_url, model=model, api_key=api_key, timeout=timeout, provider=provider)


def describe(cfg: LLMConfig) -> str:
    """Short display form, e.g. ``llm:gemma-3-270m @ http://127.0.0.1:8012/v1``."""
    via = " (ollama)" if cfg.provider == "ollama" else ""
    return f"llm:{cfg.model} @ {cfg.base_url}{via}"


# --------------------------------------------------------------------------- errors


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        reason = getattr(cur, "reason", None)  # urllib's URLError keeps the socket error here
        cur = reason if isinstance(reason, BaseException) else (cur.__cause__ or cur.__context__)


def _short(text: Any, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status_message(status: int, detail: str, base_url: str, model: str) -> LLMError:
    where = f"LLM endpoint {base_url}"
    if status in (401, 403):
        return LLMError(
            f"{where} rejected the API key (HTTP {status}); check RAG_LLM_API_KEY; {_FALLBACK}", kind="auth"
        )
    if status == 404:
        return LLMError(
            f"{where} does not know model '{model}' (HTTP 404); check RAG_LLM_MODEL and the base URL path; "
            f"{_FALLBACK}",
            kind="model",
        )
    extra = f": {_short(detail)}" if detail else ""
    return LLMError(f"{where} answered HTTP {status}{extra}; {_FALLBACK}", kind="http")


def _translate(exc: BaseException, base_url: str, model: str, timeout: float | None) -> LLMError:
    """Turn any failure of a call to the endpoint into one human LLMError."""
    if isinstance(exc, LLMError):
        return exc
    where = f"LLM endpoint {base_url}"
    chain = list(_chain(exc))
    names = {type(e).__name__ for e in chain}
    # HTTP status errors (openai.APIStatusError and LangChain's subclasses of it)
    for e in chain:
        status = getattr(e, "status_code", None)
        if isinstance(status, int):
            return _status_message(status, getattr(e, "message", "") or str(e), base_url, model)
    # timeouts: openai.APITimeoutError, httpx(2) *Timeout, socket.timeout
    if any(isinstance(e, (TimeoutError, socket.timeout)) for e in chain) or any(
        "Timeout" in n for n in names
    ):
        t = f" after {timeout:g} s" if timeout else ""
        return LLMError(f"{where} timed out{t} (no answer); {_FALLBACK}", kind="timeout")
    refused = any(isinstance(e, ConnectionRefusedError) for e in chain) or any(
        "connection refused" in str(e).lower() or "errno 111" in str(e).lower() for e in chain
    )
    if refused:
        return LLMError(f"{where} is not reachable (connection refused); {_FALLBACK}", kind="unreachable")
    if any(isinstance(e, (OSError, ConnectionError)) for e in chain) or any(
        n in ("APIConnectionError", "ConnectError", "RemoteProtocolError", "ReadError") for n in names
    ):
        inner = chain[-1]
        reason = _short(inner) if str(inner) and inner is not exc else type(inner).__name__
        if reason in ("Connection error.", "APIConnectionError", ""):
            reason = "connection failed"
        return LLMError(f"{where} is not reachable ({reason}); {_FALLBACK}", kind="unreachable")
    if any(isinstance(e, (ValueError, TypeError, KeyError, AttributeError)) for e in chain):
        return LLMError(
            f"{where} sent a reply that is not an OpenAI chat completion ({type(chain[-1]).__name__}: "
            f"{_short(chain[-1], 80)}); {_FALLBACK}",
            kind="junk",
        )
    return LLMError(f"{where} failed ({type(exc).__name__}: {_short(exc, 100)}); {_FALLBACK}", kind="http")


def _no_stream(base_url: str) -> LLMError:
    """The HTTP call succeeded but not one chat-completion chunk could be read."""
    return LLMError(
        f"LLM endpoint {base_url} sent no chat completion (an empty reply, or one that is not an "
        f"OpenAI-compatible stream); {_FALLBACK}",
        kind="junk",
    )


def _empty(base_url: str) -> LLMError:
    return LLMError(f"LLM endpoint {base_url} sent an empty reply (no text); {_FALLBACK}", kind="empty")


# --------------------------------------------------------------------------- model

_MODEL_CLASS: Any = None


def _model_class() -> Any:
    """ChatOpenAI whose every failure surfaces as LLMError (built on first use)."""
    global _MODEL_CLASS
    if _MODEL_CLASS is not None:
        return _MODEL_CLASS
    from langchain_openai import ChatOpenAI

    class RagChatOpenAI(ChatOpenAI):
        """langchain-openai ChatOpenAI; errors become :class:`rag.llm.LLMError`."""

        def _err(self, exc: BaseException) -> LLMError:
            t = self.request_timeout
            return _translate(exc, self.openai_api_base or "", self.model_name, t if isinstance(t, (int, float)) else None)

        def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            got = False
            try:
                for chunk in super()._stream(*args, **kwargs):
                    got = True
                    yield chunk
            except GeneratorExit:
                raise
            except Exception as exc:  # noqa: BLE001 - translated, cause kept
                raise self._err(exc) from exc
            if not got:
                raise _no_stream(self.openai_api_base or "")

        async def _astream(self, *args: Any, **kwargs: Any) -> Any:
            got = False
            try:
                async for chunk in super()._astream(*args, **kwargs):
                    got = True
                    yield chunk
            except GeneratorExit:
                raise
            except Exception as exc:  # noqa: BLE001
                raise self._err(exc) from exc
            if not got:
                raise _no_stream(self.openai_api_base or "")

        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super()._generate(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                raise self._err(exc) from exc

        async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return await super()._agenerate(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                raise self._err(exc) from exc

    _MODEL_CLASS = RagChatOpenAI
    return _MODEL_CLASS


def chat_model(
    cfg: LLMConfig, *, max_tokens: int | None = 512, temperature: float = 0.0, timeout: float | None = None
) -> Any:
    """A LangChain chat model (``langchain_openai.ChatOpenAI``) for ``cfg``.

    Compose it with LCEL: ``prompt | chat_model(cfg) | StrOutputParser()``.
    Streaming, no retries, ``timeout`` (default ``cfg.timeout``) per connect/read
    — the deadline of a whole reply is :func:`stream_reply`'s; the per-read timeout
    only ends a worker thread that was left blocked on a silent socket (keep it
    constant: langchain-openai caches one HTTP client per timeout value). Every
    failure is raised as :class:`LLMError`. ``max_tokens`` is sent as the classic
    ``max_tokens`` field, which every OpenAI-compatible server reads
    (langchain-openai would send ``max_completion_tokens``, which llama.cpp and
    older Ollama ignore).
    """
    cls = _model_class()
    extra_body = {"max_tokens": int(max_tokens)} if max_tokens else None
    return cls(
        base_url=cfg.base_url,
        api_key=cfg.api_key or DEFAULT_API_KEY,
        model=cfg.model,
        timeout=cfg.timeout if timeout is None else max(0.05, float(timeout)),
        max_retries=0,
        streaming=True,
        temperature=temperature,
        extra_body=extra_body,
    )


def _to_messages(messages: Messages) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {
        "system": SystemMessage,
        "developer": SystemMessage,
        "user": HumanMessage,
        "human": HumanMessage,
        "assistant": AIMessage,
        "ai": AIMessage,
    }
    out = []
    for m in messages:
        if isinstance(m, Mapping):
            role, content = m.get("role"), m.get("content")
        elif isinstance(m, (tuple, list)) and len(m) == 2:
            role, content = m
        else:
            raise ValueError(f"a message must be (role, text) or {{'role': …, 'content': …}}, got {m!r}")
        cls = kinds.get(str(role).lower())
        if cls is None or not isinstance(content, str):
            raise ValueError(f"bad message: role {role!r} with content of type {type(content).__name__}")
        out.append(cls(content=content))
    if not out:
        raise ValueError("no messages to send")
    return out


def _chunk_text(content: Any, base_url: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
        return "".join(parts)
    raise LLMError(
        f"LLM endpoint {base_url} sent a reply that is not text ({type(content).__name__}); {_FALLBACK}",
        kind="junk",
    )


def _secs(t: float) -> str:
    return f"{round(t, 1):g}"


def _pump(make: Callable[[], Iterator[Any]], deadline: float, on_timeout: Callable[[], LLMError]) -> Iterator[Any]:
    """Yield what ``make()`` yields, read on a daemon thread, until ``deadline``
    (``time.monotonic()``); then raise ``on_timeout()``. The caller never waits past
    the deadline, whatever the socket does; the worker stops at its next item (or
    when its own read timeout ends a blocked read) and closes the stream."""
    items: queue.Queue = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        it = None
        try:
            it = iter(make())
            for x in it:
                items.put((0, x))
                if stop.is_set():
                    break
            items.put((1, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            items.put((2, exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001
                    pass

    ctx = contextvars.copy_context()
    threading.Thread(target=ctx.run, args=(work,), name="rag-llm-stream", daemon=True).start()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise on_timeout()
            try:
                tag, val = items.get(timeout=left)
            except queue.Empty:
                raise on_timeout() from None
            if tag == 0:
                yield val
            elif tag == 1:
                return
            else:
                raise val
    finally:
        stop.set()


def stream_reply(
    cfg: LLMConfig,
    runnable: Any,
    value: Any,
    *,
    deadline: float | None = None,
    allow_length: bool = False,
    limit: str | None = None,
) -> Iterator[str]:
    """Yield the text deltas of ``runnable.stream(value)`` — a chat model from
    :func:`chat_model`, or an LCEL chain ending in one (not in a string parser: the
    chunks' ``finish_reason`` is read) — under the rules of a whole reply:

    * ``deadline`` (``time.monotonic()`` seconds; default now + ``cfg.timeout``)
      bounds connect, first token and the whole stream: past it, LLMError "timeout"
      (``limit`` says in the message what set the deadline, e.g. "3 s, RAG_LLM_TIMEOUT");
    * a stream that ends without a ``finish_reason`` (the connection dropped, no
      ``[DONE]``) or breaks off with a connection error after text came is
      LLMError "truncated"; so is ``finish_reason: "length"`` unless ``allow_length``;
    * a reply without any text is LLMError "empty"; any other failure is
      translated to one LLMError.

    Text already yielded is not taken back: a caller that shows it must hold it
    until the call returns (or be ready to withdraw it).
    """
    start = time.monotonic()
    deadline = start + cfg.timeout if deadline is None else deadline
    budget = max(0.0, deadline - start)
    limit = limit or f"{_secs(budget)} s, RAG_LLM_TIMEOUT"
    where = f"LLM endpoint {cfg.base_url}"
    state = {"text": False, "finish": None}

    def timed_out() -> LLMError:
        what = "reply not finished" if state["text"] else "no reply"
        return LLMError(f"{where} timed out ({what} within {limit}); {_FALLBACK}", kind="timeout")

    try:
        for chunk in _pump(lambda: runnable.stream(value), deadline, timed_out):
            meta = getattr(chunk, "response_metadata", None) or {}
            finish = meta.get("finish_reason") if isinstance(meta, Mapping) else None
            if finish:
                state["finish"] = finish
            text = _chunk_text(getattr(chunk, "content", chunk), cfg.base_url)
            if text:
                if text.strip():
                    state["text"] = True
                yield text
    except LLMError as exc:
        if exc.kind == "timeout":  # the client's read timeout is the budget: the same event
            raise timed_out() from exc
        if exc.kind == "unreachable" and state["text"]:
            cause = exc.__cause__
            why = f" ({_short(cause, 100)})" if cause is not None and str(cause) else ""
            raise LLMError(f"{where} dropped the connection in the middle of its reply{why}; {_FALLBACK}",
                           kind="truncated") from exc
        raise
    except Exception as exc:  # noqa: BLE001 - anything else the stack raised
        raise _translate(exc, cfg.base_url, cfg.model, budget) from exc
    if not state["text"]:
        raise _empty(cfg.base_url)
    finish = state["finish"]
    if finish is None:
        raise LLMError(
            f"{where} stopped in the middle of its reply (the stream ended without a finish_reason: "
            f"the connection dropped?); {_FALLBACK}",
            kind="truncated",
        )
    if finish == "length" and not allow_length:
        raise LLMError(
            f"{where} cut its reply off at the token limit (finish_reason 'length'); {_FALLBACK}", kind="truncated"
        )
    if finish == "content_filter":
        raise LLMError(f"{where} withheld its reply (finish_reason 'content_filter'); {_FALLBACK}", kind="junk")


def stream_chat(
    cfg: LLMConfig,
    messages: Messages,
    *,
    max_tokens: int = 512,
    temperature: float = 0.0,
    deadline: float | None = None,
    allow_length: bool = True,
) -> Iterator[str]:
    """Yield the reply's text deltas as they arrive.

    ``messages`` is ``[("system", …), ("user", …)]`` or ``[{"role": …, "content": …}]``
    (roles system/user/assistant, also human/ai). Raises :class:`LLMError` on any
    failure of the endpoint (see :func:`stream_reply`: one deadline, default
    ``cfg.timeout`` from this call; a stream that stops without its end), including
    a reply with no text at all; a bad ``messages`` argument is a ``ValueError``.
    A reply cut at ``max_tokens`` is accepted unless ``allow_length=False``.
    """
    msgs = _to_messages(messages)
    model = chat_model(cfg, max_tokens=max_tokens, temperature=temperature)
    yield from stream_reply(cfg, model, msgs, deadline=deadline, allow_length=allow_length)


def complete(cfg: LLMConfig, messages: Messages, **kw: Any) -> str:
    """The whole reply as one string (``stream_chat`` joined); same errors."""
    return "".join(stream_chat(cfg, messages, **kw))


# --------------------------------------------------------------------------- health


def ping(cfg: LLMConfig) -> str | None:
    """Quick health check: ``GET {base_url}/models``. ``None`` if fine, else the message."""
    url = cfg.base_url + "/models"
    timeout = min(cfg.timeout, PING_TIMEOUT)
    req = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {cfg.api_key or DEFAULT_API_KEY}", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - configured endpoint
            body = resp.read(1_000_000)
    except urllib.error.HTTPError as exc:
        detail = ""
        try:
            detail = exc.read(300).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001
            pass
        if exc.code == 404:  # /models itself missing: the base URL is wrong, not the model
            return LLMError(
                f"LLM endpoint {cfg.base_url} has no {url} (HTTP 404); check the base URL (it usually ends in /v1); "
                f"{_FALLBACK}",
                kind="http",
            ).message
        return _status_message(exc.code, detail, cfg.base_url, cfg.model).message
    except Exception as exc:  # noqa: BLE001
        return _translate(exc, cfg.base_url, cfg.model, timeout).message
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise ValueError("no 'data' list")
    except ValueError as exc:
        return LLMError(
            f"LLM endpoint {cfg.base_url} sent a reply that is not an OpenAI model list ({_short(exc, 60)}); "
            f"{_FALLBACK}",
            kind="junk",
        ).message
    return None


def translate_error(exc: BaseException, cfg: LLMConfig) -> LLMError:
    """Any failure of a call to `cfg`'s endpoint as one human LLMError (public form)."""
    return _translate(exc, cfg.base_url, cfg.model, cfg.timeout)
