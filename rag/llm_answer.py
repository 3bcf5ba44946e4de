"""LLM answers: an LCEL chain (prompt files | chat model | parser) writes the answer from
the same routed passages the extractive answer used, citing [n].

Nothing the model writes reaches the user unchecked: streamed text is held back until it
passes the number guard, a stream that stops without its end is not taken as an answer,
and the whole answer has one deadline (``RAG_LLM_TIMEOUT`` bounds the complete reply, not
the gap between tokens). Any failure falls back to the extractive answer with a note.
"""
from __future__ import annotations

import re
import time
from dataclasses import replace

from . import guard, tokens
from .types import Answer, Citation, Span

ANSWER_TOKENS = 200  # an answer is one or two sentences
CONTEXT_TOKENS = 1800
_MARKER = re.compile(r"\[(\d{1,2})\]")


def _context(answerer, spans: list[Span], budget: int = CONTEXT_TOKENS) -> tuple[list[Span], str]:
    out, parts, used = [], [], 0
    for s in spans:
        r = answerer.corpus.report(s.report_id)
        head = f"[{len(out) + 1}] {r.title if r else s.report_id} · {s.section}"
        block = f"{head}\n{s.text.strip()}"
        t = tokens.count(block)
        if used + t > budget and out:
            break
        out.append(s)
        parts.append(block)
        used += t
    return out, "\n\n".join(parts)


def _parse_citations(text: str, ctx: list[Span]) -> list[Citation]:
    out, seen = [], set()
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if 1 <= n <= len(ctx) and n not in seen:
            seen.add(n)
            s = ctx[n - 1]
            out.append(Citation(n, s.doc, s.report_id, s.section, s.start, s.end, s.text, s.page))
    return out


def run_chain(cfg, prompts_dir, question: str, numbered: str, on_token=None, deadline: float | None = None) -> str:
    """prompt file | chat model | parser, as one LCEL chain. Streams through ``on_token``
    only text that passed the guard so far; raises LLMError on any failure, a reply cut
    off before its end, or the deadline."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    from .llm import LLMError, chat_model, translate_error

    system = (prompts_dir / "answer_system.md").read_text(encoding="utf-8")
    user = (prompts_dir / "answer_user.md").read_text(encoding="utf-8")
    prompt = ChatPromptTemplate.from_messages([("system", system), ("human", user)])
    model = chat_model(cfg, max_tokens=ANSWER_TOKENS)
    chain = prompt | model | StrOutputParser()
    values = {"passages": numbered, "question": question}
    deadline = deadline or (time.monotonic() + cfg.timeout)
    text = ""
    finished = False
    try:
        for delta in chain.stream(values):
            if time.monotonic() > deadline:
                raise LLMError(f"LLM endpoint {cfg.base_url} did not finish within {cfg.timeout:g} s; answering extractively",
                               kind="timeout")
            if delta:
                text += delta
                if on_token is not None:
                    on_token(delta)
        finished = True
    except LLMError:
        raise
    except Exception as e:  # noqa: BLE001 - anything else the client raises gets the same one-line message
        raise translate_error(e, cfg) from e
    if not finished or not text.strip():
        raise LLMError("LLM returned an empty or unfinished reply", kind="junk")
    return text


def llm_answer(answerer, q, fallback: Answer, on_token=None) -> Answer:
    from .llm import LLMError, describe

    cfg = answerer.llm_cfg
    cited = [Span(c.doc, c.report_id, c.section, c.start, c.end, c.quote, 1.0, c.page) for c in fallback.citations]
    seen, spans = set(), []
    for s in cited + list(fallback.retrieved):
        if (s.doc, s.start, s.end) not in seen:
            seen.add((s.doc, s.start, s.end))
            spans.append(s)
    ctx, numbered = _context(answerer, spans)
    held: list[str] = []
    try:
        # tokens are held, not shown, until the whole reply has passed the guard
        text = run_chain(cfg, answerer.settings.prompts, q.text, numbered, on_token=held.append)
    except LLMError as e:
        if on_token:
            on_token(fallback.answer)
        return replace(fallback, notes=fallback.notes + (f"LLM 不可用，已改用抽取式答案 ({e})",))
    citations = _parse_citations(text, ctx)
    g = guard.check(_MARKER.sub(" ", text), [c.quote for c in citations] or [s.text for s in ctx], q.text)
    if g.ok and not citations:
        if on_token:
            on_token(fallback.answer)
        return replace(fallback, notes=fallback.notes + ("LLM 的回答没有引用 [n]，已改用抽取式答案 (LLM reply cited nothing)",),
                       extra={**fallback.extra, "llm_answer": text})
    if not g.ok:
        if on_token:
            on_token(fallback.answer)
        return replace(fallback, notes=fallback.notes + (g.message() + "；已改用抽取式答案 (fell back to the extractive answer)",),
                       guard_ok=False, extra={**fallback.extra, "llm_answer": text, "llm_unsupported": list(g.unsupported)})
    if on_token:
        on_token(text)
    return Answer(q.text, text.strip(), False, tuple(citations), fallback.retrieved, describe(cfg),
                  notes=fallback.notes, guard_ok=True, extra=fallback.extra)
