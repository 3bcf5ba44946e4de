"""The web app's Chat tab and its ``/ask`` API: a question answered in a background thread,
its tokens streamed into the chat, then the sources with the cited passages and (when
asked for) how the question was understood; the API call answers with the answer dict.
Both give up after ``settings.request_timeout`` with a one-line message.

``loader`` is the app's loader of the shared services (see :mod:`rag.ui_status`).
"""
from __future__ import annotations

import queue
import threading
import time
import traceback

import gradio as gr

from . import ui_format as fmt
from . import ui_status as st

_DONE = object()


def _timeout(svc) -> float:
    return float(getattr(svc.settings, "request_timeout", 90.0) or 90.0)


def _reports(svc) -> dict:
    return {r.id: r for r in svc.corpus.reports}


def _texts(svc, answer) -> dict:
    """report id → stored text, for the reports an answer cites or shows."""
    out = {}
    for rid in {c.report_id for c in answer.citations} | {s.report_id for s in answer.retrieved}:
        r = svc.corpus.report(rid)
        if r is not None:
            out[rid] = svc.corpus.text(r.key)
    return out


def explain(conv, on: bool) -> str:
    """The last question's reading as HTML, when ``on`` and there is one."""
    if not on or conv is None or conv.last_query is None:
        return ""
    return fmt.explain_html(conv.last_query.explain())


def chat(loader, message: str, history: list | None, conv, report: str | None, show_explain: bool = False):
    """Chat handler: streams the answer into the chat, then shows the sources and (when
    asked for) how the question was understood.
    Yields (textbox, chatbot, sources html, conversation state, explain html)."""
    from .conversation import Conversation

    history = list(history or [])
    message = message or ""
    if message.strip():
        history.append({"role": "user", "content": fmt.md_text(message)})
    try:
        svc = loader.get()
    except Exception as e:
        history.append({"role": "assistant", "content": "⚠️ " + fmt.md_text(st.message(e))})
        yield "", history, fmt.error_html(st.message(e)), conv, ""
        return
    if conv is None or conv.answerer is not svc.answerer:
        conv = Conversation(svc.answerer)
    conv.report = report or None
    timeout = _timeout(svc)

    tokens: queue.Queue = queue.Queue()
    box: dict = {}

    def work():
        try:
            box["answer"] = conv.ask(message, on_token=tokens.put)
        except Exception as e:  # ValueError (empty question), UnknownReport, store errors …
            box["error"] = e
            if not st.expected(e):
                traceback.print_exc()
        finally:
            tokens.put(_DONE)

    threading.Thread(target=work, name="rag-ask", daemon=True).start()
    history.append({"role": "assistant", "content": "🔎 检索中… (searching)"})
    yield "", history, "", conv, ""

    deadline = time.monotonic() + timeout
    text, shown, finished = "", 0, False
    while not finished:
        try:
            pieces = [tokens.get(timeout=max(0.05, deadline - time.monotonic()))]
        except queue.Empty:
            box.setdefault("error", st.AnswerTimeout(
                f"回答超时 (no answer within {timeout:g} s; RAG_REQUEST_TIMEOUT): 请重试或换个问法 (try again)"))
            break
        while True:  # take what else is waiting: one update per batch of tokens
            try:
                pieces.append(tokens.get_nowait())
            except queue.Empty:
                break
        retracted = False
        for p in pieces:
            if p is _DONE:
                finished = True
            elif getattr(p, "retract", False):  # the LLM reply failed after part was shown: drop it
                text, shown, retracted = "", 0, True
            elif isinstance(p, str):
                text += p
        if retracted and not text:
            history[-1] = {"role": "assistant", "content": "🔎 …"}
            yield "", history, "", conv, ""
        if len(text) > shown:
            # a big piece at once (the extractive answer comes whole): type it out briefly
            for i in range(shown + 24, len(text), 24):
                history[-1] = {"role": "assistant", "content": fmt.answer_markdown(text[:i]) + " ▌"}
                yield "", history, "", conv, ""
                time.sleep(0.02)
            shown = len(text)
            history[-1] = {"role": "assistant", "content": fmt.answer_markdown(text) + " ▌"}
            yield "", history, "", conv, ""

    if "error" in box:
        err = st.message(box["error"])
        history[-1] = {"role": "assistant", "content": "⚠️ " + fmt.md_text(err)}
        yield "", history, fmt.error_html(err), conv, ""
        return
    ans = box["answer"]
    history[-1] = {"role": "assistant", "content": fmt.answer_markdown(ans.answer)}
    yield "", history, fmt.sources_html(ans, _reports(svc), _texts(svc, ans)), conv, explain(conv, show_explain)


def toggle_explain(on: bool, conv):
    """The "how the question was understood" checkbox: shows the last question's reading."""
    return gr.HTML(value=explain(conv, bool(on)), visible=bool(on))


def new_chat(conv):
    """The "New" button: an empty chat; the conversation forgets its turns."""
    if conv is not None:
        conv.reset()
    return [], "", conv, ""


def ask(loader, question: str, report: str | None = None) -> dict:
    """The ``/ask`` API: the answer dict of ``rag.answer.answer_to_dict``; a `gr.Error`
    with a one-line message on failure or after ``settings.request_timeout``."""
    from .answer import answer_to_dict
    from .conversation import Conversation

    box: dict = {}
    try:
        svc = loader.get()
        timeout = _timeout(svc)

        def work():
            try:
                box["answer"] = Conversation(svc.answerer, report=report or None).ask(question or "")
            except Exception as e:
                box["error"] = e

        t = threading.Thread(target=work, name="rag-api-ask", daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            raise st.AnswerTimeout(f"回答超时 (no answer within {timeout:g} s; RAG_REQUEST_TIMEOUT)")
        if "error" in box:
            raise box["error"]
    except Exception as e:
        if not st.expected(e):
            traceback.print_exc()
        raise gr.Error(st.message(e), print_exception=False) from None
    return answer_to_dict(box["answer"])
