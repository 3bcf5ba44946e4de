"""Spans against evidence, and the retrieval metrics built on that: the text a span
points at, whether it covers an evidence string (the shared scorer's ``covers``), the
rank at which the retrieved spans cover an item's evidence, hit@k and MRR.

Definitions as ``shared/tools/score.py`` (see :mod:`eval.metrics`).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Iterable

from .gold import GoldItem, normalize
from .results import Result, Results, _mean, _pairs_for, _spans, _texts

__all__ = ["span_text", "span_contains", "scored_pairs", "first_hit_rank", "hit_at_k", "mrr"]


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def span_text(texts: Mapping[str, str] | str | os.PathLike, span: Mapping) -> str | None:
    """``texts[span["doc"]][start:end]``, or ``None`` if the doc or offsets are bad.

    Offsets must be ints with ``0 <= start <= end``; an ``end`` past the text is
    clipped (like Python slicing).
    """
    texts = _texts(texts)
    d, start, end = span.get("doc"), span.get("start"), span.get("end")
    if not isinstance(d, str) or not _is_int(start) or not _is_int(end):
        return None
    if start < 0 or end < start:
        return None
    try:
        text = texts[d]
    except KeyError:
        return None
    if text is None or start > len(text):
        return None
    return text[start:end]


def span_contains(
    texts: Mapping[str, str] | str | os.PathLike, span: Mapping, doc: str, evidence: str
) -> bool:
    """True if ``span`` is in ``doc`` and its text contains ``evidence`` (the shared
    scorer's ``covers``).

    The span text is ``texts[doc][start:end]`` when the offsets are ints with
    ``0 <= start < end <= len(text)``; the evidence must then occur in it after
    :func:`eval.gold.normalize` (NFKC, white space removed) of both, so a span that
    differs only in white space or full-/half-width forms still counts. The result's
    ``quote`` is read only for a span without such offsets (none, bad, or past the
    text). A span of a different doc never counts, even if it holds the same words. An
    empty evidence string never counts (the gold loader rejects one anyway).
    """
    if not evidence or not isinstance(span, Mapping) or span.get("doc") != doc:
        return False
    texts = _texts(texts)
    try:
        text = texts[doc] or ""
    except KeyError:
        text = ""
    start, end = span.get("start"), span.get("end")
    if _is_int(start) and _is_int(end) and 0 <= start < end <= len(text):
        return normalize(evidence) in normalize(text[start:end])
    quote = span.get("quote")
    return isinstance(quote, str) and bool(quote) and normalize(evidence) in normalize(quote)


def scored_pairs(item: GoldItem) -> tuple[tuple[str, str], ...]:
    """The ``(doc, evidence)`` pairs the metrics require covered: ``zip(doc, evidence)``,
    as in the shared scorer (so one doc with several evidence strings keeps only the
    first string; aligned lists need every pair, whatever the type)."""
    return tuple(zip(item.doc, item.evidence))


def _covering_rank(item: GoldItem, spans: list[Mapping], texts: Mapping[str, str]) -> int | None:
    """1-based smallest k such that the top-k spans cover every scored pair."""
    need = scored_pairs(item)
    got: set[int] = set()
    for i, sp in enumerate(spans, 1):
        for j, (d, ev) in enumerate(need):
            if j not in got and span_contains(texts, sp, d, ev):
                got.add(j)
        if len(got) == len(need):
            return i
    return None


def first_hit_rank(
    item: GoldItem, result: Result | None, texts: Mapping[str, str] | str | os.PathLike
) -> int | None:
    """1-based rank in ``result["retrieved"]`` (best first) at which the evidence is
    covered, or ``None`` if it never is (or the result is missing).

    Every pair of :func:`scored_pairs` must be covered by some span within the top k,
    so the rank is the smallest k for which all are (for one evidence string: the rank
    of the first span holding it). (For ``unanswerable`` items this is the rank of the
    tempting wrong passage; the aggregate metrics skip those items.)
    """
    return _covering_rank(item, _spans(result, "retrieved"), _texts(texts))


def hit_at_k(
    items: Iterable[GoldItem],
    results: Results | None,
    texts: Mapping[str, str] | str | os.PathLike,
    k: int,
) -> float | None:
    """Share of answerable items whose evidence is in the top ``k`` retrieved spans.

    ``None`` if there is no answerable item. Missing results count as misses.
    """
    return _mean([1.0 if rank is not None and rank <= k else 0.0 for rank in _ranks(items, results, texts)])


def mrr(
    items: Iterable[GoldItem],
    results: Results | None,
    texts: Mapping[str, str] | str | os.PathLike,
) -> float | None:
    """Mean reciprocal rank (1/rank, 0 when not retrieved at all) over answerable
    items, using the whole ``retrieved`` list. ``None`` if no answerable item."""
    return _mean([1.0 / rank if rank else 0.0 for rank in _ranks(items, results, texts)])


def _ranks(items, results, texts) -> list[int | None]:
    """The first evidence rank of each answerable item (None: not retrieved)."""
    texts = _texts(texts)
    return [first_hit_rank(it, r, texts) for it, r in _pairs_for(items, results) if it.answerable]
