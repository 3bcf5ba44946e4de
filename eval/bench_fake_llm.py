"""A fake, slow OpenAI-compatible LLM server for ``rag bench --load N --llm-delay S``
(see :mod:`eval.bench_load`): in-process, on 127.0.0.1, streaming its reply as SSE."""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from typing import Iterator


class _FakeLLM:
    """A slow OpenAI-compatible chat server on 127.0.0.1: every streamed reply takes
    ``delay`` seconds, sent as ``TOKENS`` SSE chunks at even intervals."""

    TOKENS = 10
    REPLY = "根据所给段落，答案见引用 [1]。"

    def __init__(self, delay: float):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        owner = self
        self.delay = max(0.0, float(delay))
        self.requests = 0
        self.cut_off = 0  # replies the client stopped reading (its deadline)
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _json(self, code: int, obj: dict) -> None:
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "fake-slow", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                try:
                    req = json.loads(self.rfile.read(n) or b"{}")
                except ValueError:
                    req = {}
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                with owner._lock:
                    owner.requests += 1
                model = req.get("model", "fake-slow")
                pieces = owner._pieces()
                step = owner.delay / len(pieces)
                if not req.get("stream"):
                    time.sleep(owner.delay)
                    self._json(200, {"id": "fake", "object": "chat.completion", "created": int(time.time()),
                                     "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": owner.REPLY}}]})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                try:
                    for i, piece in enumerate(pieces):
                        time.sleep(step)
                        delta = {"content": piece} if i else {"role": "assistant", "content": piece}
                        self._event({"id": "fake", "object": "chat.completion.chunk", "created": int(time.time()),
                                     "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                    self._event({"id": "fake", "object": "chat.completion.chunk", "created": int(time.time()),
                                 "model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    with owner._lock:
                        owner.cut_off += 1

            def _event(self, obj: dict) -> None:
                self.wfile.write(b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="fake-llm")

    def _pieces(self) -> list[str]:
        k = max(1, len(self.REPLY) // self.TOKENS)
        return [self.REPLY[i: i + k] for i in range(0, len(self.REPLY), k)]

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "_FakeLLM":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def fake_llm_server(delay: float) -> Iterator[_FakeLLM]:
    """``with fake_llm_server(2.0) as srv: srv.base_url`` — stopped on exit."""
    srv = _FakeLLM(delay).start()
    try:
        yield srv
    finally:
        srv.stop()
