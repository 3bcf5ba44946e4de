"""rag.llm: config parsing, error translation, and the REAL local LLM server.

Error translation (rag.llm_errors) and the streaming rules (rag.llm_stream) are
tested through rag.llm, which re-exports LLMError and stream_reply.

Fast tests (no mark) need no LLM server: config parsing, and failure modes
against tiny servers made here on 127.0.0.1 (nothing listening, a socket that
never answers, junk HTTP); tests/reliability/ has the streaming failure modes
(slow, cut off, dropped, fabricating) against a fake SSE server. The ``slow``
tests start llama-cpp-python's
OpenAI-compatible server with Gemma 3 270M through tests/llm_server.py; they
are skipped only when RAG_SKIP_LLM_SERVER=1 and fail when its venv is missing.
"""
from __future__ import annotations

import asyncio
import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) from anywhere
    sys.path.insert(0, str(ROOT))

from rag.llm import (  # noqa: E402
    LLMConfig,
    LLMError,
    chat_model,
    complete,
    config_from_env,
    describe,
    ping,
    stream_chat,
)

try:
    from llm_server import LLMServerUnavailable, free_port, start_llm_server
except ImportError:  # tests/ as a package
    from tests.llm_server import LLMServerUnavailable, free_port, start_llm_server

MSGS = [("system", "You are a helpful assistant. Answer briefly."), ("user", "Name three colours.")]


# --------------------------------------------------------------------------- config (fast)


def test_not_configured_means_off():
    assert config_from_env({}) is None
    assert config_from_env({"RAG_LLM_MODEL": "x", "RAG_LLM_API_KEY": "k"}) is None
    assert config_from_env({"RAG_LLM_BASE_URL": "  ", "RAG_OLLAMA_HOST": ""}) is None


def test_openai_compatible_config():
    cfg = config_from_env({"RAG_LLM_BASE_URL": "http://127.0.0.1:8012/v1/", "RAG_LLM_MODEL": "gemma-3-270m"})
    assert cfg == LLMConfig("http://127.0.0.1:8012/v1", "gemma-3-270m", "none", 60.0, "openai")
    cfg = config_from_env(
        {
            "RAG_LLM_BASE_URL": "https://api.deepseek.com",
            "RAG_LLM_MODEL": "deepseek-chat",
            "RAG_LLM_API_KEY": "sk-secret",
            "RAG_LLM_TIMEOUT": "12.5",
            "RAG_OLLAMA_HOST": "http://127.0.0.1:11434",  # the explicit base URL wins
        }
    )
    assert (cfg.base_url, cfg.model, cfg.api_key, cfg.timeout, cfg.provider) == (
        "https://api.deepseek.com",
        "deepseek-chat",
        "sk-secret",
        12.5,
        "openai",
    )
    assert "sk-secret" not in repr(cfg)
    assert describe(cfg) == "llm:deepseek-chat @ https://api.deepseek.com"


@pytest.mark.parametrize(
    "host",
    ["http://127.0.0.1:11434", "http://127.0.0.1:11434/", "127.0.0.1:11434", "http://127.0.0.1:11434/v1"],
)
def test_ollama_config_uses_v1(host):
    cfg = config_from_env({"RAG_OLLAMA_HOST": host, "RAG_LLM_MODEL": "qwen2.5:0.5b"})
    assert cfg.base_url == "http://127.0.0.1:11434/v1"
    assert cfg.provider == "ollama"
    assert cfg.api_key == "none"
    assert describe(cfg) == "llm:qwen2.5:0.5b @ http://127.0.0.1:11434/v1 (ollama)"


@pytest.mark.parametrize(
    "env, words",
    [
        ({"RAG_LLM_BASE_URL": "http://127.0.0.1:1/v1"}, "RAG_LLM_MODEL"),
        ({"RAG_OLLAMA_HOST": "127.0.0.1:11434"}, "RAG_LLM_MODEL"),
        ({"RAG_LLM_BASE_URL": "ftp://x", "RAG_LLM_MODEL": "m"}, "not an http"),
        ({"RAG_LLM_BASE_URL": "http://x/v1", "RAG_LLM_MODEL": "m", "RAG_LLM_TIMEOUT": "soon"}, "RAG_LLM_TIMEOUT"),
        ({"RAG_LLM_BASE_URL": "http://x/v1", "RAG_LLM_MODEL": "m", "RAG_LLM_TIMEOUT": "0"}, "RAG_LLM_TIMEOUT"),
    ],
)
def test_broken_config_is_a_clear_error(env, words):
    with pytest.raises(LLMError, match=words) as info:
        config_from_env(env)
    assert info.value.kind == "config"


def test_import_is_lazy():
    code = (
        "import sys, rag.llm as m; "
        "bad = [n for n in ('openai', 'langchain_openai', 'langchain_core') if n in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_public_names_are_the_internal_modules_own():
    import rag.llm
    import rag.llm_errors
    import rag.llm_stream

    assert rag.llm.LLMError is rag.llm_errors.LLMError
    assert rag.llm.stream_reply is rag.llm_stream.stream_reply


def test_bad_messages_are_value_errors():
    cfg = LLMConfig("http://127.0.0.1:1/v1", "m")
    with pytest.raises(ValueError):
        list(stream_chat(cfg, [("wizard", "hi")]))
    with pytest.raises(ValueError):
        list(stream_chat(cfg, []))


def test_error_is_one_line():
    assert str(LLMError("a\nb   c")) == "a b c"


# --------------------------------------------------------------------------- failures (fast, no LLM)


@pytest.fixture()
def hanging_server() -> Iterator[int]:
    """Accepts TCP connections on 127.0.0.1 and never answers."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = srv.accept()
                held.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    done.set()
    t.join(2)
    for c in held:
        c.close()
    srv.close()


class _Junk(http.server.BaseHTTPRequestHandler):
    status = 200
    body = b"<html><body>this is not JSON</body></html>"
    ctype = "text/html"

    def _reply(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.send_response(self.status)
        self.send_header("Content-Type", self.ctype)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _reply

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture()
def http_server():
    """Factory: a throwaway HTTP server on 127.0.0.1 answering every request alike."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def make(status=200, body=_Junk.body, ctype="text/html") -> int:
        handler = type("H", (_Junk,), {"status": status, "body": body, "ctype": ctype})
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv.server_address[1]

    yield make
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _cfg(port: int, **kw) -> LLMConfig:
    return LLMConfig(f"http://127.0.0.1:{port}/v1", kw.pop("model", "m"), **kw)


def test_dead_endpoint_is_not_reachable_quickly():
    cfg = _cfg(free_port(), timeout=30)
    chat_model(cfg)  # import langchain-openai first: only the failing call is timed
    t0 = time.monotonic()
    with pytest.raises(LLMError, match="not reachable") as info:
        complete(cfg, MSGS)
    assert time.monotonic() - t0 < 5
    assert info.value.kind == "unreachable"
    assert str(info.value) == (
        f"LLM endpoint {cfg.base_url} is not reachable (connection refused); answering extractively"
    )
    assert "\n" not in str(info.value)
    t0 = time.monotonic()
    assert "not reachable" in ping(cfg)
    assert time.monotonic() - t0 < 5


def test_dead_endpoint_through_lcel_chain():
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | chat_model(_cfg(free_port())) | StrOutputParser()
    with pytest.raises(LLMError, match="not reachable"):
        chain.invoke({"q": "hi"})


def test_silent_server_times_out(hanging_server):
    cfg = _cfg(hanging_server, timeout=2)
    t0 = time.monotonic()
    with pytest.raises(LLMError, match="timed out") as info:
        complete(cfg, MSGS)
    took = time.monotonic() - t0
    assert 1.5 < took < 10, took
    assert info.value.kind == "timeout"
    assert "timed out" in ping(cfg)


@pytest.mark.parametrize("ctype", ["text/html", "application/json", "text/event-stream"])
def test_junk_reply_is_an_error(http_server, ctype):
    cfg = _cfg(http_server(200, ctype=ctype), timeout=5)
    with pytest.raises(LLMError, match="not an OpenAI") as info:
        complete(cfg, MSGS)
    assert info.value.kind == "junk"
    assert "not an OpenAI model list" in ping(cfg)


def test_sse_with_junk_data_is_an_error(http_server):
    body = b"data: {not json at all\n\ndata: [DONE]\n\n"
    cfg = _cfg(http_server(200, body=body, ctype="text/event-stream"), timeout=5)
    with pytest.raises(LLMError, match="not an OpenAI"):
        complete(cfg, MSGS)


def test_stream_of_empty_deltas_is_an_empty_reply(http_server):
    chunk = (
        b'data: {"id":"x","object":"chat.completion.chunk","created":0,"model":"m",'
        b'"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
    )
    cfg = _cfg(http_server(200, body=chunk + b"data: [DONE]\n\n", ctype="text/event-stream"), timeout=5)
    with pytest.raises(LLMError, match="empty reply") as info:
        complete(cfg, MSGS)
    assert info.value.kind == "empty"


def test_http_401_is_a_bad_key(http_server):
    body = b'{"error": {"message": "Invalid API key", "type": "invalid_request_error"}}'
    cfg = _cfg(http_server(401, body=body, ctype="application/json"), api_key="sk-wrong")
    with pytest.raises(LLMError, match="rejected the API key") as info:
        complete(cfg, MSGS)
    assert info.value.kind == "auth"
    assert "sk-wrong" not in str(info.value)
    assert "rejected the API key" in ping(cfg)


def test_http_404_names_the_model(http_server):
    body = b'{"error": {"message": "model not found", "type": "invalid_request_error"}}'
    cfg = _cfg(http_server(404, body=body, ctype="application/json"), model="qwen-nope")
    with pytest.raises(LLMError, match="does not know model 'qwen-nope'") as info:
        complete(cfg, MSGS)
    assert info.value.kind == "model"


def test_http_500_quotes_the_server(http_server):
    cfg = _cfg(http_server(500, body=b'{"error": {"message": "out of memory"}}', ctype="application/json"))
    with pytest.raises(LLMError, match="HTTP 500.*out of memory"):
        complete(cfg, MSGS)


# --------------------------------------------------------------------------- the real server (slow)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, str]]:
    try:
        base_url, model, stop = start_llm_server()
    except LLMServerUnavailable as exc:
        import os

        if os.environ.get("RAG_SKIP_LLM_SERVER") == "1":
            pytest.skip(f"RAG_SKIP_LLM_SERVER=1: {exc}")
        pytest.fail(str(exc), pytrace=False)
    try:
        yield base_url, model
    finally:
        stop()


@pytest.fixture()
def cfg(server, monkeypatch) -> LLMConfig:
    base_url, model = server
    for var in ("RAG_OLLAMA_HOST", "RAG_LLM_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RAG_LLM_BASE_URL", base_url)
    monkeypatch.setenv("RAG_LLM_MODEL", model)
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "60")
    return config_from_env()


@pytest.mark.slow
def test_config_from_env_and_ping(cfg, server):
    assert cfg == LLMConfig(server[0], server[1], "none", 60.0, "openai")
    assert ping(cfg) is None
    assert describe(cfg) == f"llm:{server[1]} @ {server[0]}"


@pytest.mark.slow
def test_stream_chat_yields_deltas_that_join_to_complete(cfg):
    deltas = list(stream_chat(cfg, MSGS, max_tokens=48))
    assert len(deltas) >= 2, deltas
    assert all(isinstance(d, str) and d for d in deltas)
    streamed = "".join(deltas)
    assert streamed.strip()
    whole = complete(cfg, MSGS, max_tokens=48)
    assert isinstance(whole, str) and whole.strip()
    # Not asserted equal: even at temperature 0, llama-cpp-python reuses the KV cache
    # of an identical prompt, the batch shapes differ, and a 270M model's near-tied
    # logits then flip a greedy pick now and then. Same kind of output is what counts.
    assert "\x00" not in whole and "\x00" not in streamed


@pytest.mark.slow
def test_dict_messages(cfg):
    out = complete(cfg, [{"role": "user", "content": "Say hello."}], max_tokens=16)
    assert out.strip()


@pytest.mark.slow
def test_max_tokens_is_honoured(cfg):
    deltas = list(stream_chat(cfg, [("user", "Write a long story about a dragon.")], max_tokens=8))
    assert 1 <= len(deltas) <= 8  # llama.cpp streams about one token per delta


@pytest.mark.slow
def test_a_reply_cut_at_max_tokens_is_detected(cfg):
    # llama.cpp ends the stream with finish_reason "length": accepted by default
    # (summaries), an error when the caller wants whole replies only (answers)
    with pytest.raises(LLMError, match="token limit") as info:
        list(stream_chat(cfg, [("user", "Write a long story about a dragon.")], max_tokens=8, allow_length=False))
    assert info.value.kind == "truncated"


@pytest.mark.slow
def test_stream_reply_reads_the_finish_reason_through_an_lcel_chain(cfg):
    from langchain_core.prompts import ChatPromptTemplate

    from rag.llm import stream_reply

    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | chat_model(cfg, max_tokens=24)
    pieces = list(stream_reply(cfg, chain, {"q": "Say hello."}, allow_length=True))
    assert "".join(pieces).strip()


@pytest.mark.slow
def test_lcel_chain(cfg):
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer in one short sentence."), ("user", "What is the capital of {country}?")]
    )
    chain = prompt | chat_model(cfg, max_tokens=32) | StrOutputParser()
    out = chain.invoke({"country": "France"})
    assert isinstance(out, str) and out.strip()
    pieces = list(chain.stream({"country": "Japan"}))
    assert len(pieces) >= 2 and "".join(pieces).strip()


@pytest.mark.slow
def test_lcel_chain_async(cfg):
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | chat_model(cfg, max_tokens=16) | StrOutputParser()

    async def run() -> list[str]:
        return [p async for p in chain.astream({"q": "Say hello."})]

    assert "".join(asyncio.run(run())).strip()


@pytest.mark.slow
def test_ollama_style_config(server, monkeypatch):
    # This covers Ollama's OpenAI-compatible /v1 path ONLY (RAG_OLLAMA_HOST -> host + "/v1"),
    # served here by llama.cpp, which speaks the same /v1 protocol. Ollama's native
    # /api/chat API is not used by rag.llm and is not tested.
    base_url, model = server
    host = base_url[: -len("/v1")]
    monkeypatch.delenv("RAG_LLM_BASE_URL", raising=False)
    monkeypatch.setenv("RAG_OLLAMA_HOST", host)
    monkeypatch.setenv("RAG_LLM_MODEL", model)
    cfg = config_from_env()
    assert cfg.provider == "ollama" and cfg.base_url == base_url
    assert ping(cfg) is None
    assert complete(cfg, MSGS, max_tokens=16).strip()


@pytest.mark.slow
def test_timeout_while_the_real_server_is_busy(cfg):
    # the timeout is one deadline for the whole reply, not a per-read limit: a tiny
    # one fails as a timeout however fast the tokens come
    tiny = LLMConfig(cfg.base_url, cfg.model, timeout=0.001)
    with pytest.raises(LLMError, match="timed out") as info:
        complete(tiny, MSGS, max_tokens=64)
    assert info.value.kind == "timeout"


@pytest.mark.slow
def test_deadline_ends_a_long_generation(cfg):
    # ~200 tokens take far longer than 1 s on this CPU; the call returns at the
    # deadline (generous slack: a hang check, not a speed target)
    short = LLMConfig(cfg.base_url, cfg.model, timeout=1.0)
    t0 = time.monotonic()
    try:
        complete(short, [("user", "Write a very long story about a dragon, in many paragraphs.")], max_tokens=200)
    except LLMError as exc:
        assert exc.kind == "timeout", exc
    assert time.monotonic() - t0 < 10
