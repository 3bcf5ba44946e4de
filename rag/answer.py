"""Answers with citations: the question analysed once, routed to the reports that may
answer each part, answered piece by piece (``compose``, ``table``), cited [n] to exact
spans, checked by the number guard — or refused, saying why and showing the nearest
passages.

Default mode is extractive and needs no LLM. With an LLM endpoint configured, an LCEL
chain (prompt file | chat model | parser) writes the answer from the same routed
passages and must cite [n] (``llm_answer.py``); a reply that fails the guard, or an
endpoint that is down, slow or talking junk, falls back to the extractive answer with a
note.
"""
from __future__ import annotations

import re
import time
from dataclasses import replace

from . import guard, tokens
from .compose import (Draft, figure_by_words, figure_from_facts, figure_from_sentences, headline, is_headline_summary,
                      preferred_measure, sentence_piece, signoff_piece, source_piece, speaker_piece, within_only,
                      within_piece)
from .compose_lists import counted_pieces, group_pieces
from .compose_sections import approach_piece, item_pieces, period_pieces, section_pieces
from .corpus import Corpus
from .lexicon import lexicon, pattern
from .query import Query, analyze, asks_meeting, region_label
from .retrieve import Result, Retriever
from .route import Route, name_owners, own_year, plan
from .support import names_indicator
from .table import comparison, met_check
from .text.numbers import figures
from .text.sentences import full_sentence
from .types import Answer, Citation, Piece, Span

REFUSAL = "报告中没有找到相关信息 (the reports do not give this)"
_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


def prepare_question(question: str, max_tokens: int) -> tuple[str, list[str]]:
    """Strip and cap a question by tokens; returns (question, notes). Raises ValueError if empty."""
    q = (question or "").strip()
    if not q:
        raise ValueError("问题为空 (empty question): 请输入一个问题")
    cut, truncated = tokens.truncate(q, max_tokens)
    notes = []
    if truncated:
        notes.append(f"问题过长，已截取前 {max_tokens} 个 token (question truncated to {max_tokens} tokens)")
    return cut.strip(), notes


class Answerer:
    def __init__(self, corpus: Corpus, retriever: Retriever, settings, llm_cfg=None):
        self.corpus = corpus
        self.retriever = retriever
        self.settings = settings
        self.w = settings.answer
        self.llm_cfg = llm_cfg

    @property
    def mode(self) -> str:
        if self.llm_cfg is None:
            return "extractive"
        from .llm import describe

        return describe(self.llm_cfg)

    # --- the whole step ----------------------------------------------------------------
    def ask(self, question: str, *, report: str | None = None, k: int = 5, prev: Query | None = None,
            on_token=None, use_llm: bool | None = None) -> tuple[Answer, Query]:
        t0 = time.perf_counter()
        question, notes = prepare_question(question, self.w.question_tokens)
        q = analyze(question, self.corpus.region_aliases(), prev)
        only = self.corpus.resolve(report).key if report else None
        if q.resolved_from:
            notes.append(f"追问，已结合上一问 (follow-up of: {q.resolved_from})")
        answer = self.extractive(q, k, only, prev)
        use_llm = (self.llm_cfg is not None) if use_llm is None else use_llm
        if use_llm and self.llm_cfg is not None and not answer.refused:
            from .llm_answer import llm_answer

            answer = llm_answer(self, q, answer, on_token)
        elif on_token:
            on_token(answer.answer)
        latency = int((time.perf_counter() - t0) * 1000)
        return replace(answer, notes=tuple(notes) + answer.notes, latency_ms=latency), q

    # --- extractive ----------------------------------------------------------------------
    def routes(self, q: Query, only: str | None, prev: Query | None) -> tuple[list[Route], str]:
        routes = plan(q, self.corpus.reports, only)
        note = ""
        if q.resolved_from and prev is not None and all(r.problem for r in routes) and q.regions != prev.regions:
            # "那慈溪呢?" after a 2020 target: 慈溪's report plans 2021 — answer for its own year
            fixed = []
            for r in routes:
                y = own_year(q, r.region, self.corpus.reports) if r.region else 0
                fixed.append(plan(replace(q, years=(y,), regions=(r.region,)), self.corpus.reports, only)[0] if y else r)
            if any(not r.problem for r in fixed):
                ys = "、".join(str(r.year) for r in fixed if r.year)
                note = f"该地区的报告没有所问年份的数据，改答{ys}年 (answered for {ys}, the year its report covers)"
                routes = fixed
        return routes, note

    def extractive(self, q: Query, k: int = 5, only: str | None = None, prev: Query | None = None) -> Answer:
        if not _CONTENT.search(q.text):
            return self._refuse(q, ["问题没有可回答的内容 (the question has no content)"], [])
        if q.unknown_places:
            places = "、".join(q.unknown_places)
            from .route import indexed_regions

            return self._refuse(q, [f"没有“{places}”的报告 (no indexed report is about {places}; indexed: "
                                    f"{indexed_regions(self.corpus.reports) or 'none'})"], [])
        if not only and (pair := met_check(q, self.corpus)):
            return self._met(q, *pair)
        q = name_owners(q, self.corpus.reports, self.corpus.text)
        routes, note = self.routes(q, only, prev)
        draft = Draft(long=q.intent in ("summary", "list"))
        problems = [r.problem for r in routes if r.problem]
        live = [r for r in routes if not r.problem]
        if q.intent == "compare" and live and not q.regions:
            return self._compare(q, live, k)
        qvec = self.retriever.embedder.embed_query(q.search_text or q.text) if live else None
        results: list[Result] = []
        for route in live:
            res = self.retriever.retrieve(q, route, k=k, qvec=qvec)
            if route.within:  # a containing region's report: only what it writes of this region
                res = within_only(res, route)
                note = (note + "；" if note else "") + route.note.split(" (")[0] + \
                    f"，以下只引{region_label(route.region)}被写到的句子 (only sentences naming it are cited)"
            results.append(res)
            draft.pieces += self._pieces(q, route, res, draft)
        spans = sorted((s for r in results for s in r.spans()), key=lambda s: -s.score) if len(results) > 1 else \
            (results[0].spans() if results else [])
        # the passages given to the answer step: what it cites first, then what retrieval found
        cited = [self._span(p) for p in draft.pieces]
        draft.retrieved = _dedupe(cited + spans)[: max(k, 5, len(cited))]
        if not draft.pieces:
            why = problems + draft.missing or ["没有足够相关的段落 (no passage states it)"]
            return self._refuse(q, why, draft.retrieved)
        if q.intent == "compare" and len(q.regions) > 1:
            cmp = comparison(q, self.corpus)  # "哪个更高": the verdict over the figures cited below
            if cmp.kind == "missing":
                return self._refuse(q, [cmp.verdict] + draft.missing, draft.retrieved)
            if cmp.kind in ("max", "min") and cmp.verdict:
                note = (note + "；" if note else "") + cmp.verdict
                draft.verdict = cmp.verdict
        return self._render(q, draft, problems, note, len(routes))

    def _pieces(self, q: Query, route: Route, res: Result, draft: Draft) -> list[Piece]:
        w = self.w
        if route.within:
            p = within_piece(q, route, res, self.corpus, w)
            if p is None:
                draft.missing.append(route.note)
            return [p] if p else []
        if q.intent in ("speaker", "meeting"):
            # "who gave it, and at which session": both, each cited
            intents = ("speaker", "meeting") if q.intent == "speaker" and asks_meeting(q) else (q.intent,)
            got = [speaker_piece(q, route, self.corpus, i) for i in intents]
            return [p for i, p in enumerate(got) if p and p not in got[:i]]
        if q.intent == "signoff":
            p = signoff_piece(route, self.corpus)
            return [p] if p else []
        if q.intent == "source":
            p = source_piece(route, self.corpus)
            return [p] if p else []
        if q.intent in ("summary", "list") and q.period:
            got = period_pieces(q, route, self.corpus, w.max_summary_lines)
            if got:
                return got
        if q.intent == "summary":
            if is_headline_summary(q) and not q.period:  # a plan period's goals are not the year's headline
                p = headline(self.corpus, route, route.time or ("result" if q.relative == "last" else "target"),
                             frozenset(part.indicator for part in q.parts if part.indicator))
                if p:
                    return [p]
            p = approach_piece(q, route, self.corpus)
            if p:
                return [p]
            got = section_pieces(q, route, self.corpus, w) or item_pieces(q, route, self.corpus, w.max_summary_lines)
            if got:
                return got
        if q.intent == "list":
            counted = counted_pieces(q, route, self.corpus)
            if counted:
                return counted
            # a named part's items; or, naming none ("八方面工作都是啥"), the plan's parts
            got = (section_pieces(q, route, self.corpus, w, min_match=0.8) if q.topic else
                   section_pieces(q, route, self.corpus, w) if not q.parts else [])
            members = group_pieces(q, route, self.corpus, w)
            named = sum(p.text.count("、") + 1 for p in members)
            if members and (not got or (q.list_count and abs(named - q.list_count) < abs(len(got) - 1 - q.list_count))):
                got = members
            if got:
                return got
            sp = sentence_piece(q, route, res, self.corpus, w)
            return [sp] if sp else []
        if q.parts and q.intent in ("figure", "count", "compare", "yesno", "other", "list"):
            out = []
            asked = [(part, sc) for part in q.parts for sc in (q.scopes or (None,))]
            for part, scope in asked:
                p = None
                if part.indicator and q.intent != "list":
                    # the indicator, else one stating it when the report gives none of its own
                    for alt in (part.indicator,) + lexicon().by_id[part.indicator].stated_by:
                        alt_part = replace(part, indicator=alt)
                        p = figure_from_facts(self.corpus, route, alt_part, q.period, scope, q)
                        p = p or figure_from_sentences(q, route, alt_part, res, self.corpus, w, scope)
                        if p is not None:
                            break
                if p is None and not part.indicator and part.label:
                    p = figure_by_words(q, route, part, res, self.corpus, w, out)
                if p is None and q.intent in ("yesno", "other", "list"):
                    p = sentence_piece(q, route, res, self.corpus, w,
                                       need=(lambda t, part=part: names_indicator(part, t)) if part.indicator else None)
                if p is None:
                    name = lexicon().by_id[part.indicator].name if part.indicator else part.label
                    draft.missing.append(f"{route.label}{name}：报告中未找到 (not stated)")
                elif q.intent == "yesno":
                    # yes or no rests on the whole sentence (a rank, a comparison), not the figure alone
                    full = self.corpus.text(p.key)[p.start:p.end]
                    from .text.sentences import one_line

                    if not any(x.start == p.start and x.key == p.key for x in out):
                        out.append(replace(p, text=one_line(full)))
                elif not any(x.start == p.start and x.key == p.key and x.text == p.text for x in out):
                    label = p.label + (_part_label(part) if len(q.parts) > 1 else "") + (scope or ("全口径" if q.scopes else ""))
                    out.append(replace(p, label=label))
            return out + self._other_measure(q, route, out)
        p = sentence_piece(q, route, res, self.corpus, w)
        if p is None:
            draft.missing.append(f"{route.label}：未找到支持的句子 (no sentence supports an answer)")
        return [p] if p else []

    def _other_measure(self, q: Query, route: Route, found: list[Piece]) -> list[Piece]:
        """A target asked with no measure ("进出口目标"), which the report sets both as an
        amount and as a growth rate: the other one too, when stated."""
        if q.intent != "figure" or route.time != "target" or len(q.parts) != 1 or q.period:
            return []
        part = q.parts[0]
        ind = lexicon().by_id.get(part.indicator)
        if ind is None or part.measure or not {"level", "growth"} <= set(ind.measures):
            return []
        other = "level" if preferred_measure(part, "target") != "level" else "growth"
        p = figure_from_facts(self.corpus, route, replace(part, measure=other), False, None, q)
        return [p] if p and not any(x.key == p.key and x.start == p.start for x in found) else []

    def _span(self, p: Piece) -> Span:
        r = self.corpus.by_key[p.key]
        text = self.corpus.text(p.key)
        p = replace(p, start=(w := full_sentence(text, p.start, p.end))[0], end=w[1])
        return Span(r.file, r.id, p.section or _section(self.corpus, p.key, p.start), p.start, p.end, text[p.start:p.end],
                    1.0, self.corpus.page_at(p.key, p.start))

    def _render(self, q: Query, draft: Draft, problems: list[str], note: str, n_routes: int) -> Answer:
        citations: list[Citation] = []
        lines = []
        for p in draft.pieces:
            r = self.corpus.by_key[p.key]
            text = self.corpus.text(p.key)
            p = replace(p, start=(w := full_sentence(text, p.start, p.end))[0], end=w[1])
            same = next((c for c in citations if c.doc == r.file and c.start == p.start and c.end == p.end), None)
            if same is None:
                same = Citation(len(citations) + 1, r.file, r.id, p.section or _section(self.corpus, p.key, p.start),
                                p.start, p.end, text[p.start:p.end], self.corpus.page_at(p.key, p.start))
                citations.append(same)
            label = p.label
            if not label and not q.regions and len({x.region_key for x in self.corpus.reports}) > 1:
                label = f"{r.region}{r.year}年报告"
            lines.append(f"{label + '：' if label and (n_routes > 1 or len(draft.pieces) > 1 or not q.regions) else ''}{p.text} [{same.n}]")
        sep = "\n" if draft.long and len(lines) > 1 else "；"
        answer = sep.join(lines)
        if draft.verdict:
            answer = draft.verdict + "。" + answer
        derived = []
        if pattern("difference").search(q.text) and len(draft.pieces) == 2:
            # "相差多少": the difference of the two figures cited, said to be computed
            fa = next((x for x in figures(draft.pieces[0].text) if x.kind != "year"), None)
            fb = next((x for x in figures(draft.pieces[1].text) if x.kind != "year"), None)
            d = guard.derived_difference(fa, fb) if fa and fb else None
            if d is not None:
                derived.append(d)
                answer += f"\n两者相差{_show(d)}（按所引数字计算 computed from the cited figures）"
        missing = draft.missing + problems
        if missing:
            answer += "\n（" + "；".join(missing) + "）"
        g = guard.check(answer, [c.quote for c in citations], q.text, derived)
        notes = tuple(missing) + ((note,) if note else ()) + ((g.message(),) if not g.ok else ())
        return Answer(q.text, answer, False, tuple(citations), tuple(draft.retrieved), "extractive", notes=notes,
                      guard_ok=g.ok, extra={"query": q.explain()})

    def _cite(self, c, n: int) -> Citation:
        """The citation of a table cell's figure."""
        f = c.figure
        text = self.corpus.text(c.report.key)
        return Citation(n, c.report.file, c.report.id, f.section, f.start, f.end, text[f.start:f.end],
                        self.corpus.page_at(c.report.key, f.start))

    def _met(self, q: Query, t, r, verdict: str) -> Answer:
        """A year's target against the result the next report gives: 完成 / 未完成."""
        name = lexicon().by_id[t.indicator].name
        word = {"完成": "完成 (met)", "未完成": "未完成 (missed)"}.get(verdict, verdict)
        answer = (f"{word}：{t.report.region}{t.figure.year}年{name}目标{t.figure.text} [1]，"
                  f"实际{r.figure.text} [2]（{r.report.year}年报告）。")
        citations = [self._cite(t, 1), self._cite(r, 2)]
        g = guard.check(answer, [c.quote for c in citations], q.text)
        spans = [Span(c.doc, c.report_id, c.section, c.start, c.end, c.quote, 1.0, c.page) for c in citations]
        return Answer(q.text, answer, False, tuple(citations), tuple(spans), "table",
                      notes=((g.message(),) if not g.ok else ()), guard_ok=g.ok,
                      extra={"query": q.explain(), "comparison": "met"})

    def _compare(self, q: Query, routes: list[Route], k: int) -> Answer:
        cmp = comparison(q, self.corpus)
        if cmp.kind == "missing":
            return self._refuse(q, [cmp.verdict], [])
        if not cmp.hits and not cmp.verdict:
            return self._refuse(q, ["没有报告给出该指标 (no indexed report states it)"], [])
        citations, lines = [], []
        for i, c in enumerate(cmp.hits):
            f = c.figure
            citations.append(self._cite(c, len(citations) + 1))
            if cmp.kind != "versus":
                lines.append(f"{c.report.region}：{f.text} [{len(citations)}]")
            elif i % 2:  # a target and the result it is set against
                t = cmp.hits[i - 1].figure
                lines.append(f"{c.report.region}：{t.year}年目标{t.text} [{len(citations) - 1}]，{f.year}年实际{f.text} "
                             f"[{len(citations)}]")
        others = [c.report.region for c in cmp.others]
        tail = ""
        if others:
            tail = "\n（" + {"list": "未提及：", "versus": "缺少其中一年的数字 (one of the two figures not stated)："}.get(cmp.kind, "其余：") + "、".join(others) + "）"
        answer = ((cmp.verdict + "。\n") if cmp.verdict else "") + "\n".join(lines) + tail
        g = guard.check(answer, [c.quote for c in citations], q.text)
        spans = [Span(c.doc, c.report_id, c.section, c.start, c.end, c.quote, 1.0, c.page) for c in citations]
        return Answer(q.text, answer.strip(), False, tuple(citations), tuple(spans), "table",
                      notes=((g.message(),) if not g.ok else ()), guard_ok=g.ok,
                      extra={"query": q.explain(), "comparison": cmp.kind})

    def _refuse(self, q: Query, reasons: list[str], retrieved: list[Span]) -> Answer:
        why = "；".join(dict.fromkeys(r for r in reasons if r))
        text = f"{REFUSAL}。{why}。" + ("以下是最接近的段落，供参考。" if retrieved else "")
        return Answer(q.text, text, True, (), tuple(retrieved), "extractive", extra={"query": q.explain()})


_SCALE_WORDS = {1e12: "万亿", 1e8: "亿", 1e4: "万", 1e3: "千"}


def _show(q) -> str:
    """A computed figure written the way reports write it ("336.8亿斤", "1.2个百分点")."""
    if q.kind == "points":
        return f"{q.value:g}个百分点"
    if q.kind in ("percent", "permille"):
        return f"{q.value:g}{q.unit or '%'}"
    word = _SCALE_WORDS.get(q.scale, "")
    v = q.value / q.scale if word else q.value
    return f"{round(v, 4):g}{word}{q.unit}"


def _part_label(part) -> str:
    if part.indicator:
        name = lexicon().by_id[part.indicator].name
        return name + ({"growth": "增速", "level": "总量", "rate": ""}.get(part.measure, "") if part.measure else "")
    return part.label


def _section(corpus: Corpus, key: str, pos: int) -> str:
    s = corpus.section_at(key, pos)
    return " > ".join(s.path) if s else ""


def _dedupe(spans: list[Span]) -> list[Span]:
    seen, out = set(), []
    for s in spans:
        k = (s.doc, s.start, s.end)
        if k not in seen:
            seen.add(k)
            out.append(s)
    return out


def answer_to_dict(a: Answer) -> dict:
    """The eval contract's object (plus mode, notes, guard and how the question was read)."""
    return {
        "question": a.question,
        "answer": a.answer,
        "refused": a.refused,
        "citations": [{"n": c.n, "doc": c.doc, "report_id": c.report_id, "section": c.section, "start": c.start,
                       "end": c.end, "page": c.page, "quote": c.quote} for c in a.citations],
        "retrieved": [{"doc": s.doc, "report_id": s.report_id, "section": s.section, "start": s.start, "end": s.end,
                       "page": s.page, "score": s.score} for s in a.retrieved],
        "latency_ms": a.latency_ms,
        "mode": a.mode,
        "guard_ok": a.guard_ok,
        "notes": list(a.notes),
        "query": a.extra.get("query", {}),
    }
