"""LLM answers against a REAL OpenAI-compatible server (llama.cpp + Gemma 3 270M, started
on 127.0.0.1 by the test). The model is tiny and its answers are poor: these tests prove
the plumbing — the LCEL chain streams, [n] markers become the extractive answer's own
passages, the number guard holds back and replaces figures the model made up, a failed
reply falls back to the extractive answer with its citations — not prose quality.
The failure modes of an endpoint are in tests/reliability/ (a fake server)."""
import os

import pytest

from rag import guard
from rag.answer import Answerer
from rag.llm import LLMConfig
from rag.llm_answer import _parse_citations, llm_answer
from rag.types import Span

from llm_server import LLMServerUnavailable, free_port, start_llm_server


def _visible(pieces):
    text = ""
    for p in pieces:
        text = "" if getattr(p, "retract", False) else text + p
    return text


def _shown_ever(pieces):
    out, text = [], ""
    for p in pieces:
        text = "" if getattr(p, "retract", False) else text + p
        out.append(text)
    return out


def test_citation_markers_parse_to_spans():
    ctx = [Span("a.txt", "a", "一、", 10, 20, "增长6.5%左右"), Span("b.txt", "b", "二、", 5, 9, "7%左右")]
    cites = _parse_citations("海曙6.5%左右[1]，江北7%左右 [2]；再提[1]和[9]。", ctx)
    assert [(c.n, c.doc, c.start, c.end) for c in cites] == [(1, "a.txt", 10, 20), (2, "b.txt", 5, 9)]


@pytest.fixture(scope="module")
def server():
    try:
        base_url, model, stop = start_llm_server()
    except LLMServerUnavailable as e:
        if os.environ.get("RAG_SKIP_LLM_SERVER") == "1":
            pytest.skip(str(e))
        raise
    yield LLMConfig(base_url=base_url, model=model, timeout=120)
    stop()


QUESTIONS = ["海曙区2020年GDP增长目标是多少?", "江北区2019年地区生产总值是多少?"]


def _answerer(svc, cfg):
    return Answerer(svc.corpus, svc.retriever, svc.settings, cfg)


@pytest.mark.slow
def test_llm_answers_stream_cite_and_pass_the_guard_or_fall_back(seed_services, server):
    answerer = _answerer(seed_services, server)
    outcomes = []
    for question in QUESTIONS:
        extractive, _ = answerer.ask(question, use_llm=False)
        pieces = []
        ans, _ = answerer.ask(question, on_token=pieces.append)
        assert ans.answer.strip() and ans.citations, "every answer that is not refused cites its spans"
        assert _visible(pieces).strip() == ans.answer, "the stream ends as the answer given"
        quotes = [c.quote for c in ans.citations]
        for shown in _shown_ever(pieces):  # nothing shown, even for a moment, fails the guard
            if shown != extractive.answer:
                assert guard.check(shown, [s.text for s in extractive.retrieved] + quotes, question).ok, shown
        if ans.mode.startswith("llm:"):
            # accepted: every number of the reply occurs in a span it cites, and [n] is
            # one of the passages the extractive step found
            outcomes.append("llm")
            assert ans.guard_ok and guard.check(ans.answer, quotes, question).ok
            spans = {(s.doc, s.start, s.end) for s in extractive.retrieved} | {
                (c.doc, c.start, c.end) for c in extractive.citations}
            assert all((c.doc, c.start, c.end) in spans for c in ans.citations)
        else:
            # refused by the guard, no [n], cut off or slow: the extractive answer, with
            # its own citations, and a note
            outcomes.append("fallback:" + ans.extra.get("llm_error", "?"))
            assert ans.mode == "extractive" and ans.notes
            assert ans.answer == extractive.answer and ans.citations == extractive.citations
            if ans.extra.get("llm_error") == "guard":
                assert any("number guard" in n for n in ans.notes)
                assert ans.extra["llm_unsupported"]
                assert not guard.check(ans.extra["llm_answer"], quotes, question).ok or ans.extra["llm_unsupported"]
    assert len(outcomes) == len(QUESTIONS), outcomes


@pytest.mark.slow
def test_guard_replaces_the_llms_made_up_figures(seed_services, server):
    """Passages with no figures at all: any figure the real model writes is unsupported,
    so the outcome is known whatever the model says — and no figure is ever streamed."""
    from rag.query import analyze
    from rag.types import Answer, Citation

    answerer = _answerer(seed_services, server)
    text = "海曙区要加快数字经济发展，推动产业转型升级，地区生产总值保持稳定增长。"
    span = Span("002_e628585dbd2362fe.txt", "haishu-2020", "二、2020年主要目标任务", 0, len(text), text, 1.0)
    cite = Citation(1, span.doc, span.report_id, span.section, 0, len(text), text)
    fallback = Answer("海曙区GDP增长目标?", "extractive", False, (cite,), (span,), "extractive")
    question = "海曙区GDP增长目标是百分之多少?请给出具体数字。"
    q = analyze(question, seed_services.corpus.region_aliases())
    pieces = []
    ans = llm_answer(answerer, q, fallback, on_token=pieces.append)
    for shown in _shown_ever(pieces):
        assert guard.check(shown, [text], question).ok, f"a made-up figure was streamed: {shown!r}"
    reply = ans.extra.get("llm_answer", ans.answer if ans.mode != "extractive" else "")
    if ans.mode.startswith("llm:"):
        assert guard.check(ans.answer, [text], question).ok and ans.citations[0].quote == text
    else:
        assert ans.answer == "extractive" and ans.citations == (cite,) and ans.notes
        if reply and not guard.check(reply, [text], question).ok and "[1]" in reply:
            assert ans.extra["llm_error"] == "guard" and any("number guard" in n for n in ans.notes)
    assert _visible(pieces) == ans.answer


@pytest.mark.slow
def test_dead_endpoint_falls_back_with_a_message(seed_services):
    cfg = LLMConfig(base_url=f"http://127.0.0.1:{free_port()}/v1", model="nothing", timeout=3)
    ans, _ = _answerer(seed_services, cfg).ask("海曙区2020年GDP增长目标是多少?")
    assert "6.5%左右" in ans.answer and ans.mode == "extractive"
    assert any("LLM 不可用" in n and "not reachable" in n for n in ans.notes)
