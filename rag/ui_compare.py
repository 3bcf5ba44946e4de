"""The web app's Compare tab: chosen indicators across every report (targets or results, for
a year or each report's own), as a table whose cells open the sentence stating the
figure, bar charts (matplotlib) and a CSV to download. The table comes from
:mod:`rag.table`, its HTML and chart data from :mod:`rag.ui_figures`.

``loader`` is the app's loader of the shared services (see :mod:`rag.ui_status`).
"""
from __future__ import annotations

import shutil
import tempfile
import time
import traceback
import uuid
from pathlib import Path

import gradio as gr

from . import ui_figures as ffmt
from . import ui_format as fmt
from . import ui_reports as rfmt
from . import ui_status as st
from .table import cells, rows_for, to_csv

CSV_DIR = Path(tempfile.gettempdir()) / "rag-app-csv"


def indicator_choices() -> list[tuple[str, str]]:
    """(name, id) of every indicator in the lexicon."""
    from .lexicon import lexicon

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


def csv_file(text: str, kind: str, year: int, folder: Path = CSV_DIR) -> str | None:
    """The CSV in a fresh folder under ``folder`` (by default under the system temp dir,
    which Gradio serves); folders there older than an hour are removed."""
    if not text:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        try:
            if time.time() - old.stat().st_mtime > 3600:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    path = folder / uuid.uuid4().hex[:8] / f"compare-{kind}-{year or 'own-year'}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8-sig")  # with a BOM: spreadsheets read the Chinese right
    return str(path)


def compare(loader, indicators, kind: str, year):
    """Returns (message html, table, cell refs, chart, CSV download, passage html)."""
    import pandas as pd

    from .lexicon import lexicon

    indicators = [i for i in (indicators or []) if i] or list(lexicon().table_core)
    kind = kind if kind in ("target", "result") else "target"
    try:
        y = rfmt.parse_year(year) or 0
        svc = loader.get(require_index=True)
        lex = lexicon()
        unknown = [i for i in indicators if i not in lex.by_id]
        if unknown:
            raise ValueError(f"unknown indicator(s): {', '.join(unknown)}")
        names = {i: lex.by_id[i].name for i in indicators}
        got = cells(svc.corpus, indicators, kind, y)
        both = got + cells(svc.corpus, indicators, "result" if kind == "target" else "target", y)
        csv_text = to_csv(rows_for(svc.corpus, indicators, kind, y))
    except Exception as e:
        if not st.expected(e):
            traceback.print_exc()
        empty = pd.DataFrame(columns=ffmt.COMPARE_HEADERS)
        return fmt.error_html(st.message(e)), empty, [], None, gr.DownloadButton(value=None, interactive=False), ""
    headers, rows, refs = ffmt.compare_table(got, names, indicators)
    panels = ffmt.chart_panels(both, names, indicators)
    what = fmt.TIME_LABELS[kind]
    msg = (f"{len(rows)} 份报告 (reports) · {what} · "
           + (f"{y}年" if y else "各报告本年 (each report's own plan/review year)")
           + " · 点击单元格查看原文 (click a cell to open its passage)")
    if not rows:
        msg = f"没有报告给出{what} (no report has {kind}s for this year)"
    elif not panels:
        msg += " · 没有可作图的数字 (no numeric figures to chart)"
    path = csv_file(csv_text, kind, y)
    return (fmt.ok_html(msg) if rows else fmt.error_html(msg), pd.DataFrame(rows, columns=headers), refs,
            compare_chart(panels), gr.DownloadButton(value=path, interactive=path is not None), "")


def compare_pick(loader, evt: gr.SelectData, refs):
    """A click on a compare cell opens the sentence stating that figure, in context."""
    try:
        row, col = evt.index[0], evt.index[1]
        ref = refs[row][col]
    except (TypeError, IndexError, KeyError):
        return gr.skip()
    if not ref:
        return fmt.error_html("这一格没有数字 (this cell states no figure)") if refs and evt.index[1] >= 3 else gr.skip()
    try:
        svc = loader.get(require_index=False)
        text = svc.corpus.text(ref["key"])
        page = svc.corpus.page_at(ref["key"], ref["start"])
    except Exception as e:
        return fmt.error_html(st.message(e))
    return ffmt.figure_passage_html(ref, text, page)
