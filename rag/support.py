"""Does a sentence answer the question? The calibrated refusal lives here.

A sentence supports a part of a question only when it states the asked thing itself:
the asked indicator (lexicon match, leftmost-longest, so 进出口 is not 出口 and 固定资产投资
is not 工业投资) with a figure of the asked measure (a level is not a growth rate), in
the asked part of the report (a target in the plan, a result in the review) and for the
asked year. A question without a known indicator needs most of its key terms in the
sentence. Weights: ``settings.AnswerWeights``.
"""
from __future__ import annotations

import re

from .facts import sentence_figures
from .lexicon import lexicon, pattern
from .query import Part, Query
from .route import Route
from .text.numbers import RATIOS, figures, has_figure
from .types import Figure, Report


def stated(part: Part, sentence: str) -> list[Figure]:
    """The figures of ``sentence`` that state the part (its indicator, its measure)."""
    if not part.indicator:
        return []
    # a shared form asked ("城乡居民人均可支配收入") is stated by figures of its parts
    wanted = {part.indicator} | set(lexicon().by_id[part.indicator].covers)
    return [f for f in sentence_figures(sentence)
            if f.indicator in wanted and (not part.measure or f.measure in (part.measure, "qualitative"))]


def names_indicator(part: Part, sentence: str) -> bool:
    lex = lexicon()
    for m in lex.mentions(sentence):
        if m.indicator == part.indicator or part.indicator in lex.by_id[m.indicator].covers:
            return True
    return False


def has_term(term: str, text: str) -> bool:
    """A key term (alternatives joined by "|") occurs in ``text``."""
    return any(t and t in text for t in term.split("|"))


def lexical_share(q: Query, sentence: str, section: str = "") -> float:
    if not q.terms:
        return 0.0
    low, sec = sentence.lower(), section.lower()
    return sum(1 for t in q.terms if has_term(t, low) or has_term(t, sec)) / len(q.terms)


def in_time(route: Route, section_kind: str, sentence: str, report: Report | None, years: tuple[int, ...]) -> bool:
    """The sentence belongs to the asked year and part of its report."""
    flat = sentence.replace(" ", "")
    if report is not None and years:
        main = {max(report.review_years, default=0), min(report.plan_years, default=0), report.year}
        if not any(y in main for y in years) and not any(str(y) in flat for y in years):
            return False
    if route.time == "target" and section_kind == "review":
        return False
    if route.time == "target" and years:
        # a sentence of the plan part about an earlier year ("去年…增长15.4%") states no target
        past = [int(y) for y in re.findall(r"((?:19|20)\d{2})\s*年", flat)]
        if any(y < min(years) for y in past) or pattern("past_year", "text").search(flat):
            return False
    if route.time == "result" and section_kind == "plan" and not any(str(y) in flat for y in years):
        return False
    return True


def is_period(sentence: str) -> bool:
    """A multi-year figure: 五年/累计/年均/近三年/2021-2025…"""
    pc = lexicon().cues["period"]
    return any(w in sentence for w in pc["words"]) or any(re.search(p, sentence) for p in pc["patterns"])


def defines(q: Query, sentence: str) -> bool:
    """A "what is X" question and a sentence where the report defines X ("“三改一拆”是指…",
    a glossary's "三改一拆（P12）：是指…")."""
    if q.intent != "define":
        return False
    after = lexicon().phrasing["patterns"]["defined_as"]
    flat = sentence.replace(" ", "")
    return any(re.search(re.escape(t) + after, flat) for t in q.topic)


def supports(q: Query, part: Part | None, route: Route, sentence: str, section: str, section_kind: str,
             report: Report | None, weights) -> bool:
    """The whole check for one sentence and one part (``part`` None: the question as a whole)."""
    if q.period and not is_period(sentence + section):
        return False  # a period question needs a period figure, not one year's
    strict = [w for w in lexicon().cues["period"]["strict"] if w in q.text]
    if strict and not any(w in sentence for w in strict):
        return False  # "年均增长多少" needs the sentence's own 年均
    if not q.period and not in_time(route, section_kind, sentence, report, q.years or ((route.year,) if route.year else ())):
        return False
    if part is None and defines(q, sentence):
        return True  # the definition itself, however few of the question's words it repeats
    if part is not None and part.indicator:
        if not names_indicator(part, sentence):
            return False
        if q.intent in ("figure", "count", "compare") or part.measure:
            return bool(stated(part, sentence))
        return True
    share = lexical_share(q, sentence, section)
    floor = weights.min_lexical
    if share < floor:
        return False
    if q.intent in ("figure", "count") and not has_figure(sentence):
        return False
    if q.intent == "count" and not any(f.kind not in RATIOS for f in figures(sentence)):
        return False
    return True


def _with_change(sentence: str, end: int) -> int:
    """``end``, past the change that follows the figure ending there ("…，增长4.8%") when
    it names no other indicator."""
    follow = pattern("change_after", "text").match(sentence[end:])
    return end + follow.end() if follow and not lexicon().mentions(follow.group(1)) else end


def clause_for(part: Part, sentence: str, scope: str | None = None) -> str:
    """The clause(s) of ``sentence`` that answer ``part``: from where it names the
    indicator through the figure stating it, and the change of that figure right after it
    ("…4870亿元，增长4.8%"; "…89.3%，同比提高12个百分点"), verbatim."""
    figs = stated(part, sentence)
    if scope is not None:
        figs = [f for f in figs if f.scope == scope] or figs
    if not figs:
        return ""
    f = figs[0]
    fig_at = sentence.find(f.text.replace("下降", "").replace("降低", "").replace("减少", "")) if f.text else -1
    lex = lexicon()
    starts = [m.start for m in lex.mentions(sentence)
              if m.indicator == f.indicator or part.indicator in lex.by_id[m.indicator].covers or m.indicator == part.indicator]
    if not starts:
        return ""
    start = max((s for s in starts if fig_at < 0 or s <= fig_at), default=starts[0])
    # the subject of a shared "A、B分别…" reaches back to A
    seg_start = max(sentence.rfind(c, 0, start) for c in "，,；;：:。") + 1
    if "分别" in sentence[start: fig_at if fig_at > 0 else len(sentence)] or re.match(r"[、和与及]", sentence[start - 1: start] or " "):
        start = seg_start
    end = fig_at + len(f.text.replace("下降", "").replace("降低", "").replace("减少", "")) if fig_at >= 0 else len(sentence)
    # keep the rest of a "分别…和…" run
    m = re.match(r"[^，,；;。]*", sentence[end:])
    if "分别" in sentence[start:end] and m:
        end += len(m.group(0))
    end = _with_change(sentence, end)
    # and a target's stretch goal ("增长7%以上、力争达到8%")
    stretch = pattern("stretch_after", "text").match(sentence[end:])
    if stretch and not lexicon().mentions(stretch.group(1)):
        end += stretch.end()
    # and, when no scope is asked, the region's other scope right after ("全市增长6.3%、市级增长6.5%")
    for g in figs[1:] if scope is None else ():
        at = sentence.find(g.text, end) if g.text else -1
        if g.indicator == f.indicator and g.measure == f.measure and g.scope != f.scope and 0 <= at - end <= 12 \
                and pattern("other_scope_between", "text").fullmatch(sentence[end:at]):
            end = at + len(g.text)
    return sentence[start:end].strip("，,；;：: ")


def words_clause(words: str, sentence: str) -> str:
    """For a part the lexicon does not know: the clause of ``sentence`` from ``words`` to the
    figure right after them ("农村劳动力转移就业80万人以上"), when only a verb stands between
    (``words_to_figure``); "" when the sentence does not state it so."""
    at = sentence.find(words)
    if at < 0:
        return ""
    end = at + len(words)
    fig = next(iter(figures(sentence[end:])), None)
    between = sentence[end: end + fig.start] if fig else ""
    if fig is None or not pattern("words_to_figure", "text").fullmatch(between):
        return ""
    return sentence[at:_with_change(sentence, end + fig.end)]
