"""Reliability of one streamed LLM reply (fast: no embedder, no Chroma).

``rag.llm.stream_reply`` and ``rag.llm_answer.run_chain`` against the fake
OpenAI-compatible server of ``fake_llm.py``: a total deadline however the endpoint
stalls, cut-off and dropped streams detected, dead and broken endpoints as one clear
LLMError. And ``rag.llm_answer.Gate``: streamed text is held until the number guard
passes for it. Deadlines here are short (1 s); the bounds asserted are hang checks with
generous slack, not speed targets.
"""
from __future__ import annotations

import time

import pytest

from fake_llm import FABRICATED, FakeLLM, dead_url, first_sentence

from rag.llm import LLMConfig, LLMError, chat_model, complete, stream_chat
from rag.llm_answer import RETRACT, Gate, run_chain
from rag.settings import REPO_ROOT
from rag.types import Span

PASSAGE = "建议奋力实现地区生产总值增长6.5%左右。一般公共预算收入增长5%。"
NUMBERED = f"[1] 海曙区2020年政府工作报告 · 二、2020年主要目标任务\n{PASSAGE}"
QUESTION = "海曙区2020年GDP增长目标是多少?"
DEADLINE = 1.0
SLACK = 8.0  # a hang check: far above the deadline, far below "forever"
MSGS = [("system", "Answer briefly."), ("user", NUMBERED + "\n\n问题：" + QUESTION)]


def _cfg(url: str, timeout: float = DEADLINE) -> LLMConfig:
    return LLMConfig(url, "fake-model", timeout=timeout)


@pytest.fixture(scope="module", autouse=True)
def _warm():
    chat_model(_cfg("http://127.0.0.1:9/v1"))  # import langchain-openai once: only the calls are timed


def _chain(url: str, timeout: float = DEADLINE):
    got: list[str] = []
    t0 = time.monotonic()
    try:
        text = run_chain(_cfg(url, timeout), REPO_ROOT / "prompts", QUESTION, NUMBERED, on_token=got.append)
        return text, got, None, time.monotonic() - t0
    except LLMError as e:
        return None, got, e, time.monotonic() - t0


# --------------------------------------------------------------------------- a good reply


def test_ok_reply_streams_in_pieces_and_ends():
    with FakeLLM("ok") as srv:
        text, got, err, took = _chain(srv.base_url)
    assert err is None, err
    assert text == "建议奋力实现地区生产总值增长6.5%左右 [1]。" == "".join(got)
    assert len(got) > 3
    path, body = srv.requests[-1]
    assert path == "/v1/chat/completions" and body["stream"] is True and body["max_tokens"] == 200
    assert first_sentence(body["messages"][-1]["content"]) == "建议奋力实现地区生产总值增长6.5%左右"


def test_complete_joins_the_stream():
    with FakeLLM("ok") as srv:
        assert complete(_cfg(srv.base_url), MSGS) == "建议奋力实现地区生产总值增长6.5%左右 [1]。"


# --------------------------------------------------------------------------- the deadline


@pytest.mark.parametrize("mode, what", [("slow", "reply not finished"), ("stall", "no reply"), ("silent", "no reply")])
def test_deadline_covers_connect_first_token_and_stream(mode, what):
    # slow: a piece every 0.4 s, each read well within any per-read timeout, 5+ s in all
    with FakeLLM(mode, delay=0.4) as srv:
        text, got, err, took = _chain(srv.base_url)
    assert err is not None and err.kind == "timeout", (text, err)
    assert f"timed out ({what} within 1 s, RAG_LLM_TIMEOUT)" in str(err)
    assert str(err).endswith("answering extractively")
    assert DEADLINE * 0.9 <= took < SLACK, took
    if mode == "slow":
        assert got and "".join(got) != "建议奋力实现地区生产总值增长6.5%左右 [1]。"  # it did not run to the end


def test_an_explicit_deadline_wins_over_the_config():
    with FakeLLM("slow", delay=0.4) as srv:
        t0 = time.monotonic()
        with pytest.raises(LLMError, match="timed out") as info:
            list(stream_chat(_cfg(srv.base_url, timeout=60), MSGS, deadline=time.monotonic() + 0.5))
    assert info.value.kind == "timeout"
    assert time.monotonic() - t0 < SLACK


# --------------------------------------------------------------------------- cut-off streams


@pytest.mark.parametrize("mode, words", [
    ("length", "cut its reply off at the token limit (finish_reason 'length')"),
    ("dropped", "stopped in the middle of its reply"),
    ("dropped-chunked", "dropped the connection in the middle of its reply"),
])
def test_cut_off_stream_is_not_an_answer(mode, words):
    with FakeLLM(mode) as srv:
        text, got, err, took = _chain(srv.base_url, timeout=5)
    assert err is not None and err.kind == "truncated", (text, err)
    assert words in str(err)
    assert got, "part of the reply had come"
    assert took < SLACK


def test_length_is_accepted_only_when_asked_for():
    with FakeLLM("length") as srv:
        cut = complete(_cfg(srv.base_url), MSGS)  # summaries and the baseline accept cut replies
        assert cut and cut in "建议奋力实现地区生产总值增长6.5%左右 [1]。"
        with pytest.raises(LLMError, match="token limit") as info:
            complete(_cfg(srv.base_url), MSGS, allow_length=False)
    assert info.value.kind == "truncated"


def test_dropped_stream_is_an_error_for_complete_too():
    with FakeLLM("dropped") as srv:
        with pytest.raises(LLMError, match="stopped in the middle") as info:
            complete(_cfg(srv.base_url), MSGS)
    assert info.value.kind == "truncated"


# --------------------------------------------------------------------------- dead and broken endpoints


@pytest.mark.parametrize("mode, kind, words", [
    ("error500", "http", "answered HTTP 500"),
    ("error401", "auth", "rejected the API key (HTTP 401)"),
    ("badjson", "junk", "not an OpenAI chat completion"),
    ("html", "junk", "not an OpenAI"),
])
def test_broken_endpoint_is_one_clear_error(mode, kind, words):
    with FakeLLM(mode) as srv:
        text, got, err, took = _chain(srv.base_url, timeout=5)
    assert err is not None and err.kind == kind, (text, err)
    assert words in str(err) and "\n" not in str(err)
    if mode == "error500":
        assert "out of memory" in str(err)  # the server's own words
    assert not got and took < SLACK


def test_refused_port_is_not_reachable():
    text, got, err, took = _chain(dead_url(), timeout=5)
    assert err is not None and err.kind == "unreachable"
    assert "is not reachable (connection refused); answering extractively" in str(err)
    assert took < SLACK


def test_unknown_host_is_not_reachable_within_the_deadline():
    text, got, err, took = _chain("http://rag-no-such-host.invalid/v1", timeout=3)
    assert err is not None and err.kind in ("unreachable", "timeout"), err
    assert took < 3 + SLACK


# --------------------------------------------------------------------------- the gate


def _gate(question=QUESTION):
    ctx = [Span("a.txt", "haishu-2020", "二、", 0, len(PASSAGE), PASSAGE)]
    shown: list[str] = []
    return Gate(ctx, question, shown.append), shown


def _visible(pieces: list[str]) -> str:
    text = ""
    for p in pieces:
        text = "" if getattr(p, "retract", False) else text + p
    return text


def test_gate_passes_text_without_figures_at_clause_ends():
    g, shown = _gate()
    for d in ("海曙区", "要加快", "发展，推动", "升级"):
        g.feed(d)
    assert "".join(shown) == "海曙区要加快发展，"  # "推动升级" waits for its clause to end
    g.finish()
    assert "".join(shown) == "海曙区要加快发展，推动升级"


def test_gate_holds_a_figure_until_its_citation_vouches_for_it():
    g, shown = _gate()
    for d in ("地区生产总值增长", "6", ".5", "%左右，", "占比"):
        g.feed(d)
    assert shown == [], "6.5% is shown only with the [n] of a passage that has it"
    g.feed(" [1]")
    assert "".join(shown) == "地区生产总值增长6.5%左右，占比 [1]"


def test_gate_never_shows_a_figure_no_cited_passage_has():
    g, shown = _gate()
    reply = f"地区生产总值增长6.5%左右 [1]，达到{FABRICATED} [1]。"
    for i in range(0, len(reply), 2):
        g.feed(reply[i:i + 2])
    assert "".join(shown) == "地区生产总值增长6.5%左右 [1]，"
    assert "987" not in "".join(shown)
    g.retract()
    assert shown[-1] is RETRACT and _visible(shown) == ""


def test_gate_does_not_vouch_with_an_uncited_passage():
    g, shown = _gate()
    for d in ("一般公共预算收入增长5%。", "完毕。"):
        g.feed(d)
    assert shown == []  # 5% is in a passage, but no [n] cites it (yet)


def test_figures_of_the_question_and_years_are_free():
    g, shown = _gate("海曙区2020年GDP增长目标是6.5%吗?")
    g.feed("2020年目标是6.5%，")
    assert "".join(shown) == "2020年目标是6.5%，"


def test_retract_is_a_newline_for_plain_consumers():
    assert RETRACT == "\n" and isinstance(RETRACT, str) and RETRACT.retract
    g, shown = _gate()
    g.retract()  # nothing shown: nothing to withdraw
    assert shown == []
