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
from .lexicon import lexicon
from .query import Part, Query
from .route import Route
from .text.numbers import figures, has_figure
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


def lexical_share(q: Query, sentence: str, section: str = "") -> float:
    if not q.terms:
        return 0.0
    low, sec = sentence.lower(), section.lower()
    return sum(1 for t in q.terms if t in low or t in sec) / len(q.terms)


def in_time(route: Route, section_kind: str, sentence: str, report: Report | None, years: tuple[int, ...]) -> bool:
    """The sentence belongs to the asked year and part of its report."""
    flat = sentence.replace(" ", "")
    if report is not None and years:
        main = {max(report.review_years, default=0), min(report.plan_years, default=0), report.year}
        if not any(y in main for y in years) and not any(str(y) in flat for y in years):
            return False
    if route.time == "target" and section_kind == "review":
        return False
    if route.time == "result" and section_kind == "plan" and not any(str(y) in flat for y in years):
        return False
    return True


def supports(q: Query, part: Part | None, route: Route, sentence: str, section: str, section_kind: str,
             report: Report | None, weights) -> bool:
    """The whole check for one sentence and one part (``part`` None: the question as a whole)."""
    if not in_time(route, section_kind, sentence, report, q.years or ((route.year,) if route.year else ())):
        return False
    if part is not None and part.indicator:
        if not names_indicator(part, sentence):
            return False
        if q.intent in ("figure", "count", "compare") or part.measure:
            return bool(stated(part, sentence))
        return True
    share = lexical_share(q, sentence, section)
    floor = weights.min_lexical if not q.english else weights.min_lexical_named
    if share < floor:
        return False
    if q.intent in ("figure", "count") and not has_figure(sentence):
        return False
    if q.intent == "count" and not any(f.kind not in ("percent", "points", "permille") for f in figures(sentence)):
        return False
    return True


def clause_for(part: Part, sentence: str) -> str:
    """The clause(s) of ``sentence`` that answer ``part``: from where it names the
    indicator through the figure stating it (verbatim)."""
    figs = stated(part, sentence)
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
    return sentence[start:end].strip("，,；;：: ")
