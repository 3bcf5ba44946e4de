"""One streamed LLM reply under the rules of a whole reply (:func:`stream_reply`).

A streamed reply is held to three rules: it has one deadline (``RAG_LLM_TIMEOUT``
from the call, however slowly the endpoint connects, starts or trickles: the
stream is read on a worker thread, so a socket that never answers cannot block
the caller past it); it must end with a ``finish_reason`` (a stream that just
stops — a dropped connection, no ``[DONE]`` — is an error, kind "truncated");
and ``finish_reason: "length"`` (cut off at ``max_tokens``) is an error too
unless the caller accepts cut replies.

Import :func:`stream_reply` from :mod:`rag.llm`, which re-exports it. Nothing
heavy is imported here: the runnable to stream comes from the caller.
"""
from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .llm_errors import _FALLBACK, LLMError, _empty, _short, _translate

if TYPE_CHECKING:
    from .llm import LLMConfig


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
    :func:`rag.llm.chat_model`, or an LCEL chain ending in one (not in a string parser: the
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

