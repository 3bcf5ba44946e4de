"""Eval report: ``report.md`` with tables and ``metrics.png`` (a bar chart).

matplotlib is imported lazily, inside :func:`write_chart`, and only the Agg canvas is
used (``matplotlib.figure.Figure``, never ``pyplot``), so no global backend is set and
nothing here needs a display.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Sequence

from .gold import TYPES, GoldItem
from .judge import answer_correct, per_item
from .metrics import METRIC_KEYS, RATE_KEYS
from .results import Results, _texts, index_results
from .retrieval_metrics import span_text

__all__ = [
    "write_report",
    "write_summary_json",
    "write_chart",
    "find_cjk_font",
    "worst_failures",
    "fmt_value",
    "ratio",
]

DEFAULT_TITLE = "RAG evaluation report"
# Metrics shown in the chart (rates in [0, 1]; latency is in the tables only).
CHART_KEYS: tuple[str, ...] = RATE_KEYS
_CJK_NAME_HINTS = (
    "Noto Sans CJK",
    "Noto Serif CJK",
    "Noto Sans SC",
    "Noto Sans TC",
    "Source Han Sans",
    "Source Han Serif",
    "WenQuanYi",
    "Droid Sans Fallback",
    "AR PL",
    "SimHei",
    "Microsoft YaHei",
    "PingFang",
    "Heiti",
    "Sarasa",
)


# --------------------------------------------------------------------------- format


def fmt_value(key: str, v: Any) -> str:
    """Table text for a metric value: rates with 3 decimals, latency in whole ms,
    ``n`` as an int, ``—`` for ``None`` (not applicable)."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v).lower()
    if key == "n":
        return str(int(v))
    if key.startswith("latency"):
        return f"{float(v):.0f}"
    if isinstance(v, (int, float)):
        return f"{float(v):.3f}"
    return str(v)


def ratio(project: Any, baseline: Any) -> float | None:
    """``project / baseline``, or ``None`` when undefined (missing or zero baseline)."""
    if (
        not isinstance(project, (int, float))
        or not isinstance(baseline, (int, float))
        or isinstance(project, bool)
        or isinstance(baseline, bool)
        or baseline == 0
    ):
        return None
    return float(project) / float(baseline)


def _fmt_ratio(r: float | None) -> str:
    return "—" if r is None else f"{r:.2f}×"


def _cell(s: Any, limit: int | None = None) -> str:
    """Markdown table cell: one line, pipes escaped, optionally trimmed."""
    text = "" if s is None else str(s)
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _metric_cell(block: Mapping[str, Any], key: str) -> str:
    s = fmt_value(key, block.get(key))
    if key == "refusal_precision" and block.get("refusal_precision_defined") is False:
        s += " (nothing refused)"  # 0/0
    return s


def _ordered_types(*summaries: Mapping[str, Any] | None) -> list[str]:
    seen: list[str] = []
    for s in summaries:
        for t in (s or {}).get("by_type", {}):
            if t not in seen:
                seen.append(t)
    order = {t: i for i, t in enumerate(TYPES)}
    return sorted(seen, key=lambda t: (order.get(t, len(order)), t))


# --------------------------------------------------------------------------- failures


def _severity(row: Mapping[str, Any]) -> int:
    return (
        8 * bool(row["missing"])
        + 4 * (not row["answer_ok"])
        + 2 * (row["citation_ok"] is False)
        + 1 * (row["hit_rank"] is None and row["type"] != "unanswerable")
    )


def worst_failures(
    items: Sequence[GoldItem],
    results: Results | None,
    texts: Mapping[str, str] | str | os.PathLike,
    n: int = 10,
) -> list[dict[str, Any]]:
    """The ``n`` worst items by :func:`eval.metrics.per_item` rows: missing result,
    then wrong answer, then wrong citation, then evidence not retrieved; ties keep
    gold order. Items with no failure are left out."""
    idx = index_results(results)
    texts = _texts(texts)
    rows = []
    for pos, it in enumerate(items):
        row = per_item(it, idx.get(it.id), texts)
        if row["failures"]:
            rows.append((-_severity(row), pos, row))
    rows.sort(key=lambda x: (x[0], x[1]))
    return [r for _, _, r in rows[:n]]


def _top_retrieved(result: Mapping | None, texts: Mapping[str, str], k: int = 3) -> str:
    if result is None:
        return "—"
    spans = result.get("retrieved")
    if not isinstance(spans, list) or not spans:
        return "(none)"
    parts = []
    for sp in spans[:k]:
        if not isinstance(sp, Mapping):
            continue
        t = span_text(texts, sp)
        snippet = "(bad span)" if t is None else " ".join(t.split())[:60]
        parts.append(
            f"{_cell(sp.get('doc'))}·{_cell(sp.get('section'), 40)}·{_cell(snippet)}"
        )
    return "<br>".join(parts) if parts else "(none)"


# --------------------------------------------------------------------------- chart


def find_cjk_font() -> str | None:
    """Name of a font matplotlib can use for Chinese, or ``None``.

    Looks in matplotlib's font list first; if none is there (e.g. fonts installed
    after matplotlib built its cache), asks ``fc-list :lang=zh`` for font files and
    registers them with matplotlib.
    """
    from matplotlib import font_manager

    def known() -> str | None:
        for f in font_manager.fontManager.ttflist:
            if any(h.lower() in f.name.lower() for h in _CJK_NAME_HINTS):
                return f.name
        return None

    name = known()
    if name:
        return name
    fc = shutil.which("fc-list")
    if not fc:
        return None
    try:
        out = subprocess.run(
            [fc, ":lang=zh", "file"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        path = line.split(":")[0].strip()
        if path and os.path.isfile(path):
            try:
                font_manager.fontManager.addfont(path)
            except Exception:  # noqa: BLE001 - a font matplotlib cannot read
                continue
    name = known()
    if name:
        return name
    # Any font just added from fc-list output counts, whatever its name.
    for line in out.splitlines():
        path = line.split(":")[0].strip()
        for f in font_manager.fontManager.ttflist:
            if f.fname == path:
                return f.name
    return None


def _ascii(s: str, fallback: str) -> str:
    t = "".join(ch for ch in s if ord(ch) < 128).strip()
    return t or fallback


def write_chart(
    path: str | os.PathLike,
    summary: Mapping[str, Any],
    baseline_summary: Mapping[str, Any] | None = None,
    title: str = DEFAULT_TITLE,
    labels: tuple[str, str] = ("project", "baseline"),
) -> Path:
    """Bar chart PNG: the main rate metrics overall, then answer accuracy and hit@5
    per type; the baseline's bars beside the project's when given. Metrics that do
    not apply are drawn as ``n/a``. Chinese text is kept only if a CJK font is found,
    otherwise labels are made ASCII."""
    fm_log = logging.getLogger("matplotlib.font_manager")
    old_level = fm_log.level
    fm_log.setLevel(logging.ERROR)  # "findfont: ... now using 500" is noise for .ttc fonts
    try:
        return _draw_chart(Path(path), summary, baseline_summary, title, labels)
    finally:
        fm_log.setLevel(old_level)


def _draw_chart(
    out: Path,
    summary: Mapping[str, Any],
    baseline_summary: Mapping[str, Any] | None,
    title: str,
    labels: tuple[str, str],
) -> Path:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = find_cjk_font()
    if font is None:
        title = _ascii(title, DEFAULT_TITLE)
        labels = (_ascii(labels[0], "project"), _ascii(labels[1], "baseline"))
    types = _ordered_types(summary, baseline_summary)
    runs: list[tuple[str, Mapping[str, Any]]] = [(labels[0], summary)]
    if baseline_summary is not None:
        runs.append((labels[1], baseline_summary))

    panels: list[tuple[str, list[str], list[list[float | None]]]] = []
    panels.append(
        (
            "overall",
            list(CHART_KEYS),
            [[(s.get("overall") or {}).get(k) for k in CHART_KEYS] for _, s in runs],
        )
    )
    for key in ("answer_accuracy", "hit@5"):
        panels.append(
            (
                f"{key} by type",
                [t if font else _ascii(t, "?") for t in types],
                [[((s.get("by_type") or {}).get(t) or {}).get(key) for t in types] for _, s in runs],
            )
        )
    panels = [p for p in panels if p[1]]

    rc = {"font.size": 9}
    if font:
        rc["font.sans-serif"] = [font, "DejaVu Sans"]
        rc["font.family"] = "sans-serif"
        rc["axes.unicode_minus"] = False
    colors = ["#2b6cb0", "#c05621"]
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(11, 3.2 * len(panels) + 0.6), dpi=100)
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        width = 0.8 / len(runs)
        for ax, (ptitle, cats, series) in zip(axes, panels):
            xs = list(range(len(cats)))
            for j, ((label, _), vals) in enumerate(zip(runs, series)):
                pos = [x - 0.4 + width * (j + 0.5) for x in xs]
                heights = [v if isinstance(v, (int, float)) else 0.0 for v in vals]
                bars = ax.bar(pos, heights, width * 0.95, label=label, color=colors[j % 2])
                for b, v in zip(bars, vals):
                    txt = "n/a" if v is None else f"{v:.2f}"
                    ax.annotate(
                        txt,
                        (b.get_x() + b.get_width() / 2, b.get_height()),
                        ha="center",
                        va="bottom",
                        fontsize=7,
                        xytext=(0, 1),
                        textcoords="offset points",
                    )
            ax.set_xticks(xs)
            ax.set_xticklabels(cats, rotation=15 if len(cats) > 6 else 0)
            ax.set_ylim(0, 1.12)
            ax.set_title(ptitle)
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
            if len(runs) > 1:
                ax.legend(loc="upper right", fontsize=8)
        fig.suptitle(title)
        fig.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png")
    return out


# --------------------------------------------------------------------------- files


def write_summary_json(out_dir: str | os.PathLike, summary: Mapping[str, Any]) -> Path:
    """Write ``out_dir/summary.json`` (UTF-8, indented, Chinese kept) and return it."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    p = d / "summary.json"
    p.write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    return p


def write_report(
    out_dir: str | os.PathLike,
    summary: Mapping[str, Any],
    items: Sequence[GoldItem],
    results: Results | None,
    texts: Mapping[str, str] | str | os.PathLike,
    baseline_summary: Mapping[str, Any] | None = None,
    baseline_results: Results | None = None,
    title: str = DEFAULT_TITLE,
    settings: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``out_dir/report.md`` and ``out_dir/metrics.png``; return the report path.

    The report holds: the title, a settings line (``key=value · …`` from
    ``settings``), counts, the overall table, the per-type table, when a baseline is
    given a side-by-side table (project, baseline, ratio project/baseline, ``—`` where
    undefined) plus how many items each got right, the ten worst failures (question,
    expected, got trimmed to ~150 chars, top-3 retrieved as doc·section·first 60
    chars of the span text, what failed) and ``![chart](metrics.png)``.
    """
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    texts = _texts(texts)
    items = list(items)
    idx = index_results(results)
    overall = summary.get("overall") or {}
    by_type = summary.get("by_type") or {}
    counts = summary.get("counts") or {}

    lines: list[str] = [f"# {title}", ""]
    if settings:
        lines += [
            "Settings: " + " · ".join(f"{k}={_cell(v, 80)}" for k, v in settings.items()),
            "",
        ]
    if counts:
        lines += [
            f"Items: {counts.get('items', len(items))} "
            f"({counts.get('answerable', '?')} answerable, "
            f"{counts.get('unanswerable', '?')} unanswerable) · "
            f"results: {counts.get('results', '?')} · "
            f"missing results: {counts.get('missing_results', 0)} · "
            f"refused: {counts.get('refused', 0)} "
            f"(wrongly: {counts.get('wrongly_refused', 0)})",
            "",
        ]

    lines += ["## Overall", ""]
    lines += _table(
        ["metric", "value"], [[k, _metric_cell(overall, k)] for k in METRIC_KEYS]
    )
    lines.append("")
    lines.append(
        "`—` = does not apply. Latency in ms (p50/p95: the sorted value at index "
        "int(p·n)). Missing results count as failures. Definitions as shared/tools/score.py."
    )
    lines.append("")

    types = _ordered_types(summary, baseline_summary)
    lines += ["## By type", ""]
    if types:
        lines += _table(
            ["type"] + list(METRIC_KEYS),
            [[t] + [_metric_cell(by_type.get(t) or {}, k) for k in METRIC_KEYS] for t in types],
        )
    else:
        lines.append("(no items)")
    lines.append("")

    if baseline_summary is not None:
        b_overall = baseline_summary.get("overall") or {}
        b_by_type = baseline_summary.get("by_type") or {}
        lines += ["## Project vs baseline", ""]
        rows = []
        for k in METRIC_KEYS:
            pv, bv = overall.get(k), b_overall.get(k)
            rows.append(
                [
                    k,
                    _metric_cell(overall, k),
                    _metric_cell(b_overall, k),
                    "—" if k == "n" else _fmt_ratio(ratio(pv, bv)),
                ]
            )
        lines += _table(["metric", "project", "baseline", "ratio (project/baseline)"], rows)
        lines.append("")
        if types:
            lines += ["Answer accuracy by type:", ""]
            trows = []
            for t in types:
                pv = (by_type.get(t) or {}).get("answer_accuracy")
                bv = (b_by_type.get(t) or {}).get("answer_accuracy")
                trows.append(
                    [t, fmt_value("answer_accuracy", pv), fmt_value("answer_accuracy", bv),
                     _fmt_ratio(ratio(pv, bv))]
                )
            lines += _table(["type", "project", "baseline", "ratio"], trows)
            lines.append("")
        if baseline_results is not None:
            bidx = index_results(baseline_results)
            both = p_only = b_only = neither = 0
            for it in items:
                p_ok = answer_correct(it, idx.get(it.id))
                b_ok = answer_correct(it, bidx.get(it.id))
                both += p_ok and b_ok
                p_only += p_ok and not b_ok
                b_only += b_ok and not p_ok
                neither += not p_ok and not b_ok
            lines += [
                f"Answers right — both: {both} · project only: {p_only} · "
                f"baseline only: {b_only} · neither: {neither}",
                "",
            ]

    worst = worst_failures(items, idx, texts, 10)
    lines += [f"## Worst failures ({len(worst)})", ""]
    if worst:
        rows = []
        for i, row in enumerate(worst, 1):
            r = idx.get(row["id"])
            got = "(no result)" if row["missing"] else (
                "(refused) " + row["answer"] if row["refused"] else row["answer"]
            )
            rows.append(
                [
                    str(i),
                    _cell(row["id"]),
                    _cell(row["type"]),
                    _cell(row["question"], 120),
                    _cell(row["expected"], 150),
                    _cell(got, 150),
                    _top_retrieved(r, texts),
                    _cell("; ".join(row["failures"])),
                ]
            )
        lines += _table(
            ["#", "id", "type", "question", "expected", "got", "top-3 retrieved", "what failed"],
            rows,
        )
    else:
        lines.append("No failures.")
    lines.append("")

    write_chart(d / "metrics.png", summary, baseline_summary, title=title)
    lines += ["## Chart", "", "![chart](metrics.png)", ""]

    p = d / "report.md"
    p.write_text("\n".join(lines), encoding="utf-8")
    return p
