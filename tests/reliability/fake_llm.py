"""A fake OpenAI-compatible chat server for the reliability tests (stdlib only).

``FakeLLM(mode)`` serves ``GET /v1/models`` and ``POST /v1/chat/completions`` (SSE
streaming, as OpenAI, llama.cpp, vLLM and Ollama's ``/v1`` send it) on a free
127.0.0.1 port from a daemon thread. It misbehaves on purpose, by ``mode``:

=============  ==========================================================================
ok             echoes the first sentence of passage [1] of the prompt, cited " [1]", in
               small pieces, then ``finish_reason: "stop"`` and ``[DONE]``: the guard passes
slow          the same text, ``delay`` seconds between pieces (past any short deadline)
stall          sends the headers, then nothing (a server stuck before its first token)
silent         accepts the request and never answers, not even headers
length         half the text, then ``finish_reason: "length"`` (cut at max_tokens)
dropped        half the text, then the connection is closed: no finish_reason, no [DONE]
dropped-chunked  the same over HTTP/1.1 chunked encoding (the last chunk never comes)
fabricating    a cited, true first clause, then a figure no passage has ("987.6亿元")
uncited        a true sentence without any [n]
error500       HTTP 500 with an OpenAI error body
error401       HTTP 401 (a wrong API key)
badjson        200 text/event-stream whose data lines are not JSON
html           200 text/html (a proxy's error page)
=============  ==========================================================================

``dead`` is not a mode of the server: use :func:`dead_url` (a port nothing listens on).
Every request is recorded in ``server.requests`` (path, parsed JSON body).
"""
from __future__ import annotations

import http.server
import json
import re
import socket
import threading
import time
from typing import Any

MODES = ("ok", "slow", "stall", "silent", "length", "dropped", "dropped-chunked", "fabricating", "uncited",
         "error500", "error401", "badjson", "html")
FABRICATED = "987.6亿元"
MODEL = "fake-model"

_PASSAGE = re.compile(r"^\[1\][^\n]*\n(.+?)(?:\n\n|\Z)", re.S | re.M)
_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")


def first_sentence(prompt: str) -> str:
    """The first sentence of passage [1] in a prompt built from prompts/answer_user.md."""
    m = _PASSAGE.search(prompt)
    body = m.group(1).strip() if m else ""
    s = _SENTENCE.search(body)
    return (s.group(0).strip() if s else "").rstrip("。！？；") or "报告中没有找到相关信息"


def reply_text(mode: str, prompt: str) -> str:
    base = first_sentence(prompt)
    if mode == "fabricating":
        return f"{base} [1]，另外地区生产总值达到{FABRICATED} [1]。"
    if mode == "uncited":
        return base + "。"
    return f"{base} [1]。"


def pieces(text: str, size: int = 3) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def chunk(content: str | None, finish: str | None = None, role: bool = False) -> bytes:
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = "assistant"
    if content is not None:
        delta["content"] = content
    body = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "FakeLLM._Server"

    def log_message(self, *args) -> None:  # quiet
        pass

    # ---------------------------------------------------------------- helpers
    def _json(self, status: int, obj: Any) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _write(self, data: bytes) -> bool:
        try:
            if self.request_version == "HTTP/1.1" and self.server.chunked:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            else:
                self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:  # the client went away (it gave up at its deadline)
            return False

    def _wait(self, seconds: float) -> bool:
        """Sleep, but wake up when the test stops the server; False when stopped."""
        return not self.server.stopping.wait(seconds)

    # ---------------------------------------------------------------- routes
    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append((self.path, None))
        if self.path.rstrip("/").endswith("/models"):
            mode = self.server.mode
            if mode == "error401":
                return self._json(401, {"error": {"message": "Invalid API key"}})
            if mode == "error500":
                return self._json(500, {"error": {"message": "out of memory"}})
            return self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
        self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        self.server.requests.append((self.path, body))
        mode = self.server.mode
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._json(404, {"error": {"message": "not found"}})
        if mode == "error500":
            return self._json(500, {"error": {"message": "out of memory", "type": "server_error"}})
        if mode == "error401":
            return self._json(401, {"error": {"message": "Invalid API key", "type": "invalid_request_error"}})
        if mode == "html":
            page = b"<html><body>502 Bad Gateway</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        if mode == "silent":
            self._wait(self.server.hold)
            self.close_connection = True
            return
        prompt = "\n".join(m.get("content", "") for m in (body or {}).get("messages", []) if isinstance(m, dict)
                           and isinstance(m.get("content"), str))
        text = reply_text(mode, prompt)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if self.server.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")  # the body ends when the connection does
        self.end_headers()
        self.close_connection = True
        if mode == "stall":
            self._wait(self.server.hold)
            return
        if mode == "badjson":
            self._write(b"data: {not json at all\n\n")
            self._write(b"data: [DONE]\n\n")
            return self._end()
        if not self._write(chunk("", role=True)):
            return
        parts = pieces(text)
        if mode in ("length", "dropped", "dropped-chunked"):
            parts = parts[: max(1, len(parts) // 2)]
        for p in parts:
            if mode == "slow" and not self._wait(self.server.delay):
                return
            if not self._write(chunk(p)):
                return
        if mode in ("dropped", "dropped-chunked"):
            # no finish_reason, no [DONE], no last chunk: the connection just goes away
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._write(chunk(None, "length" if mode == "length" else "stop"))
        self._write(b"data: [DONE]\n\n")
        self._end()

    def _end(self) -> None:
        if self.server.chunked:
            try:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                pass


class FakeLLM:
    """``with FakeLLM("slow", delay=1.0) as srv: srv.base_url …``"""

    class _Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        mode: str
        delay: float
        hold: float
        chunked: bool
        requests: list
        stopping: threading.Event

    def __init__(self, mode: str = "ok", *, delay: float = 1.0, hold: float = 60.0) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        handler = type("Handler", (_Handler,), {"protocol_version": "HTTP/1.1" if mode == "dropped-chunked" else "HTTP/1.0"})
        self.httpd = self._Server(("127.0.0.1", 0), handler)
        self.httpd.mode = mode
        self.httpd.delay = delay
        self.httpd.hold = hold
        self.httpd.chunked = mode == "dropped-chunked"
        self.httpd.requests = []
        self.httpd.stopping = threading.Event()
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name=f"fake-llm-{mode}", daemon=True)

    @property
    def mode(self) -> str:
        return self.httpd.mode

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @property
    def requests(self) -> list:
        return self.httpd.requests

    def start(self) -> "FakeLLM":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.stopping.set()  # wake handlers that sleep
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def __enter__(self) -> "FakeLLM":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def dead_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
