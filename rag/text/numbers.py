"""The one number-and-unit parser: every figure the project reads, checks or shows.

``quantities(text)`` finds figures written with Arabic digits (half or full width,
thousands separators, decimals), with Chinese numerals ("百分之八点八", "一千五百亿元",
"八点八"), or mixed ("1.5千亿", "3000万"), with their scale (万/亿/万亿…), unit (%,
个百分点, 元, 万人, 亿斤…), qualifier (左右/以上/以内…, 约/超过/控制在…) and ranges
("5%—5.5%"). Units, scales and qualifiers come from the lexicon (``units.toml``).

Values are normalised so that equal figures compare equal: "1170.1亿元" and
"11701000万元" are both 1.1701e11 元; a percentage is its number (6.5 for "6.5%");
"3%" is never "3个百分点".
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from ..lexicon import lexicon

_DIGITS = "0-9０-９"
_ARABIC = rf"[{_DIGITS}]+(?:,[{_DIGITS}]{{3}})*(?:[.．][{_DIGITS}]+)?"
_CN_DIGIT = "零〇一二两三四五六七八九"
_CN_NUM = rf"[{_CN_DIGIT}十百千万亿]+(?:点[{_CN_DIGIT}]+)?"
_PCT_CN = r"(?:百分之|千分之)"
YEAR_RE = re.compile(r"(?<![0-9０-９.])((?:19|20)[0-9]{2})(?![0-9０-９.%])")


RATIOS = ("percent", "points", "permille")  # kinds of a figure that is a ratio, not an amount


@dataclass(frozen=True)
class Quantity:
    start: int  # span in the text: qualifier words, number, scale, unit
    end: int
    text: str
    value: float  # scaled: 1170.1亿元 -> 1.1701e11; 6.5% -> 6.5
    kind: str  # percent | points | permille | times | money | people | mass | count | … | year | plain
    unit: str = ""  # the unit word as written ("元", "%", "人")
    scale: float = 1.0  # 1e8 for 亿
    qualifier: str = ""  # approx | min | max | over | reach | plan | ""
    qualifier_text: str = ""  # "左右", "以上", "控制在"…
    high: float | None = None  # upper bound of a range ("5%—5.5%")
    chinese: bool = False  # written in Chinese numerals

    def same(self, other: "Quantity") -> bool:
        """Same figure: same kind, and the same value (either bound of a range)."""
        if self.kind != other.kind:
            return False
        mine = {self.value} | ({self.high} if self.high is not None else set())
        theirs = {other.value} | ({other.high} if other.high is not None else set())
        return any(abs(a - b) <= 1e-9 * max(1.0, abs(a)) for a in mine for b in theirs)


def _num(s: str) -> float:
    s = unicodedata.normalize("NFKC", s).replace(",", "")
    return float(s)


def _cn_value(s: str) -> float | None:
    import cn2an  # lazy: only for Chinese numerals

    try:
        return float(cn2an.cn2an(s, "smart"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def count_value(s: str) -> int:
    """A count as written in a name or a question: "3", "三", "十二", "两" (0 when unreadable)."""
    if s.isdigit():
        return int(s)
    v = _cn_value(s)
    return int(v) if v is not None and v == int(v) else 0


@functools.lru_cache(maxsize=1)
def _patterns():
    lex = lexicon()
    scales = sorted(lex.scales, key=len, reverse=True)
    # a unit written with a full-width slash ("微克／立方米") is the same unit
    units = sorted(set(lex.units) | {u.replace("/", "／") for u in lex.units}, key=len, reverse=True)
    after = sorted(lex.qualifiers_after, key=len, reverse=True)
    before = sorted(lex.qualifiers_before, key=len, reverse=True)
    alt = lambda ws: "|".join(re.escape(w) for w in ws)  # noqa: E731
    joiners = alt(lex.range_joiners)
    # a number, then optionally a range's second number, then scale, unit and qualifier
    # "2000多家", "5万多人": 多/余 between the number (or its scale) and the unit
    approx = r"(?P<approx>多|余)?"
    arabic = re.compile(
        rf"(?<![A-Za-z0-9０-９.．])(?P<pct>{_PCT_CN})?(?P<n1>{_ARABIC})(?![A-Za-z])(?P<u1>%|％)?"
        rf"(?:\s*(?P<join>{joiners})\s*(?P<n2>{_ARABIC}))?"
        rf"\s*(?P<scale>{alt(scales)})?{approx}\s*(?P<unit>{alt(units)})?(?P<after>{alt(after)})?"
    )
    chinese = re.compile(
        rf"(?P<pct>{_PCT_CN})?(?P<n1>{_CN_NUM})(?P<scale>{alt(['万亿', '亿', '万'])})?{approx}"
        rf"(?P<unit>{alt(units)})?(?P<after>{alt(after)})?"
    )
    before_re = re.compile(rf"(?:{alt(before)})\s*$")
    return arabic, chinese, before_re


_SCALE_CHARS = set("十百千万亿")


def _qualifier(text: str, start: int, after: str | None, before_re) -> tuple[str, str, int]:
    lex = lexicon()
    if after:
        return lex.qualifiers_after[after], after, start
    m = before_re.search(text, max(0, start - 6), start)
    if m:
        word = m.group(0).strip()
        return lex.qualifiers_before[word], word, m.start()
    return "", "", start


def _kind(unit: str, pct: str | None, u1: str | None) -> str:
    if pct == "百分之" or u1:
        return "percent"
    if pct == "千分之":
        return "permille"
    return lexicon().units.get(unit, "plain") if unit else "plain"


def _per_unit(text: str, start: int, unit: str) -> tuple[str, int]:
    """"每立方米22微克": the unit with the per written before the figure (微克/立方米) and
    where that per starts (the figure is written from it); else ``unit`` and -1."""
    for w, sfx in lexicon().per_before.items():
        if unit and text[max(0, start - len(w) - 1): start].strip().endswith(w) and unit + sfx in lexicon().units:
            return unit + sfx, text.rfind(w, 0, start)
    return unit, -1


def quantities(text: str) -> list[Quantity]:
    """Every figure in ``text``, in order, with offsets into ``text``."""
    arabic, chinese, before_re = _patterns()
    lex = lexicon()
    out: list[Quantity] = []
    taken = 0
    for m in arabic.finditer(text):
        if m.start() < taken:
            continue
        n1 = m.group("n1")
        # a year ("2020年", "2019 年", a bare 2020, "2016—2020年") is a date, not a figure
        raw = unicodedata.normalize("NFKC", n1)
        raw2 = unicodedata.normalize("NFKC", m.group("n2") or "")
        if (
            re.fullmatch(r"(?:19|20)\d{2}", raw)
            and (not raw2 or re.fullmatch(r"(?:19|20)\d{2}", raw2))
            and not m.group("u1")
            and not m.group("pct")
            and not m.group("scale")
            and not m.group("approx")
            and (m.group("unit") in (None, "年"))
        ):
            if raw2:
                out.append(Quantity(m.start("n1"), m.end("n1"), n1, float(raw), "year"))
                end2 = m.end("unit") if m.group("unit") == "年" else m.end("n2")
                out.append(Quantity(m.start("n2"), end2, text[m.start("n2"): end2], float(raw2), "year"))
            else:
                end = m.end("unit") if m.group("unit") == "年" else m.end("n1")
                out.append(Quantity(m.start("n1"), end, text[m.start("n1"): end], float(raw), "year"))
            taken = out[-1].end
            continue
        scale = lex.scales.get(m.group("scale") or "", 1.0)
        unit = (m.group("unit") or "").replace("／", "/")
        unit, per_at = _per_unit(text, m.start(), unit)
        kind = _kind(unit, m.group("pct"), m.group("u1"))
        if m.group("u1") is None and unit in ("%", "％"):
            kind = "percent"
        value = _num(n1)
        high = _num(m.group("n2")) if m.group("n2") else None
        if kind not in RATIOS + ("times",):
            value *= scale
            high = high * scale if high is not None else None
        q, qt, s = _qualifier(text, m.start() if per_at < 0 else per_at, m.group("after") or m.group("approx"), before_re)
        end = m.end()
        while end > m.start() and text[end - 1].isspace():
            end -= 1
        out.append(Quantity(s, end, text[s:end], round(value, 6), kind, unit or (m.group("u1") or ""), scale,
                            q if not high else (q or "range"), qt if not high else (qt or m.group("join")),
                            round(high, 6) if high is not None else None))
        taken = end
    for m in chinese.finditer(text):
        if any(q.start <= m.start() < q.end for q in out):
            continue
        n1 = m.group("n1")
        pct, unit, scale_w = m.group("pct"), (m.group("unit") or "").replace("／", "/"), m.group("scale") or ""
        # Chinese numerals count as a figure only when they clearly are one: a percentage
        # ("百分之八"), a decimal ("八点八"), or a numeral with a scale or unit ("一千五百亿元")
        # that is more than a small count ("一批", "三个", "五大" are words, not figures)
        strong_unit = lex.units.get(unit) in ("points", "percent", "times")
        if not (pct or "点" in n1 or scale_w or strong_unit or (unit and (len(n1) > 1 or n1[-1] in _SCALE_CHARS))):
            continue
        if unit == "年" and re.fullmatch(r"[一二〇零两三四五六七八九]{4}", n1):
            digits = "".join("0" if ch in "〇零" else str("一二三四五六七八九".index(ch) + 1) if ch in "一二三四五六七八九" else "2"
                             for ch in n1)
            out.append(Quantity(m.start(), m.end(), text[m.start(): m.end()], float(digits), "year", chinese=True))
            continue
        digits = n1
        value = _cn_value(digits)
        if value is None:
            # a run like "一千五百亿" the converter refuses as a whole: split off the scale
            for sc in ("万亿", "亿", "万"):  # the numeral system's own myriad units
                if digits.endswith(sc) and (v := _cn_value(digits[: -len(sc)])) is not None:
                    value, scale_w = v, sc + scale_w
                    break
        if value is None:
            continue
        kind = _kind(unit, pct, None)
        scale = lex.scales.get(scale_w, 1.0) if scale_w else 1.0
        if kind not in ("percent", "permille"):
            value *= scale
        if kind == "plain" and not scale_w and "点" not in n1:
            continue
        q, qt, s = _qualifier(text, m.start(), m.group("after") or m.group("approx"), before_re)
        out.append(Quantity(s, m.end(), text[s:m.end()], round(value, 6), kind, unit, scale, q, qt, None, True))
    out.sort(key=lambda q: q.start)
    return out


def figures(text: str) -> list[Quantity]:
    """The figures of ``text`` that are facts, not dates: years left out."""
    return [q for q in quantities(text) if q.kind != "year"]


def has_figure(text: str) -> bool:
    return any(q.kind != "year" for q in quantities(text))


def spans(text: str) -> list[tuple[int, int]]:
    """Where the figures of ``text`` are (for highlighting)."""
    return [(q.start, q.end) for q in figures(text)]


def years(text: str) -> list[int]:
    """The years ``text`` names ("2020年", "2019—2020"), in order, once each."""
    return list(dict.fromkeys(int(y) for y in YEAR_RE.findall(unicodedata.normalize("NFKC", text))))
