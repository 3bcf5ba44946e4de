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
    """``{id: result}``; with a list, the last result for an id wins (as in the shared
    scorer, which reads results.jsonl into a dict line by line)."""
    if results is None:
        return {}
    if isinstance(results, Mapping):
        return dict(results)
    out: dict[str, Result] = {}
    for r in results:
        if isinstance(r, Mapping) and isinstance(r.get("id"), str):
            out[r["id"]] = r
    return out


def _pairs_for(items: Iterable[GoldItem], results: Results | None):
    idx = index_results(results)
    return [(it, idx.get(it.id)) for it in items]


def _refused(result: Result | None) -> bool:
    return result is not None and bool(result.get("refused"))


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
    """True if ``result["citations"]`` cover every pair of :func:`scored_pairs` (spans
    of the right doc containing the evidence, by :func:`span_contains`).

    It returns ``False`` for unanswerable items, refused answers and missing results.
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
