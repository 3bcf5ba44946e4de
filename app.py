"""The web app: chat with clickable citations, a report browser (upload, summaries,
sections, corrections), a cross-report compare table, and the eval results. A thin layer
over `rag`: everything comes from `rag.service` (corpus, retriever, answerer, store),
`rag.conversation`, `rag.table`, `rag.summary` and `rag.index`; HTML from `rag.ui_format`.

    python app.py                       # http://127.0.0.1:7860
    python app.py --host 127.0.0.1 --port 8080   (or RAG_HOST / RAG_PORT)

The chat function is also an API endpoint (``/ask``):

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("海曙区2020年GDP增长目标是多少?", api_name="/ask")
"""
from __future__ import annotations

import argparse
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
from datetime import datetime
from pathlib import Path

from rag.settings import current as current_settings  # sets the offline flags before anything else loads

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag import catalog  # noqa: E402
from rag import service  # noqa: E402
from rag import ui_format as fmt  # noqa: E402
from rag import ui_reports as rfmt  # noqa: E402
from rag.formats import SUFFIXES  # noqa: E402
from rag.index import index_paths  # noqa: E402
from rag.table import CORE, cells, rows_for, to_csv  # noqa: E402

ROOT = Path(__file__).resolve().parent
RUNS = ROOT / "runs"
ALL_REPORTS = "全部报告 (all reports)"
TITLE = "政府工作报告问答 · Government Work Reports Q&A"
UPLOADS = "uploads"  # under settings.home
CSV_DIR = Path(tempfile.gettempdir()) / "rag-app-csv"
INDEX_LOCK = threading.Lock()  # one indexing run at a time (uploads and corrections)

CSS = """
.gradio-container { font-family: "IBM Plex Sans", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC",
  "Microsoft YaHei", "WenQuanYi Zen Hei", sans-serif; }
#status p { margin: 0; }
.rag-sources, .rag-upload, .rag-explain { font-size: 0.95em; line-height: 1.6; overflow-wrap: anywhere; }
.rag-meta { color: var(--body-text-color-subdued); font-size: 0.9em; margin: 0.2em 0; }
.rag-h { font-weight: 600; margin: 0.6em 0 0.3em; }
.rag-warn { background: #fff4e5; color: #7a4100; border-left: 4px solid #f59e0b; padding: 0.4em 0.6em; margin: 0.3em 0; border-radius: 4px; }
.rag-note { background: #eef6ff; color: #1e3a5f; border-left: 4px solid #60a5fa; padding: 0.3em 0.6em; margin: 0.3em 0; border-radius: 4px; }
.rag-refused { background: #fdecec; color: #7f1d1d; border-left: 4px solid #ef4444; padding: 0.4em 0.6em; margin: 0.3em 0; border-radius: 4px; font-weight: 600; }
details.rag-src { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 0.4em 0.6em; margin: 0.4em 0; }
details.rag-src > summary { cursor: pointer; list-style-position: outside; margin-left: 1em; }
details.rag-src[open] > summary { margin-bottom: 0.4em; }
.rag-n { font-weight: 700; color: #1d4ed8; }
.rag-title { font-weight: 600; }
.rag-sec, .rag-page { color: var(--body-text-color-subdued); }
.rag-quote { margin-top: 0.2em; }
.rag-passage { border-top: 1px dashed var(--border-color-primary); padding-top: 0.4em; }
.rag-ctx-head { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 0.3em; }
.rag-ctx { white-space: pre-wrap; }
.rag-outline .rag-ctx { max-height: 28em; overflow-y: auto; }
mark.fig { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; font-weight: 600; }
mark.hl { background: #bfdbfe; color: inherit; padding: 1px 0; border-radius: 2px; }
mark.hl mark.fig { background: #fcd34d; }
details.rag-rejected { font-size: 0.9em; color: var(--body-text-color-subdued); margin: 0.3em 0; }
details.rag-rejected > summary { cursor: pointer; }
.rag-report-title { font-size: 1.15em; font-weight: 700; }
.rag-outline details > summary { cursor: pointer; }
.rag-ol-item { margin: 0.15em 0; }
.rag-kind { font-size: 0.75em; border-radius: 3px; padding: 0 4px; margin-left: 4px; }
.rag-kind-review { background: #dcfce7; color: #166534; }
.rag-kind-plan { background: #e0e7ff; color: #3730a3; }
.rag-guessed { font-size: 0.8em; background: #fef3c7; color: #92400e; border-radius: 3px; padding: 0 4px; }
.rag-explain table { border-collapse: collapse; font-size: 0.92em; }
.rag-explain th { text-align: left; font-weight: 600; padding: 0.15em 0.8em 0.15em 0; white-space: nowrap; vertical-align: top; }
.rag-explain td { padding: 0.15em 0; }
.rag-upload ul { margin: 0.2em 0 0.4em 1.2em; padding: 0; }
.rag-upload li { margin: 0.25em 0; }
"""


# --- the shared services (models + index, loaded once per process) ---------------------------
class Loader:
    """Builds `rag.service.services()` once in the background (and loads the embedding
    model), so the page opens at once and shows the loading status; every handler waits
    on the same object."""

    def __init__(self):
        self.done = threading.Event()
        self.error: str | None = None
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, name="rag-load", daemon=True).start()

    def _run(self) -> None:
        svc = None
        try:
            svc = service.services(require_index=False)  # a store error here is raised again by get()
            if svc.corpus.reports:
                svc.embedder.embed_query("预热 warm-up")  # the model loads now, not at the first question
        except Exception as e:
            if svc is not None:  # the services are there but the embedding model did not load
                self.error = f"embedding model: {_message(e)}"
            if not _expected(e):
                traceback.print_exc()
        finally:
            self.done.set()

    def get(self, require_index: bool = True):
        """The services; raises with a message for the user when they cannot be had
        (IndexMissing when nothing is indexed and ``require_index``)."""
        self.start()
        self.done.wait()
        return service.services(require_index)  # picks up what was indexed since


LOADER = Loader()


class AnswerTimeout(Exception):
    """A question that took longer than ``settings.request_timeout``."""


def _expected(e: BaseException) -> bool:
    """Errors with a message written for the user (no traceback in the server log)."""
    from rag.catalog import CatalogError
    from rag.llm import LLMError
    from rag.store import StoreError

    return isinstance(e, (ValueError, LookupError, service.IndexMissing, LLMError, StoreError, CatalogError,
                          AnswerTimeout, OSError))


def _message(e: BaseException) -> str:
    """An exception as one line for the user (the library's messages are written for that)."""
    msg = " ".join(str(e).split()) or type(e).__name__
    if isinstance(e, KeyError):
        msg = f"unknown {msg}"
    if _expected(e) and not isinstance(e, OSError):
        return msg
    return f"{type(e).__name__}: {msg}"


def status_markdown() -> str:
    warn = fmt.problems_markdown(current_settings().problems)
    warn = ("\n\n" + warn) if warn else ""
    if not LOADER.done.is_set():
        return "⏳ 正在加载模型与索引… (loading the models and the index)" + warn
    try:
        svc = LOADER.get(require_index=True)
    except service.IndexMissing as e:
        return f"⚠️ {fmt.md_text(_message(e))} — 或在“报告 Reports”页上传报告 (or upload reports in the Reports tab)" + warn
    except Exception as e:
        return f"⚠️ {fmt.md_text(_message(e))}" + warn
    n_rep, n_pas = len(svc.corpus.reports), len(svc.corpus.chunks)
    mode = fmt.mode_label(svc.answerer.mode)
    if LOADER.error:
        warn = f"\n\n⚠️ {fmt.md_text(LOADER.error)}" + warn
    return f"✅ 已就绪 (ready) · {n_rep} 份报告 (reports) · {n_pas} 个段落 (passages) · 模式 mode: **{fmt.md_text(mode)}**" + warn


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


def _explain(conv, on: bool) -> str:
    if not on or conv is None or conv.last_query is None:
        return ""
    return fmt.explain_html(conv.last_query.explain())


# --- chat -------------------------------------------------------------------------------
_DONE = object()


def chat(message: str, history: list | None, conv, report: str | None, show_explain: bool = False):
    """Chat handler: streams the answer into the chat, then shows the sources and (when
    asked for) how the question was understood.
    Yields (textbox, chatbot, sources html, conversation state, explain html)."""
    from rag.conversation import Conversation

    history = list(history or [])
    message = message or ""
    if message.strip():
        history.append({"role": "user", "content": fmt.md_text(message)})
    try:
        svc = LOADER.get()
    except Exception as e:
        history.append({"role": "assistant", "content": "⚠️ " + fmt.md_text(_message(e))})
        yield "", history, fmt.error_html(_message(e)), conv, ""
        return
    if conv is None or conv.answerer is not svc.answerer:
        conv = Conversation(svc.answerer)
    conv.report = report or None
    timeout = float(getattr(svc.settings, "request_timeout", 90.0) or 90.0)

    tokens: queue.Queue = queue.Queue()
    box: dict = {}

    def work():
        try:
            box["answer"] = conv.ask(message, on_token=tokens.put)
        except Exception as e:  # ValueError (empty question), UnknownReport, store errors …
            box["error"] = e
            if not _expected(e):
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
            box.setdefault("error", AnswerTimeout(
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
        err = _message(box["error"])
        history[-1] = {"role": "assistant", "content": "⚠️ " + fmt.md_text(err)}
        yield "", history, fmt.error_html(err), conv, ""
        return
    ans = box["answer"]
    history[-1] = {"role": "assistant", "content": fmt.answer_markdown(ans.answer)}
    yield "", history, fmt.sources_html(ans, _reports(svc), _texts(svc, ans)), conv, _explain(conv, show_explain)


def toggle_explain(on: bool, conv):
    """The "how the question was understood" checkbox: shows the last question's reading."""
    return gr.HTML(value=_explain(conv, bool(on)), visible=bool(on))


def new_chat(conv):
    if conv is not None:
        conv.reset()
    return [], "", conv, ""


# --- API ----------------------------------------------------------------------------------
def ask(question: str, report: str | None = None) -> dict:
    """Answer a question about the government work reports, with citations.

    Args:
        question: the question, in Chinese or English
        report: optional report id to search only that report (e.g. "haishu-2020")

    Returns:
        the answer dict: question, answer, refused, citations [{n, doc, report_id, section,
        start, end, page, quote}], retrieved, latency_ms, mode, guard_ok, notes, query
    """
    from rag.answer import answer_to_dict
    from rag.conversation import Conversation

    box: dict = {}
    try:
        svc = LOADER.get()
        timeout = float(getattr(svc.settings, "request_timeout", 90.0) or 90.0)

        def work():
            try:
                box["answer"] = Conversation(svc.answerer, report=report or None).ask(question or "")
            except Exception as e:
                box["error"] = e

        t = threading.Thread(target=work, name="rag-api-ask", daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            raise AnswerTimeout(f"回答超时 (no answer within {timeout:g} s; RAG_REQUEST_TIMEOUT)")
        if "error" in box:
            raise box["error"]
    except Exception as e:
        if not _expected(e):
            traceback.print_exc()
        raise gr.Error(_message(e), print_exception=False) from None
    return answer_to_dict(box["answer"])


# --- reports ------------------------------------------------------------------------------
def _formats(svc) -> dict:
    return {k: e.get("format", "") for k, e in svc.corpus.entries.items()}


def _catalog(svc) -> list[list]:
    return rfmt.catalog_rows(svc.corpus.reports, _formats(svc))


def _summary(svc, r) -> str:
    """The report's cited summary as Markdown (cached by content); a message on failure."""
    from rag.summary.render import to_markdown
    from rag.summary.service import summarize

    try:
        try:
            return to_markdown(summarize(svc, r.key, use_llm=svc.settings.llm is not None))
        except Exception as e:
            if svc.settings.llm is None:
                raise
            note = f"⚠️ LLM 摘要失败，改用抽取式 (the LLM summary failed: {fmt.md_text(_message(e))})\n\n"
            return note + to_markdown(summarize(svc, r.key, use_llm=False))
    except Exception as e:
        if not _expected(e):
            traceback.print_exc()
        return f"⚠️ 摘要生成失败 (the summary failed): {fmt.md_text(_message(e))}"


def _outline(svc, r) -> str:
    try:
        return rfmt.outline_html(svc.corpus.sections(r.key), svc.corpus.text(r.key))
    except Exception as e:
        return fmt.error_html(f"无法读取章节 (cannot read the sections): {_message(e)}")


def _form(r) -> tuple:
    """The correction form's values for a report (region, level, year, review, plan)."""
    if r is None:
        return "", "", "", "", ""
    return r.region, r.level, str(r.year or ""), rfmt.years_text(r.review_years), rfmt.years_text(r.plan_years)


def show_report(ref: str | None):
    """Yields (header html, summary markdown, outline html, region, level, year, review years, plan years)."""
    if not ref:
        yield "", "请选择一份报告 (choose a report).", "", *_form(None)
        return
    try:
        svc = LOADER.get(require_index=False)
    except Exception as e:
        yield fmt.error_html(_message(e)), "", "", *_form(None)
        return
    r = svc.corpus.report(ref)
    if r is None:
        yield fmt.error_html(f"未知报告 (unknown report): {ref}"), "", "", *_form(None)
        return
    head = rfmt.report_header_html(r, svc.corpus.entries.get(r.key, {}).get("format", ""))
    outline = _outline(svc, r)
    yield head, "⏳ 正在生成摘要… (summarising)", outline, *_form(r)
    yield head, _summary(svc, r), outline, *_form(r)


def pick_row(evt: gr.SelectData, rows):
    """A click in the catalog table selects that report (by its key)."""
    try:
        row = evt.row_value
        if not row:
            data = rows.values.tolist() if hasattr(rows, "values") else rows
            row = data[evt.index[0]]
        rid = str(row[rfmt.CATALOG_ID_COL])
        r = LOADER.get(require_index=False).corpus.report(rid)
        return r.key if r is not None else gr.skip()
    except Exception:
        return gr.skip()


_KEEP = object()


def _lists(svc, selected=_KEEP):
    """(catalog rows, report picker update, chat filter update) after the index changed;
    the picker keeps its report unless ``selected`` (a report key) is given."""
    reports = svc.corpus.reports
    keys = {r.key for r in reports}
    choices = rfmt.report_choices(reports)
    pick = gr.Dropdown(choices=choices) if selected is _KEEP else \
        gr.Dropdown(choices=choices, value=selected if selected in keys else None)
    return _catalog(svc), pick, gr.Dropdown(choices=rfmt.report_choices(reports, ALL_REPORTS))


def _indexed_report(svc, path: Path):
    """The indexed report of a file (by the path it was found at)."""
    want = str(Path(path).absolute())
    for key, e in svc.corpus.entries.items():
        if e.get("found_path") == want or e.get("path") == str(Path(path).resolve()):
            return svc.corpus.report(key)
    return None


# --- upload -------------------------------------------------------------------------------
def _place(src: Path, folder: Path, name: str) -> tuple[Path, bool]:
    """Copy ``src`` into ``folder`` as ``name`` (atomically); a different file already
    there keeps its name and this one gets "-2", "-3" …. Returns (path, created)."""
    stem, suffix = os.path.splitext(name)
    data = src.read_bytes()
    for n in range(1, 1000):
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        if target.resolve().parent != folder.resolve():  # never outside the uploads folder
            raise ValueError("bad file name")
        if target.exists():
            if target.is_file() and target.read_bytes() == data:
                return target, False  # the same file again
            continue
        tmp = folder / f".{uuid.uuid4().hex}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, target)
        return target, True
    raise ValueError("too many files with this name")


def upload(files, progress=gr.Progress()):
    """Uploaded files → ``<home>/uploads/`` (names sanitised, sizes checked) → indexed
    (with a progress bar) → listed: each report with its detected region, level and year
    and where each came from; each rejected or skipped file with its reason. Only the new
    files are indexed, so nothing indexed before can be lost.
    Returns (result html, catalog rows, report picker, chat filter, status, file box)."""
    files = [f for f in (files or []) if f]
    keep = (gr.skip(), gr.skip(), gr.skip())
    if not files:
        return rfmt.upload_result_html([], []), *keep, gr.skip(), gr.skip()
    try:
        svc = LOADER.get(require_index=False)
    except Exception as e:
        return fmt.error_html(_message(e)), *keep, gr.skip(), None
    folder = Path(svc.settings.home) / UPLOADS
    refused: list[tuple[str, str]] = []
    placed: list[tuple[str, Path, bool]] = []  # (shown name, path in uploads, created now)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return fmt.error_html(f"cannot create {folder}: {_message(e)}"), *keep, gr.skip(), None
    for f in files:
        src = Path(getattr(f, "name", f))
        shown = src.name
        try:
            name = rfmt.safe_upload_name(shown, SUFFIXES)
            why = rfmt.size_problem(src.stat().st_size, svc.settings.max_file_mb)
            if why:
                raise ValueError(why)
            path, created = _place(src, folder, name)
            placed.append((shown, path, created))
        except (ValueError, OSError) as e:
            refused.append((shown, _message(e)))

    done: list[tuple[str, str, object]] = []
    seconds = 0.0
    if placed:
        total = len(placed)
        state = {"i": 0, "chunks": 0}

        def on_progress(event, **kw):
            if event == "plan":
                progress(0.0, desc=f"索引 indexing {kw.get('total', total)} file(s)…")
            elif event == "file":
                state["i"] += 1
                progress(min(state["i"] - 0.5, total) / total, desc=f"索引 indexing {kw.get('name', '')}")
            elif event == "embedded":
                state["chunks"] += int(kw.get("n", 0))
                progress(min(state["i"], total) / total * 0.999, desc=f"向量化 embedding · {state['chunks']} chunks")
            elif event == "done":
                progress(1.0, desc="完成 done")

        log: list[str] = []
        try:
            with INDEX_LOCK:
                res = index_paths([p for _, p, _ in placed], svc.store, svc.settings, sparse=svc.sparse,
                                  progress=on_progress, log=log.append)
                svc.retriever.refresh()
        except Exception as e:
            if not _expected(e):
                traceback.print_exc()
            for _, p, created in placed:
                if created and _indexed_report(svc, p) is None:
                    p.unlink(missing_ok=True)
            refused += [(shown, f"not indexed: {_message(e)}") for shown, _, _ in placed]
            return rfmt.upload_result_html([], refused), *_lists(svc), status_markdown(), None
        seconds = res.seconds
        skipped = {str(Path(f).absolute()): why for f, why in res.skipped}
        status = {str(Path(f).absolute()): s for s, names in (("added", res.added), ("changed", res.changed),
                                                              ("unchanged", res.unchanged)) for f in names}
        for shown, p, created in placed:
            k = str(p.absolute())
            if k in skipped:
                refused.append((shown, skipped[k]))
                if created:
                    p.unlink(missing_ok=True)  # a file that did not index does not stay in uploads/
                continue
            done.append((shown, status.get(k, "unchanged"), _indexed_report(svc, p)))
    return rfmt.upload_result_html(done, refused, seconds), *_lists(svc), status_markdown(), None


# --- correcting a report's metadata -------------------------------------------------------
def save_correction(ref: str | None, region: str, level: str, year: str, review: str, plan: str,
                    progress=gr.Progress()):
    """Writes the corrected fields into the catalog of the report's own folder
    (``catalog.toml``) and re-indexes that folder.
    Returns (message html, catalog rows, report picker, chat filter, status)."""
    keep = (gr.skip(), gr.skip(), gr.skip(), gr.skip())
    if not ref:
        return fmt.error_html("请先选择一份报告 (choose a report first)"), *keep
    try:
        svc = LOADER.get(require_index=False)
        r = svc.corpus.report(ref)
        if r is None:
            raise LookupError(f"未知报告 (unknown report): {ref}")
        fields = rfmt.correction_fields(r, region, level, year, review, plan)
        if not fields:
            return fmt.ok_html("没有改动 (nothing changed)"), *keep
        entry = svc.corpus.entries.get(r.key, {})
        root = Path(entry.get("root") or "")
        found = Path(entry.get("found_path") or entry.get("path") or r.path or r.file)
        if not entry.get("root") or not root.is_dir():
            raise ValueError(f"the report's folder {root} is gone; cannot write its catalog")
        progress(0.1, desc="写入目录 writing catalog.toml")
        with INDEX_LOCK:
            path = catalog.update(root, found.name, fields)
            progress(0.3, desc="重新索引 re-indexing")
            res = index_paths([root], svc.store, svc.settings, sparse=svc.sparse, log=lambda m: None)
            svc.retriever.refresh()
    except Exception as e:
        if not _expected(e):
            traceback.print_exc()
        return fmt.error_html(f"未保存 (not saved): {_message(e)}"), *keep
    r2 = svc.corpus.report(r.key)
    why = next((w for f, w in res.skipped if Path(f).name == found.name), "")
    if r2 is None or why:
        return fmt.error_html(f"已写入 {path}，但重新索引失败 (saved, but re-indexing failed): {why or 'report missing'}"), \
            *_lists(svc, r.key), status_markdown()
    changed = ", ".join(f"{k} = {v if v is not None else '（从正文推测 from the text）'}" for k, v in fields.items())
    msg = (f"已保存 saved ({changed}) → {path}; 已重新索引 re-indexed: {r2.region or '?'} · "
           f"{fmt.level_label(r2.level)} · {r2.year or '?'}年 [{r2.id}]")
    return fmt.ok_html(msg), *_lists(svc, r.key), status_markdown()


# --- compare --------------------------------------------------------------------------------
def _indicator_choices() -> list[tuple[str, str]]:
    from rag.lexicon import lexicon

    return [(i.name, i.id) for i in lexicon().indicators]


def compare_chart(panels: list[dict]):
    """A matplotlib figure: one bar chart per indicator (and unit), targets and results
    side by side per region-year; None when nothing numeric is stated."""
    if not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    matplotlib.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei",
                                              "Microsoft YaHei", "PingFang SC", "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    n = len(panels)
    cols = 1 if n == 1 else 2
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(6.5 * cols, 2.8 * rows + 0.3), layout="constrained")
    axes = list(fig.subplots(rows, cols, squeeze=False).flat)
    for ax in axes[n:]:
        ax.set_visible(False)
    width = 0.38
    for ax, p in zip(axes, panels):
        xs = list(range(len(p["labels"])))
        for offset, kind, label, color in ((-width / 2, "target", "目标 target", "#60a5fa"),
                                           (width / 2, "result", "实际 result", "#f59e0b")):
            pts = [(x + offset, v) for x, v in zip(xs, p[kind]) if v is not None]
            if pts:
                bars = ax.bar([x for x, _ in pts], [v for _, v in pts], width, label=label, color=color)
                ax.bar_label(bars, fmt="%g", fontsize=8, padding=2)
        ax.set_xticks(xs, p["labels"], fontsize=8, rotation=25 if len(xs) > 3 else 0)
        ax.set_xlim(-0.7, max(len(xs), 2) - 0.3)
        ax.set_title(f"{p['indicator']}" + (f" ({p['unit']})" if p["unit"] else ""), fontsize=10)
        ax.margins(y=0.2)
        ax.legend(fontsize=8, loc="upper right")
    return fig


def _csv_file(text: str, kind: str, year: int) -> str | None:
    """The CSV in a fresh folder under the system temp dir (which Gradio serves); folders
    older than an hour are removed."""
    if not text:
        return None
    CSV_DIR.mkdir(parents=True, exist_ok=True)
    for old in CSV_DIR.iterdir():
        try:
            if time.time() - old.stat().st_mtime > 3600:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    path = CSV_DIR / uuid.uuid4().hex[:8] / f"compare-{kind}-{year or 'own-year'}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8-sig")  # with a BOM: spreadsheets read the Chinese right
    return str(path)


def compare(indicators, kind: str, year):
    """Returns (message html, table, cell refs, chart, CSV download, passage html)."""
    import pandas as pd

    from rag.lexicon import lexicon

    indicators = [i for i in (indicators or []) if i] or list(CORE)
    kind = kind if kind in ("target", "result") else "target"
    try:
        y = rfmt.parse_year(year) or 0
        svc = LOADER.get(require_index=True)
        lex = lexicon()
        unknown = [i for i in indicators if i not in lex.by_id]
        if unknown:
            raise ValueError(f"unknown indicator(s): {', '.join(unknown)}")
        names = {i: lex.by_id[i].name for i in indicators}
        got = cells(svc.corpus, indicators, kind, y)
        both = got + cells(svc.corpus, indicators, "result" if kind == "target" else "target", y)
        csv_text = to_csv(rows_for(svc.corpus, indicators, kind, y))
    except Exception as e:
        if not _expected(e):
            traceback.print_exc()
        empty = pd.DataFrame(columns=fmt.COMPARE_HEADERS)
        return fmt.error_html(_message(e)), empty, [], None, gr.DownloadButton(value=None, interactive=False), ""
    headers, rows, refs = fmt.compare_table(got, names, indicators)
    panels = fmt.chart_panels(both, names, indicators)
    what = fmt.TIME_LABELS[kind]
    msg = (f"{len(rows)} 份报告 (reports) · {what} · "
           + (f"{y}年" if y else "各报告本年 (each report's own plan/review year)")
           + " · 点击单元格查看原文 (click a cell to open its passage)")
    if not rows:
        msg = f"没有报告给出{what} (no report has {kind}s for this year)"
    elif not panels:
        msg += " · 没有可作图的数字 (no numeric figures to chart)"
    path = _csv_file(csv_text, kind, y)
    return (fmt.ok_html(msg) if rows else fmt.error_html(msg), pd.DataFrame(rows, columns=headers), refs,
            compare_chart(panels), gr.DownloadButton(value=path, interactive=path is not None), "")


def compare_pick(evt: gr.SelectData, refs):
    """A click on a compare cell opens the sentence stating that figure, in context."""
    try:
        row, col = evt.index[0], evt.index[1]
        ref = refs[row][col]
    except (TypeError, IndexError, KeyError):
        return gr.skip()
    if not ref:
        return fmt.error_html("这一格没有数字 (this cell states no figure)") if refs and evt.index[1] >= 3 else gr.skip()
    try:
        svc = LOADER.get(require_index=False)
        text = svc.corpus.text(ref["key"])
        page = svc.corpus.page_at(ref["key"], ref["start"])
    except Exception as e:
        return fmt.error_html(_message(e))
    return fmt.figure_passage_html(ref, text, page)


# --- eval ---------------------------------------------------------------------------------
def latest_eval():
    """(markdown, image path or None) of the newest runs/*/report.md."""
    reports = sorted(RUNS.glob("*/report.md"), key=lambda p: p.stat().st_mtime) if RUNS.is_dir() else []
    if not reports:
        return "还没有评测结果 (no eval run yet): 点击“运行评测”按钮 (press “Run the eval”).", None
    p = reports[-1]
    md = fmt.strip_local_images(p.read_text(encoding="utf-8", errors="replace"))
    img = p.parent / "metrics.png"
    head = f"**{p.parent.name}** · `{p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}`\n\n"
    return head + md, (str(img) if img.exists() else None)


def _eval_view(prefix: str = ""):
    """(status, image update, report markdown) for the eval tab: the newest report."""
    md, img = latest_eval()
    return prefix, gr.Image(value=img, visible=img is not None), md


def run_eval(progress=gr.Progress(track_tqdm=True)):
    """Runs `eval.run` (the whole eval lives there) into runs/eval-<time>/, then shows it."""
    out = RUNS / ("eval-" + datetime.now().strftime("%Y%m%d-%H%M%S"))
    progress(0, desc="评测运行中… (running the eval)")
    try:
        from eval.run import main as eval_main
    except ImportError as e:
        return _eval_view(f"⚠️ 评测模块不可用 (eval.run is missing): {fmt.md_text(str(e))}")
    t0 = time.time()
    try:
        code = eval_main(["--out", str(out)])
    except SystemExit as e:
        code = e.code
    except Exception as e:
        traceback.print_exc()
        return _eval_view(f"⚠️ 评测失败 (the eval failed): {fmt.md_text(_message(e))}")
    took = f"评测完成 (eval finished) in {time.time() - t0:.0f} s"
    if code not in (0, None):
        took = f"⚠️ 评测未完成 (the eval stopped, exit code {code}; see the server log)"
    return _eval_view(("✅ " if code in (0, None) else "") + took)


# --- page load ----------------------------------------------------------------------------
def on_load():
    """Yields (status, chat report filter, report picker, catalog table, eval status, image, report)."""
    ev = _eval_view()
    if not LOADER.done.is_set():
        yield status_markdown(), gr.skip(), gr.skip(), gr.skip(), *ev
    LOADER.start()
    LOADER.done.wait()
    try:
        svc = LOADER.get(require_index=False)
    except Exception:
        yield status_markdown(), gr.skip(), gr.skip(), gr.skip(), *ev
        return
    reports = svc.corpus.reports
    yield (
        status_markdown(),
        gr.Dropdown(choices=rfmt.report_choices(reports, ALL_REPORTS), value=""),
        gr.Dropdown(choices=rfmt.report_choices(reports)),
        _catalog(svc),
        *ev,
    )


def build() -> gr.Blocks:
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown("## 政府工作报告问答 <small>Government work reports — Q&A with citations</small>")
        status = gr.Markdown(status_markdown(), elem_id="status")
        conv = gr.State(None)
        refs = gr.State([])
        with gr.Tabs():
            with gr.Tab("问答 Chat", id="chat-tab"):
                report_filter = gr.Dropdown(
                    choices=[(ALL_REPORTS, "")], value="", label="报告范围 (search in)", elem_id="report-filter",
                )
                chatbot = gr.Chatbot(
                    label="对话 (conversation)", elem_id="chat", height=380, latex_delimiters=[],
                    feedback_options=None, buttons=["copy"],
                    placeholder="可以用中文或英文提问，例如：海曙区2020年GDP增长目标是多少？（可追问：那慈溪呢？）",
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        show_label=False, placeholder="输入问题 (ask a question)…", elem_id="question",
                        scale=5, min_width=180, lines=1, max_lines=4, submit_btn=False,
                    )
                    send = gr.Button("提问 Ask", variant="primary", elem_id="send", scale=1, min_width=80)
                    clear = gr.Button("新对话 New", elem_id="new-chat", scale=1, min_width=80)
                explain_on = gr.Checkbox(False, label="显示问题理解 (show how the question was understood)",
                                         elem_id="explain-on")
                explain = gr.HTML("", elem_id="explain", visible=False, js_on_load=None)
                gr.Examples(
                    ["海曙区2020年GDP增长目标是多少?", "慈溪市2020年地区生产总值是多少？", "What was Jiangbei's GDP growth in 2019?"],
                    inputs=question, label="示例 (examples)",
                )
                sources = gr.HTML("", elem_id="sources", js_on_load=None)
            with gr.Tab("报告 Reports", id="reports-tab"):
                with gr.Accordion("上传报告 Upload reports (DOCX / PDF / HTML / TXT / MD)", open=True):
                    files = gr.File(
                        file_count="multiple", type="filepath", elem_id="upload",
                        label="拖放文件到这里 (drop files here) — 上传后自动索引 (indexed on upload)",
                    )
                    upload_result = gr.HTML("", elem_id="upload-result", js_on_load=None)
                catalog_table = gr.Dataframe(
                    headers=rfmt.CATALOG_HEADERS, value=[], interactive=False, wrap=True, elem_id="catalog",
                    label="报告目录 (catalog) — 点击一行查看 (click a row)",
                )
                pick = gr.Dropdown(choices=[], label="报告 (report)", elem_id="report-pick")
                report_head = gr.HTML("", elem_id="report-head", js_on_load=None)
                with gr.Accordion("更正 Correct region / level / year", open=False, elem_id="fix"):
                    with gr.Row():
                        fix_region = gr.Textbox(label="地区 region", elem_id="fix-region", min_width=140)
                        fix_level = gr.Dropdown(choices=[""] + list(fmt.LEVEL_CHOICES), value="", allow_custom_value=True,
                                                label="级别 level", elem_id="fix-level", min_width=140)
                        fix_year = gr.Textbox(label="年份 year", elem_id="fix-year", min_width=100)
                    with gr.Row():
                        fix_review = gr.Textbox(label="回顾年份 review years (2023 或 2021-2025)", elem_id="fix-review")
                        fix_plan = gr.Textbox(label="计划年份 plan years", elem_id="fix-plan")
                    fix_save = gr.Button("保存并重新索引 Save and re-index", variant="primary", elem_id="fix-save")
                    fix_status = gr.HTML("", elem_id="fix-status", js_on_load=None)
                with gr.Row():
                    with gr.Column(min_width=280):
                        gr.Markdown("#### 摘要 Summary")
                        summary = gr.Markdown("请选择一份报告 (choose a report).", elem_id="summary")
                    with gr.Column(min_width=280):
                        gr.Markdown("#### 章节 Sections — 点击展开原文 (click to read)")
                        outline = gr.HTML("", elem_id="outline", js_on_load=None)
            with gr.Tab("比较 Compare", id="compare-tab") as compare_tab:
                with gr.Row():
                    cmp_ind = gr.Dropdown(choices=_indicator_choices(), value=list(CORE), multiselect=True,
                                          label="指标 indicators", elem_id="compare-indicators", scale=3)
                    cmp_kind = gr.Radio([("目标 target", "target"), ("实际 result", "result")], value="target",
                                        label="类型 kind", elem_id="compare-kind", scale=1)
                    cmp_year = gr.Textbox("", label="年份 year (空 = 各报告本年 each report's own)",
                                          elem_id="compare-year", scale=1)
                with gr.Row():
                    cmp_btn = gr.Button("比较 Compare", variant="primary", elem_id="compare-run")
                    cmp_csv = gr.DownloadButton("下载 CSV (download)", value=None, interactive=False,
                                                elem_id="compare-csv")
                cmp_msg = gr.HTML("", elem_id="compare-msg", js_on_load=None)
                cmp_table = gr.Dataframe(headers=fmt.COMPARE_HEADERS, value=[], interactive=False, wrap=True,
                                         elem_id="compare-table", label="指标表 (figures) — 点击单元格查看原文 (click a cell)")
                cmp_passage = gr.HTML("", elem_id="compare-passage", js_on_load=None)
                cmp_chart = gr.Plot(label="图表 chart", elem_id="compare-chart", format="png")
            with gr.Tab("评测 Eval", id="eval-tab"):
                run_btn = gr.Button("运行评测 Run the eval", variant="secondary", elem_id="run-eval")
                eval_status = gr.Markdown("", elem_id="eval-status")
                eval_img = gr.Image(label="指标 (metrics.png)", type="filepath", interactive=False, elem_id="eval-chart",
                                    buttons=["download", "fullscreen"], visible=False, height=480)
                eval_md = gr.Markdown("", elem_id="eval-report")

        chat_io = dict(inputs=[question, chatbot, conv, report_filter, explain_on],
                       outputs=[question, chatbot, sources, conv, explain])
        send.click(chat, **chat_io, api_visibility="private")
        question.submit(chat, **chat_io, api_visibility="private")
        explain_on.change(toggle_explain, inputs=[explain_on, conv], outputs=[explain], api_visibility="private")
        clear.click(new_chat, inputs=[conv], outputs=[chatbot, sources, conv, explain], api_visibility="private")
        report_outputs = [report_head, summary, outline, fix_region, fix_level, fix_year, fix_review, fix_plan]
        pick.change(show_report, inputs=[pick], outputs=report_outputs, api_visibility="private")
        catalog_table.select(pick_row, inputs=[catalog_table], outputs=[pick], api_visibility="private")
        files.upload(upload, inputs=[files], outputs=[upload_result, catalog_table, pick, report_filter, status, files],
                     concurrency_limit=1, concurrency_id="index", api_visibility="private")
        fix_save.click(save_correction, inputs=[pick, fix_region, fix_level, fix_year, fix_review, fix_plan],
                       outputs=[fix_status, catalog_table, pick, report_filter, status],
                       concurrency_limit=1, concurrency_id="index", api_visibility="private",
                       ).then(show_report, inputs=[pick], outputs=report_outputs, api_visibility="private")
        cmp_io = dict(inputs=[cmp_ind, cmp_kind, cmp_year],
                      outputs=[cmp_msg, cmp_table, refs, cmp_chart, cmp_csv, cmp_passage], api_visibility="private")
        cmp_btn.click(compare, **cmp_io)
        compare_tab.select(compare, **cmp_io)
        cmp_table.select(compare_pick, inputs=[refs], outputs=[cmp_passage], api_visibility="private")
        run_btn.click(run_eval, outputs=[eval_status, eval_img, eval_md], concurrency_limit=1, concurrency_id="eval",
                      api_visibility="private")
        demo.load(on_load, outputs=[status, report_filter, pick, catalog_table, eval_status, eval_img, eval_md],
                  concurrency_limit=None, api_visibility="private")
        gr.api(ask, api_name="ask")
    return demo


def parse_args(argv: list[str] | None = None, settings=None) -> argparse.Namespace:
    s = settings or current_settings()
    p = argparse.ArgumentParser(description=TITLE)
    p.add_argument("--host", default=s.host or "127.0.0.1",
                   help="address to listen on (RAG_HOST; default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=s.port or 7860, help="port (RAG_PORT; default 7860)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = current_settings()
    for p in settings.problems:
        print(f"rag app: warning: {p}", file=sys.stderr)
    LOADER.start()  # models and index load in the background; the page shows the status
    demo = build()
    demo.queue(default_concurrency_limit=settings.app_concurrency, max_size=64)
    print(f"rag app: http://{args.host}:{args.port}  (loading models and index in the background)", file=sys.stderr)
    hard_cap = max(int(settings.max_file_mb * 4), int(settings.max_file_mb) + 5)  # the handler gives the real limit
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        theme=gr.themes.Default(),
        css=CSS,
        footer_links=["api"],
        allowed_paths=[str(RUNS)],
        max_file_size=f"{hard_cap}mb",
        show_error=False,
        quiet=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
