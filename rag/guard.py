"""The number guard: every number in an answer must occur in a span it cites.

Numbers are compared by value after normalisation: full/half width, spaces inside
numbers ("1170.1 亿元"), thousands separators, the units 亿/万/千 scale the value (so "1170.1亿" equals
"11701000万"), and "%" and "个百分点" are kept apart (3% is not 3 个百分点). Numbers the question itself contains
(years, mostly) and citation markers [n] are not checked.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_NUM = re.compile(
    r"(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)\s*(?P<unit>个百分点|百分点|%|‰|亿|万|千|倍|pp)?"
)
_MARK = re.compile(r"\[\d+\]")
_SCALE = {"亿": 1e8, "万": 1e4, "千": 1e3}


@dataclass(frozen=True)
class Number:
    text: str
    value: float
    kind: str  # "percent" | "points" | "permille" | "times" | "plain"


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    # "1170.1 亿元", "6.5 %" → no spaces between a number and what belongs to it
    text = re.sub(r"(?<=\d)\s+(?=[\d.%亿万千个倍‰])", "", text)
    text = re.sub(r"(?<=[\d.])\s+(?=\d)", "", text)
    return text


def numbers(text: str) -> list[Number]:
    out = []
    for m in _NUM.finditer(_MARK.sub(" ", normalize(text))):
        raw = m.group("num").replace(",", "")
        unit = m.group("unit") or ""
        value = float(raw)
        if unit in ("个百分点", "百分点", "pp"):
            kind = "points"
        elif unit == "%":
            kind = "percent"
        elif unit == "‰":
            kind = "permille"
        elif unit == "倍":
            kind = "times"
        else:
            kind = "plain"
            value = round(value * _SCALE.get(unit, 1.0), 4)
        out.append(Number(m.group(0).strip(), value, kind))
    return out


def _same(a: Number, b: Number) -> bool:
    if a.kind != b.kind:
        return False
    return abs(a.value - b.value) <= 1e-9 * max(1.0, abs(a.value))


@dataclass(frozen=True)
class GuardResult:
    ok: bool
    unsupported: tuple[str, ...]  # numbers of the answer found in no cited span

    def message(self) -> str:
        if self.ok:
            return ""
        return "数字核对未通过 (number guard): " + "、".join(self.unsupported) + " 不在所引原文中 (not found in the cited passages)"


def check(answer: str, cited_texts: list[str], question: str = "") -> GuardResult:
    """Every number of `answer` must occur (by value and kind) in one of `cited_texts`."""
    pool = [n for t in cited_texts for n in numbers(t)]
    asked = {n.value for n in numbers(question)}
    bad = []
    for n in numbers(answer):
        if n.kind == "plain" and n.value in asked:
            continue
        if not any(_same(n, p) for p in pool):
            bad.append(n.text)
    return GuardResult(not bad, tuple(dict.fromkeys(bad)))
