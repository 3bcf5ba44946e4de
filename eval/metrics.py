"""Eval metrics as plain functions over gold items and result dicts (ragas style).

A *result* is one line of ``results.jsonl`` (see ``shared/eval-format.md``)::

    {"id", "question", "answer", "refused",
     "citations": [{"doc", "section", "start", "end", "quote"}],
     "retrieved": [{"doc", "section", "start", "end", "score"}],   # best first
     "latency_ms"}

A span's text is always ``texts[doc][start:end]`` taken from the seed files;
``quote`` is never trusted. ``texts`` is a ``{file name: text}`` mapping (see
:func:`eval.gold.load_texts`); a seeds directory path is accepted too and read lazily.

``results`` may be a list of result dicts or a ``{id: result}`` mapping; results are
matched to gold items by ``id`` (with a list, the last result for an id wins, as in
the shared scorer). A gold item with no result counts as a failure everywhere (answer
wrong, no hit, citation wrong) and is never dropped. Results whose id is not in the
gold set are ignored (counted in ``summary["counts"]``).

The definitions are those of the format's independent scorer,
``shared/tools/score.py``, which is the contract: on the same run both give the same
figures (tests/test_eval_metrics.py and tests/test_eval_run.py check it). In short:

* A span covers an evidence string when it is of the right doc and
  ``normalize(evidence)`` occurs in ``normalize(text[start:end])``; offsets must satisfy
  ``0 <= start < end <= len(text)``. Only a span without such offsets falls back to its
  ``quote``.
* An item's evidence is the pairs ``zip(doc, evidence)`` and every pair must be
  covered (retrieval and citations), whatever the type. With one doc and several
  evidence strings, ``zip`` keeps the first string only.
* ``citation_accuracy`` is over every answerable item: a refused one (or one without a
  result) counts as a wrong citation.
* ``refusal_precision`` is ``None`` when nothing was refused (0/0), else the share of
  refusals that were of ``unanswerable`` items (over all items, so a set without
  unanswerable items but with refusals scores 0.0). ``refusal_recall`` is ``None``
  without unanswerable items.
* Latency percentiles: the p-th percentile of n sorted values is the value at 0-based
  index ``min(n - 1, int(p/100 * n))`` (p50 of an even count is the upper middle one).
* Other rate metrics return ``None`` when they do not apply to the given items (no
  answerable items for hit@k / mrr / citation accuracy, no latencies), never 0.

This module holds the figures over a set of items and their summary; the pieces they
are built from live beside it and are re-exported here: reading and matching results
(:mod:`eval.results`), spans, hit@k and MRR (:mod:`eval.retrieval_metrics`) and the
per-item judging of answers and citations (:mod:`eval.judge`).
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any, Iterable, Sequence

from .gold import GoldItem
from .judge import MAX_ANSWER_CHARS, answer_correct, answer_failures, citation_correct, per_item
from .results import Results, _mean, _pairs_for, _refused, _texts, index_results, load_results
from .retrieval_metrics import first_hit_rank, hit_at_k, mrr, scored_pairs, span_contains, span_text

__all__ = [
    "MAX_ANSWER_CHARS",
    "METRIC_KEYS",
    "RATE_KEYS",
    "load_results",
    "index_results",
    "span_text",
    "span_contains",
    "scored_pairs",
    "first_hit_rank",
    "hit_at_k",
    "mrr",
    "answer_correct",
    "answer_failures",
    "citation_correct",
    "answer_accuracy",
    "citation_accuracy",
    "foreign_citation_rate",
    "refusal_precision",
    "refusal_recall",
    "percentile",
    "latency_p50",
    "latency_p95",
    "summarize",
    "per_item",
]

RATE_KEYS: tuple[str, ...] = (
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr",
    "answer_accuracy",
    "citation_accuracy",
    "refusal_precision",
    "refusal_recall",
    "foreign_citation_rate",
)
METRIC_KEYS: tuple[str, ...] = RATE_KEYS + ("latency_p50_ms", "latency_p95_ms", "n")


# --------------------------------------------------------------------------- answers and citations


def answer_accuracy(items: Iterable[GoldItem], results: Results | None) -> float | None:
    """Share of all items (answerable and unanswerable) with a correct answer."""
    return _mean([1.0 if answer_correct(it, r) else 0.0 for it, r in _pairs_for(items, results)])


def citation_accuracy(
    items: Iterable[GoldItem],
    results: Results | None,
    texts: Mapping[str, str] | str | os.PathLike,
) -> float | None:
    """Share of answerable items that were answered (not refused) with a correct
    citation, as in the shared scorer: a refused answerable item, or one with no
    result, counts as a wrong citation. ``None`` when there is no answerable item.
    """
    texts = _texts(texts)
    vals = [
        1.0 if citation_correct(it, r, texts) else 0.0
        for it, r in _pairs_for(items, results)
        if it.answerable
    ]
    return _mean(vals)


def _refusal_counts(items: Iterable[GoldItem], results: Results | None) -> dict[str, int]:
    c = {"refused": 0, "refused_unanswerable": 0, "unanswerable": 0}
    for it, r in _pairs_for(items, results):
        ref = _refused(r)
        c["refused"] += ref
        if not it.answerable:
            c["unanswerable"] += 1
            c["refused_unanswerable"] += ref
    return c


def refusal_precision(items: Iterable[GoldItem], results: Results | None) -> float | None:
    """Of the items the system refused, the share that are ``unanswerable``.

    ``None`` when nothing was refused (0/0), as in the shared scorer. Without
    unanswerable items any refusal is a wrong one, so the figure is then 0.0.
    """
    c = _refusal_counts(items, results)
    if c["refused"] == 0:
        return None
    return c["refused_unanswerable"] / c["refused"]


def refusal_recall(items: Iterable[GoldItem], results: Results | None) -> float | None:
    """Of the ``unanswerable`` items, the share refused (missing results count as not
    refused). ``None`` when there is no unanswerable item."""
    c = _refusal_counts(items, results)
    if c["unanswerable"] == 0:
        return None
    return c["refused_unanswerable"] / c["unanswerable"]


def foreign_citation_rate(items: Iterable[GoldItem], results: Results | None) -> float | None:
    """Answerable, non-refused items whose citations include a report other than the gold
    doc(s): another region, level or year. The error users forgive least; target 0."""
    idx = index_results(results)
    flags = []
    for it in items:
        r = idx.get(it.id)
        if not it.answerable or r is None or _refused(r):
            continue
        cited = {c.get("doc") for c in (r.get("citations") or []) if isinstance(c, Mapping)}
        if cited:
            flags.append(bool(cited - set(it.doc)))
    return _mean([1.0 if f else 0.0 for f in flags])


# --------------------------------------------------------------------------- latency


def percentile(values: Iterable[float], p: float) -> float | None:
    """The shared scorer's percentile: the sorted values' element at 0-based index
    ``min(n - 1, int(p/100 * n))``. No interpolation, so the result is always one of
    the values; p50 of an even count is the upper of the two middle values. ``None``
    for no values."""
    vals = sorted(values)
    if not vals:
        return None
    if not 0 <= p <= 100:
        raise ValueError(f"percentile out of range: {p}")
    return float(vals[min(len(vals) - 1, int(p / 100 * len(vals)))])


def _latencies(items: Iterable[GoldItem], results: Results | None) -> list[float]:
    out = []
    for _, r in _pairs_for(items, results):
        if r is None:
            continue
        v = r.get("latency_ms")
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


def latency_p50(items: Iterable[GoldItem], results: Results | None) -> float | None:
    """Median ``latency_ms`` (see :func:`percentile`) of the items' results; items
    without a result or without a numeric latency are left out. ``None`` if none."""
    return percentile(_latencies(items, results), 50)


def latency_p95(items: Iterable[GoldItem], results: Results | None) -> float | None:
    """95th percentile of ``latency_ms`` (see :func:`percentile`, :func:`latency_p50`)."""
    return percentile(_latencies(items, results), 95)


# --------------------------------------------------------------------------- summary


def _block(
    items: list[GoldItem], results: Results | None, texts: Mapping[str, str]
) -> dict[str, Any]:
    idx = index_results(results)
    c = _refusal_counts(items, idx)
    return {
        "hit@1": hit_at_k(items, idx, texts, 1),
        "hit@3": hit_at_k(items, idx, texts, 3),
        "hit@5": hit_at_k(items, idx, texts, 5),
        "mrr": mrr(items, idx, texts),
        "answer_accuracy": answer_accuracy(items, idx),
        "citation_accuracy": citation_accuracy(items, idx, texts),
        "refusal_precision": refusal_precision(items, idx),
        "refusal_recall": refusal_recall(items, idx),
        "refusal_precision_defined": c["refused"] > 0,
        "foreign_citation_rate": foreign_citation_rate(items, idx),
        "latency_p50_ms": latency_p50(items, idx),
        "latency_p95_ms": latency_p95(items, idx),
        "n": len(items),
    }


def summarize(
    items: Sequence[GoldItem],
    results: Results | None,
    texts: Mapping[str, str] | str | os.PathLike,
) -> dict[str, Any]:
    """All metrics, overall and per ``type``.

    Returns ``{"overall": block, "by_type": {type: block}, "counts": {...}}`` where a
    block has the keys ``hit@1, hit@3, hit@5, mrr, answer_accuracy,
    citation_accuracy, refusal_precision, refusal_recall, latency_p50_ms,
    latency_p95_ms, n`` plus ``refusal_precision_defined`` (``False`` when nothing was
    refused, so the precision is ``None``). Metrics that do not apply to a subset are
    ``None``.
    ``counts``: items, answerable, unanswerable, results (matched), missing_results,
    missing_ids, extra_results, refused, wrongly_refused, by_type, by_difficulty.
    The result is JSON-serialisable.
    """
    items = list(items)
    texts = _texts(texts)
    idx = index_results(results)
    by_type: dict[str, list[GoldItem]] = {}
    for it in items:
        by_type.setdefault(it.type, []).append(it)
    gold_ids = {it.id for it in items}
    missing = [it.id for it in items if it.id not in idx]
    by_difficulty: dict[str, int] = {}
    for it in items:
        by_difficulty[it.difficulty] = by_difficulty.get(it.difficulty, 0) + 1
    refused = [it for it in items if _refused(idx.get(it.id))]
    counts = {
        "items": len(items),
        "answerable": sum(it.answerable for it in items),
        "unanswerable": sum(not it.answerable for it in items),
        "results": len(items) - len(missing),
        "missing_results": len(missing),
        "missing_ids": missing,
        "extra_results": sum(1 for k in idx if k not in gold_ids),
        "refused": len(refused),
        "wrongly_refused": sum(it.answerable for it in refused),
        "by_type": {t: len(v) for t, v in by_type.items()},
        "by_difficulty": by_difficulty,
    }
    return {
        "overall": _block(items, idx, texts),
        "by_type": {t: _block(v, idx, texts) for t, v in by_type.items()},
        "counts": counts,
    }
