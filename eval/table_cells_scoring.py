"""What the comparison table (:func:`rag.table.cells`) shows for each gold cell of
``rag table-eval``, and the figures over them (see :mod:`eval.table_cells` for the
definitions of filled, correct, precision and coverage). ``rag`` is imported lazily.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Any, Sequence

from .table_cells_gold import GoldCell

__all__ = ["base_unit", "same_value", "indicator_id", "Outcome", "evaluate", "score"]


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s or "").strip()


def base_unit(unit: str) -> tuple[float, str]:
    """(scale, base unit): ``万人`` → (1e4, ``人``), ``万亿元`` → (1e12, ``元``), ``％`` → (1, ``%``)."""
    from rag.lexicon import lexicon

    lex = lexicon()
    u = _nfkc(unit)
    if u in lex.units or u == "%":
        return 1.0, u
    for word in sorted(lex.scales, key=len, reverse=True):
        if u.startswith(word) and len(u) > len(word):
            return float(lex.scales[word]), u[len(word):]
    return 1.0, u


def same_value(gold: GoldCell, fig) -> bool:
    """The table's figure states the gold value, within the unit. Figures' values come
    scaled (``880亿斤`` is ``8.8e10`` ``斤``); gold values are as written with their unit."""
    if gold.measure == "qualitative":
        return fig.measure == "qualitative"
    if fig.measure == "qualitative" or fig.value is None or gold.value is None:
        return False
    scale, unit = base_unit(gold.unit)
    if unit != _nfkc(fig.unit):
        return False
    return math.isclose(float(fig.value), float(gold.value) * scale, rel_tol=1e-6, abs_tol=1e-9)


def _norm_scope(s: str) -> str:
    s = _nfkc(s)
    return "" if s.startswith("全") else s


def indicator_id(name: str) -> str | None:
    from rag.lexicon import lexicon

    lex = lexicon()
    for i in lex.indicators:
        if name == i.name:
            return i.id
    for i in lex.indicators:
        if name in i.terms:
            return i.id
    hits = lex.asked(name.lower())
    return hits[0].indicator if hits and len(hits[0].term) == len(name) else None


@dataclass
class Outcome:
    cell: GoldCell
    filled: bool = False
    correct: bool = False
    got: str = ""  # the table's figure as written, "" when none
    why: str = ""  # for a miss: what went wrong


def evaluate(corpus, gold: Sequence[GoldCell]) -> list[Outcome]:
    """One :class:`Outcome` per gold cell: what the table shows for it."""
    from rag.lexicon import lexicon
    from rag.table import cells

    lex = lexicon()
    by_file: dict[str, list] = {}
    for r in corpus.reports:
        by_file.setdefault(r.file, []).append(r)
    siblings: dict[tuple, list[GoldCell]] = {}
    for g in gold:
        siblings.setdefault(g.key, []).append(g)
    memo: dict[tuple, Any] = {}
    out = []
    for g in gold:
        o = Outcome(g)
        out.append(o)
        reports = by_file.get(g.doc, [])
        ind = indicator_id(g.indicator)
        if not reports:
            o.why = "report not indexed"
            continue
        if ind is None:
            o.why = f"indicator {g.indicator!r} not in the lexicon"
            continue
        r = reports[0]
        measure = lex.by_id[ind].default if g.measure == "qualitative" else g.measure
        k = (r.key, ind, g.kind, g.year, measure)
        if k not in memo:
            got = [c for c in cells(corpus, [ind], g.kind, g.year, measure=measure) if c.report.key == r.key]
            memo[k] = got[0].figure if got else None
        fig = memo[k]
        if fig is None:
            o.why = "not in the table" if g.stated else ""
            continue
        sibs = [s for s in siblings[g.key] if s is not g]
        if sibs:
            fs = _norm_scope(fig.scope)
            mine = fs == _norm_scope(g.scope)
            owner = any(fs == _norm_scope(s.scope) for s in sibs)
            # a figure of a scope no gold cell names is charged to the first cell of the key
            if not mine and (owner or siblings[g.key][0] is not g):
                o.why = "the table shows another scope" if g.stated else ""
                continue
        o.filled = True
        o.got = fig.text + (f" [{fig.scope}]" if fig.scope else "")
        o.correct = g.stated and same_value(g, fig)
        if not o.correct:
            o.why = "stated as not given, the table shows a figure" if not g.stated else "wrong value"
    return out


def score(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    cells_ = len(outcomes)
    stated = sum(o.cell.stated for o in outcomes)
    filled = sum(o.filled for o in outcomes)
    filled_stated = sum(o.filled and o.cell.stated for o in outcomes)
    correct = sum(o.correct for o in outcomes)
    return {
        "cells": cells_,
        "stated": stated,
        "filled": filled,
        "correct": correct,
        "precision": round(correct / filled, 4) if filled else None,
        "coverage": round(filled_stated / stated, 4) if stated else None,
        "accuracy": round(correct / stated, 4) if stated else None,
    }
