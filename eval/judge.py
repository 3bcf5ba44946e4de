"""Per-item judging: is one result's answer right (and why not), does it cite the
evidence, and the one-row summary of an item for the failure table.

Definitions as ``shared/tools/score.py`` (see :mod:`eval.metrics`).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .gold import LONG_ANSWER_TYPES, GoldItem, normalize
from .results import Result, _refused, _spans, _texts
from .retrieval_metrics import _covering_rank, first_hit_rank

__all__ = ["MAX_ANSWER_CHARS", "answer_failures", "answer_correct", "citation_correct", "per_item"]

MAX_ANSWER_CHARS = 300


def answer_failures(item: GoldItem, result: Result | None) -> list[str]:
    """Why :func:`answer_correct` is False (empty list when it is True)."""
    if result is None:
        return ["no result"]
    refused = _refused(result)
    if not item.answerable:
        return [] if refused else ["answered an unanswerable question"]
    if refused:
        return ["wrongly refused"]
    ans = result.get("answer")
    norm = normalize(ans) if isinstance(ans, str) else ""
    out: list[str] = []
    if not norm and item.must_include:
        out.append("empty answer")
    missing = [m for m in item.must_include if normalize(m) not in norm]
    if missing:
        out.append("missing " + ", ".join(f"'{m}'" for m in missing))
    if item.type not in LONG_ANSWER_TYPES and len(norm) > MAX_ANSWER_CHARS:
        out.append(f"answer too long ({len(norm)} > {MAX_ANSWER_CHARS} chars, pasted passage?)")
    return out


def answer_correct(item: GoldItem, result: Result | None) -> bool:
    """Answer correctness exactly as in the format file.

    Answerable items: ``refused`` is not true, every ``must_include`` string
    (normalised) occurs in ``normalize(answer)``, and ``len(normalize(answer)) <= 300``
    unless the type is ``summary`` or ``list`` (so an empty answer is wrong whenever
    there is something it must include). ``unanswerable`` items: ``refused`` is true.
    A missing result (``None``) is wrong.
    """
    return not answer_failures(item, result)


def citation_correct(
    item: GoldItem, result: Result | None, texts: Mapping[str, str] | str | os.PathLike
) -> bool:
    """True if ``result["citations"]`` cover every pair of
    :func:`eval.retrieval_metrics.scored_pairs` (spans of the right doc containing the
    evidence, by :func:`eval.retrieval_metrics.span_contains`).

    It returns ``False`` for unanswerable items, refused answers and missing results.
    """
    if result is None or not item.answerable or _refused(result):
        return False
    return _covering_rank(item, _spans(result, "citations"), _texts(texts)) is not None


def per_item(
    item: GoldItem, result: Result | None, texts: Mapping[str, str] | str | os.PathLike
) -> dict[str, Any]:
    """One row for the failure table.

    Keys: id, type, difficulty, question, expected (gold answer), answer (got),
    refused, missing (no result), hit_rank (``None`` for unanswerable items or no
    hit), answer_ok, citation_ok (``None`` when not applicable: unanswerable or
    refused), latency_ms, failures (list of short reasons; empty when all is well).
    """
    texts = _texts(texts)
    missing = result is None
    refused = _refused(result)
    hit_rank = first_hit_rank(item, result, texts) if item.answerable else None
    a_fail = answer_failures(item, result)
    if item.answerable and not refused:
        citation_ok: bool | None = citation_correct(item, result, texts)
    else:
        citation_ok = None
    failures = list(a_fail)
    if item.answerable and not missing:
        if hit_rank is None:
            failures.append("evidence not retrieved")
        elif hit_rank > 5:
            failures.append(f"evidence only at rank {hit_rank}")
        if citation_ok is False:
            failures.append("no citation holds the evidence")
    ans = result.get("answer") if result is not None else None
    lat = result.get("latency_ms") if result is not None else None
    return {
        "id": item.id,
        "type": item.type,
        "difficulty": item.difficulty,
        "question": item.question,
        "expected": item.answer,
        "answer": ans if isinstance(ans, str) else "",
        "refused": refused,
        "missing": missing,
        "hit_rank": hit_rank,
        "answer_ok": not a_fail,
        "citation_ok": citation_ok,
        "latency_ms": lat,
        "failures": failures,
    }
