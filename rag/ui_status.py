"""What the web app tells the user about itself: an exception as one line (and whether it
is one written for the user, logged without a traceback), the answer time-out, and the
status line at the top of the page. No Gradio here.

``loader`` is the app's loader of the shared services: ``done`` (an Event set once the
first load finished), ``error`` (a note about the embedding model, or None) and
``get(require_index)`` (the services, or an exception with a message for the user).
"""
from __future__ import annotations

from collections.abc import Iterable

from . import service
from . import ui_format as fmt


class AnswerTimeout(Exception):
    """A question that took longer than ``settings.request_timeout``."""


def expected(e: BaseException) -> bool:
    """Errors with a message written for the user (no traceback in the server log)."""
    from .catalog import CatalogError
    from .llm import LLMError
    from .store import StoreError

    return isinstance(e, (ValueError, LookupError, service.IndexMissing, LLMError, StoreError, CatalogError,
                          AnswerTimeout, OSError))


def message(e: BaseException) -> str:
    """An exception as one line for the user (the library's messages are written for that)."""
    msg = " ".join(str(e).split()) or type(e).__name__
    if isinstance(e, KeyError):
        msg = f"unknown {msg}"
    if expected(e) and not isinstance(e, OSError):
        return msg
    return f"{type(e).__name__}: {msg}"


def status_markdown(loader, problems: Iterable[str] = ()) -> str:
    """The status line: loading, an error (with what to do), or ready with the counts and
    the answer mode; then the settings' ``problems`` and the loader's note, as warnings."""
    warn = fmt.problems_markdown(problems)
    warn = ("\n\n" + warn) if warn else ""
    if not loader.done.is_set():
        return "⏳ 正在加载模型与索引… (loading the models and the index)" + warn
    try:
        svc = loader.get(require_index=True)
    except service.IndexMissing as e:
        return f"⚠️ {fmt.md_text(message(e))} — 或在“报告 Reports”页上传报告 (or upload reports in the Reports tab)" + warn
    except Exception as e:
        return f"⚠️ {fmt.md_text(message(e))}" + warn
    n_rep, n_pas = len(svc.corpus.reports), len(svc.corpus.chunks)
    mode = fmt.mode_label(svc.answerer.mode)
    if loader.error:
        warn = f"\n\n⚠️ {fmt.md_text(loader.error)}" + warn
    return f"✅ 已就绪 (ready) · {n_rep} 份报告 (reports) · {n_pas} 个段落 (passages) · 模式 mode: **{fmt.md_text(mode)}**" + warn
