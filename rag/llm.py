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

A streamed reply (:func:`stream_reply`, :func:`stream_chat`) has one deadline,
must end with a ``finish_reason``, and is an error when cut at ``max_tokens``
unless the caller accepts that: the rules and the worker thread that enforces
them are in :mod:`rag.llm_stream`; failures are turned into :class:`LLMError`
by :mod:`rag.llm_errors`. :class:`LLMError` and :func:`stream_reply` are
re-exported here: import them from ``rag.llm``.

Heavy imports (langchain-openai, openai) are lazy: importing this module costs
nothing, so the extractive path never loads them.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .llm_errors import _FALLBACK, LLMError, _no_stream, _short, _status_message, _translate
from .llm_stream import stream_reply

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


# --------------------------------------------------------------------------- chat


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
