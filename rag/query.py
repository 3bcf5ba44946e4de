"""Question analysis, decided once: what is asked (intent), of what (indicators with the
measure wanted, or free subject words), where (regions, resolved against the gazetteer and
the indexed reports), when (years; a target or a result), and what the question leaves
unplaced (a place no report covers). Retrieval and answering consume the result; neither
reads the question again. All the words it looks for are data (``lexicon/cues.toml``,
``indicators.toml``, ``regions.toml``).
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import asdict, dataclass, replace

from .gazetteer import NATIONAL_KEY, gazetteer
from .lexicon import lexicon
from .question_places import region_hits as _region_hits
from .text.tokenize import stop_words, tokenize

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Part:
    """One thing asked: an indicator with the measure wanted, or free subject words."""

    indicator: str = ""  # lexicon id
    measure: str = ""  # growth | level | rate | "" (any)
    label: str = ""  # how the question names it


@dataclass(frozen=True)
class Query:
    text: str
    english: bool = False
    intent: str = "other"  # figure | list | entity | yesno | summary | compare | count | define | speaker | meeting | other
    time: str = ""  # target | result | "" — a year's plan or its outcome
    parts: tuple[Part, ...] = ()
    regions: tuple[str, ...] = ()  # region keys asked about
    region_names: tuple[str, ...] = ()  # as the question writes them
    unknown_places: tuple[str, ...] = ()  # places named that no report and no region list knows
    years: tuple[int, ...] = ()
    report_year: int = 0  # "2025年政府工作报告": the report asked about, not a data year
    report_years: tuple[int, ...] = ()  # one report year per region named ("A2020年报告和B2023年报告")
    scopes: tuple[str, ...] = ()  # 全市 / 市级 … when the question asks for several scopes
    relative: str = ""  # this | last | next (a relative year word, resolved per report)
    terms: tuple[str, ...] = ()  # key terms a supporting sentence should hold
    list_count: int = 0  # "哪五个方面", "三大…": how many items a list answer should have
    unit_kind: str = ""  # "多少亿元" → money: a figure in another unit does not answer
    numeric_only: bool = False  # "具体数值是多少": a qualitative target does not answer
    content: str = ""  # the question without places, years and question words: what a sentence should echo
    topic: tuple[str, ...] = ()  # for summary questions: the words naming the part asked about
    period: bool = False  # asks about a multi-year figure (五年, 累计, 年均…)
    search_text: str = ""  # what retrieval embeds and tokenises
    resolved_from: str = ""  # the previous question, for a follow-up
    note: str = ""

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(p.indicator for p in self.parts if p.indicator)

    def explain(self) -> dict:
        d = asdict(self)
        lex = lexicon()
        d["parts"] = [
            {"indicator": lex.by_id[p.indicator].name if p.indicator else "", "measure": p.measure, "label": p.label}
            for p in self.parts
        ]
        return d


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _has(low: str, words, english: bool = False) -> bool:
    for w in words:
        if w.isascii() and w[:1].isalpha():
            if re.search(rf"(?<![a-z]){re.escape(w)}(?:s|es)?(?![a-z])", low):
                return True
        elif w in low:
            return True
    return False


def _match(low: str, patterns) -> bool:
    return any(re.search(p, low) for p in patterns)


@functools.lru_cache(maxsize=1)
def _cues():
    return lexicon().cues


def _time(low: str, english: bool) -> str:
    i = _cues()["intent"]
    low = re.sub(r"(?:\d+(?:st|nd|rd|th)\s+)?five[- ]year plan|规划纲要|五年规划", " ", low)
    t = _has(low, i["target"]) or (english and _has(low, i["target_en"]))
    r = _has(low, i["result"]) or (english and _has(low, i["result_en"]))
    if t and r:
        if re.search(r"目标(?:是|为|定为|定在)?(?:多少|什么)|targets? (?:was|were|is)", low):
            return "target"  # "增长目标是多少？实际…": the target figure is what is asked
        if re.search(r"\bwill\b|\bplans? to\b|\bgoing to\b|将要|准备", low):
            return "target"  # "how will it meet its targets": still the plan
        # "完成了…目标吗", "did it meet its target": the outcome against a target
        if re.search(r"完成|实现了|达到了|达成|\bmet\b|\bmeet\b|\bachiev|\bfulfil|\bexceed|\bmissed\b", low):
            return "result"
        # English auxiliaries ("did … set", "was … planned") do not make a target a result
        return "target"
    return "target" if t else ("result" if r else "")


def _intent(low: str, english: bool, n_regions: int, n_parts: int) -> str:
    i = _cues()["intent"]
    if _has(low, i["speaker"]) or _match(low, i["speaker_patterns"]) or (english and _has(low, i["speaker_en"])):
        return "speaker"
    if _has(low, i["meeting"]) or (english and _has(low, i["meeting_en"])):
        return "meeting"
    if _has(low, i["signoff"]) or (english and _has(low, i["signoff_en"])):
        return "signoff"
    if re.search(r"来源|出处|媒体|报纸", low) and (_has(low, i["source"]) or (english and _has(low, i["source_en"]))) \
            and not n_parts:
        return "source"
    if _has(low, i["define"]) or (english and _has(low, i["define_en"])):
        return "define"
    compare = _has(low, i["compare"]) or (english and _has(low, i["compare_en"]))
    if compare and (n_regions != 1 or re.search(r"最高|最低|highest|lowest|哪些(?:省|地区|城市|市|区|县)|which (?:regions|provinces|cities)", low)):
        return "compare"
    if re.search(r"(?<!哪)几个方面|多少个方面|多少项|几项", low) and not re.search(r"哪几|哪些|分别", low):
        return "count"  # "要重点做好几个方面的工作": the number, not the list
    if _has(low, i["summary"]) or _match(low, i["summary_patterns"]) or (english and _has(low, i["summary_en"])):
        return "summary"
    if not n_parts and (_has(low, i["summary_weak"]) or (english and _has(low, i["summary_weak_en"]))):
        return "summary"
    if (_has(_rates_out(low), i["count"]) and "哪几" not in low) or (english and _has(low, i["count_en"])):
        return "count"
    lead = re.sub(r"^\s*(?:in|by|for|during|according to)\s+[^,]{1,40},\s*", "", low) if english else low
    yesno = _has(low, i["yesno"]) or (english and re.match(rf"^({'|'.join(i['yesno_en_start'])})\b", lead) is not None)
    figure_words = _cues()["figure"]
    is_figure = _has(low, figure_words["zh"]) or (english and _has(low, figure_words["en"]))
    if yesno and not re.search(r"多少|几|how much|how many|what", low):
        return "yesno"
    entity = _has(low, i["entity"]) or (english and (re.search(r"\b(?:which|who)\b", low) is not None or (
        re.match(r"^\s*what\b", low) is not None and not n_parts)))
    if entity and not re.search(r"多少|几[个项家所]?|百分之|比重|比例|增速|增长|how much|how many|percent|rate|growth|figure", low):
        plural_en = re.search(r"\bwhich (?:\w+ ){0,3}(?!was\b|is\b|has\b|does\b)\w+s\b", low)
        singular = re.search(r"哪个|哪一|哪位|哪家|哪座|哪条|\bwho\b", low) or (re.search(r"\bwhich\b", low) and not plural_en)
        plural = _has(low, i["list"]) or _match(re.sub(r"“[^”]*”", "", low), i["list_patterns"]) or bool(plural_en)
        return "list" if plural and not singular else "entity"
    unquoted = re.sub(r"“[^”]*”|\"[^\"]*\"", "", low)  # "“全国十大考古新发现”" is a name, not a count
    if _has(low, i["list"]) or _match(unquoted, i["list_patterns"]) or (english and _has(low, i["list_en"])):
        return "list" if not (is_figure and n_parts) else "figure"
    if is_figure or n_parts:
        return "figure"
    if _has(low, i["entity"]) or (english and _has(low, i["entity_en"])):
        return "entity"
    return "other"


def _measure(around: str, ind_id: str, english: bool) -> str:
    m = _cues()["measure"]
    ind = lexicon().by_id[ind_id]
    growth = _has(around, m["growth"]) or (english and _has(around, m["growth_en"]))
    level = _has(around, m["level"]) or (english and _has(around, m["level_en"]))
    if "rate" in ind.measures and ind.default == "rate":
        return "rate"
    if growth and level:
        return ""
    if growth and "growth" in ind.measures:
        return "growth"
    if level and "level" in ind.measures:
        return "level"
    return ""


def _blank(low: str, hits) -> str:
    """The question with indicator names blanked out (so "生产总值" does not read as "总值")."""
    chars = list(low)
    for h in hits:
        for i in range(h.start, h.end):
            chars[i] = " "
    return "".join(chars)


# two indicators asked side by side: "A和B", "A规模和B", "A、B"
_JOINED = re.compile(r"\s*(?:规模|总额|总量|金额|额)?\s*(?:和|与|及|以及|、|,|，|and|&)\s*")


def _parts(q: str, low: str, english: bool) -> list[Part]:
    from .facts import merge_shares

    lex = lexicon()
    asked_hits = lex.asked(low)
    # "民生支出占财政支出比重": the indicator after 占 is the denominator, not the thing asked
    asked_hits = [h for h in asked_hits if not (re.search(r"占\s*$", low[max(0, h.start - 2): h.start])
                                              and re.match(r"\s*(?:的)?(?:比重|比例|占比)", low[h.end:]))
                  or any(o.end <= h.start and re.fullmatch(r"\s*占\s*", low[o.end: h.start]) for o in asked_hits)]
    merged = merge_shares(low, asked_hits)
    # generic words ("增长目标") name the headline indicator only when nothing else is named
    generic = {t.lower() for t in lex.fallback_terms}
    if any(m.term.lower() not in generic for m, _ in merged):
        merged = [(m, f) for m, f in merged if m.term.lower() not in generic]
    hits = [m for m, _ in merged]
    forced = {id(m): f for m, f in merged}
    blank = _blank(low, hits)
    seen: dict[str, Part] = {}
    order: list[str] = []
    joined: dict[str, bool] = {}
    for i, h in enumerate(hits):
        nxt = hits[i + 1].start if i + 1 < len(hits) else len(low)
        if h.indicator in seen:  # named again ("外贸自营进出口总额"): joined to what follows it?
            joined[h.indicator] = joined[h.indicator] or (
                bool(_JOINED.fullmatch(blank[h.end: nxt])) and nxt < len(low))
            continue
        around = blank[h.start: nxt] if len(hits) > 1 else blank
        seen[h.indicator] = Part(h.indicator, forced.get(id(h)) or _measure(around, h.indicator, english), h.term)
        order.append(h.indicator)
        joined[h.indicator] = bool(_JOINED.fullmatch(blank[h.end: nxt]) or not blank[h.end: nxt].strip()) and nxt < len(low)
    # "地区生产总值和一般公共预算收入分别增长了多少": the shared predicate is every one's
    for a, b in zip(reversed(order[:-1]), reversed(order[1:])):
        if joined[a] and not seen[a].measure and seen[b].measure and seen[b].measure in lex.by_id[a].measures:
            seen[a] = replace(seen[a], measure=seen[b].measure)
    parts = [seen[i] for i in order]
    # a shared form asked with one of its parts named is that part; the specific wins over
    # the general ("城镇居民人均可支配收入" is not any 居民收入)
    ids = {p.indicator for p in parts}
    parts = [p for p in parts if not any(p.indicator in lex.by_id[o].covers for o in ids if o != p.indicator)]
    # "urban residents' per capita disposable income": the narrower indicator, not also the
    # broader — unless both are asked side by side ("进出口总额和出口额各多少")
    paired = {b for a, b in zip(order, order[1:]) if joined[a]} | {a for a in order[:-1] if joined[a]}
    parts = [p for p in parts if p.indicator in paired or not any(lex.by_id[o].broader == p.indicator
                                                                    for o in ids if o != p.indicator)]
    # a shared form asked ("城镇和农村居民收入各增长多少") is each of its parts
    parts = [replace(p, indicator=c) for p in parts for c in (lex.by_id[p.indicator].covers or (p.indicator,))]
    # "规模和增速分别是多少", "收入多少，增长多少": each indicator, both measures
    m = _cues()["measure"]
    grows = _has(blank, m["growth"]) or (english and _has(blank, m["growth_en"]))
    level = _has(blank, m["level"]) or (english and _has(blank, m["level_en"])) or any(
        re.match(r"\s*(?:分别|各)?(?:是|有|为|达到)?多少(?!倍)", blank[h.end:]) and re.search(r"增长|增速|增幅|涨幅", blank[h.end:])
        for h in hits)
    if grows and level:
        both = []
        for p in parts:
            ind = lex.by_id[p.indicator]
            if {"level", "growth"} <= set(ind.measures) and p.measure != "rate":
                both += [replace(p, measure="level"), replace(p, measure="growth")]
            else:
                both.append(p)
        parts = both
    return parts


def _scopes(q: str) -> tuple[str, ...]:
    """"全市和市级口径分别是多少": the scopes asked for, in order ("" = the whole region)."""
    found = re.findall(r"(全[市区县省]|[市区县省]级|本级)(?:口径)?", q)
    if len(set(found)) < 2:
        # one part of the region asked on its own ("市级一般公共预算收入")
        own = [f for f in found if not f.startswith("全")]
        return (own[0],) if own else ()
    return tuple(dict.fromkeys("" if f.startswith("全") else f for f in found))


def _relative(low: str) -> str:
    r = _cues()["relative_years"]
    for k in ("this", "last", "next"):
        if _has(low, r[k]):
            return k
    return ""


def _terms(q: str, parts: list[Part], names: tuple[str, ...], english: bool) -> tuple[str, ...]:
    """Key terms: the question's content words, minus places, years, cue words."""
    lex = lexicon()
    text = q
    for n in names:
        text = text.replace(n, " ")
    text = _blank(text.lower(), lex.asked(text.lower()))
    text = _YEAR.sub(" ", text)
    skip = set()
    for group in ("intent", "measure", "figure", "relative_years", "parts", "followup"):
        for v in _cues()[group].values():
            if isinstance(v, list):
                skip |= {w for w in v if not w.isascii()}
    out = []
    for t in tokenize(text):
        if t in skip or t.isdigit() or (english and t.isascii()):
            continue
        out.append(t)
    for p in parts:
        if p.indicator:
            out += list(lex.search_names(p.indicator))
    if english:
        out += _english_terms(q.lower())
    return tuple(dict.fromkeys(out))


def _english_terms(low: str) -> list[str]:
    """Chinese words for an English question's content: indicators from the lexicon, other
    words from the glossary ("港|港口": any of the wordings counts)."""
    lex = lexicon()
    out = [n for h in lex.asked(low) for n in lex.search_names(h.indicator)]
    blank = _blank(low, lex.asked(low))
    out += ["|".join(alts) for alts in lex.translate(blank)]
    return out


def _unit_kind(q: str) -> str:
    """The kind of unit a question asks its figure in ("多少亿元" → money)."""
    lex = lexicon()
    units = sorted(lex.units, key=len, reverse=True)
    m = re.search(r"多少\s*(?:万亿|亿|万|千)?\s*(" + "|".join(re.escape(u) for u in units if not u.isascii()) + ")", q)
    return lex.units.get(m.group(1), "") if m else ""


def _rates_out(text: str) -> str:
    """``text`` without rate units asked with a count word: "提高了几个百分点" asks a figure
    ("百分点" is a unit of the lexicon, not a thing counted)."""
    units = [u for u, kind in lexicon().units.items() if kind in ("points", "percent", "permille") and len(u) > 1]
    units = [u[1:] if u.startswith("个") else u for u in units]
    return re.sub(rf"(?:几|多少|[一二三四五六七八九十两\d.]+)\s*个?\s*(?:{'|'.join(map(re.escape, units))})", " ", text)


def _list_count(q: str) -> int:
    q = _rates_out(q)
    q = re.sub(r"“[^”]*”(?=[^？?]*(?:哪个|哪一|哪家|哪位))", "", q)  # a quoted name before a singular ask
    m = re.search(r"(?:哪|这)?([一二三四五六七八九十两]|\d{1,2})(?:大|个方面|项|个|类|方面)", q)
    if not m:
        return 0
    from .text.numbers import count_value

    v = count_value(m.group(1))
    return v if 2 <= v <= 20 else 0


def _content(q: str, names: tuple[str, ...]) -> str:
    text = q
    for n in names:
        text = text.replace(n, " ")
    text = _YEAR.sub(" ", text)
    words = set(stop_words())
    for group in ("intent", "measure", "figure", "relative_years", "parts", "followup"):
        for v in _cues()[group].values():
            if isinstance(v, list):
                words |= {w for w in v if not w.isascii()}
    for w in sorted(words, key=len, reverse=True):
        if len(w) >= 2:
            text = text.replace(w, " ")
    return re.sub(r"[\s\W_]+", " ", text).strip()


def _topic(q: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The words naming the part a summary question is about: quoted text first
    ("“全方位扩大内需”这部分"), else the content words between the place/year and the cue."""
    period = set(_cues()["period"]["words"])
    quoted = [x for x in re.findall(r"[“\"「『]([^”\"」』]{2,30})[”\"」』]", q) if x not in period and len(x) >= 4]
    if quoted:
        return tuple(quoted)
    text = q
    for n in names:
        text = text.replace(n, " ")
    text = _YEAR.sub(" ", text)
    summary = [w for w in _cues()["intent"]["summary"]] + ["工作安排", "报告", "政府工作报告", "中", "关于", "方面", "部分"]
    for w in sorted(summary, key=len, reverse=True):
        text = text.replace(w, " ")
    from .text.tokenize import words

    stop = set(stop_words()) | set(_cues()["topic"]["generic"])
    toks = [t for t in words(text) if len(t) >= 2 and t not in stop and re.search(r"[\u4e00-\u9fff]", t)]
    return tuple(dict.fromkeys(toks))


def _search_text(q: str, parts: list[Part], names: tuple[str, ...], english: bool, time: str) -> str:
    lex = lexicon()
    extra = []
    for p in parts:
        if p.indicator:
            extra.append(lex.names_of(p.indicator)[0])
    if english:
        extra += [t.replace("|", " ") for t in _english_terms(q.lower())]
        if time == "target":
            extra.append("目标")
        for p in parts:
            if p.measure == "growth":
                extra.append("增长")
    return q + (" " + " ".join(dict.fromkeys(extra)) if extra else "")


def _is_follow_up(low: str, regions: tuple[str, ...], years: tuple[int, ...], parts, english: bool) -> bool:
    """"那慈溪呢?", "2019年呢?", "and Cixi?": a turn that names little beyond a region or a year."""
    f = _cues()["followup"]
    starts = any(low.startswith(w) for w in f["start"]) or any(low.endswith(w) or low.endswith(w + "?") or low.endswith(w + "？")
                                                              for w in f["end"])
    starts = starts or (english and any(low.startswith(w) for w in f["start_en"]))
    rest = _YEAR.sub(" ", low)
    rest = re.sub(r"[\W_]+", " ", rest)
    content = [t for t in tokenize(rest) if t not in ("那", "那么", "呢", "还有", "年")]
    if starts and not regions:
        return True  # "那一般公共预算收入呢?": a new indicator for the same region
    return (bool(regions) or bool(years)) and not parts and (starts or len("".join(content)) <= 3)


def analyze(question: str, corpus_aliases: dict[str, tuple[str, ...]] | None = None, prev: Query | None = None) -> Query:
    """The whole analysis of one question. ``corpus_aliases`` maps the indexed reports'
    region names (full, short, catalog aliases) to region keys."""
    q = normalize(question)
    low = q.lower()
    letters = len(re.findall(r"[A-Za-z]", q))
    english = not _CJK.search(q) or letters > 2 * len(_CJK.findall(q))
    aliases = corpus_aliases or {}
    regions, names, unknown = _region_hits(q, low, english, aliases)
    report_year = 0
    rep = list(re.finditer(r"((?:19|20)\d{2})\s*年?(?:的)?(?:政府)?(?:工作)?报告|((?:19|20)\d{2})\s+(?:government\s+)?work\s+report", q, re.I))
    report_years = tuple(int(x.group(1) or x.group(2)) for x in rep)
    m = rep[0] if rep else None
    if m:
        report_year = int(m.group(1) or m.group(2))
    years = tuple(dict.fromkeys(int(y) for y in _YEAR.findall(q)))
    span = re.search(r"((?:19|20)\d{2})\s*(?:年)?\s*[-—–~～至到]\s*((?:19|20)\d{2})", q)
    if span:  # "2016–2020": a period, answered from the report that reviews its end
        years = tuple(y for y in years if y not in (int(span.group(1)),))
    if len(report_years) > 1:
        years = tuple(y for y in years if y not in report_years)  # "海曙区2020年报告和宁波市2023年报告中…"
    elif report_year and len(years) > 1:
        years = tuple(y for y in years if y != report_year)
    elif report_year and years == (report_year,) and not _YEAR.search(q[m.end():] if m else ""):
        years = ()  # only the report's year: every year it covers may answer
    # "十三五末" is a year, not a period
    for word, y in _cues()["period_end"].items():
        if word in q and y not in years:
            years = years + (y,)
    relative = _relative(low)
    parts = _parts(q, low, english)
    time = _time(low, english)
    pc = _cues()["period"]
    plain = low
    for word in _cues()["period_end"]:
        plain = plain.replace(word, " ")
    period = _has(plain, pc["words"]) or _match(plain, pc["patterns"]) or (english and _has(plain, pc["words_en"])) \
        or bool(span)
    resolved_from, note = "", ""
    if prev is not None and _is_follow_up(low, regions, years, parts, english):
        resolved_from = prev.text
        parts = parts or list(prev.parts)
        regions = regions or prev.regions
        names = names or prev.region_names
        new_years = bool(years)
        years = years or (prev.years if not relative else ())
        # "2019年呢?" after a 2020 target: a new year decides by what the reports cover
        time = time or (prev.time if not new_years else "")
        period = period or prev.period
        relative = relative or (prev.relative if not years else "")
    intent = _intent(low, english, len(regions), len(parts))
    if resolved_from and intent == "other":
        intent = prev.intent
    if intent in ("other", "entity", "list") and re.search(r"主要(?:预期)?目标|主要(?:经济)?指标|预期目标(?:是什么|有哪些)|main targets|key targets|headline", low):
        intent = "summary"
    m = _cues()["measure"]
    if intent == "compare" and not parts and (_has(low, m["growth"]) or (english and _has(low, m["growth_en"]))):
        parts = [Part("gdp", "growth", "")]  # "which grew faster": economic growth
    if not time and relative in ("this", "next"):
        time = "target"
    elif not time and relative == "last":
        time = "result"
    terms = _terms(q if not resolved_from else f"{prev.text} {q}", parts, names, english)
    topic = _topic(q, names) if intent in ("summary", "list") else ()
    if intent == "define":
        topic = tuple(re.findall(r"[“\"「『]([^”\"」』]{2,20})[”\"」』]", q)) or _topic(q, names)
    return Query(
        text=q,
        english=english,
        intent=intent,
        time=time,
        parts=tuple(parts),
        regions=regions,
        region_names=names,
        unknown_places=unknown if not regions else (),
        years=years,
        report_year=report_year,
        report_years=report_years if len(report_years) > 1 else (),
        scopes=_scopes(q),
        relative=relative,
        terms=terms,
        content=_content(q, names) if not english else "",
        list_count=_list_count(q),
        unit_kind=_unit_kind(q),
        numeric_only=_match(low, _cues()["numeric"]["patterns"]),
        topic=topic,
        period=period,
        search_text=_search_text(q if not resolved_from else f"{prev.search_text} {q}", parts, names, english, time),
        resolved_from=resolved_from,
        note=note,
    )


def national(q: Query) -> bool:
    return NATIONAL_KEY in q.regions


def region_label(key: str) -> str:
    r = gazetteer().get(key)
    return r.name if r else key.split("/")[-1]

