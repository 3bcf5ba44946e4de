"""Deployment: the corpus outgrows one machine (docs/deployment.md).

One Chroma server (scripts/chroma-server.sh, i.e. a real `chroma run`, on a free port in a
temp dir) and several "machines", each a RAG_HOME of its own, all with RAG_CHROMA_URL and
RAG_COLLECTION set:

* replica A indexes a copy of seeds/ with `rag index` (the CLI, as a subprocess); then the
  copy is moved away, so no replica can read a report file;
* replica B, never indexing, lists the same reports (`rag reports`) and answers with the
  same answers, citations and retrieved passages as A (`rag ask`): its corpus metadata,
  report texts and sparse (bm25s) index come from the server, not from A's disk;
* two app.py replicas (RAG_HOST/RAG_PORT, their own RAG_HOME), started right after the
  indexing, serve the page and answer through the Gradio API (gradio_client) as A does;
* A removes a report (`rag remove`): B and the two running apps no longer cite it, and
  the apps answer exactly as B's command line does;
* with the server down, `rag ask` says so in one line and exits non-zero.

Three of the five seeds are indexed (the smaller ones, with the catalog): the test checks
the deployment, not the answers, and embedding all five takes two minutes on a busy CPU.
Where the time went is written to test-artifacts/deploy-timings.json.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from processes import stop_group

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SCRIPT = ROOT / "scripts" / "chroma-server.sh"
ARTIFACTS = ROOT / "test-artifacts"
RAG = Path(sys.executable).with_name("rag")
COLLECTION = "deploy"  # RAG_COLLECTION: a named index on the shared server
JIANGBEI = "000_c180eaa18c962c1d.txt"  # jiangbei-2020, removed half-way
NINGBO = "003_887212d0c28f9641.txt"  # ningbo-2023
ARTICLE = "004_6b77bdb4c9c02796.txt"  # jiangbei-2018-article
SUBSET = (JIANGBEI, NINGBO, ARTICLE)
Q_JIANGBEI = "江北区2019年地区生产总值增长多少?"
Q_NINGBO = "宁波市2022年一般公共预算收入是多少?"
QUESTIONS = (Q_JIANGBEI, Q_NINGBO)
# variables of the developer's shell that would change what the replicas do
CLEAR = ("RAG_LLM_BASE_URL", "RAG_LLM_MODEL", "RAG_LLM_API_KEY", "RAG_OLLAMA_HOST", "RAG_EMBED_MODEL",
         "RAG_EMBED_BASE_URL", "RAG_EMBED_BACKEND", "RAG_EMBED_REMOTE_MODEL", "RAG_SEEDS", "RAG_HOST", "RAG_PORT")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path, chroma_url: str, **extra) -> dict:
    env = dict(os.environ)
    for var in CLEAR:
        env.pop(var, None)
    env.update({
        "RAG_HOME": str(home),
        "RAG_CHROMA_URL": chroma_url,
        "RAG_COLLECTION": COLLECTION,
        "TIKTOKEN_CACHE_DIR": str(home / "tiktoken"),
        "PYTHONPATH": str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
        "PYTHONUNBUFFERED": "1",
    })
    env.setdefault("RAG_MODELS_DIR", str(ROOT / ".rag" / "models"))
    env.update(extra)
    return env


def rag(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    cmd = [str(RAG), *args] if RAG.exists() else [sys.executable, "-m", "rag.cli", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def ok(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 0, f"{r.args[1:]} exited {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r.stdout


def json_objects(text: str) -> list:
    """`rag ask --json Q1 Q2` prints one JSON object per question."""
    dec, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)


def cited(d: dict) -> list[tuple]:
    return [(c["doc"], c["report_id"], c["section"], c["start"], c["end"], c["quote"]) for c in d["citations"]]


def retrieved(d: dict) -> list[tuple]:
    return [(s["doc"], s["start"], s["end"]) for s in d["retrieved"]]


def same_answer(a: dict, b: dict) -> None:
    assert (a["answer"], a["refused"], cited(a)) == (b["answer"], b["refused"], cited(b))
    assert retrieved(a) == retrieved(b)


def sparse_dir(home: Path) -> Path:
    dirs = list((home / "sparse").glob(f"{COLLECTION}-*"))
    assert len(dirs) == 1, dirs
    return dirs[0]


# ==========================================================================================
# the server, replica A, replica B
# ==========================================================================================
class Cluster:
    def __init__(self, base: Path, url: str, server_env: dict):
        self.base, self.url, self.server_env = base, url, server_env
        self.a_home = base / "machine-a" / "home"
        self.a_reports = base / "machine-a" / "reports"
        self.b_home = base / "machine-b" / "home"

    def env(self, home: Path, **extra) -> dict:
        return _env(home, self.url, **extra)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A Chroma server started by scripts/chroma-server.sh; replica A indexes three seeds."""
    base = tmp_path_factory.mktemp("deploy")
    port = _free_port()
    server_env = dict(os.environ, RAG_CHROMA_PATH=str(base / "chroma-data"), RAG_CHROMA_PORT=str(port))
    t0 = time.perf_counter()
    r = subprocess.run(["bash", str(SCRIPT)], env=server_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"export RAG_CHROMA_URL=http://127.0.0.1:{port}", r.stdout
    url = r.stdout.strip().split("=", 1)[1]
    started = time.perf_counter() - t0
    try:
        # idempotent: a second start reuses the running server
        again = subprocess.run(["bash", str(SCRIPT)], env=server_env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and again.stdout == r.stdout, again.stderr
        assert "already running" in again.stderr
        c = Cluster(base, url, server_env)
        c.timings = {"chroma start": started}
        c.a_reports.mkdir(parents=True)
        for name in (*SUBSET, "catalog.toml"):
            shutil.copy2(SEEDS / name, c.a_reports / name)
        t0 = time.perf_counter()
        out = json.loads(ok(rag(c.env(c.a_home, RAG_TORCH_THREADS="2"), "index", "--json", str(c.a_reports))))
        c.timings["A: rag index"] = time.perf_counter() - t0
        assert sorted(Path(f).name for f in out["added"]) == sorted(SUBSET), out
        c.indexed_ids = json.loads((sparse_dir(c.a_home) / "index" / "ids.json").read_text())["ids"]
        # A's report files are gone from now on: a replica can only have what the server holds
        c.a_reports.rename(c.a_reports.with_name("reports-moved-away"))
        yield c
    finally:
        stop = subprocess.run(["bash", str(SCRIPT), "--stop"], env=server_env, capture_output=True, text=True,
                              timeout=60)
        assert stop.returncode == 0, stop.stderr
        if "c" in locals():  # where the time went, for the next person who has to make it faster
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "deploy-timings.json").write_text(json.dumps({k: round(v, 1) for k, v in c.timings.items()},
                                                                      ensure_ascii=False, indent=2))


class App:
    """app.py as a subprocess: its own RAG_HOME, RAG_HOST/RAG_PORT, the shared server."""

    def __init__(self, cluster: Cluster, name: str):
        self.name = name
        self.home = cluster.base / name / "home"
        self.home.mkdir(parents=True)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = self.home / "app.log"
        self.log = open(self.log_path, "w")
        env = cluster.env(self.home, RAG_HOST="127.0.0.1", RAG_PORT=str(self.port), RAG_REQUEST_TIMEOUT="240")
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout: float = 300) -> str:
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return r.read().decode("utf-8", "replace")
            except OSError:
                pass
            time.sleep(0.5)
        pytest.fail(f"{self.name} did not serve {self.url} within {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def ask(self, *questions: str) -> list[dict]:
        from gradio_client import Client

        client = Client(self.url, verbose=False)
        return [client.predict(q, api_name="/ask") for q in questions]

    def stop(self) -> None:
        stop_group(self.proc)
        self.log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(self.log_path, ARTIFACTS / f"deploy-{self.name}.log")


@pytest.fixture(scope="module")
def apps(cluster):
    """Two app replicas, started once A has indexed: they boot while A and B ask."""
    started = [App(cluster, "app-1"), App(cluster, "app-2")]
    try:
        yield started
    finally:
        for app in started:
            app.stop()


def _timed(cluster, label, fn, *args):
    t0 = time.perf_counter()
    try:
        return fn(*args)
    finally:
        cluster.timings[label] = time.perf_counter() - t0


@pytest.fixture(scope="module")
def phase1(cluster, apps):
    """A asks; at the same time B, on an empty RAG_HOME, runs `rag reports` then asks."""
    c = cluster
    assert not c.b_home.exists()

    def b():
        rows = _timed(c, "B: rag reports", lambda: json.loads(ok(rag(c.env(c.b_home), "reports", "--json"))))
        answers = _timed(c, "B: rag ask", lambda: json_objects(ok(rag(c.env(c.b_home), "ask", "--json", *QUESTIONS))))
        return rows, answers

    with ThreadPoolExecutor(2) as ex:
        fa = ex.submit(_timed, c, "A: rag ask", lambda: json_objects(ok(rag(c.env(c.a_home), "ask", "--json",
                                                                                *QUESTIONS))))
        fb = ex.submit(b)
        a_answers = fa.result()
        b_rows, b_answers = fb.result()
    return a_answers, b_rows, b_answers


def test_replica_b_lists_the_reports_indexed_on_a(cluster, phase1):
    _, rows, _ = phase1
    assert sorted(r["file"] for r in rows) == sorted(SUBSET)
    assert {r["id"] for r in rows} == {"jiangbei-2020", "ningbo-2023", "jiangbei-2018-article"}
    jiangbei = next(r for r in rows if r["file"] == JIANGBEI)
    assert (jiangbei["region"], jiangbei["year"], jiangbei["sources"]["region"]) == ("江北区", 2020, "catalog")
    # B built its own sparse index, from the chunks the server holds (A's reports folder is gone)
    assert not cluster.a_reports.exists()
    built = json.loads((sparse_dir(cluster.b_home) / "index" / "ids.json").read_text())["ids"]
    assert sorted(built) == sorted(cluster.indexed_ids)
    tok = sorted(p.name for p in (sparse_dir(cluster.b_home) / "tok").glob("*.json"))
    assert tok == sorted(p.name for p in (sparse_dir(cluster.a_home) / "tok").glob("*.json"))


def test_replica_b_answers_like_a(phase1):
    a, _, b = phase1
    assert len(a) == len(b) == len(QUESTIONS)
    assert any(c["doc"] == JIANGBEI for c in a[0]["citations"]), a[0]
    assert any(c["doc"] == NINGBO for c in a[1]["citations"]), a[1]
    for x, y in zip(a, b):
        same_answer(x, y)


def test_replica_b_sparse_tokens_equal_the_indexers(cluster, phase1):
    """B rebuilt its token files from the server's chunks after loading the corpus's region
    names; A tokenised while indexing, before: tokens never depend on those names."""
    a_tok, b_tok = sparse_dir(cluster.a_home) / "tok", sparse_dir(cluster.b_home) / "tok"
    for p in sorted(a_tok.glob("*.json")):
        assert json.loads(p.read_text()) == json.loads((b_tok / p.name).read_text()), p.name


@pytest.fixture(scope="module")
def apps_answered(cluster, apps, phase1):
    def ready_then_ask(app):
        page = app.wait()
        return page, app.ask(*QUESTIONS)

    with ThreadPoolExecutor(2) as ex:
        return _timed(cluster, "apps: page and answers", lambda: list(ex.map(ready_then_ask, apps)))


def test_two_app_replicas_serve_and_answer_like_a(apps_answered, phase1):
    a = phase1[0]
    for page, answers in apps_answered:
        assert "gradio" in page.lower()
        for got, want in zip(answers, a):
            same_answer(got, want)


@pytest.fixture(scope="module")
def phase2(cluster, apps, apps_answered):
    """A removes jiangbei-2020; then B and both running apps ask again, at the same time."""
    c = cluster
    out = _timed(c, "A: rag remove", lambda: ok(rag(c.env(c.a_home), "remove", "jiangbei-2020")))
    assert JIANGBEI in out, out
    with ThreadPoolExecutor(3) as ex:
        fb = ex.submit(_timed, c, "B: rag ask after the removal",
                       lambda: json_objects(ok(rag(c.env(c.b_home), "ask", "--json", *QUESTIONS))))
        fapps = [ex.submit(app.ask, *QUESTIONS) for app in apps]
        return fb.result(), [f.result() for f in fapps]


def test_a_removal_reaches_replica_b(phase2):
    (jiangbei, ningbo), _ = phase2
    assert JIANGBEI not in {c["doc"] for c in jiangbei["citations"]}, jiangbei
    assert JIANGBEI not in {s["doc"] for s in jiangbei["retrieved"]}, jiangbei
    assert any(c["doc"] == NINGBO for c in ningbo["citations"]), ningbo


def test_a_removal_reaches_the_running_apps(phase2):
    b, per_app = phase2
    for answers in per_app:
        assert JIANGBEI not in {c["doc"] for d in answers for c in d["citations"]}
        for got, want in zip(answers, b):
            same_answer(got, want)


# ==========================================================================================
# the server down
# ==========================================================================================
@pytest.fixture(scope="module")
def server_down(tmp_path_factory):
    home = tmp_path_factory.mktemp("no-server")
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    r = rag(_env(home, url), "ask", Q_JIANGBEI, timeout=120)
    return url, r


def test_server_down_is_one_line_and_a_failure(server_down):
    url, r = server_down
    assert r.returncode == 2
    assert "Traceback" not in r.stderr + r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("rag:")]
    assert len(lines) == 1 and url in lines[0] and "Chroma server" in lines[0], r.stderr


def test_server_down_names_rag_chroma_url(server_down):
    _, r = server_down
    assert "RAG_CHROMA_URL" in r.stderr and "scripts/chroma-server.sh" in r.stderr
