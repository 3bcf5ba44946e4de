"""The web app's Reports tab, reading side: the catalog table and the report pickers, and one
report shown — its header, its cited summary (LLM or extractive), its section outline
and the values of the correction form. The HTML comes from :mod:`rag.ui_reports`.

``loader`` is the app's loader of the shared services (see :mod:`rag.ui_status`).
"""
from __future__ import annotations

import traceback

import gradio as gr

from . import ui_format as fmt
from . import ui_reports as rfmt
from . import ui_status as st

ALL_REPORTS = "全部报告 (all reports)"  # the chat's report filter: search every report
_KEEP = object()


def formats(svc) -> dict:
    """report key → its file format."""
    return {k: e.get("format", "") for k, e in svc.corpus.entries.items()}


def catalog(svc) -> list[list]:
    """The catalog table's rows."""
    return rfmt.catalog_rows(svc.corpus.reports, formats(svc))


def lists(svc, selected=_KEEP):
    """(catalog rows, report picker update, chat filter update) after the index changed;
    the picker keeps its report unless ``selected`` (a report key) is given."""
    reports = svc.corpus.reports
    keys = {r.key for r in reports}
    choices = rfmt.report_choices(reports)
    pick = gr.Dropdown(choices=choices) if selected is _KEEP else \
        gr.Dropdown(choices=choices, value=selected if selected in keys else None)
    return catalog(svc), pick, gr.Dropdown(choices=rfmt.report_choices(reports, ALL_REPORTS))


def summary_markdown(svc, r) -> str:
    """The report's cited summary as Markdown (cached by content); a message on failure."""
    from .summary.render import to_markdown
    from .summary.service import summarize

    try:
        try:
            return to_markdown(summarize(svc, r.key, use_llm=svc.settings.llm is not None))
        except Exception as e:
            if svc.settings.llm is None:
                raise
            note = f"⚠️ LLM 摘要失败，改用抽取式 (the LLM summary failed: {fmt.md_text(st.message(e))})\n\n"
            return note + to_markdown(summarize(svc, r.key, use_llm=False))
    except Exception as e:
        if not st.expected(e):
            traceback.print_exc()
        return f"⚠️ 摘要生成失败 (the summary failed): {fmt.md_text(st.message(e))}"


def outline(svc, r) -> str:
    """The section outline, each section opening to its text."""
    try:
        return rfmt.outline_html(svc.corpus.sections(r.key), svc.corpus.text(r.key))
    except Exception as e:
        return fmt.error_html(f"无法读取章节 (cannot read the sections): {st.message(e)}")


def form(r) -> tuple:
    """The correction form's values for a report (region, level, year, review, plan)."""
    if r is None:
        return "", "", "", "", ""
    return r.region, r.level, str(r.year or ""), rfmt.years_text(r.review_years), rfmt.years_text(r.plan_years)


def show_report(loader, ref: str | None):
    """Yields (header html, summary markdown, outline html, region, level, year, review years, plan years)."""
    if not ref:
        yield "", "请选择一份报告 (choose a report).", "", *form(None)
        return
    try:
        svc = loader.get(require_index=False)
    except Exception as e:
        yield fmt.error_html(st.message(e)), "", "", *form(None)
        return
    r = svc.corpus.report(ref)
    if r is None:
        yield fmt.error_html(f"未知报告 (unknown report): {ref}"), "", "", *form(None)
        return
    head = rfmt.report_header_html(r, svc.corpus.entries.get(r.key, {}).get("format", ""))
    sections = outline(svc, r)
    yield head, "⏳ 正在生成摘要… (summarising)", sections, *form(r)
    yield head, summary_markdown(svc, r), sections, *form(r)


def pick_row(loader, evt: gr.SelectData, rows):
    """A click in the catalog table selects that report (by its key)."""
    try:
        row = evt.row_value
        if not row:
            data = rows.values.tolist() if hasattr(rows, "values") else rows
            row = data[evt.index[0]]
        rid = str(row[rfmt.CATALOG_ID_COL])
        r = loader.get(require_index=False).corpus.report(rid)
        return r.key if r is not None else gr.skip()
    except Exception:
        return gr.skip()
