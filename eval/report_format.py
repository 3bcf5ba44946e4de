"""The eval report's text pieces: metric values and ratios as table text, markdown
tables and cells, the order of item types, and the worst failures with what was
retrieved for them (used by :func:`eval.report.write_report`; :mod:`eval.report_chart`
shares the type order and the default title).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Sequence

from .gold import TYPES, GoldItem
from .judge import per_item
from .results import Results, _texts, index_results
from .retrieval_metrics import span_text

__all__ = ["DEFAULT_TITLE", "fmt_value", "ratio", "worst_failures"]

DEFAULT_TITLE = "RAG evaluation report"


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
