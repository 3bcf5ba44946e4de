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
matched to gold items by ``id``. A gold item with no result counts as a failure
everywhere (answer wrong, no hit, citation wrong) and is never dropped. Results whose
id is not in the gold set are ignored (counted in ``summary["counts"]``).

Conventions:

* Rate metrics return ``None`` when they do not apply to the given items (no
  answerable items for hit@k / mrr / citation accuracy, no unanswerable items for the
  refusal metrics, no latencies), never 0.
* ``refusal_precision`` is 0.0 when the system refused nothing (instead of 0/0);
  :func:`summarize` then sets ``refusal_precision_defined`` to ``False``.
* Latency percentiles use the nearest-rank method (no interpolation): the p-th
  percentile of n sorted values is the value at 1-based rank ``ceil(p/100 * n)``.
* For ``cross_doc`` items every evidence string must be covered (retrieval and
  citations); for other types with several evidence strings, any one suffices.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterable, Sequence

from .gold import LONG_ANSWER_TYPES, GoldItem, normalize, read_seed

__all__ = [
    "MAX_ANSWER_CHARS",
    "METRIC_KEYS",
    "RATE_KEYS",
    "load_results",
    "index_results",
    "span_text",
    "span_contains",
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

MAX_ANSWER_CHARS = 300
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

Result = Mapping[str, Any]
Results = Sequence[Result] | Mapping[str, Result]


# --------------------------------------------------------------------------- inputs


class _LazyTexts(Mapping):
    """``{file name: text}`` read from a seeds directory on first use."""

    def __init__(self, seeds_dir: str | os.PathLike) -> None:
        self._dir = seeds_dir

    def __getitem__(self, name: str) -> str:
        try:
            return read_seed(self._dir, name)
        except (FileNotFoundError, UnicodeDecodeError, OSError):
            raise KeyError(name) from None

    def __iter__(self):
        return iter(sorted(p.name for p in Path(self._dir).glob("*.txt")))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _texts(texts: Mapping[str, str] | str | os.PathLike) -> Mapping[str, str]:
    if isinstance(texts, (str, os.PathLike)):
        return _LazyTexts(texts)
    return texts


def load_results(path: str | os.PathLike) -> list[dict]:
    """Read a ``results.jsonl`` file (blank and broken lines are skipped)."""
    out: list[dict] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def index_results(results: Results | None) -> dict[str, Result]:
    """``{id: result}``; with a list, the first result for an id wins."""
    if results is None:
        return {}
    if isinstance(results, Mapping):
        return dict(results)
    out: dict[str, Result] = {}
    for r in results:
        if isinstance(r, Mapping) and isinstance(r.get("id"), str):
            out.setdefault(r["id"], r)
    return out


def _pairs_for(items: Iterable[GoldItem], results: Results | None):
    idx = index_results(results)
    return [(it, idx.get(it.id)) for it in items]


def _refused(result: Result | None) -> bool:
    return result is not None and result.get("refused") is True


def _spans(result: Result | None, key: str) -> list[Mapping]:
    if result is None:
        return []
    v = result.get(key)
    if not isinstance(v, list):
        return []
    return [s for s in v if isinstance(s, Mapping)]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


# --------------------------------------------------------------------------- spans


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
    """True if ``span`` is in ``doc`` and its text contains ``evidence``.

    The span text is ``texts[doc][start:end]`` (the result's ``quote`` is ignored).
    The evidence must occur verbatim in the span text, or — also accepted — after
    :func:`eval.gold.normalize` (NFKC, white space removed) of both, so a span that
    differs only in white space or full-/half-width forms still counts. A span of a
    different doc never counts, even if it holds the same words. An empty evidence
    string never counts.
    """
    if not evidence or span.get("doc") != doc:
        return False
    text = span_text(texts, span)
    if not text:
        return False
    if evidence in text:
        return True
    ev = normalize(evidence)
    return bool(ev) and ev in normalize(text)


def _covering_rank(item: GoldItem, spans: list[Mapping], texts: Mapping[str, str]) -> int | None:
    """1-based smallest k such that the top-k spans cover the item's evidence."""
    firsts: list[int | None] = []
    for d, ev in item.pairs():
        first = None
        for i, sp in enumerate(spans):
            if span_contains(texts, sp, d, ev):
                first = i + 1
                break
        firsts.append(first)
    if not firsts:
        return None
    if item.type == "cross_doc":
        return None if any(f is None for f in firsts) else max(firsts)  # type: ignore[type-var]
    found = [f for f in firsts if f is not None]
    return min(found) if found else None


def first_hit_rank(
    item: GoldItem, result: Result | None, texts: Mapping[str, str] | str | os.PathLike
) -> int | None:
    """1-based rank in ``result["retrieved"]`` (best first) of the first span holding
    the evidence, or ``None`` if none does (or the result is missing).

    For ``cross_doc`` every evidence string must be covered by some span within the
    top k, so the rank is the smallest k for which all are covered. For other types
    with several evidence strings the first span holding any of them counts.
    (For ``unanswerable`` items this is the rank of the tempting wrong passage; the
    aggregate metrics skip those items.)
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
    texts = _texts(texts)
    vals = []
    for it, r in _pairs_for(items, results):
        if not it.answerable:
            continue
        rank = first_hit_rank(it, r, texts)
        vals.append(1.0 if rank is not None and rank <= k else 0.0)
    return _mean(vals)


def mrr(
    items: Iterable[GoldItem],
    results: Results | None,
    texts: Mapping[str, str] | str | os.PathLike,
) -> float | None:
    """Mean reciprocal rank (1/rank, 0 when not retrieved at all) over answerable
    items, using the whole ``retrieved`` list. ``None`` if no answerable item."""
    texts = _texts(texts)
    vals = []
    for it, r in _pairs_for(items, results):
        if not it.answerable:
            continue
        rank = first_hit_rank(it, r, texts)
        vals.append(1.0 / rank if rank else 0.0)
    return _mean(vals)


# --------------------------------------------------------------------------- answers


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
    if not norm:
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
    unless the type is ``summary`` or ``list``. An empty answer is not a real answer
    and is wrong. ``unanswerable`` items: ``refused`` is ``True``. A missing result
    (``None``) is wrong.
    """
    return not answer_failures(item, result)


def citation_correct(
    item: GoldItem, result: Result | None, texts: Mapping[str, str] | str | os.PathLike
) -> bool:
    """True if ``result["citations"]`` include a span of the right doc containing the
    evidence (every evidence string for ``cross_doc``), by :func:`span_contains`.

    Meant for answerable, non-refused items; it returns ``False`` for unanswerable
    items, refused answers and missing results.
    """
    if result is None or not item.answerable or _refused(result):
        return False
    return _covering_rank(item, _spans(result, "citations"), _texts(texts)) is not None


def answer_accuracy(items: Iterable[GoldItem], results: Results | None) -> float | None:
    """Share of all items (answerable and unanswerable) with a correct answer."""
    return _mean([1.0 if answer_correct(it, r) else 0.0 for it, r in _pairs_for(items, results)])


def citation_accuracy(
    items: Iterable[GoldItem],
    results: Results | None,
    texts: Mapping[str, str] | str | os.PathLike,
) -> float | None:
    """Share of answerable, non-refused items with a correct citation.

    Items with no result are not refused, so they are in the denominator (as
    failures). ``None`` when there is no such item.
    """
    texts = _texts(texts)
    vals = [
        1.0 if citation_correct(it, r, texts) else 0.0
        for it, r in _pairs_for(items, results)
        if it.answerable and not _refused(r)
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

    ``None`` when ``items`` holds no unanswerable item (the metric does not apply).
    When nothing was refused the ratio is undefined (0/0); it is then defined as
    ``0.0`` and :func:`summarize` sets ``refusal_precision_defined = False``.
    """
    c = _refusal_counts(items, results)
    if c["unanswerable"] == 0:
        return None
    if c["refused"] == 0:
        return 0.0
    return c["refused_unanswerable"] / c["refused"]


def refusal_recall(items: Iterable[GoldItem], results: Results | None) -> float | None:
    """Of the ``unanswerable`` items, the share refused (missing results count as not
    refused). ``None`` when there is no unanswerable item."""
    c = _refusal_counts(items, results)
    if c["unanswerable"] == 0:
        return None
    return c["refused_unanswerable"] / c["unanswerable"]


# --------------------------------------------------------------------------- latency


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


def percentile(values: Iterable[float], p: float) -> float | None:
    """Nearest-rank percentile: the value at 1-based rank ``ceil(p/100 * n)`` of the
    sorted values (rank at least 1). No interpolation, so the result is always one
    of the values. ``None`` for no values."""
    vals = sorted(values)
    if not vals:
        return None
    if not 0 <= p <= 100:
        raise ValueError(f"percentile out of range: {p}")
    rank = max(1, math.ceil(p / 100 * len(vals)))
    return float(vals[rank - 1])


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
    """Median ``latency_ms`` (nearest rank) of the items' results; items without a
    result or without a numeric latency are left out. ``None`` if there are none."""
    return percentile(_latencies(items, results), 50)


def latency_p95(items: Iterable[GoldItem], results: Results | None) -> float | None:
    """95th percentile of ``latency_ms`` (nearest rank); see :func:`latency_p50`."""
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
        "refusal_precision_defined": (c["refused"] > 0) if c["unanswerable"] else None,
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
    refused, so the 0.0 precision is a convention; ``None`` when the refusal metrics
    do not apply). Metrics that do not apply to a subset are ``None``.
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
