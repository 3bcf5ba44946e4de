"""What a question asks of which indicator: the parts (one per indicator and measure, in
the question's order: "GDP和一般公共预算收入的目标各是多少" is two), the scopes
("全市和市级口径"), the unit kind ("多少亿元" → money) and the list count ("哪五个方面").
Part of the question analysis (:mod:`rag.query`); the words are data (``lexicon/*.toml``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .gazetteer import gazetteer
from .lexicon import lexicon, pattern
from .question_cues import cues, has, said
from .text.numbers import RATIOS


@dataclass(frozen=True)
class Part:
    """One thing asked: an indicator with the measure wanted, or free subject words."""

    indicator: str = ""  # lexicon id
    measure: str = ""  # growth | level | rate | "" (any)
    label: str = ""  # how the question names it


def blank(low: str, hits) -> str:
    """The question with indicator names blanked out (so "生产总值" does not read as "总值")."""
    chars = list(low)
    for h in hits:
        for i in range(h.start, h.end):
            chars[i] = " "
    return "".join(chars)


def _grows(text: str, english: bool) -> bool:
    m = cues()["measure"]
    return has(text, m["growth"]) or (english and has(text, m["growth_en"]))


def _level(text: str, english: bool) -> bool:
    m = cues()["measure"]
    return has(text, m["level"]) or (english and has(text, m["level_en"]))


def _measure(around: str, ind_id: str, english: bool) -> str:
    ind = lexicon().by_id[ind_id]
    growth, level = _grows(around, english), _level(around, english)
    if "rate" in ind.measures and ind.default == "rate":
        return "rate"
    if growth and level:
        return ""
    if growth and "growth" in ind.measures:
        return "growth"
    if level and "level" in ind.measures:
        return "level"
    return ""


def _asked(low: str):
    """The indicators named, minus a denominator ("民生支出占财政支出比重": 财政支出 is not asked)
    and minus a broader indicator written right before a narrower one ("外贸进口": imports)."""
    lex = lexicon()
    hits = lex.asked(low)
    hits = [h for i, h in enumerate(hits) if not (i + 1 < len(hits) and hits[i + 1].start == h.end
                                                  and lex.by_id[hits[i + 1].indicator].broader == h.indicator)]
    before, after, between = pattern("denominator_before"), pattern("denominator_after"), pattern("denominator_between")
    return [h for h in hits if not (before.search(low[max(0, h.start - 2): h.start]) and after.match(low[h.end:]))
            or any(o.end <= h.start and between.fullmatch(low[o.end: h.start]) for o in hits)]


def _english_shares(low: str, merged: list[tuple]) -> list[tuple]:
    """"What share of GDP … R&D spending", "the ratio of R&D spending to GDP": GDP is the
    denominator, and the other indicator is asked as its share of GDP."""
    lex = lexicon()
    of = pattern("denominator_en")
    denominators = [m for m, _ in merged if m.indicator == lex.economy and of.search(low[max(0, m.start - 24): m.start])]
    if not denominators or len(merged) < 2:
        return merged
    out = []
    for m, forced in merged:
        if m in denominators:
            continue
        ind, measure = lex.share_of(m.indicator) if lex.by_id[m.indicator].share else (m.indicator, forced)
        out.append((type(m)(ind, m.start, m.end, m.term), measure))
    return out


def _free_parts(low: str, hits) -> list[Part]:
    """What a question asking each of several things joins to a named indicator and the
    lexicon does not name by itself: a bare word of a kin indicator ("粮食播种面积和总产量
    分别是多少": grain output), else free words a sentence must hold with its figure
    ("城镇新增就业和农村劳动力转移就业目标各是多少")."""
    if not hits or not said(low, "each_asked"):
        return []
    lex = lexicon()
    stop = set(cues()["stop"]["zh"])
    out = []
    for h in hits:
        m = pattern("free_conjunct").match(low, h.end)
        if not m or m.group(1) in stop or any(o.start == m.start(1) for o in hits):
            continue  # none, or an indicator named (a part of its own)
        if pattern("scope").match(m.group(1)) or gazetteer().find(m.group(1)):
            continue  # "…和全市的目标", "…和合肥的": a scope or a place, not a thing asked
        words = m.group(1)
        named = [x for x in lex.mentions(f"{h.term}、{words}") if x.start > len(h.term)]
        out.append(Part(named[0].indicator, "", words) if named else Part("", "", words))
    return out


def parts_of(low: str, english: bool) -> list[Part]:
    """The parts asked, in order, each with the measure the question wants of it."""
    from .facts import merge_shares

    lex = lexicon()
    merged = merge_shares(low, _asked(low))
    if english:
        merged = _english_shares(low, merged)
    elif len(merged) == 1 and not merged[0][1] and said(low, "share_asked"):
        # "服务业在整个经济里占多大分量": one indicator's share of the economy
        m = merged[0][0]
        ind, measure = lex.share_of(m.indicator)
        merged = [(type(m)(ind, m.start, m.end, m.term), measure)]
    # generic words ("增长目标") name the headline indicator only when nothing else is named
    generic = {t.lower() for t in lex.fallback_terms}
    if any(lex.canonical(m.term) not in generic for m, _ in merged):
        merged = [(m, f) for m, f in merged if lex.canonical(m.term) not in generic]
    hits = [m for m, _ in merged]
    forced = {id(m): f for m, f in merged}
    blanked = blank(low, hits)
    joins = pattern("joined")
    seen: dict[str, Part] = {}
    order: list[str] = []
    joined: dict[str, bool] = {}
    for i, h in enumerate(hits):
        nxt = hits[i + 1].start if i + 1 < len(hits) else len(low)
        if h.indicator in seen:  # named again ("外贸自营进出口总额"): joined to what follows it?
            joined[h.indicator] = joined[h.indicator] or (
                bool(joins.fullmatch(blanked[h.end: nxt])) and nxt < len(low))
            continue
        around = blanked[h.start: nxt] if len(hits) > 1 else blanked
        seen[h.indicator] = Part(h.indicator, forced.get(id(h)) or _measure(around, h.indicator, english), h.term)
        order.append(h.indicator)
        joined[h.indicator] = bool(joins.fullmatch(blanked[h.end: nxt]) or not blanked[h.end: nxt].strip()) and nxt < len(low)
    # "地区生产总值和一般公共预算收入分别增长了多少": the shared predicate is every one's
    for a, b in zip(reversed(order[:-1]), reversed(order[1:])):
        if joined[a] and not seen[a].measure and seen[b].measure and seen[b].measure in lex.by_id[a].measures:
            seen[a] = replace(seen[a], measure=seen[b].measure)
    parts = [seen[i] for i in order]
    free = [] if english else _free_parts(low, hits)
    parts += [p for p in free if p.indicator and p.indicator not in seen]
    # a shared form asked with one of its parts named is that part; the specific wins over
    # the general ("城镇居民人均可支配收入" is not any 居民收入)
    ids = {p.indicator for p in parts}
    parts = [p for p in parts if not any(p.indicator in lex.by_id[o].covers for o in ids if o != p.indicator)]
    # "urban residents' per capita disposable income": the narrower indicator, not also the
    # broader — unless both are asked side by side ("进出口总额和出口额各多少")
    paired = {b for a, b in zip(order, order[1:]) if joined[a]} | {a for a in order[:-1] if joined[a]}
    broader = {p.indicator: p for p in parts if p.indicator not in paired and any(
        lex.by_id[o].broader == p.indicator for o in ids if o != p.indicator)}
    # … and the narrower takes the measure said after the broader's words ("… income grow")
    parts = [replace(p, measure=b.measure) if not p.measure and (b := broader.get(lex.by_id[p.indicator].broader))
             and b.measure in lex.by_id[p.indicator].measures else p for p in parts if p.indicator not in broader]
    # a shared form asked ("城镇和农村居民收入各增长多少") is each of its parts
    parts = [replace(p, indicator=c) for p in parts for c in (lex.by_id[p.indicator].covers or (p.indicator,))]
    # "规模和增速分别是多少", "收入多少，增长多少": each indicator, both measures
    level = _level(blanked, english) or any(
        pattern("level_then_growth").match(blanked[h.end:]) and pattern("growth_after").search(blanked[h.end:])
        for h in hits)
    if _grows(blanked, english) and level:
        both = []
        for p in parts:
            ind = lex.by_id[p.indicator]
            if {"level", "growth"} <= set(ind.measures) and p.measure != "rate":
                both += [replace(p, measure="level"), replace(p, measure="growth")]
            else:
                both.append(p)
        parts = both
    # "优良天数要达到多少天": a level in the unit asked, not the indicator's default rate
    kind = unit_kind(low)
    if kind and kind not in RATIOS:
        parts = [replace(p, measure="level") if p.measure == "rate" and "level" in lex.by_id[p.indicator].measures
                 else p for p in parts]
    return parts + [p for p in free if not p.indicator]


def scopes(q: str) -> tuple[str, ...]:
    """"全市和市级口径分别是多少": the scopes asked for, in order ("" = the whole region)."""
    found = pattern("scope").findall(q)
    if len(set(found)) < 2:
        # one part of the region asked on its own ("市级一般公共预算收入")
        own = [f for f in found if not f.startswith("全")]
        return (own[0],) if own else ()
    return tuple(dict.fromkeys("" if f.startswith("全") else f for f in found))


def unit_kind(q: str) -> str:
    """The kind of unit a question asks its figure in ("多少亿元" → money)."""
    lex = lexicon()
    units = sorted(lex.units, key=len, reverse=True)
    scales = "|".join(re.escape(s) for s in sorted(lex.scales, key=len, reverse=True))
    m = re.search(rf"多少\s*(?:{scales})?\s*(" + "|".join(re.escape(u) for u in units if not u.isascii()) + ")", q)
    return lex.units.get(m.group(1), "") if m else ""


def rates_out(text: str) -> str:
    """``text`` without rate units asked with a count word: "提高了几个百分点" asks a figure
    ("百分点" is a unit of the lexicon, not a thing counted)."""
    units = [u for u, kind in lexicon().units.items() if kind in ("points", "percent", "permille") and len(u) > 1]
    units = [u[1:] if u.startswith("个") else u for u in units]
    return re.sub(rf"(?:几|多少|[一二三四五六七八九十两\d.]+)\s*个?\s*(?:{'|'.join(map(re.escape, units))})", " ", text)


def list_count(q: str) -> int:
    """How many items a list question asks for ("哪五个方面", "三大…"); 0 when it does not say."""
    q = pattern("quoted_name").sub("", rates_out(q))
    m = pattern("list_count").search(q)
    if not m:
        en = pattern("list_count_en").search(q.lower())
        return cues()["numbers_en"].get(en.group(1), int(en.group(1)) if en.group(1).isdigit() else 0) if en else 0
    from .text.numbers import count_value

    v = count_value(m.group(1))
    return v if 2 <= v <= 20 else 0
