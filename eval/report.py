"""Eval report: ``report.md`` with tables and ``metrics.png`` (a bar chart), and
``summary.json``.

The table text and the worst failures are made in :mod:`eval.report_format`, the
chart in :mod:`eval.report_chart` (matplotlib imported lazily there, Agg canvas only,
so nothing here needs a display); both are re-exported here.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Sequence

from .gold import GoldItem
from .judge import answer_correct
from .metrics import METRIC_KEYS
from .report_chart import find_cjk_font, write_chart
from .report_format import (
    DEFAULT_TITLE,
    _cell,
    _fmt_ratio,
    _metric_cell,
    _ordered_types,
    _table,
    _top_retrieved,
    fmt_value,
    ratio,
    worst_failures,
)
from .results import Results, _texts, index_results

__all__ = [
    "write_report",
    "write_summary_json",
    "write_chart",
    "find_cjk_font",
    "worst_failures",
    "fmt_value",
    "ratio",
]


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
