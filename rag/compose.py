"""Extractive answers, piece by piece: each piece is a verbatim clause or sentence of one
report with the span it is cited to.

* figures: the figures found at index time (``facts``) for the asked indicator, measure,
  year and part of the report, else a retrieved sentence that states them;
* names, lists, yes/no and other questions: the best retrieved sentence that supports the
  question;
* summaries: the headline targets or results sentence for a figure summary; the sub-heads
  and lead sentences of the section asked about; the parts of the review or the plan;
* the speaker and meeting: the report's metadata, cited to its opening lines.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .corpus import Corpus
from .gazetteer import gazetteer
from .lexicon import lexicon
from .query import Part, Query
from .retrieve import Result
from .route import Route, time_for
from .support import clause_for, has_term, in_time, stated, supports, words_clause
from .compose_lists import announced_end, announces, items_after, lists_about, parallel_heads
from .lexicon import pattern
from .text.sentences import full_sentence, one_line
from .types import Figure, Piece, Span


@dataclass
class Draft:
    pieces: list[Piece] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what was asked and not found, one line each
    retrieved: list[Span] = field(default_factory=list)
    long: bool = False  # a summary or list: may exceed the short-answer length
    verdict: str = ""  # a comparison's one-line result, put before the pieces


def preferred_measure(part: Part, time: str) -> str:
    """The measure meant when the question names none: a level ("GDP是多少", "What was X's
    GDP") for indicators that have one, except for targets, which are growth rates unless
    the indicator's default says otherwise."""
    ind = lexicon().by_id[part.indicator]
    if part.measure:
        return part.measure
    return "level" if time != "target" and "level" in ind.measures else ind.default


def _figure_rank(f: Figure, part: Part, density: dict[int, int], time: str = "", text: str = "") -> tuple:
    measure_ok = f.measure == preferred_measure(part, time or f.kind)
    sentence = text[f.start: f.end] if text else ""
    # a target is stated with a target's words; "每年接待游客近3亿人次" in the plan part is not one
    cue = 0 if f.kind != "target" or f.qualifier or any(w in sentence for w in lexicon().cues["report"]["target_words"]) else 1
    return (0 if f.scope == "" else 1, 0 if measure_ok else 1, 0 if f.measure != "qualitative" else 1, cue,
            -density.get(f.start, 0), f.start)


def fits(q: Query, f: Figure) -> bool:
    """A figure in the unit the question asks for, and a number when it asks for one."""
    if q.numeric_only and f.measure == "qualitative":
        return False
    lex = lexicon()
    # several parts: the unit asked ("接待游客多少人次、旅游收入多少") is the part's of that kind
    mine = len(q.parts) <= 1 or lex.by_id[f.indicator].unit == q.unit_kind
    if q.unit_kind and mine and lex.units.get(f.unit, "") != q.unit_kind:
        return False
    return True


def figure_from_facts(corpus: Corpus, route: Route, part: Part, period: bool = False, scope: str | None = None,
                      q: Query | None = None) -> Piece | None:
    """``scope``: "" the whole region, "市级" its own level; None: prefer the whole."""
    if period:
        return None  # the figures found at index time are one year's; a period question needs the text
    wanted = {part.indicator} | set(lexicon().by_id[part.indicator].covers)
    for key in route.reports:
        r = corpus.by_key[key]
        figs = [f for f in corpus.figures(key) if f.indicator in wanted and (q is None or fits(q, f))]
        time = time_for(route, r) or ("result" if route.year else "")
        if time:
            figs = [f for f in figs if f.kind == time]
        if route.year:
            figs = [f for f in figs if f.year == route.year]
        want = part.measure or preferred_measure(part, time)
        picked = [f for f in figs if f.measure == want]
        if not picked and not part.measure and time == "target":
            picked = [f for f in figs if f.measure != "qualitative"]  # a target set as a level, not a rate
        figs = picked or [f for f in figs if f.measure == "qualitative"]
        if scope is not None:
            figs = [f for f in figs if f.scope == scope]
        if not figs:
            continue
        density: dict[int, int] = {}
        for f in corpus.figures(key):
            density[f.start] = density.get(f.start, 0) + 1
        full = corpus.text(key)
        figs.sort(key=lambda f: _figure_rank(f, part, density, time, full))
        if not time and len({f.kind for f in figs}) > 1:
            figs = [f for f in figs if f.kind == "result"] or figs
        f = figs[0]
        text = corpus.text(key)
        sentence = text[f.start: f.end]
        clause = clause_for(part, sentence, f.scope if scope is not None else None) or f"{lexicon().by_id[f.indicator].name}{f.text}"
        return Piece(route.label, one_line(clause), key, f.start, f.end, f.section)
    return None


def figure_from_sentences(q: Query, route: Route, part: Part, res: Result, corpus: Corpus, weights,
                          scope: str | None = None) -> Piece | None:
    if part.indicator and not part.measure and not q.period and route.time != "target":
        part = replace(part, measure=preferred_measure(part, route.time))
    for s in res.sentences[: weights.candidates]:
        r = corpus.by_key.get(s.key)
        if not supports(q, part, route, s.text, s.chunk.section, s.chunk.section_kind, r, weights):
            continue
        if scope is not None and part.indicator and not any(f.scope == scope for f in stated(part, s.text)):
            continue
        if part.indicator and not any(fits(q, f) for f in stated(part, s.text)):
            continue
        clause = clause_for(part, s.text, scope) if stated(part, s.text) else ""
        return Piece(route.label, one_line(clause or s.text)[: weights.max_answer_chars], s.key, s.start, s.end,
                     s.chunk.section)
    return None


def figure_by_words(q: Query, route: Route, part: Part, res: Result, corpus: Corpus, weights,
                    answered: list[Piece]) -> Piece | None:
    """A part of free words asked beside a named indicator: the clause stating a figure right
    after those words, in the sentences of the parts already answered first (one sentence
    often states them all), then in the retrieved ones."""
    cands = []
    for p in answered:
        text = corpus.text(p.key)
        a, b = full_sentence(text, p.start, p.end)
        cands.append((p.key, a, text[a:b], p.section))
    cands += [(s.key, s.start, s.text, s.chunk.section) for s in res.sentences[: weights.candidates]
              if in_time(route, s.chunk.section_kind, s.text, corpus.by_key.get(s.key), q.years or
                         ((route.year,) if route.year else ()))]
    for key, start, sentence, section in cands:
        clause = words_clause(part.label, sentence) if key in route.reports else ""
        if clause:
            at = start + sentence.find(clause)
            return Piece(route.label, one_line(clause), key, at, at + len(clause), section)
    return None


def within_only(res: Result, route: Route) -> Result:
    """A region asked of the report of a region containing it: the retrieved sentences that
    write its own name (a gazetteer hit of one of ``route.within`` resolving to it; "乡村振兴"
    names no 振兴区, "吉林" in a province's report is the province)."""
    def names_it(text: str) -> bool:
        return any(h.alias in route.within and route.region in h.keys for h in gazetteer().find(text))

    return replace(res, sentences=[s for s in res.sentences if names_it(s.text)])


def within_piece(q: Query, route: Route, res: Result, corpus: Corpus, weights) -> Piece | None:
    """The answer from a containing region's report: a sentence naming the region, for a
    name, a list or a fact; never an indicator's figure (the report states its own region's
    figures, and a sentence naming the city may still give the province's)."""
    if any(p.indicator for p in q.parts):
        return None
    return sentence_piece(q, route, res, corpus, weights)


def sentence_piece(q: Query, route: Route, res: Result, corpus: Corpus, weights, need=None) -> Piece | None:
    """The best supported sentence, for names, lists, yes/no and the rest. ``need``: a
    further test the sentence must pass (e.g. naming the asked indicator)."""
    for s in res.sentences[: weights.candidates]:
        r = corpus.by_key.get(s.key)
        if need is not None and not need(s.text):
            continue
        if supports(q, None, route, s.text, s.chunk.section, s.chunk.section_kind, r, weights):
            text = one_line(s.text)
            if q.intent == "list" and q.list_count and not lists_about(corpus.text(s.key), s.start, s.end, q.list_count):
                continue  # "“十项行动”是哪十项": a sentence that only names the group does not list it
            if q.intent in ("list", "summary"):
                items = items_after(corpus.text(s.key), s.end)
                if len(items) < 2 or items[0][0] - s.end >= 200:  # or run-in heads in parallel
                    items = parallel_heads(corpus.text(s.key), s.end, s.end + 2500)
                if len(items) >= 2 and items[0][0] - s.end < 200:
                    full = corpus.text(s.key)
                    lines = [one_line(s.text)] + [one_line(full[a:b]) for a, b in items]
                    return Piece(route.label, " ".join(lines), s.key, s.start, items[-1][1], s.chunk.section)
                end = announced_end(corpus.text(s.key), s.start, s.end, enum_only=not announces(text))
                if end > s.end:
                    return Piece(route.label, one_line(corpus.text(s.key)[s.start: end]), s.key, s.start, end, s.chunk.section)
            if len(text) > weights.max_answer_chars:
                a, b = focus(corpus.text(s.key), s.start, s.end, q.terms, weights.max_answer_chars)
                return Piece(route.label, one_line(corpus.text(s.key)[a:b]), s.key, a, b, s.chunk.section)
            return Piece(route.label, text, s.key, s.start, s.end, s.chunk.section)
    return None


def focus(text: str, start: int, end: int, terms: tuple[str, ...], limit: int) -> tuple[int, int]:
    """A sentence too long to be an answer (a paragraph with no full stop), cut to its clause
    holding most of the question's ``terms`` and the clauses around it, within ``limit``."""
    clauses = [(start + m.start(), start + m.end()) for m in re.finditer(r"[^，,；;。！？]+[，,；;。！？]?", text[start:end])]
    if not clauses:
        return start, end
    hits = [sum(has_term(t, text[a:b]) for t in terms) for a, b in clauses]
    i = j = max(range(len(clauses)), key=lambda k: (hits[k], -k))
    while True:
        left = hits[i - 1] if i > 0 and clauses[j][1] - clauses[i - 1][0] <= limit else None
        right = hits[j + 1] if j + 1 < len(clauses) and clauses[j + 1][1] - clauses[i][0] <= limit else None
        if left is None and right is None:
            break
        if right is None or (left is not None and left > right):
            i -= 1
        else:
            j += 1
    return clauses[i][0], clauses[j][1]


def headline(corpus: Corpus, route: Route, time: str, indicators: frozenset[str] = frozenset()) -> Piece | None:
    """The sentence stating the most (and most central) figures of the asked kind: "主要预期
    目标是：…", "全年实现地区生产总值…；一般公共预算收入…"; with the sentences right before
    and after it that carry more of them. ``indicators``: only figures of these count (a
    summary asked about some indicators is not answered by a sentence of others)."""
    lex = lexicon()
    for key in route.reports:
        figs = [f for f in corpus.figures(key) if f.kind == time and (not route.year or f.year == route.year)
                and (not indicators or f.indicator in indicators)]
        if not figs:
            continue
        text = corpus.text(key)
        groups: dict[tuple[int, int], set] = {}
        for f in figs:
            groups.setdefault(full_sentence(text, f.start, f.end, head_chars=0), set()).add(f.indicator)

        def weight(span) -> float:
            # GDP leads a report's headline; the other headline indicators follow
            return sum(5 if i == lex.economy else 3 if lex.by_id[i].headline else 1 for i in groups[span])

        a, b = max(groups, key=lambda sp: (weight(sp), -sp[0]))
        for nxt in sorted(groups):
            if nxt[0] >= b and nxt[0] - b <= 2 and weight(nxt) >= 2 and nxt[1] - a <= 600:
                b = nxt[1]
        for prev in sorted(groups, reverse=True):  # and the ones right before it
            if prev[1] <= a and a - prev[1] <= 2 and weight(prev) >= 2 and b - prev[0] <= 600:
                a = prev[0]
        sec = corpus.section_at(key, a)
        return Piece(route.label, one_line(text[a:b]), key, a, b, " > ".join(sec.path) if sec else "")
    return None


def source_piece(route: Route, corpus: Corpus) -> Piece | None:
    """The source line in a report's opening ("来源：解放日报")."""
    for key in route.reports:
        r = corpus.by_key[key]
        text = corpus.text(key)
        at = text.find(r.outlet) if r.outlet else -1
        if at < 0 or at > 600:
            continue
        a = text.rfind("\n", 0, at) + 1
        b = text.find("\n", at)
        b = len(text) if b < 0 else b
        return Piece(route.label, one_line(text[a:b]), key, a, b, "")
    return None


def speaker_piece(q: Query, route: Route, corpus: Corpus, intent: str = "") -> Piece | None:
    """The speaker (or, with ``intent`` "meeting", the meeting) from the report's opening
    lines, cited to the line naming it."""
    intent = intent or q.intent
    for key in route.reports:
        r = corpus.by_key[key]
        text = corpus.text(key)
        want = r.speaker.split()[-1] if intent == "speaker" and r.speaker else (r.meeting if intent == "meeting" else "")
        # the title lines may break it ("2024 年 1 月 9 日在某某县\n第十八届人民代表大会…")
        m = re.search(r"\s*".join(map(re.escape, "".join(want.split()))), text) if want else None
        if m is None:
            continue
        a = text.rfind("\n", 0, m.start()) + 1
        b = text.find("\n", m.end())
        b = len(text) if b < 0 else b
        a += len(text[a:b]) - len(text[a:b].lstrip())
        b -= len(text[a:b]) - len(text[a:b].rstrip())
        line = one_line(text[a:b])
        if intent == "speaker":
            answer = f"{r.title}由{r.speaker}作：{line}"
        else:
            answer = line
        return Piece(route.label, answer, key, a, b, "")
    return None


def signoff_piece(route: Route, corpus: Corpus) -> Piece | None:
    """The sign-off: the short lines that close the report (the secretariat, the date)."""
    for key in route.reports:
        text = corpus.text(key)
        keep = corpus.keep(key)
        end = keep[-1][1] if keep else len(text)
        lines, pos = [], end
        for line in reversed(text[:end].splitlines(keepends=True)):
            pos -= len(line)
            bare = line.strip(" \t\u3000\r\n-*_")
            if not bare:
                continue
            if len(bare) > 30 or lines and len(lines) >= 3:
                break
            lines.append((pos, pos + len(line.rstrip())))
        if lines:
            a, b = lines[-1][0], lines[0][1]
            while a < b and text[a].isspace():
                a += 1
            return Piece(route.label, one_line(text[a:b].replace("\n", " ")), key, a, b, "")
    return None


def is_headline_summary(q: Query) -> bool:
    """"概括…主要预期目标", "主要经济指标完成情况", "经济运行总体情况": a summary of figures,
    not of a section."""
    return bool(pattern("figures_summary").search(q.text.lower())) or bool(q.parts)
