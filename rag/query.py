"""Question analysis, decided once: what is asked (intent), of what (indicators with the
measure wanted, or free subject words), where (regions, resolved against the gazetteer and
the indexed reports), when (years; a target or a result), and what the question leaves
unplaced (a place no report covers). Retrieval and answering consume the result; neither
reads the question again. All the words it looks for are data (``lexicon/cues.toml``,
``indicators.toml``, ``regions.toml``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

from . import question_terms as terms_of
from .gazetteer import NATIONAL_KEY, gazetteer
from .lexicon import lexicon, pattern
from .question_cues import CJK, YEAR, cues, has, match, said, years_in
from .question_parts import Part, list_count, parts_of, rates_out, scopes, unit_kind
from .question_places import region_hits as _region_hits
from .text.tokenize import tokenize

__all__ = ["Part", "Query", "analyze", "national", "normalize", "region_label"]


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
    times: tuple[str, ...] = ()  # "去年…多少，今年目标多少": a result and a target, each its own part
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


def _time(low: str, english: bool, n_years: int = 0) -> str:
    i = cues()["intent"]
    low = pattern("plan_name").sub(" ", low)
    for w in i["not_target_en"] if english else ():
        low = re.sub(rf"(?<![a-z]){re.escape(w)}(?![a-z])", " ", low)
    t = has(low, i["target"]) or (english and has(low, i["target_en"]))
    r = has(low, i["result"]) or (english and has(low, i["result_en"]))
    if t and r:
        if n_years > 1:
            return ""  # "2025年目标比2024年实际增速高还是低": each year is what its report says of it
        if said(low, "target_asked"):
            return "target"  # "增长目标是多少？实际…": the target figure is what is asked
        if said(low, "future"):
            return "target"  # "how will it meet its targets": still the plan
        # "完成了…目标吗", "did it meet its target": the outcome against a target
        if said(low, "met_target"):
            return "result"
        # English auxiliaries ("did … set", "was … planned") do not make a target a result
        return "target"
    return "target" if t else ("result" if r else "")


def _times(low: str, english: bool) -> tuple[str, ...]:
    """"重庆去年城镇新增就业多少，今年目标多少": last year's result and this year's target,
    asked in clauses of their own, in the question's order; () for one time."""
    kinds = []
    for clause in re.split(r"[，,；;？?]", low):
        rel, time = _relative(clause), _time(clause, english)
        if rel == "last" and time != "target":
            kinds.append("result")
        elif rel != "last" and time == "target":
            kinds.append("target")
    kinds = list(dict.fromkeys(kinds))
    return tuple(kinds) if len(kinds) == 2 else ()


def asks_meeting(q: Query) -> bool:
    """The question asks the meeting too ("谁作的报告，在哪次会议上", "and at which session")."""
    i, low = cues()["intent"], q.text.lower()
    return has(low, i["meeting"]) or has(low, i["meeting_en"])


def _intent(low: str, english: bool, n_regions: int, n_parts: int) -> str:
    i = cues()["intent"]
    if has(low, i["speaker"]) or match(low, i["speaker_patterns"]) or (english and has(low, i["speaker_en"])):
        return "speaker"
    if has(low, i["meeting"]) or (english and has(low, i["meeting_en"])):
        return "meeting"
    if has(low, i["signoff"]) or (english and has(low, i["signoff_en"])):
        return "signoff"
    if said(low, "source") and (has(low, i["source"]) or (english and has(low, i["source_en"]))) \
            and not n_parts:
        return "source"
    unquoted = re.sub(r"“[^”]*”|\"[^\"]*\"", "", low)  # "“全国十大考古新发现”" is a name, not a count
    if has(low, i["define"]) or (english and has(low, i["define_en"])):
        return "list" if match(unquoted, i["list_patterns"]) else "define"  # "“五个中心”是指哪五个"
    compare = has(low, i["compare"]) or (english and has(low, i["compare_en"]))
    # "株洲和湘潭…哪个多", "which of A and B …": one pick among the regions named
    picks = n_regions > 1 and n_parts and (said(low, "pick_one") or (english and said(low, "which_who")))
    if (compare or picks) and (n_regions != 1 or said(low, "compare_within")):
        return "compare"
    if said(low, "count_parts") and not said(low, "count_items"):
        return "count"  # "要重点做好几个方面的工作": the number, not the list
    if has(low, i["summary"]) or match(low, i["summary_patterns"]) or (
            english and (has(low, i["summary_en"]) or match(low, i["summary_patterns_en"]))):
        return "summary"
    if not n_parts and (has(low, i["summary_weak"]) or (english and (
            has(low, i["summary_weak_en"]) or match(low, i["summary_weak_patterns_en"])))):
        return "summary"
    if (has(rates_out(low), i["count"]) and "哪几" not in low) or (english and has(low, i["count_en"])):
        return "count"
    lead = pattern("en_lead").sub("", low) if english else low
    yesno = has(low, i["yesno"]) or (english and re.match(rf"^({'|'.join(i['yesno_en_start'])})\b", lead) is not None)
    figure_words = cues()["figure"]
    is_figure = has(low, figure_words["zh"]) or (english and has(low, figure_words["en"]))
    if yesno and not said(low, "amount"):
        return "yesno"
    entity = has(low, i["entity"]) or (english and (said(low, "which_who") or (said(low, "what_start") and not n_parts)))
    if entity and not said(low, "figure"):
        plural_en = pattern("plural_en").search(low)
        singular = said(low, "singular") or (said(low, "which") and not plural_en)
        plural = has(low, i["list"]) or match(re.sub(r"“[^”]*”", "", low), i["list_patterns"]) or bool(plural_en) \
            or (english and has(low, i["list_en"]) and said(low, "list_count_en"))  # "what are the five …"
        return "list" if plural and not singular else "entity"
    if has(low, i["list"]) or match(unquoted, i["list_patterns"]) or (english and has(low, i["list_en"])):
        return "list" if not (is_figure and n_parts) else "figure"
    if is_figure or n_parts:
        return "figure"
    if has(low, i["entity"]) or (english and has(low, i["entity_en"])):
        return "entity"
    return "other"


def _relative(low: str) -> str:
    r = cues()["relative_years"]
    for k in ("this", "last", "next"):
        if has(low, r[k]):
            return k
    return ""


def _is_follow_up(low: str, regions: tuple[str, ...], years: tuple[int, ...], parts, english: bool) -> bool:
    """"那慈溪呢?", "2019年呢?", "and Cixi?": a turn that names little beyond a region or a year."""
    f = cues()["followup"]
    starts = any(low.startswith(w) for w in f["start"]) or any(low.endswith(w) or low.endswith(w + "?") or low.endswith(w + "？")
                                                              for w in f["end"])
    starts = starts or (english and any(low.startswith(w) for w in f["start_en"]))
    rest = YEAR.sub(" ", low)
    rest = re.sub(r"[\W_]+", " ", rest)
    filler = set(f["start"]) | set(f["end"]) | {"年"}
    content = [t for t in tokenize(rest) if t not in filler]
    if starts and not regions:
        return True  # "那一般公共预算收入呢?": a new indicator for the same region
    return (bool(regions) or bool(years)) and not parts and (starts or len("".join(content)) <= 3)


def _report_years_by_region(q: str, names: tuple[str, ...], rep: list) -> tuple[int, ...]:
    """One report year per region named (0 = that region's reports of any year), when some
    region names its own report without a year and the others name theirs with one."""
    if len(names) < 2 or not rep or len(rep) >= len(names):
        return ()
    starts = [q.find(n) for n in names]
    if any(s < 0 for s in starts) or starts != sorted(starts):
        return ()
    out = []
    for i, (n, s) in enumerate(zip(names, starts)):
        end = starts[i + 1] if i + 1 < len(starts) else len(q)
        mine = [m for m in rep if s + len(n) <= m.start() < end]
        if len(mine) > 1:
            return ()
        if not mine and not pattern("own_report").match(q[s + len(n):]):
            return ()  # "苏州和无锡2023年报告": one year for both
        out.append(int(mine[0].group(1) or mine[0].group(2)) if mine else 0)
    return tuple(out)


def analyze(question: str, corpus_aliases: dict[str, tuple[str, ...]] | None = None, prev: Query | None = None) -> Query:
    """The whole analysis of one question. ``corpus_aliases`` maps the indexed reports'
    region names (full, short, catalog aliases) to region keys."""
    q = normalize(question)
    low = q.lower()
    letters = len(re.findall(r"[A-Za-z]", q))
    english = not CJK.search(q) or letters > 2 * len(CJK.findall(q))
    aliases = corpus_aliases or {}
    regions, names, unknown = _region_hits(q, low, english, aliases)
    report_year = 0
    rep = list(pattern("report_year").finditer(q))
    report_years = tuple(int(x.group(1) or x.group(2)) for x in rep)
    m = rep[0] if rep else None
    if m:
        report_year = int(m.group(1) or m.group(2))
    aligned = _report_years_by_region(q, names, rep)
    if aligned:  # "西湖区报告和杭州市2023年报告": the year is one region's report's, not the others'
        report_years, report_year = aligned, 0
    years = tuple(dict.fromkeys(years_in(q)))
    span = pattern("year_span").search(q)
    pair = span if span and int(span.group(2)) - int(span.group(1)) == 1 else None
    if pair:  # "从2018年到2019年": two years, each from its own report, not a period
        span = None
    if span:  # "2016–2020": a period, answered from the report that reviews its end
        years = tuple(y for y in years if y not in (int(span.group(1)),))
    if len(report_years) > 1:
        years = tuple(y for y in years if y not in report_years)  # "海曙区2020年报告和宁波市2023年报告中…"
    elif report_year and len(years) > 1:
        years = tuple(y for y in years if y != report_year)
    elif report_year and years == (report_year,) and not YEAR.search(q[m.end():] if m else ""):
        years = ()  # only the report's year: every year it covers may answer
    # "十三五末" is a year, not a period
    for word, y in cues()["period_end"].items():
        if word in q and y not in years:
            years = years + (y,)
    relative = _relative(low)
    parts = parts_of(low, english)
    time = _time(low, english, len(years))
    times = _times(low, english) if not years else ()
    pc = cues()["period"]
    plain = low
    for word in cues()["period_end"]:
        plain = plain.replace(word, " ")
    if pair:
        plain = plain.replace(pair.group(0).lower(), " ")
    for word in pc.get("not_words", ()):
        plain = plain.replace(word, " ")
    period = has(plain, pc["words"]) or match(plain, pc["patterns"]) or (english and has(plain, pc["words_en"])) \
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
    if intent in ("other", "entity", "list") and said(low, "headline"):
        intent = "summary"
    m = cues()["measure"]
    if intent == "compare" and not parts and (has(low, m["growth"]) or (english and has(low, m["growth_en"]))):
        parts = [Part(lexicon().economy, "growth", "")]  # "which grew faster": economic growth
    if not time and relative in ("this", "next"):
        time = "target"
    elif not time and relative == "last":
        time = "result"
    terms = terms_of.key_terms(q if not resolved_from else f"{prev.text} {q}", parts, names, english)
    topic = terms_of.topic(q, names) if intent in ("summary", "list") else ()
    if intent == "define":
        topic = tuple(re.findall(r"[“\"「『]([^”\"」』]{2,20})[”\"」』]", q)) or terms_of.topic(q, names)
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
        times=times,
        report_year=report_year,
        report_years=report_years if len(report_years) > 1 else (),
        scopes=scopes(q),
        relative=relative,
        terms=terms,
        content=terms_of.content(q, names) if not english else "",
        list_count=list_count(q),
        unit_kind=unit_kind(q),
        numeric_only=match(low, cues()["numeric"]["patterns"]),
        topic=topic,
        period=period,
        search_text=terms_of.search_text(q if not resolved_from else f"{prev.search_text} {q}", parts, english, time),
        resolved_from=resolved_from,
        note=note,
    )


def national(q: Query) -> bool:
    return NATIONAL_KEY in q.regions


def region_label(key: str) -> str:
    r = gazetteer().get(key)
    return r.name if r else key.split("/")[-1]

