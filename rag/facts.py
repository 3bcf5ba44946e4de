"""Figures per indicator, read from a report at index time: what it states as a target
for its plan year and as a result for its reviewed year.

For every sentence of a review or plan part, the indicators it names (lexicon,
leftmost-longest) take the figures that follow them up to the next indicator or clause
end: a growth ("增长5%左右", "下降2.5%", "涨幅2%"), a level ("639.6亿元", "68万人"), a rate
("失业率5.5%左右") or a qualitative target ("与经济增长同步"). "A、B分别…x和y" hands the
figures out in order; a shared form ("城乡居民人均可支配收入分别增长8%和10%") hands them to
its parts. Multi-year figures (五年/累计/年均, another year named) are not a year's figure
and are left out. Every figure keeps the span of the sentence that states it.
"""
from __future__ import annotations

import functools
import re

from .lexicon import lexicon, pattern
from .text.numbers import RATIOS, Quantity, figures, quantities
from .text.sentences import split_sentences
from .types import Document, Figure, Section

_RESPECTIVELY = re.compile(r"分别")
HEAD_MAX = 16  # characters of a sentence short enough to be a run-in head ("——粮食生产再创新高。")
_YEAR_OF = r"(?:\s*(?:19|20)\d{2}\s*年(?:底|末)?的?)?"  # "由2019年的52亿元提高到2023年的77亿元"
_FROM = re.compile(rf"(?:从|由){_YEAR_OF}\s*$")


@functools.lru_cache(maxsize=1)
def _to() -> re.Pattern:
    """The words between a from-figure and a to-figure ("由52亿元提高到2023年的77亿元")."""
    return re.compile(lexicon().phrasing["patterns"]["change_to"] + _YEAR_OF + r"\s*$")


@functools.lru_cache(maxsize=1)
def _cues():
    lex = lexicon()
    period = tuple(lex.cues["period"]["words"])
    growth = tuple(sorted(lex.verbs["growth"], key=len, reverse=True))
    fall = tuple(sorted(lex.verbs["fall"], key=len, reverse=True))
    target_words = tuple(lex.cues["intent"]["target"])
    return period, growth, fall, target_words


def merge_shares(text: str, mentions: list) -> list[tuple]:
    """(mention, forced measure) with "X占Y比重"/"X相当于Y的比例" read as one mention of
    X's share (its share indicator, or X as a rate)."""
    lex = lexicon()
    between_re, after_re = re.compile(lex.share["between"]), re.compile(lex.share["after"])
    out, i = [], 0
    while i < len(mentions):
        m = mentions[i]
        if i + 1 < len(mentions) and between_re.match(text[m.end: mentions[i + 1].start]):
            nxt = mentions[i + 1]
            a = after_re.match(text[nxt.end:])
            if a:
                ind, measure = lex.share_of(m.indicator)
                out.append((type(m)(ind, m.start, nxt.end + a.end(), text[m.start: nxt.end + a.end()]), measure))
                i += 2
                continue
        out.append((m, ""))
        i += 1
    return out


@functools.lru_cache(maxsize=1)
def _linking_words() -> re.Pattern:
    """Words that may stand between an indicator and its figure: verbs, scopes, qualifiers,
    years and figures, quotes and commas. Anything else there ("新增就业" + "大学生") names
    another subject, and the figure is not the indicator's."""
    lex = lexicon()
    words = set(lex.verbs["growth"]) | set(lex.verbs["fall"]) | set(lex.verbs["level"]) | set(lex.verbs.get("adverbs", ()))
    words |= set(lex.qualifiers_before) | set(lex.qualifiers_after)
    words |= set(lex.phrasing["words"]["between_figure"])
    alt = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?:{alt}|[\d.,，、：:；“”\"（）()%％\s万亿千百十一二三四五六七八九两]|[0-9０-９]+)+")


def _linked(between: str) -> bool:
    """Only verbs, scopes, qualifiers and other figures stand between an indicator and its
    figure — or one short clause without figures ("粮食总产量再上新台阶，突破1600亿斤")."""
    qs = quantities(between)
    for q in reversed(qs):
        between = between[: q.start] + " " + between[q.end:]
    rest = _linking_words().sub("", between)
    if len(re.findall(r"[\u4e00-\u9fff]", rest)) <= 1:
        return True
    head, sep, tail = between.rpartition("，")
    return (bool(sep) and not qs and len(head) <= 12 and "、" not in head
            and len(re.findall(r"[\u4e00-\u9fff]", _linking_words().sub("", tail))) <= 1)


def _measure(ind_id: str, between: str, q: Quantity, forced: str = "") -> tuple[str, float | None] | None:
    """What a figure is for the indicator, from the words between them."""
    ind = lexicon().by_id[ind_id]
    if not _linked(between):
        return None
    if forced == "rate":
        return ("rate", q.value) if q.kind in ("percent",) else None
    _, growth, fall, _ = _cues()
    # "提高到3.2%", "增加到777亿元": a level reached, not a growth
    reached = bool(re.search(rf"(?:到|至|达到|为){_YEAR_OF}\s*$", between))
    verb = None if reached else next((v for v in fall if v in between), None)
    sign = -1.0 if verb else 1.0
    if verb is None and not reached:
        verb = next((v for v in growth if v in between), None)
    if q.kind in RATIOS:
        if q.kind == "percent" and ind.default == "rate":
            return "rate", q.value  # a rate indicator's percentage is its level
        if verb:
            return "growth", sign * q.value
        if "rate" in ind.measures:
            return "rate", q.value
        return None
    if q.kind == "plain" and ind.unit == "ratio":
        return "rate", q.value  # "城乡居民收入比缩小到1.64"
    if q.kind in ("times", "year", "plain"):
        return None
    if _other_kind(ind.unit, q.kind):
        return None  # "粮食生产…，40万亩…": an area is no grain output
    if "level" in ind.measures and not verb:
        return "level", q.value
    if "level" in ind.measures and verb:
        return "level_change", sign * q.value
    return None


def _other_kind(indicator_unit: str, figure_kind: str) -> bool:
    """A figure whose unit measures another kind of thing than the indicator's level
    (``units.toml [kinds]``: an area for a mass, a length for money)."""
    groups = lexicon().unit_kinds
    mine = groups.get(indicator_unit)
    return mine is not None and figure_kind in groups["physical"] and figure_kind not in mine


def _sentence_kind(sentence: str, section: Section, report) -> str:
    period, _, _, target_words = _cues()
    if section.kind == "plan":
        return "target"
    if section.kind == "review":
        return "result"
    if any(w in sentence for w in lexicon().phrasing["words"]["target_statement"]):
        return "target"
    return "result" if report.kind == "article" else ""


def _has_period(text: str) -> bool:
    pc = lexicon().cues["period"]
    for w in pc.get("not_words", ()):
        text = text.replace(w, " ")
    return any(w in text for w in _cues()[0]) or any(re.search(p, text) for p in pc["patterns"])


_CLAUSE = re.compile(r"[^，,；;：:]+")


def _year_at(sentence: str, kind: str, report, section: str):
    """pos → the year of a figure at ``sentence[pos]``. A multi-year cue (累计, 年均, 五年)
    marks its own clause ("累计发放消费券20亿元，实现社零4870亿元": only the first figure is
    cumulative), or the whole sentence when it is a short lead clause ("这五年，…")."""
    year = _figure_year(sentence, kind, report, section)
    named = re.search(r"(?:19|20)\d{2}\s*年", sentence)
    if year is not None or named or not _has_period(sentence):
        return lambda pos: year
    clauses = [(m.start(), m.end(), m.group(0)) for m in _CLAUSE.finditer(sentence)]
    if any(_has_period(c) and len(c.strip()) <= 12 and not quantities(c) for _, _, c in clauses):
        return lambda pos: None
    base = _figure_year(sentence, kind, report, section, cues=False)

    def at(pos: int) -> int | None:
        own = next((c for a, b, c in clauses if a <= pos < b), "")
        return None if _has_period(own) else base
    return at


def _figure_year(sentence: str, kind: str, report, section: str = "", cues: bool = True) -> int | None:
    """The one year a figure is for; None for a multi-year figure (年均, 累计, 五年, 近三年
    in the sentence). In a part about a period (这五年…, “十四五”时期…) a level reached is
    the period's end: the last reviewed year, or the last planned year for targets."""
    period = _cues()[0]
    named = [int(y) for y in re.findall(r"((?:19|20)\d{2})\s*年", sentence)]
    if cues and not named and _has_period(sentence):
        return None
    if not named and any(w in section for w in period):
        if kind == "target":
            return max(report.plan_years) if report.plan_years else report.year
        return max(report.review_years) if report.review_years else report.year - 1
    if kind == "target":
        plan = min(report.plan_years) if report.plan_years else report.year
        others = [y for y in named if y != plan]
        return None if others and not any(y == plan for y in named) else plan
    review = max(report.review_years) if report.review_years else report.year - 1
    if named:
        ys = [y for y in named if y in report.review_years] or named
        return ys[0] if len(set(ys)) == 1 else None
    return review


def extract_figures(doc: Document, secs: list[Section]) -> list[Figure]:
    lex = lexicon()
    text = doc.text
    out: list[Figure] = []
    for sec in secs:
        if sec.kind not in ("review", "plan") and doc.report.kind != "article":
            continue
        if any(w in sec.path[0] for w in lexicon().phrasing["words"]["appendix"]):
            continue
        for ks, ke in doc.keep:
            s0, e0 = max(sec.body_start if sec.level else sec.start, ks), min(sec.end, ke)
            if e0 <= s0:
                continue
            prev = None
            for a, b in split_sentences(text, s0, e0):
                sent = text[a:b]
                # a short head of the same paragraph ("——粮食生产再创新高。") names what follows
                head = text[prev[0]:prev[1]] if prev and "\n" not in text[prev[1]:a] and prev[1] - prev[0] <= HEAD_MAX \
                    and not figures(text[prev[0]:prev[1]]) else ""
                prev = (a, b)
                kind = _sentence_kind(sent, sec, doc.report)
                if not kind:
                    continue
                year = _year_at(sent, kind, doc.report, " ".join(sec.path))
                got = _sentence_figures(sent, a, kind, year, doc.report.id, " > ".join(sec.path), lex, head)
                got += _unit_figures(sent, a, kind, year, doc.report.id, " > ".join(sec.path), got, lex)
                out += [f for f in got if f.year is not None]
    return _dedupe(out)


def _sentence_figures(sent: str, offset: int, kind: str, year: int, rid: str, section: str, lex,
                      head: str = "") -> list[Figure]:
    merged = merge_shares(sent, lex.mentions(sent, head))
    if not merged:
        return []
    mentions = [m for m, _ in merged]
    forced = {id(m): f for m, f in merged}
    qs = [q for q in quantities(sent) if q.kind != "year"]
    out: list[Figure] = []
    i = 0
    while i < len(mentions):
        m = mentions[i]
        # a run of indicators joined by 、/和 and then "分别": "A、B分别控制在5%和3%以内"
        group = [m]
        j = i + 1
        while j < len(mentions) and re.fullmatch(r"[、和及与]|(?:增长)?[、和]", sent[group[-1].end: mentions[j].start].strip()):
            group.append(mentions[j])
            j += 1
        stop = mentions[j].start if j < len(mentions) else len(sent)
        clause_end = re.search(r"[；;。]", sent[group[-1].end:stop])
        stop = group[-1].end + clause_end.start() if clause_end else stop
        seg_qs = [q for q in qs if group[-1].end <= q.start < stop]
        # "从524亿元增加到777亿元": the first figure is where it started, not the result
        seg_qs = [q for q in seg_qs if not _FROM.search(sent[max(group[-1].end, q.start - 12): q.start])
                  or not any(_to().match(sent[q.end: q2.start]) for q2 in seg_qs if q2.start > q.end)]
        targets: list[str] = []
        terms: list[str] = []  # each target's own words
        for g in group:
            ind = lex.by_id[g.indicator]
            covered = list(ind.covers) if ind.covers else [g.indicator]
            targets += covered
            terms += [g.term] * len(covered)
        resp = bool(_RESPECTIVELY.search(sent[group[-1].end:stop])) or len(targets) > 1
        scope_m = pattern("part_scope", "text").search(sent[max(0, m.start - 6): m.start])
        scope = scope_m.group(1) if scope_m else ""
        if resp and len(targets) > 1:
            pct = [q for q in seg_qs if q.kind in ("percent", "points")]
            lvl = [q for q in seg_qs if q.kind not in ("percent", "points", "permille", "times", "plain")]
            for seq in (lvl, pct):
                if len(seq) >= len(targets):
                    for ind_id, term, q in zip(targets, terms, seq):
                        between = sent[group[-1].end: q.start]
                        if (mv := _measure(ind_id, between, q)) is not None:
                            out.append(_fig(rid, ind_id, mv, kind, year, q, sent, offset, section, scope, term))
        else:
            ind_id = targets[0]
            last_end = group[-1].end
            taken: set[tuple[str, str]] = set()
            level_scopes: list[str] = []  # "全市X、市级Y，分别增长a和b": a, b follow X, Y's scopes
            handed = 0
            # "规上工业、农林牧渔业、服务业增加值分别增长6.6%、2%和4.4%": the k-th item of a
            # list sharing the indicator's suffix takes the k-th figure
            clause_start = max(sent.rfind(c, 0, m.start) for c in "，,；;。：:") + 1
            before = sent[clause_start: m.start]
            k = before.count("、") + len(re.findall(r"(?<=[\u4e00-\u9fff])和(?=[\u4e00-\u9fff])", before))
            after_figures = bool(re.search(r"\d", before))  # "接待游客2.73亿人次、实现收入…": not a shared suffix
            # … whose changes after it ("…，(分别)增长18.6%和23.4%") are the whole run's, in order
            shared_changes = after_figures and bool(re.search(r"分别|\d[%％]?\s*[和、]\s*\d", sent[group[-1].end: stop]))
            if k and "分别" in sent[group[-1].end: stop] and not after_figures:
                pct = lambda q: q.kind in RATIOS  # noqa: E731
                same_kind = [q for q in seg_qs if seg_qs and pct(q) == pct(seg_qs[0])]
                seg_qs = [same_kind[k]] if len(same_kind) > k else []
                last_end = group[-1].end
            prev_level_scope = None
            last_mv = None
            for q in seg_qs:
                mv = _measure(ind_id, sent[last_end: q.start], q, forced.get(id(m), ""))
                if mv is None and last_mv is not None and re.fullmatch(r"\s*[和、及与]\s*", sent[last_end: q.start]):
                    mv = (last_mv[0], q.value if last_mv[1] is None or last_mv[1] >= 0 else -q.value)  # "分别增长4.8%和3.8%"
                if mv is not None:
                    last_mv = mv
                if mv is None:
                    continue
                f = _fig(rid, ind_id, mv, kind, year, q, sent, offset, section, scope, m.term)
                explicit = re.search(r"(全[省市区县]|[省市区县]级|本级)", sent[last_end: q.start])
                if f.measure != "level" and prev_level_scope is not None and not explicit and "分别" not in sent[last_end: q.start]:
                    from dataclasses import replace as _replace

                    f = _replace(f, scope=prev_level_scope)  # "市级118.6亿元、增长5%": the growth of that level
                if f.measure == "level":
                    level_scopes.append(f.scope)
                    prev_level_scope = f.scope
                elif len(set(level_scopes)) > 1 and "分别" in sent[group[-1].end: q.start] and handed < len(level_scopes):
                    from dataclasses import replace as _replace

                    f = _replace(f, scope=level_scopes[handed])
                    handed += 1
                elif shared_changes:
                    continue  # "接待游客…、实现收入…，增长a和b": not this one's alone
                if (f.measure, f.scope) in taken:
                    continue
                taken.add((f.measure, f.scope))
                out.append(f)
                last_end = q.end
        if not seg_qs:
            # "城乡居民收入增长与经济增长同步": a target in words, for every member
            qm = pattern("qualitative", "text").search(sent[group[-1].end:stop])
            if qm and qm.start() < 12:
                for t, term in zip(targets, terms):
                    out.append(Figure(rid, t, "qualitative", kind, year(m.start) if callable(year) else year, None,
                                      sent[m.start: group[-1].end + qm.end()],
                                      start=offset, end=offset + len(sent), section=section, scope=scope, term=term))
        i = j
    return out


def _unit_figures(sent: str, offset: int, kind: str, year: int, rid: str, section: str, taken: list[Figure], lex) -> list[Figure]:
    """Figures whose unit names the indicator ("吞吐量2329万标准箱" is a container throughput)."""
    out = []
    for q in quantities(sent):
        ind = next((i for i in lex.indicators if q.unit and q.unit in i.units), None)
        if ind is None or any(f.indicator == ind.id and offset <= f.start for f in taken if abs(f.value or 0) == q.value):
            continue
        out.append(_fig(rid, ind.id, ("level", q.value), kind, year, q, sent, offset, section, "", q.unit))
    return out


def sentence_figures(sentence: str) -> list[Figure]:
    """What one sentence states, by the same grammar (kind and year left open)."""
    got = _sentence_figures(sentence, 0, "", 0, "", "", lexicon())
    return got + _unit_figures(sentence, 0, "", 0, "", "", got, lexicon())


def _fig(rid, ind_id, mv, kind, year, q: Quantity, sent, offset, section, scope, term) -> Figure:
    """``year``: the year, or pos → year (None: a multi-year figure, dropped by the caller)."""
    measure, value = mv
    year = year(q.start) if callable(year) else year
    # a scope word right before the figure ("全市2008.3亿元、市级1328.3亿元") is the figure's own
    window = sent[max(0, q.start - 16): q.start]
    window = re.split(r"[，,；;。]", window)[-1]
    near = list(re.finditer(r"(全[省市区县]|[省市区县]级|本级)", window))
    if near:
        w = near[-1].group(1)
        scope = "" if w.startswith("全") else w
    _, _, fall, _ = _cues()
    text = q.text
    if value is not None and value < 0:
        pre = sent[max(0, q.start - 4): q.start]
        verb = next((v for v in fall if pre.endswith(v)), "")
        text = verb + text if verb else text
    return Figure(rid, ind_id, measure if measure != "level_change" else "level", kind, year, value, text, unit=q.unit,
                  qualifier=q.qualifier, high=q.high, scope=scope, start=offset, end=offset + len(sent),
                  section=section, term=term)


def _dedupe(figs: list[Figure]) -> list[Figure]:
    seen, out = set(), []
    for f in figs:
        k = (f.indicator, f.measure, f.kind, f.year, f.scope, f.value, f.start)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


def best(figs: list[Figure]) -> list[Figure]:
    """One figure per (indicator, measure, kind, year, scope): the first stated, preferring
    a sentence that states several indicators (the headline targets or results)."""
    density: dict[int, int] = {}
    for f in figs:
        density[f.start] = density.get(f.start, 0) + 1
    chosen: dict[tuple, Figure] = {}
    for f in figs:
        k = (f.indicator, f.measure, f.kind, f.year, f.scope)
        cur = chosen.get(k)
        if cur is None or density[f.start] > density[cur.start] + 1:
            chosen[k] = f
    return list(chosen.values())
