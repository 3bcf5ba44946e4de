"""The number guard: every figure in an answer must occur in a span it cites.

Figures are read by the project's one number parser (``rag.text.numbers``), so Arabic
digits, Chinese numerals ("百分之八点八", "一千五百亿元"), scales (万/亿/千亿) and mixed forms
("1.5千亿") are all checked, by value and kind: "1170.1亿元" equals "11701000万元", 3% is
not 3个百分点. Years and figures the question itself contains, citation markers [n], and
small Chinese counts that are words rather than figures ("一批", "三个") are not checked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .text.numbers import RATIOS, Quantity, quantities

_MARK = re.compile(r"\[\d{1,3}\]")
_FREE_KINDS = ("year",)


def _checked(q: Quantity) -> bool:
    if q.kind in _FREE_KINDS:
        return False
    return True


def _same(a: Quantity, b: Quantity) -> bool:
    if a.same(b):
        return True
    # a bare scaled number ("1.5千亿") against an amount with a unit ("1500亿元")
    loose = RATIOS + ("times",)
    if (a.kind == "plain") != (b.kind == "plain") and a.kind not in loose and b.kind not in loose:
        return abs(a.value - b.value) <= 1e-9 * max(1.0, abs(a.value))
    return False


@dataclass(frozen=True)
class GuardResult:
    ok: bool
    unsupported: tuple[str, ...]  # figures of the answer found in no cited span

    def message(self) -> str:
        if self.ok:
            return ""
        return "数字核对未通过 (number guard): " + "、".join(self.unsupported) + " 不在所引原文中 (not found in the cited passages)"


def derived_difference(a: Quantity, b: Quantity) -> Quantity | None:
    """The difference of two cited figures of the same kind and unit, as a figure."""
    if a.kind != b.kind or a.kind in ("year", "plain") or a.unit != b.unit:
        return None
    v = round(abs(a.value - b.value), 6)
    kind = "points" if a.kind == "percent" else a.kind
    return Quantity(0, 0, "", v, kind, a.unit, a.scale)


def check(answer: str, cited_texts: list[str], question: str = "", derived: list[Quantity] | None = None) -> GuardResult:
    """Every figure of ``answer`` must occur (by value and kind) in one of ``cited_texts``,
    or be one of the ``derived`` figures computed from them (a difference the answer says
    it computed)."""
    pool = [q for t in cited_texts for q in quantities(t)] + list(derived or [])
    asked = [q for q in quantities(question)]
    bad = []
    for n in quantities(_MARK.sub(" ", answer)):
        if not _checked(n):
            continue
        if any(_same(n, a) for a in asked):  # a figure the user wrote is not invented
            continue
        if not any(_same(n, p) for p in pool):
            bad.append(n.text.strip())
    return GuardResult(not bad, tuple(dict.fromkeys(bad)))
