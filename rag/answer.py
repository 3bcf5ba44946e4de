"""Answers with citations.

Default mode is extractive and needs no LLM: the sentence that answers is picked from
the re-scored sentences, trimmed to the clause(s) carrying the asked indicator and its
figure (qualifiers such as 左右/以上 kept), and cited [n] to its exact span.

With an LLM endpoint configured, an LCEL chain (prompt file | chat model | parser)
writes the answer from numbered passages and must cite [n]; the reply is parsed into
citations, and every number in it goes through the number guard. A reply that fails the
guard, or an endpoint that is down, slow or talking junk, falls back to the extractive
answer with a note.

When nothing supports an answer (the asked region/year is in no report, the indicator
is in no passage, scores are low), the answer says the reports do not give it
(`refused`) and lists the nearest passages.
"""
from __future__ import annotations

import re
import time
from dataclasses import replace

from . import config, guard, tokens
from .query import INDICATOR_PARTS, INDICATORS, Query, analyze, choose_reports, with_report
from .retrieve import Result, Retriever, Sentence, key_terms
from .types import Answer, Citation, Span

MAX_QUESTION_TOKENS = 200
MAX_ANSWER_CHARS = 300
ANSWER_TOKENS = 200  # an answer is one or two sentences
MIN_LEXICAL = 0.34  # share of the question's key terms a supporting sentence must hold
REFUSAL = "报告中没有找到相关信息 (the reports do not give this)"
_CLAUSE = re.compile(r"[^，,；;：:]+[，,；;：:]?")
_NUMERIC_Q = re.compile(r"多少|几[个家项所名人次年倍天]|多大|比重|增速|增幅|how much|how many|rate\b|growth|percent|%")
_SUMMARY_Q = re.compile(r"概括|简述|总结|概述|summari[sz]e|overview|main (?:targets|results|indicators)")
_LIST_Q = re.compile(r"哪些|哪几|有哪|分别|which (?:\w+ )*(?:are|were)|list|what are")


def prepare_question(question: str) -> tuple[str, list[str]]:
    """Strip and cap a question by tokens; returns (question, notes). Raises ValueError if empty."""
    q = (question or "").strip()
    if not q:
        raise ValueError("问题为空 (empty question): 请输入一个问题")
    cut, truncated = tokens.truncate(q, MAX_QUESTION_TOKENS)
    notes = []
    if truncated:
        notes.append(f"问题过长，已截取前 {MAX_QUESTION_TOKENS} 个 token (question truncated to {MAX_QUESTION_TOKENS} tokens)")
    return cut.strip(), notes


def _indicator_names(q: Query) -> list[str]:
    return [n for i in q.indicators for n in INDICATORS[i] if not n.isascii()]


_UNIT_Q = re.compile(r"多少(亿元|万元|元|万人|人|个|家|亩|公里|千米|平方米|万平方米|吨|所|条|项|座|套|名|户|辆|次|件)")
_MONEY_Q = re.compile(r"总额|总量|多少亿|多少钱|\bvalue\b|\bamount\b|\btotal\b|\bhow much money\b")
_SPEAKER_Q = re.compile(r"谁作|报告人|作报告的是|谁做|谁代表|who (?:gave|delivered|presented|made)|speaker")


def _names_indicator(q: Query, text: str) -> bool:
    """Does `text` name an asked indicator, also in a shared form ("城镇、农村居民人均可支配收入")?"""
    if any(n in text for n in _indicator_names(q)):
        return True
    return any(all(part in text for part in INDICATOR_PARTS.get(i, ("\0",))) for i in q.indicators)


def _supports(q: Query, s: Sentence, retriever: Retriever) -> bool:
    """Does this sentence plausibly answer the question (and not another region's/year's)?"""
    names = _indicator_names(q)
    has_name = _names_indicator(q, s.text)
    if names and not has_name and not any(n in s.passage.section for n in names):
        return False
    floor = MIN_LEXICAL if not q.english else 0.0  # English words never occur in the text
    if s.lexical < floor and not (has_name and s.lexical >= 0.15):
        return False
    flat = s.text.replace(" ", "")
    low = q.text.lower()
    if _NUMERIC_Q.search(low) and not re.search(r"\d", s.text):
        return False
    m = _UNIT_Q.search(low)
    if m and not re.search(rf"\d{re.escape(m.group(1))}|\d[万亿千百]?{re.escape(m.group(1)[-1])}", flat):
        return False  # "多少元" needs an amount in 元, not a growth rate
    if _MONEY_Q.search(low) and names and not re.search(r"\d[\d.]*[万亿]?(?:美)?元", flat):
        return False
    report = retriever.report(s.passage.report_id)
    if q.years and report:
        # a year other than the report's own review/plan year must be named in the sentence
        main = {max(report.review_years, default=0), min(report.plan_years, default=0), report.year}
        flat = s.text.replace(" ", "")
        if not any(y in main for y in q.years) and not any(str(y) in flat for y in q.years):
            return False
        if q.intent == "result" and s.passage.section_kind == "plan" and not any(str(y) in flat for y in q.years):
            return False
        if q.intent == "target" and s.passage.section_kind == "review":
            return False
    return True


def _trim(sentence: str, q: Query) -> str:
    """The clause(s) that answer: from the clause naming the indicator (or the best
    matching one) through its first figure; the whole sentence for lists."""
    s = sentence.strip().lstrip("#").strip()
    s = re.sub(r"\*\*", "", s)
    s = re.sub(r"\s*\n\s*", "", s)  # a line broken mid-sentence reads as one line
    # only figure questions are cut down to clauses; names, lists and yes/no keep the sentence
    if len(s) <= 90 or not _NUMERIC_Q.search(q.text.lower()) or _LIST_Q.search(q.text.lower()):
        return s[:MAX_ANSWER_CHARS].rstrip("，,；;：:、 ")
    clauses = [m.group(0) for m in _CLAUSE.finditer(s)]
    if len(clauses) <= 1:
        return s[:MAX_ANSWER_CHARS]
    names = _indicator_names(q)
    terms = key_terms(q)

    def score(c: str) -> float:
        return 3 * sum(n in c for n in names) + sum(t in c for t in terms) + (0.5 if re.search(r"\d", c) else 0)

    best = max(range(len(clauses)), key=lambda i: score(clauses[i]))
    start, end = best, best + 1
    while not re.search(r"\d", "".join(clauses[start:end])) and end < len(clauses):
        end += 1
    # keep the subject: a clause with only a figure gets its predecessor
    if start > 0 and not re.search(r"[\u4e00-\u9fff]{4,}", re.sub(r"[\d.%]+", "", clauses[start])):
        start -= 1
    out = "".join(clauses[start:end])
    return (out if len(out) >= 6 else s[:MAX_ANSWER_CHARS]).rstrip("，,；;：:、 ")


def _with_neighbours(best: Sentence, limit: int = 260) -> Sentence:
    """`best` widened to the adjacent sentences of its passage that hold figures."""
    from .chunk import split_sentences

    p = best.passage
    sents = [(p.start + a, p.start + b) for a, b in split_sentences(p.text)]
    i = next((k for k, (a, b) in enumerate(sents) if a <= best.start < b), None)
    if i is None:
        return best
    lo = hi = i
    has_fig = lambda k: bool(re.search(r"\d", p.text[sents[k][0] - p.start : sents[k][1] - p.start]))  # noqa: E731
    while True:
        grew = False
        if hi + 1 < len(sents) and has_fig(hi + 1) and sents[hi + 1][1] - sents[lo][0] <= limit:
            hi, grew = hi + 1, True
        if lo > 0 and has_fig(lo - 1) and sents[hi][1] - sents[lo - 1][0] <= limit:
            lo, grew = lo - 1, True
        if not grew:
            break
    start, end = sents[lo][0], sents[hi][1]
    text = p.text[start - p.start : end - p.start]
    return replace(best, start=start, end=end, text=text)


class Answerer:
    def __init__(self, retriever: Retriever, llm_cfg=None):
        self.retriever = retriever
        self.llm_cfg = llm_cfg

    @property
    def mode(self) -> str:
        if self.llm_cfg is None:
            return "extractive"
        from .llm import describe

        return describe(self.llm_cfg)

    # --- the whole step ------------------------------------------------------------------
    def ask(self, question: str, *, report: str | None = None, k: int = 5, prev: Query | None = None,
            on_token=None, use_llm: bool | None = None) -> tuple[Answer, Query]:
        t0 = time.perf_counter()
        question, notes = prepare_question(question)
        q = analyze(question, self.retriever.reports, prev)
        if report:
            q = with_report(q, report)
        if q.resolved_from:
            notes.append(f"追问，已结合上一问 (follow-up of: {q.resolved_from})")
        if q.note:
            notes.append(q.note)
        extractive, result = self.extractive(q, k)
        answer = extractive
        use_llm = (self.llm_cfg is not None) if use_llm is None else use_llm
        if use_llm and self.llm_cfg is not None and not extractive.refused:
            answer = self.llm_answer(q, result, extractive, on_token)
        elif on_token:
            on_token(answer.answer)
        latency = int((time.perf_counter() - t0) * 1000)
        return replace(answer, notes=tuple(notes) + answer.notes, latency_ms=latency), q

    # --- extractive ----------------------------------------------------------------------
    def _sub_queries(self, q: Query) -> list[Query]:
        """A question over several regions or years becomes one query per region/year."""
        if q.problem:
            return [q]
        regions = q.regions if len(q.regions) > 1 else ()
        years = q.years if len(q.years) > 1 else ()
        if not regions and not years:
            return [q]
        if regions and years and len(regions) == len(years):
            pairs = list(zip(regions, years))  # "慈溪2020年和宁波2022年…": pairwise
        else:
            pairs = [(reg, y) for reg in (regions or q.regions or ("",)) for y in (years or q.years or (0,))]
        intent = q.intent if q.intent in ("target", "result") else "other"
        subs = []
        for reg, y in pairs:
            rs, ys = ((reg,) if reg else ()), ((y,) if y else ())
            ids, problem = choose_reports(rs, ys, intent, self.retriever.reports)
            if ids or intent != "other":
                subs.append(replace(q, regions=rs, years=ys, report_ids=ids, problem=problem))
        return subs or [q]

    def _speaker(self, q: Query) -> Answer | None:
        """"谁作的报告?": the catalog names the speaker; cite the line of the text naming them."""
        if not _SPEAKER_Q.search(q.text.lower()):
            return None
        for r in self.retriever.reports:
            if (q.report_ids and r.id not in q.report_ids) or not r.speaker:
                continue
            name = r.speaker.split()[-1]
            text = self.retriever.texts.get(r.file, "")
            at = text.find(name)
            if at < 0:
                continue
            ls, le = text.rfind("\n", 0, at) + 1, text.find("\n", at)
            le = len(text) if le < 0 else le
            quote = text[ls:le].strip()
            ls = text.find(quote, ls)
            sec = next((p.section for p in self.retriever.passages if p.doc == r.file and p.start <= ls < p.end), "")
            c = Citation(1, r.file, r.id, sec, ls, ls + len(quote), quote)
            return Answer(q.text, f"{r.title}由{r.speaker}作。 [1]", False, (c,), (), "extractive")
        return None

    def extractive(self, q: Query, k: int = 5) -> tuple[Answer, Result | None]:
        if not q.problem and (sp := self._speaker(q)) is not None:
            res = self.retriever.retrieve(q, k=k)
            return replace(sp, retrieved=tuple(_dedupe([_span_of(sp.citations[0])] + res.spans()))[:k]), res
        subs = self._sub_queries(q)
        picked: list[tuple[Query, Sentence]] = []
        retrieved: list[Span] = []
        results: list[Result] = []
        problems = []
        for sq in subs:
            if sq.problem:
                problems.append(sq.problem)
                continue
            res = self.retriever.retrieve(sq, k=k)
            results.append(res)
            retrieved.extend(res.spans())
            ok = [s for s in res.sentences[:12] if _supports(sq, s, self.retriever)]
            if not ok:
                problems.append(f"{''.join(sq.regions)}{''.join(map(str, sq.years))}: 未找到支持的句子")
            elif _SUMMARY_Q.search(sq.text.lower()) and len(subs) == 1:
                # an overview: the best sentence and its neighbours that carry figures (the
                # headline figures of a report come as one run of "；"-separated clauses)
                picked.append((sq, _with_neighbours(ok[0])))
            else:
                picked.append((sq, ok[0]))
        retrieved = _dedupe(sorted(retrieved, key=lambda s: -s.score) if len(results) > 1 else retrieved)[: max(k, 5)]
        if not picked:
            return self._refuse(q, problems, retrieved), (results[0] if results else None)
        citations, parts = [], []
        for n, (sq, s) in enumerate(picked, 1):
            text = _trim(s.text, sq)
            label = ""
            if len(subs) > 1:
                label = "".join(sq.regions) + ("".join(f"{y}年" for y in sq.years)) + "："
            parts.append(f"{label}{text} [{n}]")
            p = s.passage
            citations.append(Citation(n, p.doc, p.report_id, p.section, s.start, s.end, s.text))
        answer = "；".join(parts)
        if len(answer) > MAX_ANSWER_CHARS + 20 * len(parts):
            answer = answer[:MAX_ANSWER_CHARS] + "…"
        g = guard.check(answer, [c.quote for c in citations], q.text)
        notes = tuple(problems) if problems else ()
        ans = Answer(q.text, answer, False, tuple(citations), tuple(retrieved), "extractive",
                     notes=notes + ((g.message(),) if not g.ok else ()), guard_ok=g.ok)
        res = results[0] if results else None
        if res is not None and len(results) > 1:
            res = Result(q, [pp for r in results for pp in r.passages], [s for _, s in picked])
        return ans, res

    def _refuse(self, q: Query, problems: list[str], retrieved: list[Span]) -> Answer:
        if not retrieved:
            # show the nearest passages anyway: the asked region's reports, any year
            ids = tuple(r.id for r in self.retriever.reports if r.region in q.regions)
            loose = replace(q, report_ids=ids, problem="", years=())
            retrieved = self.retriever.retrieve(loose, k=5).spans()
        why = "；".join(p for p in problems if p) or "没有足够相关的段落"
        text = f"{REFUSAL}。{why}。以下是最接近的段落，供参考。"
        return Answer(q.text, text, True, (), tuple(retrieved), "extractive", notes=(), guard_ok=True)

    # --- LLM ---------------------------------------------------------------------------------
    def llm_answer(self, q: Query, result: Result | None, fallback: Answer, on_token=None) -> Answer:
        from .llm import LLMError, describe

        passages = list(fallback.retrieved)
        cited_first = []
        for c in fallback.citations:  # the extractive evidence goes first
            cited_first.append(Span(c.doc, c.report_id, c.section, c.start, c.end, c.quote, 1.0))
        ctx = _dedupe(cited_first + passages)
        ctx, numbered = self._context(ctx)
        try:
            text = self._run_chain(q, numbered, on_token)
        except LLMError as e:
            return replace(fallback, notes=fallback.notes + (f"LLM 不可用，已改用抽取式答案 ({e})",))
        citations = _parse_citations(text, ctx)
        # every number must occur in a cited span (in any passage given, if it cites none)
        g = guard.check(_strip_markers(text), [c.quote for c in citations] or [s.text for s in ctx], q.text)
        if g.ok and not citations:
            return replace(fallback, notes=fallback.notes + ("LLM 的回答没有引用 [n]，已改用抽取式答案 (LLM reply cited nothing)",),
                           extra={"llm_answer": text})
        if not g.ok:
            return replace(
                fallback,
                notes=fallback.notes + (g.message() + "；已改用抽取式答案 (fell back to the extractive answer)",),
                guard_ok=False,
                extra={"llm_answer": text, "llm_unsupported": list(g.unsupported)},
            )
        return Answer(q.text, text.strip(), False, tuple(citations), fallback.retrieved, describe(self.llm_cfg),
                      notes=fallback.notes, guard_ok=True)

    def _context(self, spans: list[Span], budget: int = 1800) -> tuple[list[Span], str]:
        out, parts, used = [], [], 0
        for s in spans:
            title = self.retriever.report(s.report_id)
            head = f"[{len(out) + 1}] {title.title if title else s.report_id} · {s.section}"
            block = f"{head}\n{s.text.strip()}"
            t = tokens.count(block)
            if used + t > budget and out:
                break
            out.append(s)
            parts.append(block)
            used += t
        return out, "\n\n".join(parts)

    def _run_chain(self, q: Query, numbered: str, on_token=None) -> str:
        """prompt file | chat model | parser, as one LCEL chain; streamed when asked."""
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        from .llm import LLMError, chat_model, translate_error

        system = (config.prompts_dir() / "answer_system.md").read_text(encoding="utf-8")
        user = (config.prompts_dir() / "answer_user.md").read_text(encoding="utf-8")
        prompt = ChatPromptTemplate.from_messages([("system", system), ("human", user)])
        chain = prompt | chat_model(self.llm_cfg, max_tokens=ANSWER_TOKENS) | StrOutputParser()
        values = {"passages": numbered, "question": q.text}
        text = ""
        try:
            if on_token is None:
                text = chain.invoke(values)
            else:
                for delta in chain.stream(values):
                    if delta:
                        text += delta
                        on_token(delta)
        except LLMError:
            raise
        except Exception as e:  # anything else the client raises gets the same one-line message
            raise translate_error(e, self.llm_cfg) from e
        if not text or not text.strip():
            raise LLMError("LLM returned an empty reply", kind="junk")
        return text


def _span_of(c: Citation) -> Span:
    return Span(c.doc, c.report_id, c.section, c.start, c.end, c.quote, 1.0)


def _dedupe(spans: list[Span]) -> list[Span]:
    seen, out = set(), []
    for s in spans:
        key = (s.doc, s.start, s.end)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


_MARKER = re.compile(r"\[(\d{1,2})\]")


def _strip_markers(text: str) -> str:
    return _MARKER.sub(" ", text)


def _parse_citations(text: str, ctx: list[Span]) -> list[Citation]:
    """[n] markers of an LLM reply → citations to the numbered passages' spans."""
    out, seen = [], set()
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if 1 <= n <= len(ctx) and n not in seen:
            seen.add(n)
            s = ctx[n - 1]
            out.append(Citation(n, s.doc, s.report_id, s.section, s.start, s.end, s.text))
    return out


def answer_to_dict(a: Answer) -> dict:
    """The eval contract's object (plus mode, notes and guard)."""
    return {
        "question": a.question,
        "answer": a.answer,
        "refused": a.refused,
        "citations": [
            {"n": c.n, "doc": c.doc, "report_id": c.report_id, "section": c.section, "start": c.start, "end": c.end, "quote": c.quote}
            for c in a.citations
        ],
        "retrieved": [
            {"doc": s.doc, "report_id": s.report_id, "section": s.section, "start": s.start, "end": s.end, "score": s.score}
            for s in a.retrieved
        ],
        "latency_ms": a.latency_ms,
        "mode": a.mode,
        "guard_ok": a.guard_ok,
        "notes": list(a.notes),
    }
