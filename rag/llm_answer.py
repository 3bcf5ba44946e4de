"""LLM answers: an LCEL chain (prompt files | chat model) writes the answer from the same
routed passages the extractive answer used, citing [n].

Nothing the model writes reaches the user unchecked:

* **deadline** — one budget for the whole reply (``RAG_LLM_TIMEOUT``, capped so that the
  app's ``RAG_REQUEST_TIMEOUT`` still leaves time to show the fallback): connect, first
  token and the complete stream; past it the stream is abandoned
  (:func:`rag.llm.stream_reply`);
* **held until guarded** — streamed text is passed on only up to the end of a clause or
  a citation marker, and only once every figure in it occurs in a passage the text so far
  cites [n] (the number guard); a figure the model made up is never shown, not even for a
  moment, and nothing half-written (``6`` of ``6.5%``) is shown either;
* **complete replies only** — a stream cut at ``max_tokens`` (``finish_reason`` "length")
  or one that stops without its end (the connection dropped, no ``[DONE]``) is not an
  answer;
* **fallback** — on any failure (deadline, cut-off stream, an endpoint that is down or
  talks junk, a reply that cites nothing or fails the guard) the user gets the extractive
  answer, with its citations, and a note saying why. Text already streamed is first
  withdrawn with :data:`RETRACT`.
"""
from __future__ import annotations

import re
import time
from dataclasses import replace

from . import guard, tokens
from .types import Answer, Citation, Span

ANSWER_TOKENS = 200  # an answer is one or two sentences
CONTEXT_TOKENS = 1800
REQUEST_SHARE = 0.8  # at most this share of RAG_REQUEST_TIMEOUT goes to the LLM
_MARKER = re.compile(r"\[(\d{1,2})\]")
# where streamed text may be cut for the guard: after a clause's punctuation or a whole
# citation marker — never inside a figure (ASCII "," and "." can be part of one)
_BOUNDARY = re.compile(r"[，。；！？、：;!?\n]|\[\d{1,2}\]")


class Retract(str):
    """Passed to ``on_token`` when text already streamed is withdrawn (the reply failed
    after part of it was shown; the fallback answer follows as the next piece). A
    consumer that keeps the streamed text clears it on ``getattr(piece, "retract", False)``.
    It is the string ``"\\n"`` so that a consumer that only prints or joins pieces still
    shows the fallback on a line of its own."""

    retract = True


RETRACT = Retract("\n")


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


def check(text: str, ctx: list[Span], question: str) -> tuple[guard.GuardResult, list[Citation]]:
    """The guard over (part of) a reply: its figures against the passages it cites."""
    cites = _parse_citations(text, ctx)
    return guard.check(_MARKER.sub(" ", text), [c.quote for c in cites], question), cites


class Gate:
    """Holds streamed text back until it passes the guard.

    ``feed(delta)`` adds model text; text is passed to ``emit`` only up to the last clause
    boundary or citation marker, and only when everything up to there passes the number
    guard against the passages it cites so far. The passages cited only grow as the reply
    goes on, so whatever was shown still passes on the whole reply's citations.
    """

    def __init__(self, ctx: list[Span], question: str, emit=None) -> None:
        self.ctx, self.question, self.emit = ctx, question, emit
        self.text = ""
        self.shown = 0  # characters of ``text`` passed on

    def feed(self, delta: str) -> None:
        self.text += delta
        cut = self.shown
        for m in _BOUNDARY.finditer(self.text, self.shown):
            cut = m.end()
        if cut > self.shown and check(self.text[:cut], self.ctx, self.question)[0].ok:
            self._pass(cut)

    def finish(self) -> None:
        """The whole reply passed: pass on what is still held."""
        self._pass(len(self.text))

    def retract(self) -> None:
        """Withdraw what was passed on (if anything)."""
        if self.shown and self.emit is not None:
            self.emit(RETRACT)
        self.shown = 0

    def _pass(self, cut: int) -> None:
        if cut > self.shown and self.emit is not None:
            self.emit(self.text[self.shown:cut])
        self.shown = max(self.shown, cut)


def budget(cfg, settings=None) -> tuple[float, str]:
    """Seconds the LLM may take for one answer, and what set them (for the messages):
    ``RAG_LLM_TIMEOUT``, capped at ``REQUEST_SHARE`` of ``RAG_REQUEST_TIMEOUT`` so that
    the app still has time to show the extractive answer when the LLM uses it all."""
    total = float(cfg.timeout)
    req = getattr(settings, "request_timeout", None)
    if isinstance(req, (int, float)) and req > 0 and req * REQUEST_SHARE < total:
        total = max(1.0, round(req * REQUEST_SHARE, 1))
        return total, f"{total:g} s, RAG_LLM_TIMEOUT capped by RAG_REQUEST_TIMEOUT"
    return total, f"{total:g} s, RAG_LLM_TIMEOUT"


def run_chain(cfg, prompts_dir, question: str, numbered: str, on_token=None, seconds: float | None = None,
              limit: str | None = None) -> str:
    """prompt files | chat model, as one LCEL chain, streamed. Every raw delta goes to
    ``on_token`` (unchecked: give it a :class:`Gate`'s ``feed``). Returns the whole reply;
    raises LLMError on any failure, a reply cut off (``finish_reason`` "length") or that
    stops without its end, or when ``seconds`` (default ``cfg.timeout``) pass — counted
    from the request, once the chain is built (the first use imports LangChain, which is
    not the endpoint's time), and covering connect, first token and the whole stream.
    ``limit`` says in a timeout's message what set the time (default "<seconds> s,
    RAG_LLM_TIMEOUT")."""
    from langchain_core.prompts import ChatPromptTemplate

    from .llm import chat_model, stream_reply

    seconds = float(cfg.timeout if seconds is None else seconds)
    limit = limit or f"{seconds:g} s, RAG_LLM_TIMEOUT"
    system = (prompts_dir / "answer_system.md").read_text(encoding="utf-8")
    user = (prompts_dir / "answer_user.md").read_text(encoding="utf-8")
    prompt = ChatPromptTemplate.from_messages([("system", system), ("human", user)])
    chain = prompt | chat_model(cfg, max_tokens=ANSWER_TOKENS)
    text = ""
    deadline = time.monotonic() + seconds
    for delta in stream_reply(cfg, chain, {"passages": numbered, "question": question}, deadline=deadline,
                              limit=limit):
        text += delta
        if on_token is not None:
            on_token(delta)
    return text


def _note(e) -> str:
    if e.kind == "timeout":
        return f"LLM 超时，已改用抽取式答案 (the LLM timed out: {e})"
    if e.kind == "truncated":
        return f"LLM 的回答不完整，已改用抽取式答案 (the LLM reply was cut off: {e})"
    return f"LLM 不可用，已改用抽取式答案 ({e})"


def llm_answer(answerer, q, fallback: Answer, on_token=None) -> Answer:
    """The LLM's answer to ``q`` over the passages of ``fallback`` (the extractive answer),
    streamed through ``on_token`` as it passes the guard — or ``fallback`` with a note."""
    from .llm import LLMError, describe

    cfg = answerer.llm_cfg
    seconds, limit = budget(cfg, answerer.settings)
    cited = [Span(c.doc, c.report_id, c.section, c.start, c.end, c.quote, 1.0, c.page) for c in fallback.citations]
    seen, spans = set(), []
    for s in cited + list(fallback.retrieved):
        if (s.doc, s.start, s.end) not in seen:
            seen.add((s.doc, s.start, s.end))
            spans.append(s)
    ctx, numbered = _context(answerer, spans)
    gate = Gate(ctx, q.text, on_token)

    def fall_back(note: str, **extra) -> Answer:
        gate.retract()
        if on_token:
            on_token(fallback.answer)
        return replace(fallback, notes=fallback.notes + (note,), extra={**fallback.extra, **extra})

    try:
        text = run_chain(cfg, answerer.settings.prompts, q.text, numbered, on_token=gate.feed, seconds=seconds,
                         limit=limit)
    except LLMError as e:
        return fall_back(_note(e), llm_error=e.kind)
    g, citations = check(text, ctx, q.text)
    if not citations:
        return fall_back("LLM 的回答没有引用 [n]，已改用抽取式答案 (LLM reply cited nothing)",
                         llm_error="uncited", llm_answer=text)
    if not g.ok:
        ans = fall_back(g.message() + "；已改用抽取式答案 (fell back to the extractive answer)",
                        llm_error="guard", llm_answer=text, llm_unsupported=list(g.unsupported))
        return replace(ans, guard_ok=False)
    gate.finish()
    return Answer(q.text, text.strip(), False, tuple(citations), fallback.retrieved, describe(cfg),
                  notes=fallback.notes, guard_ok=True, extra=fallback.extra)
