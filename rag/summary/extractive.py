"""The extractive summary, from what the index knows about a report: its opening lines,
the headline sentences of its review and plan, the figures found per indicator (results
of the reviewed year, targets of the plan year), and the heads of its review and task
sections with their lead sentences. Nothing is generated; every line is a cited span."""
from __future__ import annotations

from ..corpus import Corpus
from ..facts import best
from ..lexicon import lexicon
from ..structure import children
from ..text.sentences import one_line, split_sentences
from ..types import Citation, Report
from .model import FigureRow, Summary, SummaryLine

MAX_FIGURES = 12
MAX_TASKS = 12
LEAD_CHARS = 90


class _Cites:
    """Numbers spans as they are first cited."""

    def __init__(self, corpus: Corpus, r: Report):
        self.corpus, self.r = corpus, r
        self.text = corpus.text(r.key)
        self.by_span: dict[tuple[int, int], Citation] = {}

    def __call__(self, a: int, b: int, section: str = "") -> Citation:
        c = self.by_span.get((a, b))
        if c is None:
            if not section:
                s = self.corpus.section_at(self.r.key, a)
                section = " > ".join(s.path) if s else ""
            c = Citation(len(self.by_span) + 1, self.r.file, self.r.id, section, a, b, self.text[a:b],
                         self.corpus.page_at(self.r.key, a))
            self.by_span[(a, b)] = c
        return c


def _rows(cite: _Cites, figs, kind: str, year: int) -> tuple[FigureRow, ...]:
    lex = lexicon()
    chosen = [f for f in best(figs) if f.kind == kind and f.year == year]
    order = {i.id: n for n, i in enumerate(lex.indicators)}
    chosen.sort(key=lambda f: (order.get(f.indicator, 999), f.measure != lex.by_id[f.indicator].default, f.start))
    out, seen = [], set()
    for f in chosen:
        if (f.indicator, f.measure) in seen or f.scope:
            continue
        seen.add((f.indicator, f.measure))
        out.append(FigureRow(lex.by_id[f.indicator].name, f.text, f.measure, cite(f.start, f.end, f.section)))
        if len(out) >= MAX_FIGURES:
            break
    return tuple(out)


def _headline_span(figs, kind: str, year: int) -> tuple[int, int] | None:
    density: dict[tuple[int, int], set] = {}
    for f in figs:
        if f.kind == kind and f.year == year:
            density.setdefault((f.start, f.end), set()).add(f.indicator)
    if not density:
        return None
    return max(density, key=lambda k: (len(density[k]), -k[0]))


def _heads(corpus: Corpus, r: Report, cite: _Cites, kind: str) -> tuple[SummaryLine, ...]:
    """One line per second-level section of the review or the plan part: head + lead."""
    secs = corpus.sections(r.key)
    out = []
    for i, top in enumerate(secs):
        if len(top.path) != 1 or top.level == 0 or top.kind != kind:
            continue
        for s in children(secs, i):
            sents = split_sentences(cite.text, s.body_start, s.end)
            head = s.path[-1]
            if sents:
                a, b = sents[0]
                lead = one_line(cite.text[a:b])
                if lead.startswith(head[:6]) and len(sents) > 1 and len(lead) < 40:
                    a2, b2 = sents[1]
                    lead, b = lead + one_line(cite.text[a2:b2]), b2
                text = lead if lead.startswith(head[:6]) else f"{head}：{lead}"
                out.append(SummaryLine(text[: LEAD_CHARS * 2], (cite(a, b, " > ".join(s.path)),)))
            else:
                out.append(SummaryLine(head, (cite(s.start, s.body_start or s.end, " > ".join(s.path)),)))
            if len(out) >= MAX_TASKS:
                return tuple(out)
    return tuple(out)


def extractive(corpus: Corpus, r: Report) -> Summary:
    cite = _Cites(corpus, r)
    figs = corpus.figures(r.key)
    ry = max(r.review_years, default=0)
    ty = min(r.plan_years, default=0)
    overview: list[SummaryLine] = []
    # who, when, where: the opening line naming the meeting or the speaker
    for probe in (r.meeting, r.speaker.split()[-1] if r.speaker else ""):
        at = cite.text.find(probe) if probe else -1
        if at >= 0:
            a = cite.text.rfind("\n", 0, at) + 1
            b = cite.text.find("\n", at)
            b = len(cite.text) if b < 0 else b
            overview.append(SummaryLine(one_line(cite.text[a:b]), (cite(a, b),)))
            break
    for kind, year in (("result", ry), ("target", ty)):
        span = _headline_span(figs, kind, year)
        if span:
            overview.append(SummaryLine(one_line(cite.text[span[0]: span[1]]), (cite(*span),)))
    results = _rows(cite, figs, "result", ry)
    targets = _rows(cite, figs, "target", ty)
    review = _heads(corpus, r, cite, "review")
    tasks = _heads(corpus, r, cite, "plan")
    notes = []
    if not r.plan_years or not targets:
        notes.append("报告中没有找到当年目标 (no targets found: the text may stop before its plan part)")
    return Summary(r, tuple(overview), results, targets, tasks, review, tuple(notes), "extractive",
                   sha256=corpus.entries.get(r.key, {}).get("sha256", ""), results_year=ry, targets_year=ty)
