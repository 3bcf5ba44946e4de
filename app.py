"""The web app: chat with clickable citations, a report browser with summaries, and
the eval results. A thin layer over `rag`: retrieval and answers come from
`rag.service` / `rag.conversation`, HTML from `rag.ui_format`.

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
import sys
import threading
import time
import traceback
from datetime import datetime
from pathlib import Path

from rag import config  # noqa: F401  (sets the offline flags before anything else loads)

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag import ui_format as fmt  # noqa: E402
from rag import service  # noqa: E402

ROOT = Path(__file__).resolve().parent
RUNS = ROOT / "runs"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
CONCURRENCY = int(os.environ.get("RAG_APP_CONCURRENCY", "3"))
ALL_REPORTS = "全部报告 (all reports)"
TITLE = "政府工作报告问答 · Government Work Reports Q&A"

CSS = """
.gradio-container { font-family: "IBM Plex Sans", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC",
  "Microsoft YaHei", "WenQuanYi Zen Hei", sans-serif; }
#status p { margin: 0; }
.rag-sources { font-size: 0.95em; line-height: 1.6; overflow-wrap: anywhere; }
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
.rag-sec { color: var(--body-text-color-subdued); }
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
"""


# --- the shared answerer (models + index, loaded once per process) -------------------------
class Loader:
    """Loads `rag.service.answerer()` once in the background, so the page opens at
    once and shows the loading status; every handler waits on the same object."""

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
        try:
            service.answerer()
            self.error = None
        except Exception as e:  # IndexMissing, a broken LLM setting, a store error …
            self.error = _message(e)
        finally:
            self.done.set()

    def get(self):
        """The Answerer; raises with a message for the user when it cannot be had."""
        self.start()
        self.done.wait()
        return service.answerer()  # picks up an index built since the app started


LOADER = Loader()


def _message(e: BaseException) -> str:
    """An exception as one line for the user (the library's messages are written for that)."""
    msg = str(e).strip() or type(e).__name__
    if _expected(e):
        return msg
    return f"{type(e).__name__}: {msg}"


def _expected(e: BaseException) -> bool:
    """Errors with a message written for the user (no traceback in the server log)."""
    from rag.llm import LLMError

    return isinstance(e, (ValueError, service.IndexMissing, LLMError))


def _reports(a) -> dict:
    return {r.id: r for r in a.retriever.reports}


def status_markdown() -> str:
    if not LOADER.done.is_set():
        return "⏳ 正在加载模型与索引… (loading the models and the index)"
    try:
        a = LOADER.get()
    except Exception as e:
        return f"⚠️ {_message(e)}"
    n_rep, n_pas = len(a.retriever.reports), len(a.retriever.passages)
    return f"✅ 已就绪 (ready) · {n_rep} 份报告 (reports) · {n_pas} 个段落 (passages) · 模式 mode: **{fmt.mode_label(a.mode)}**"


# --- chat -------------------------------------------------------------------------------
_DONE = object()


def chat(message: str, history: list | None, conv, report_id: str | None):
    """Chat handler: streams the answer into the chat, then shows the sources.
    Yields (textbox, chatbot, sources html, conversation state)."""
    from rag.conversation import Conversation

    history = list(history or [])
    message = message or ""
    if message.strip():
        history.append({"role": "user", "content": fmt.md_text(message)})
    try:
        a = LOADER.get()
    except Exception as e:
        history.append({"role": "assistant", "content": "⚠️ " + fmt.md_text(_message(e))})
        yield "", history, fmt.error_html(_message(e)), conv
        return
    if conv is None or conv.answerer is not a:
        conv = Conversation(a)
    conv.report = report_id or None

    tokens: queue.Queue = queue.Queue()
    box: dict = {}

    def work():
        try:
            box["answer"] = conv.ask(message, on_token=tokens.put)
        except Exception as e:  # ValueError (empty question) and anything unexpected
            box["error"] = e
            if not _expected(e):
                traceback.print_exc()
        finally:
            tokens.put(_DONE)

    threading.Thread(target=work, name="rag-ask", daemon=True).start()
    history.append({"role": "assistant", "content": "🔎 检索中… (searching)"})
    yield "", history, "", conv

    text, shown, finished = "", 0, False
    while not finished:
        pieces = [tokens.get()]
        while True:  # take what else is waiting: one update per batch of tokens
            try:
                pieces.append(tokens.get_nowait())
            except queue.Empty:
                break
        for p in pieces:
            if p is _DONE:
                finished = True
            elif isinstance(p, str):
                text += p
        if len(text) > shown:
            # a big piece at once (the extractive answer comes whole): type it out briefly
            for i in range(shown + 24, len(text), 24):
                history[-1] = {"role": "assistant", "content": fmt.answer_markdown(text[:i]) + " ▌"}
                yield "", history, "", conv
                time.sleep(0.02)
            shown = len(text)
            history[-1] = {"role": "assistant", "content": fmt.answer_markdown(text) + " ▌"}
            yield "", history, "", conv

    if "error" in box:
        err = _message(box["error"])
        history[-1] = {"role": "assistant", "content": "⚠️ " + fmt.md_text(err)}
        yield "", history, fmt.error_html(err), conv
        return
    ans = box["answer"]
    history[-1] = {"role": "assistant", "content": fmt.answer_markdown(ans.answer)}
    yield "", history, fmt.sources_html(ans, _reports(a), a.retriever.texts), conv


def new_chat(conv):
    if conv is not None:
        conv.reset()
    return [], "", conv


# --- API ----------------------------------------------------------------------------------
def ask(question: str, report: str | None = None) -> dict:
    """Answer a question about the government work reports, with citations.

    Args:
        question: the question, in Chinese or English
        report: optional report id to search only that report (e.g. "haishu-2020")

    Returns:
        the answer dict: question, answer, refused, citations [{n, doc, report_id, section,
        start, end, quote}], retrieved, latency_ms, mode, guard_ok, notes
    """
    from rag.answer import answer_to_dict
    from rag.conversation import Conversation

    try:
        a = LOADER.get()
        ans = Conversation(a, report=report or None).ask(question or "")
    except Exception as e:
        if not _expected(e):
            traceback.print_exc()
        raise gr.Error(_message(e), print_exception=False) from None
    return answer_to_dict(ans)


# --- reports ------------------------------------------------------------------------------

def _report_path(a, report) -> Path:
    return a.retriever.path(report.id) or config.seeds_dir() / report.file


def _outline(a, report) -> str:
    from rag import chunk, load

    try:
        doc = load.read(_report_path(a, report))
        return fmt.outline_html(chunk.sections(doc), doc.text)
    except Exception as e:
        return fmt.error_html(f"无法读取章节 (cannot read the sections): {_message(e)}")


def _summary(a, report) -> str:
    """The report's summary as Markdown (rag.summarize caches it by content); a message
    instead when the module is missing or fails."""
    try:
        from rag.summarize import summarize_report
    except ImportError:
        return "ℹ️ 摘要功能尚未安装 (summaries are not available yet: `rag.summarize` is missing)."
    try:
        return summarize_report(str(_report_path(a, report)), llm_cfg=a.llm_cfg).to_markdown()
    except Exception as e:
        traceback.print_exc()
        return f"⚠️ 摘要生成失败 (the summary failed): {fmt.md_text(_message(e))}"


def show_report(report_id: str | None):
    """Yields (header html, summary markdown, outline html)."""
    if not report_id:
        yield "", "请选择一份报告 (choose a report).", ""
        return
    try:
        a = LOADER.get()
    except Exception as e:
        yield fmt.error_html(_message(e)), "", ""
        return
    r = a.retriever.report(report_id)
    if r is None:
        yield fmt.error_html(f"未知报告 (unknown report): {report_id}"), "", ""
        return
    head, outline = fmt.report_header_html(r), _outline(a, r)
    yield head, "⏳ 正在生成摘要… (summarising)", outline
    yield head, _summary(a, r), outline


def pick_row(evt: gr.SelectData, rows):
    """A click in the catalog table selects that report."""
    try:
        row = evt.index[0]
        data = rows.values.tolist() if hasattr(rows, "values") else rows
        return data[row][3]
    except Exception:
        return gr.skip()


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
    """Yields (status, chat report filter, reports dropdown, catalog table, eval status, image, report)."""
    ev = _eval_view()
    if not LOADER.done.is_set():
        yield status_markdown(), gr.skip(), gr.skip(), gr.skip(), *ev
    LOADER.start()
    LOADER.done.wait()
    try:
        a = LOADER.get()
    except Exception:
        yield status_markdown(), gr.skip(), gr.skip(), gr.skip(), *ev
        return
    reports = a.retriever.reports
    yield (
        status_markdown(),
        gr.Dropdown(choices=fmt.report_choices(reports, ALL_REPORTS), value=""),
        gr.Dropdown(choices=fmt.report_choices(reports)),
        fmt.catalog_rows(reports),
        *ev,
    )


def build() -> gr.Blocks:
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown("## 政府工作报告问答 <small>Government work reports — Q&A with citations</small>")
        status = gr.Markdown(status_markdown(), elem_id="status")
        conv = gr.State(None)
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
                gr.Examples(
                    ["海曙区2020年GDP增长目标是多少?", "慈溪市2020年地区生产总值是多少？", "What was Jiangbei's GDP growth in 2019?"],
                    inputs=question, label="示例 (examples)",
                )
                sources = gr.HTML("", elem_id="sources", js_on_load=None)
            with gr.Tab("报告 Reports", id="reports-tab"):
                catalog = gr.Dataframe(
                    headers=fmt.CATALOG_HEADERS, value=[], interactive=False, wrap=True, elem_id="catalog",
                    label="报告目录 (catalog) — 点击一行查看 (click a row)",
                )
                pick = gr.Dropdown(choices=[], label="报告 (report)", elem_id="report-pick")
                report_head = gr.HTML("", js_on_load=None)
                with gr.Row():
                    with gr.Column(min_width=280):
                        gr.Markdown("#### 摘要 Summary")
                        summary = gr.Markdown("请选择一份报告 (choose a report).", elem_id="summary")
                    with gr.Column(min_width=280):
                        gr.Markdown("#### 章节 Sections — 点击展开原文 (click to read)")
                        outline = gr.HTML("", elem_id="outline", js_on_load=None)
            with gr.Tab("评测 Eval", id="eval-tab"):
                run_btn = gr.Button("运行评测 Run the eval", variant="secondary", elem_id="run-eval")
                eval_status = gr.Markdown("", elem_id="eval-status")
                eval_img = gr.Image(label="指标 (metrics.png)", type="filepath", interactive=False, elem_id="eval-chart",
                                    buttons=["download", "fullscreen"], visible=False, height=480)
                eval_md = gr.Markdown("", elem_id="eval-report")

        chat_io = dict(inputs=[question, chatbot, conv, report_filter], outputs=[question, chatbot, sources, conv])
        send.click(chat, **chat_io, api_visibility="private")
        question.submit(chat, **chat_io, api_visibility="private")
        clear.click(new_chat, inputs=[conv], outputs=[chatbot, sources, conv], api_visibility="private")
        pick.change(show_report, inputs=[pick], outputs=[report_head, summary, outline], api_visibility="private")
        catalog.select(pick_row, inputs=[catalog], outputs=[pick], api_visibility="private")
        run_btn.click(run_eval, outputs=[eval_status, eval_img, eval_md], concurrency_limit=1, concurrency_id="eval",
                      api_visibility="private")
        demo.load(on_load, outputs=[status, report_filter, pick, catalog, eval_status, eval_img, eval_md],
                  concurrency_limit=None, api_visibility="private")
        gr.api(ask, api_name="ask")
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=TITLE)
    p.add_argument("--host", default=os.environ.get("RAG_HOST") or DEFAULT_HOST,
                   help=f"address to listen on (RAG_HOST; default {DEFAULT_HOST}, this machine only)")
    p.add_argument("--port", type=int, default=int(os.environ.get("RAG_PORT") or DEFAULT_PORT),
                   help=f"port (RAG_PORT; default {DEFAULT_PORT})")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    LOADER.start()  # models and index load in the background; the page shows the status
    demo = build()
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=64)
    print(f"rag app: http://{args.host}:{args.port}  (loading models and index in the background)", file=sys.stderr)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        theme=gr.themes.Default(),
        css=CSS,
        footer_links=["api"],
        allowed_paths=[str(RUNS)],
        show_error=False,
        quiet=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
