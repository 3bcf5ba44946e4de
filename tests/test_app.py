"""The web app.

Fast: the handlers with a stand-in answerer (streaming, sources, errors), and the
command line (127.0.0.1 by default).

Slow: the real app as a subprocess on a free port over a RAG_HOME indexed from the
seeds, driven (1) in headless Chromium through Playwright — ask, read the streamed
answer, click the citation, see the highlighted passage; screenshots go to
test-artifacts/ — and (2) through gradio_client's API: /ask, two calls at once, an
empty question, and an app with nothing indexed.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
QUESTION = "海曙区2020年GDP增长目标是多少?"
HAISHU_DOC = "002_e628585dbd2362fe.txt"
LLM_VARS = ("RAG_LLM_BASE_URL", "RAG_LLM_MODEL", "RAG_LLM_API_KEY", "RAG_OLLAMA_HOST", "RAG_CHROMA_URL", "RAG_EMBED_MODEL")


# ==========================================================================================
# fast: handlers with a stand-in answerer
# ==========================================================================================
@pytest.fixture(scope="module")
def app_module():
    sys.path.insert(0, str(ROOT))
    import app

    return app


class _FakeRetriever:
    def __init__(self):
        from rag.types import Report

        self.text = "二、2020年主要目标任务\n建议奋力实现地区生产总值增长6.5%左右。<script>alert(1)</script>\n"
        self.reports = [Report("haishu-2020", HAISHU_DOC, "海曙区2020年政府工作报告", "海曙区", "区", 2020)]
        self.texts = {HAISHU_DOC: self.text}
        self.passages = [object()]

    def report(self, rid):
        return next((r for r in self.reports if r.id == rid), None)


class _FakeAnswerer:
    """Streams its answer in pieces like an LLM; raises like the library on an empty question."""

    mode = "llm:fake @ http://127.0.0.1:1/v1"
    llm_cfg = None

    def __init__(self):
        self.retriever = _FakeRetriever()
        self.calls = []

    def ask(self, question, *, report=None, k=5, prev=None, on_token=None):
        from rag.answer import prepare_question
        from rag.types import Answer, Citation

        question, _ = prepare_question(question)
        self.calls.append((question, report, prev))
        t = self.retriever.text
        s, e = t.index("建议"), t.index("。") + 1
        for piece in ("地区生产总值", "增长6.5%左右", " [1]"):
            if on_token:
                on_token(piece)
            time.sleep(0.05)
        c = Citation(1, HAISHU_DOC, "haishu-2020", "二、2020年主要目标任务", s, e, t[s:e])
        ans = Answer(question, "地区生产总值增长6.5%左右 [1]", False, (c,), (), self.mode, 5,
                     notes=("数字核对未通过 (number guard): 7% 不在所引原文中",), guard_ok=False)
        return ans, ("q", question)


class _FakeLoader:
    def __init__(self, answerer=None, error=None):
        self.a, self.error = answerer, error
        self.done = threading.Event()
        self.done.set()

    def start(self):
        pass

    def get(self):
        if self.error:
            raise self.error
        return self.a


def test_cli_defaults_to_localhost(app_module, monkeypatch):
    monkeypatch.delenv("RAG_HOST", raising=False)
    monkeypatch.delenv("RAG_PORT", raising=False)
    args = app_module.parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 7860)
    monkeypatch.setenv("RAG_HOST", "127.0.0.2")
    monkeypatch.setenv("RAG_PORT", "8123")
    args = app_module.parse_args([])
    assert (args.host, args.port) == ("127.0.0.2", 8123)
    assert app_module.parse_args(["--port", "9000", "--host", "::1"]).port == 9000


def test_chat_streams_then_shows_sources(app_module, monkeypatch):
    fake = _FakeAnswerer()
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(fake))
    steps, texts = [], []
    for step in app_module.chat(QUESTION, [], None, "haishu-2020"):
        steps.append(step)
        texts.append(step[1][-1]["content"])  # the handler updates one list in place
    assert any("▌" in t for t in texts)  # partial answers were shown while streaming
    assert any("地区生产总值" in t and "6.5%" not in t for t in texts)
    box, history, sources, conv = steps[-1]
    assert box == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert "6.5%" in history[-1]["content"] and "**\\[1\\]**" in history[-1]["content"]
    assert "▌" not in history[-1]["content"]
    assert '<mark class="hl">' in sources and "海曙区2020年政府工作报告" in sources
    assert "<script>" not in sources and "&lt;script&gt;" in sources
    assert "number guard" in sources and "LLM: fake" in sources
    assert conv is not None and conv.report == "haishu-2020" and len(conv.turns) == 1
    # a follow-up in the same session goes through the same conversation
    steps = list(app_module.chat("那2019年呢?", history, conv, ""))
    conv2 = steps[-1][3]
    assert conv2 is conv and len(conv.turns) == 2 and conv.report is None
    assert fake.calls[-1][2] == ("q", QUESTION)  # the previous query was handed on


def test_chat_empty_question_is_a_message(app_module, monkeypatch):
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_FakeAnswerer()))
    *_, (box, history, sources, conv) = app_module.chat("   ", [], None, "")
    assert [m["role"] for m in history] == ["assistant"]
    assert "问题为空" in history[-1]["content"] and "Traceback" not in history[-1]["content"]
    assert "问题为空" in sources


def test_chat_index_missing_names_the_command(app_module, monkeypatch):
    from rag.service import IndexMissing

    err = IndexMissing("还没有建立索引 (no reports are indexed): run `rag index` (or `make run`) first")
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(error=err))
    *_, (_, history, sources, _) = app_module.chat(QUESTION, [], None, "")
    assert "rag index" in history[-1]["content"] and "rag index" in sources
    assert "IndexMissing" not in sources
    import gradio as gr

    with pytest.raises(gr.Error, match="rag index"):
        app_module.ask(QUESTION)


def test_api_ask_returns_the_answer_dict(app_module, monkeypatch):
    import gradio as gr

    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_FakeAnswerer()))
    d = app_module.ask(QUESTION, "haishu-2020")
    assert d["citations"][0]["doc"] == HAISHU_DOC and "6.5%" in d["answer"] and d["guard_ok"] is False
    with pytest.raises(gr.Error, match="问题为空"):
        app_module.ask("")


def test_latest_eval_picks_newest_run(app_module, monkeypatch, tmp_path):
    monkeypatch.setattr(app_module, "RUNS", tmp_path)
    md, img = app_module.latest_eval()
    assert "还没有评测结果" in md and img is None
    for i, name in enumerate(["eval-a", "eval-b"]):
        d = tmp_path / name
        d.mkdir()
        (d / "report.md").write_text(f"# run {name}\n![chart](metrics.png)\n", encoding="utf-8")
        os.utime(d / "report.md", (1000 + i, 1000 + i))
    (tmp_path / "eval-b" / "metrics.png").write_bytes(b"\x89PNG")
    md, img = app_module.latest_eval()
    assert "run eval-b" in md and "metrics.png)" not in md and img.endswith("eval-b/metrics.png")


def test_report_view_outline_and_summary_failure(app_module, monkeypatch, tmp_path):
    import types

    seen = []

    def boom(ref, **kw):
        seen.append(ref)
        raise RuntimeError("no such thing")

    fake = _FakeAnswerer()
    (tmp_path / HAISHU_DOC).write_text(fake.retriever.text, encoding="utf-8")
    monkeypatch.setattr(app_module, "_report_path", lambda a, r: tmp_path / r.file)
    monkeypatch.setitem(sys.modules, "rag.summarize", types.SimpleNamespace(summarize_report=boom))
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(fake))
    steps = list(app_module.show_report("haishu-2020"))
    head, summary, outline = steps[-1]
    assert "正在生成摘要" in steps[0][1]
    assert "海曙区2020年政府工作报告" in head
    assert "摘要生成失败" in summary and "no such thing" in summary and seen == [str(tmp_path / HAISHU_DOC)]
    assert "主要目标任务" in outline and "&lt;script&gt;" in outline and "<script>" not in outline
    assert "未知报告" in list(app_module.show_report("nope"))[-1][0]


# ==========================================================================================
# slow: the real app in a subprocess
# ==========================================================================================
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path) -> dict:
    env = dict(os.environ)
    for var in LLM_VARS:
        env.pop(var, None)
    env["RAG_HOME"] = str(home)
    env["TIKTOKEN_CACHE_DIR"] = str(home / "tiktoken")
    env.setdefault("RAG_MODELS_DIR", str(ROOT / ".rag" / "models"))
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _App:
    def __init__(self, home: Path, name: str):
        self.home, self.name = home, name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = home / "app.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=_env(home), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait(self, timeout: float = 240) -> None:
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                pytest.fail(f"app exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(1)
        pytest.fail(f"app did not serve {self.url} within {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(15)
        self.log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(self.log_path, ARTIFACTS / f"{self.name}.log")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app over a RAG_HOME indexed from the seeds; yields its URL."""
    home = tmp_path_factory.mktemp("app-home")
    r = subprocess.run(
        [sys.executable, "-m", "rag.cli", "index", "--quiet"],
        cwd=ROOT, env=_env(home), capture_output=True, text=True, timeout=1200,
    )
    assert r.returncode == 0, f"rag index failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    app = _App(home, "app-server")
    try:
        app.wait()
        yield app.url
    finally:
        app.stop()


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


@pytest.fixture(scope="module")
def ready_url(app_url):
    """The URL once models and index are loaded (the first answer is the slow one)."""
    d = _client(app_url).predict(QUESTION, api_name="/ask")
    assert "6.5%" in d["answer"], d
    return app_url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install Debian's with `apt-get update && apt-get install -y chromium` "
            "(or run `make setup-test`), or point RAG_CHROMIUM at one"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: `pip install -e .[test]` (or `make setup-test`); "
                    "never `playwright install`: the tests use Debian's chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.mark.slow
def test_browser_ask_click_citation(ready_url, browser):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(ready_url)
        expect(page.locator("#status")).to_contain_text("已就绪", timeout=240_000)
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#send").click()
        expect(page.locator("#chat")).to_contain_text("6.5%", timeout=180_000)
        source = page.locator("#sources details.rag-src summary", has_text="海曙").first
        expect(source).to_be_visible(timeout=60_000)
        expect(source).to_contain_text("[1]")
        expect(source.locator("mark.fig", has_text="6.5%")).to_be_visible()
        expect(page.locator("#sources .rag-meta")).to_contain_text("抽取式")
        highlighted = page.locator("#sources .rag-passage mark.hl", has_text="6.5%").first
        expect(highlighted).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / "app-answer.png"), full_page=True)

        source.click()
        expect(highlighted).to_be_visible()
        passage = page.locator("#sources .rag-passage").first
        assert len(passage.inner_text()) > len(highlighted.inner_text()) + 100  # shown in its context
        page.screenshot(path=str(ARTIFACTS / "app-citation-open.png"), full_page=True)

        # a follow-up is read with the previous question (same browser session)
        page.locator("#question textarea").fill("2019年呢?")
        page.locator("#question textarea").press("Enter")
        expect(page.locator("#sources")).to_contain_text("追问", timeout=180_000)
        page.screenshot(path=str(ARTIFACTS / "app-follow-up.png"), full_page=True)

        # a narrow window: no sideways scrolling, the sources still readable
        page.set_viewport_size({"width": 420, "height": 900})
        page.wait_for_timeout(500)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 430, f"page is {width}px wide in a 420px window"
        page.screenshot(path=str(ARTIFACTS / "app-narrow-420.png"), full_page=True)
        page.locator("#sources details.rag-src summary").first.click()
        expect(page.locator("#sources .rag-passage mark.hl").first).to_be_visible()
        page.locator("#sources .rag-passage mark.hl").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "app-narrow-420-passage.png"), full_page=False)
    finally:
        page.close()


@pytest.mark.slow
def test_browser_reports_tab(ready_url, browser):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(ready_url)
        expect(page.locator("#status")).to_contain_text("已就绪", timeout=240_000)
        page.get_by_role("tab", name="报告 Reports").click()
        cell = page.locator("#catalog").get_by_text("haishu-2020").first
        expect(cell).to_be_visible(timeout=30_000)
        cell.click()
        expect(page.locator("#outline details").first).to_be_visible(timeout=60_000)
        expect(page.locator("#outline")).to_contain_text("主要目标任务")
        expect(page.locator("#summary")).not_to_contain_text("正在生成摘要", timeout=300_000)
        page.screenshot(path=str(ARTIFACTS / "app-reports.png"), full_page=True)
    finally:
        page.close()


@pytest.mark.slow
def test_api_ask(ready_url):
    d = _client(ready_url).predict(QUESTION, api_name="/ask")
    assert "6.5%" in d["answer"] and not d["refused"]
    assert any(c["doc"] == HAISHU_DOC for c in d["citations"]), d["citations"]
    assert {"question", "answer", "citations", "retrieved", "mode", "latency_ms", "guard_ok", "notes"} <= set(d)


@pytest.mark.slow
def test_api_two_calls_at_once(ready_url):
    def call(report):
        return _client(ready_url).predict(QUESTION, report, api_name="/ask")

    with ThreadPoolExecutor(2) as ex:
        results = list(ex.map(call, [None, "haishu-2020"]))
    for d in results:
        assert "6.5%" in d["answer"], d
        assert any(c["doc"] == HAISHU_DOC for c in d["citations"])


@pytest.mark.slow
def test_api_empty_question_is_a_clear_error(ready_url):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as e:
        _client(ready_url).predict("", api_name="/ask")
    msg = str(e.value)
    assert "问题为空" in msg and "Traceback" not in msg


@pytest.mark.slow
def test_api_without_index_names_the_fix(tmp_path):
    from gradio_client.exceptions import AppError

    app = _App(tmp_path, "app-server-no-index")
    try:
        app.wait()
        with pytest.raises(AppError) as e:
            _client(app.url).predict(QUESTION, api_name="/ask")
        msg = str(e.value)
        assert "rag index" in msg and "Traceback" not in msg
    finally:
        app.stop()
