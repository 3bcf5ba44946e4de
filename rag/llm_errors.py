"""How a failure of an LLM endpoint becomes one :class:`LLMError` for a person.

One job: whatever the stack raised (openai, httpx, langchain, urllib, sockets),
walk its exception chain and say in one line what went wrong — an HTTP status,
a timeout, a refused or broken connection, a reply that is not an OpenAI chat
completion — ending in what the project does instead (answer extractively).
Used by :mod:`rag.llm` (the public face, which re-exports :class:`LLMError`)
and :mod:`rag.llm_stream`; imports nothing heavy.
"""
from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

_FALLBACK = "answering extractively"


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
