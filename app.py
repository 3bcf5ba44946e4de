"""The web app: chat with clickable citations, a report browser (upload, summaries,
sections, corrections), a cross-report compare table, and the eval results. A thin layer:
this file loads the shared services (`rag.service`) once in the background and lays out
the page; each tab's handlers are in their own module — `rag.ui_chat` (chat and the
``/ask`` API), `rag.ui_report_view` and `rag.ui_upload` (reports), `rag.ui_compare`,
`eval.ui` — with the status line and error messages in `rag.ui_status` and the HTML
from `rag.ui_format`, `rag.ui_reports` and `rag.ui_figures`.

    python app.py                       # http://127.0.0.1:7860
    python app.py --host 127.0.0.1 --port 8080   (or RAG_HOST / RAG_PORT)

The chat function is also an API endpoint (``/ask``):

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("海曙区2020年GDP增长目标是多少?", api_name="/ask")
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import traceback
from pathlib import Path

from rag.settings import current as current_settings  # sets the offline flags before anything else loads

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from eval import ui as eval_ui  # noqa: E402
from rag import service, ui_chat, ui_compare, ui_status, ui_upload  # noqa: E402
from rag import ui_figures as ffmt  # noqa: E402
from rag import ui_format as fmt  # noqa: E402
from rag import ui_report_view as view  # noqa: E402
from rag import ui_reports as rfmt  # noqa: E402
from rag.lexicon import lexicon  # noqa: E402
from rag.ui_chat import new_chat, toggle_explain  # noqa: E402

ROOT = Path(__file__).resolve().parent
RUNS = ROOT / "runs"
TITLE = "政府工作报告问答 · Government Work Reports Q&A"
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
                self.error = f"embedding model: {ui_status.message(e)}"
            if not ui_status.expected(e):
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


# --- handlers: each tab's module over this process's LOADER (looked up at each call) ------
def status_markdown() -> str:
    return ui_status.status_markdown(LOADER, current_settings().problems)


def chat(message: str, history: list | None, conv, report: str | None, show_explain: bool = False):
    """Yields (textbox, chatbot, sources html, conversation state, explain html)."""
    yield from ui_chat.chat(LOADER, message, history, conv, report, show_explain)


def ask(question: str, report: str | None = None) -> dict:
    """Answer a question about the government work reports, with citations.

    Args:
        question: the question, in Chinese or English
        report: optional report id to search only that report (e.g. "haishu-2020")

    Returns:
        the answer dict: question, answer, refused, citations [{n, doc, report_id, section,
        start, end, page, quote}], retrieved, latency_ms, mode, guard_ok, notes, query
    """
    return ui_chat.ask(LOADER, question, report)


def show_report(ref: str | None):
    yield from view.show_report(LOADER, ref)


def pick_row(evt: gr.SelectData, rows):
    return view.pick_row(LOADER, evt, rows)


def upload(files, progress=gr.Progress()):
    return ui_upload.upload(LOADER, files, progress, lock=INDEX_LOCK, status=status_markdown)


def save_correction(ref: str | None, region: str, level: str, year: str, review: str, plan: str,
                    progress=gr.Progress()):
    return ui_upload.save_correction(LOADER, ref, region, level, year, review, plan, progress,
                                     lock=INDEX_LOCK, status=status_markdown)


def compare(indicators, kind: str, year):
    return ui_compare.compare(LOADER, indicators, kind, year)


def compare_pick(evt: gr.SelectData, refs):
    return ui_compare.compare_pick(LOADER, evt, refs)


def run_eval(progress=gr.Progress(track_tqdm=True)):
    return eval_ui.run_eval(RUNS, ROOT, progress)


# --- page load ----------------------------------------------------------------------------
def on_load():
    """Yields (status, chat report filter, report picker, catalog table, eval status, image, report)."""
    ev = eval_ui.eval_view(RUNS, ROOT)
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
        gr.Dropdown(choices=rfmt.report_choices(reports, view.ALL_REPORTS), value=""),
        gr.Dropdown(choices=rfmt.report_choices(reports)),
        view.catalog(svc),
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
                    choices=[(view.ALL_REPORTS, "")], value="", label="报告范围 (search in)", elem_id="report-filter",
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
                    cmp_ind = gr.Dropdown(choices=ui_compare.indicator_choices(), value=list(lexicon().table_core), multiselect=True,
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
                cmp_table = gr.Dataframe(headers=ffmt.COMPARE_HEADERS, value=[], interactive=False, wrap=True,
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
