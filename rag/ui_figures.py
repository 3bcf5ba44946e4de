"""Formatting for the app's Compare tab: the figures of `rag.table.cells` as a table (one
row per report, one column per indicator) with what a click on each cell opens, the
sentence stating a figure in its context, and the data of the bar charts. Pure functions,
no Gradio; report text goes through :func:`rag.ui_format.esc`, as everywhere in the UI.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from .types import Report
from .ui_format import CONTEXT_RADIUS, FIG, TIME_LABELS, esc, level_label, passage_html, where

NOT_STATED = "not stated"  # a compare-table cell whose report gives no figure
COMPARE_HEADERS = ["地区 region", "级别 level", "年份 year"]


def compare_table(cells: Sequence, names: Mapping[str, str], indicators: Sequence[str]) -> tuple[list[str], list[list], list[list]]:
    """The compare table from ``rag.table.cells``: one row per report (region, level,
    year), one column per indicator; a cell is the figure as written or "not stated".
    Returns (headers, rows, refs): ``refs[row][col]`` is what a click on that cell opens
    — a dict (report key, sentence start/end, indicator name, figure text, section) — or
    None (the first three columns, and cells not stated)."""
    order: list[str] = []
    by_key: dict[str, dict] = {}
    reports: dict[str, Report] = {}
    for c in cells:
        k = c.report.key
        if k not in by_key:
            order.append(k)
            by_key[k] = {}
            reports[k] = c.report
        by_key[k][c.indicator] = c
    headers = COMPARE_HEADERS + [names.get(i, i) for i in indicators]
    rows, refs = [], []
    for k in order:
        r = reports[k]
        row: list = [r.region or "?", level_label(r.level), r.year or "?"]
        ref: list = [None, None, None]
        for ind in indicators:
            c = by_key[k].get(ind)
            f = c.figure if c is not None else None
            row.append(f.text if f is not None else NOT_STATED)
            ref.append(None if f is None else {
                "key": k, "report": r.id, "title": r.title, "start": int(f.start), "end": int(f.end),
                "indicator": names.get(ind, ind), "text": f.text, "section": f.section, "year": int(f.year),
                "kind": f.kind,
            })
        rows.append(row)
        refs.append(ref)
    return headers, rows, refs


def figure_passage_html(ref: Mapping, text: str, page: int = 0, radius: int = CONTEXT_RADIUS) -> str:
    """The sentence stating a compare-table figure, in its context, highlighted (like a
    chat source), under a line naming the report, indicator and figure."""
    kind = TIME_LABELS.get(ref.get("kind", ""), ref.get("kind", ""))
    head = (f'<div class="rag-h rag-fig-head">{esc(ref.get("indicator", ""))} · {esc(kind)} {esc(ref.get("year", ""))}'
            f' · <mark class="{FIG}">{esc(ref.get("text", ""))}</mark></div>')
    start, end = int(ref.get("start", 0)), int(ref.get("end", 0))
    if not text or not 0 <= start < end <= len(text):
        return f'<div class="rag-sources">{head}<div class="rag-warn">⚠️ 原文不可用 (the passage is not available)</div></div>'
    heading = where(ref.get("title", ""), ref.get("section", ""), page) + f" · {start}–{end}"
    return f'<div class="rag-sources">{head}{passage_html(text, start, end, radius, heading=heading)}</div>'


_SCALES = ((1e8, "亿"), (1e4, "万"))
_NO_SCALE_UNITS = {"%", "％", "个百分点", "百分点", "‰", "倍"}


def chart_panels(cells: Sequence, names: Mapping[str, str], indicators: Sequence[str]) -> list[dict]:
    """Data for the bar charts: one panel per indicator (and unit, so that 6.5% and
    200.5亿元 never share an axis); bars are "region year" groups, each with the target
    and the result for that year where the corpus states them. Only numeric figures
    (``figure.value``, not qualitative ones) are drawn.

    Returns [{"indicator", "unit", "labels", "target", "result"}] (values None where absent)."""
    panels: dict[tuple[str, str], dict[tuple[str, int], dict[str, float]]] = {}
    for c in cells:
        f = c.figure
        if f is None or f.value is None or f.measure == "qualitative":
            continue
        unit = "%" if f.unit in ("%", "％") else (f.unit or "")
        groups = panels.setdefault((c.indicator, unit), {})
        g = groups.setdefault((c.report.region or c.report.id, int(f.year)), {})
        g.setdefault(f.kind, float(f.value))
    out = []
    rank = {ind: i for i, ind in enumerate(indicators)}
    for (ind, unit), groups in sorted(panels.items(), key=lambda kv: (rank.get(kv[0][0], 99), kv[0][1])):
        keys = sorted(groups, key=lambda k: (k[0], k[1]))
        peak = max(abs(v) for g in groups.values() for v in g.values())
        scale, prefix = 1.0, ""
        if unit not in _NO_SCALE_UNITS:
            for s, p in _SCALES:
                if peak >= s:
                    scale, prefix = s, p
                    break
        out.append({
            "indicator": names.get(ind, ind),
            "unit": prefix + unit,
            "labels": [f"{region} {year}" for region, year in keys],
            "target": [None if "target" not in groups[k] else groups[k]["target"] / scale for k in keys],
            "result": [None if "result" not in groups[k] else groups[k]["result"] / scale for k in keys],
        })
    return out
