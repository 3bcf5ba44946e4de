"""The web app.

Fast: the handlers (app's own, over its LOADER, which hand on to the rag.ui_* modules)
over small stand-ins for the services (streaming, sources, the question's reading, errors
and time-outs, upload, corrections, the compare table), the page itself built (no
server), and the command line (127.0.0.1 by default). The eval tab: tests/test_ui_eval.py.

Slow: the real app as a subprocess on a free port over a RAG_HOME indexed from the seeds
(`rag index`, once for the module), driven (1) in headless Chromium through Playwright —
ask, read the streamed answer, click the citation, see the highlighted passage and how
the question was understood; upload a DOCX built here (and a file of the wrong type),
correct its year; compare figures across reports, open a cell's passage, download the
CSV; screenshots go to test-artifacts/ — and (2) through gradio_client's API: /ask, two
calls at once, an empty question, and an app with nothing indexed.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from processes import stop_group

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
HAISHU_TEXT = "二、2020年主要目标任务\n建议奋力实现地区生产总值增长6.5%左右。<script>alert(1)</script>\n"


# ==========================================================================================
# fast: handlers over stand-ins for the services
# ==========================================================================================
@pytest.fixture(scope="module")
def app_module():
    sys.path.insert(0, str(ROOT))
    import app

    return app


def _haishu():
    from rag.types import Report

    return Report("haishu-2020", HAISHU_DOC, "海曙区2020年<b>政府</b>工作报告", "海曙区", "county", 2020, (2019,), (2020,),
                  region_key="浙江省/宁波市/海曙区", sources=(("region", "catalog"), ("year", "catalog")), key="k-haishu")


class _FakeCorpus:
    """What the app asks of `svc.corpus`, over reports held in memory."""

    def __init__(self, reports=(), texts=None, entries=None, figures=None):
        self.reports = list(reports)
        self.texts = dict(texts or {})
        self.entries = dict(entries or {})
        self.figs = dict(figures or {})
        self.chunks = {"c1": object(), "c2": object()}

    def report(self, ref):
        return next((r for r in self.reports if ref in (r.key, r.id)), None)

    def text(self, key):
        return self.texts.get(key, "")

    def sections(self, key):
        from rag.types import Section

        t = self.text(key)
        return [Section(("二、2020年主要目标任务",), 0, len(t), 14, "plan", 1)] if t else []

    def page_at(self, key, pos):
        return 0

    def figures(self, key):
        return self.figs.get(key, [])

    def put(self, r, entry):
        self.reports = [x for x in self.reports if x.key != r.key] + [r]
        self.entries[r.key] = entry


class _FakeAnswerer:
    """Streams its answer in pieces like an LLM; raises like the library on an empty question."""

    mode = "llm:fake @ http://127.0.0.1:1/v1"

    def __init__(self, delay=0.05):
        self.calls = []
        self.delay = delay

    def ask(self, question, *, report=None, k=5, prev=None, on_token=None):
        from rag.answer import prepare_question
        from rag.query import Part, Query
        from rag.types import Answer, Citation

        question, _ = prepare_question(question, 200)
        self.calls.append((question, report, prev))
        t = HAISHU_TEXT
        s, e = t.index("建议"), t.index("。") + 1
        for piece in ("地区生产总值", "增长6.5%左右", " [1]"):
            if on_token:
                on_token(piece)
            time.sleep(self.delay)
        c = Citation(1, HAISHU_DOC, "haishu-2020", "二、2020年主要目标任务", s, e, t[s:e])
        ans = Answer(question, "地区生产总值增长6.5%左右 [1]", False, (c,), (), self.mode, 5,
                     notes=("数字核对未通过 (number guard): 7% 不在所引原文中",), guard_ok=False)
        years = (2019,) if "2019" in question else (2020,)
        q = Query(question, intent="figure", time="target", parts=(Part("gdp", "growth", "gdp"),),
                  regions=("浙江省/宁波市/海曙区",), region_names=("海曙区",), years=years,
                  resolved_from=prev.text if prev is not None else "")
        return ans, q


def _svc(tmp_path=None, corpus=None, answerer=None, **settings):
    base = dict(home=Path(tmp_path or "/nonexistent"), max_file_mb=1.0, request_timeout=30.0, llm=None, problems=())
    base.update(settings)
    corpus = corpus if corpus is not None else _FakeCorpus(
        [_haishu()], {"k-haishu": HAISHU_TEXT}, {"k-haishu": {"format": "text", "root": "/seeds", "found_path": "/seeds/x"}})
    return SimpleNamespace(settings=SimpleNamespace(**base), corpus=corpus, answerer=answerer or _FakeAnswerer(),
                           retriever=SimpleNamespace(refresh=lambda: None), store=object(), sparse=object())


class _FakeLoader:
    def __init__(self, svc=None, error=None):
        self.svc, self.fail = svc, error
        self.error = None  # the real Loader's note about the embedding model
        self.done = threading.Event()
        self.done.set()

    def start(self):
        pass

    def get(self, require_index=True):
        from rag.service import IndexMissing

        if self.fail:
            raise self.fail
        if require_index and not self.svc.corpus.reports:
            raise IndexMissing("还没有建立索引 (no reports are indexed): run `rag index` (or `make run`) first")
        return self.svc


def test_cli_defaults_to_localhost(app_module):
    from rag.settings import Settings

    args = app_module.parse_args([], Settings.from_env({}))
    assert (args.host, args.port) == ("127.0.0.1", 7860)
    args = app_module.parse_args([], Settings.from_env({"RAG_HOST": "127.0.0.2", "RAG_PORT": "8123"}))
    assert (args.host, args.port) == ("127.0.0.2", 8123)
    args = app_module.parse_args(["--port", "9000", "--host", "::1"], Settings.from_env({}))
    assert (args.host, args.port) == ("::1", 9000)


def test_the_page_builds_with_the_ask_endpoint(app_module):
    demo = app_module.build()
    names = {getattr(fn, "api_name", None) for fn in demo.fns.values()}
    assert "ask" in names
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    for want in ("question", "sources", "explain-on", "explain", "upload", "upload-result", "catalog", "fix-save",
                 "compare-table", "compare-chart", "compare-csv", "compare-passage", "status"):
        assert want in ids, want


def test_chat_streams_then_shows_sources(app_module, monkeypatch):
    svc = _svc()
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(svc))
    steps, texts = [], []
    for step in app_module.chat(QUESTION, [], None, "k-haishu", False):
        steps.append(step)
        texts.append(step[1][-1]["content"])  # the handler updates one list in place
    assert any("▌" in t for t in texts)  # partial answers were shown while streaming
    assert any("地区生产总值" in t and "6.5%" not in t for t in texts)
    box, history, sources, conv, explain = steps[-1]
    assert box == "" and explain == ""  # the reading is not shown unless asked for
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert "6.5%" in history[-1]["content"] and "**\\[1\\]**" in history[-1]["content"]
    assert "▌" not in history[-1]["content"]
    assert '<mark class="hl">' in sources and "海曙区2020年&lt;b&gt;政府&lt;/b&gt;工作报告" in sources
    assert "<script>" not in sources and "&lt;script&gt;" in sources and "<b>政府" not in sources
    assert "number guard" in sources and "LLM: fake" in sources
    assert conv is not None and conv.report == "k-haishu" and len(conv.turns) == 1
    assert svc.answerer.calls[-1][1] == "k-haishu"  # the report filter went to the answerer
    # a follow-up in the same session goes through the same conversation
    steps = list(app_module.chat("那2019年呢?", history, conv, "", False))
    conv2 = steps[-1][3]
    assert conv2 is conv and len(conv.turns) == 2 and conv.report is None
    assert svc.answerer.calls[-1][2].text == QUESTION  # the previous query was handed on


def test_chat_shows_how_the_question_was_understood(app_module, monkeypatch):
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_svc()))
    *_, (_, _, _, conv, explain) = app_module.chat(QUESTION, [], None, "", True)
    assert "how the question was understood" in explain
    assert "figure" in explain and "目标 target" in explain and "地区生产总值" in explain
    assert "海曙区" in explain and ">2020<" in explain
    # the checkbox: off hides it, on shows the last question's reading
    off = app_module.toggle_explain(False, conv)
    assert off.visible is False and off.value == ""
    on = app_module.toggle_explain(True, conv)
    assert on.visible is True and "地区生产总值" in on.value
    *_, (_, _, _, conv, explain) = app_module.chat("2019年呢?", [], conv, "", True)
    assert ">2019<" in explain and "follow-up of" in explain and QUESTION in explain
    assert app_module.toggle_explain(True, None).value == ""  # nothing asked yet


def test_chat_empty_question_is_a_message(app_module, monkeypatch):
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_svc()))
    *_, (box, history, sources, conv, explain) = app_module.chat("   ", [], None, "", True)
    assert [m["role"] for m in history] == ["assistant"]
    assert "问题为空" in history[-1]["content"] and "Traceback" not in history[-1]["content"]
    assert "问题为空" in sources and "ValueError" not in sources and explain == ""


def test_chat_and_api_errors_are_one_line_messages(app_module, monkeypatch):
    import gradio as gr

    from rag.service import IndexMissing
    from rag.store import StoreError

    for err, want in ((IndexMissing("还没有建立索引 (no reports are indexed): run `rag index` (or `make run`) first"),
                       "rag index"),
                      (StoreError("open the store at /x/chroma: database disk image is malformed; run `rag index "
                                  "--rebuild` to rebuild the index from the report files"), "rag index --rebuild")):
        monkeypatch.setattr(app_module, "LOADER", _FakeLoader(error=err))
        *_, (_, history, sources, _, _) = app_module.chat(QUESTION, [], None, "", False)
        assert want in history[-1]["content"].replace("\\", "") and want in sources
        assert type(err).__name__ not in sources and sources.count("rag-warn") == 1
        with pytest.raises(gr.Error, match=want.replace("-", r"\-")):
            app_module.ask(QUESTION)
        assert want in app_module.status_markdown().replace("\\", "")


def test_chat_and_api_time_out(app_module, monkeypatch):
    import gradio as gr

    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_svc(answerer=_FakeAnswerer(delay=0.6), request_timeout=0.4)))
    t0 = time.monotonic()
    *_, (_, history, sources, _, _) = app_module.chat(QUESTION, [], None, "", False)
    assert time.monotonic() - t0 < 1.5
    assert "回答超时" in sources and "0.4 s" in sources
    with pytest.raises(gr.Error, match="回答超时"):
        app_module.ask(QUESTION)


def test_status_shows_settings_problems(app_module, monkeypatch):
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_svc()))
    problems = ("RAG_LLM_TIMEOUT='abc' is not a number; using 60", "LLM off: RAG_LLM_BASE_URL is set but <b>no</b> model")
    monkeypatch.setattr(app_module, "current_settings", lambda: SimpleNamespace(problems=problems))
    md = app_module.status_markdown()
    assert md.startswith("✅ 已就绪") and "1 份报告" in md and "2 个段落" in md
    assert md.count("⚠️") == 2 and "RAG\\_LLM\\_TIMEOUT" in md and "<b>" not in md
    monkeypatch.setattr(app_module, "current_settings", lambda: SimpleNamespace(problems=()))
    assert "⚠️" not in app_module.status_markdown()
    app_module.LOADER.error = "embedding model: no model files in /x"  # the warm-up failed
    assert "⚠️ embedding model: no model files in /x" in app_module.status_markdown()


def test_api_ask_returns_the_answer_dict(app_module, monkeypatch):
    import gradio as gr

    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_svc()))
    d = app_module.ask(QUESTION, "haishu-2020")
    assert d["citations"][0]["doc"] == HAISHU_DOC and "6.5%" in d["answer"] and d["guard_ok"] is False
    with pytest.raises(gr.Error, match="问题为空"):
        app_module.ask("")


def test_report_view_outline_form_and_summary_failure(app_module, monkeypatch):
    import rag.summary.service as summary_service

    seen = []

    def boom(svc, ref, **kw):
        seen.append(ref)
        raise RuntimeError("no such thing")

    monkeypatch.setattr(summary_service, "summarize", boom)
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_svc()))
    steps = list(app_module.show_report("k-haishu"))
    head, summary, outline, region, level, year, review, plan = steps[-1]
    assert "正在生成摘要" in steps[0][1]
    assert "海曙区2020年&lt;b&gt;政府&lt;/b&gt;工作报告" in head and "目录 catalog" in head
    assert "摘要生成失败" in summary and "no such thing" in summary and seen == ["k-haishu"]
    assert "主要目标任务" in outline and "&lt;script&gt;" in outline and "<script>" not in outline
    assert (region, level, year, review, plan) == ("海曙区", "county", "2020", "2019", "2020")
    assert "未知报告" in list(app_module.show_report("nope"))[-1][0]


def test_report_view_shows_the_real_summary(app_module, monkeypatch):
    import rag.summary.service as summary_service
    from rag.summary.model import Summary

    def fake(svc, ref, **kw):
        return Summary(report=svc.corpus.report(ref), mode="extractive", overview=(), results=(), targets=(),
                       review=(), tasks=(), notes=("<script>x</script>",))

    monkeypatch.setattr(summary_service, "summarize", fake)
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_svc()))
    summary = list(app_module.show_report("haishu-2020"))[-1][1]
    assert summary.startswith("# 海曙区2020年") and "摘要" in summary and "<script>" not in summary


# --- upload -------------------------------------------------------------------------------
def _fake_index(corpus, calls, fail=None):
    """Stands in for `rag.index.index_paths`: files named *scan* are skipped like a PDF
    without a text layer; the rest become reports "found in the text"."""
    from rag.index import IndexResult
    from rag.types import Report

    def index(paths, store, settings, *, sparse=None, progress=None, log=print):
        calls.append([Path(p) for p in paths])
        if fail:
            raise fail
        res = IndexResult()
        progress and progress("plan", total=len(paths))
        for p in map(Path, paths):
            progress and progress("file", name=p.name)
            if "scan" in p.name:
                res.skipped.append((str(p), "no text layer (a scanned PDF?)"))
                continue
            progress and progress("embedded", n=3)
            r = Report(f"anji-{len(corpus.reports)}", p.name, "2024年安吉县人民政府工作报告", "安吉县", "county", 2024,
                       sources=(("region", "text"), ("year", "text")), key=f"k-{p.name}", path=str(p.resolve()))
            corpus.put(r, {"found_path": str(p.absolute()), "path": str(p.resolve()), "root": str(p.parent.resolve()),
                           "format": "docx", "file": p.name})
            res.added.append(str(p))
        progress and progress("done")
        res.seconds = 0.5
        return res

    return index


def test_upload_copies_sanitised_files_indexes_them_and_lists_the_result(app_module, monkeypatch, tmp_path):
    from rag import ui_upload

    svc = _svc(tmp_path / "home")
    calls, seen = [], []
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(svc))
    monkeypatch.setattr(ui_upload, "index_paths", _fake_index(svc.corpus, calls))
    src = tmp_path / "browser"
    (src / "a").mkdir(parents=True)
    files = {
        "anji <report>.docx": b"PK docx bytes",
        "scan.pdf": b"%PDF-1.4 no text",
        "virus.exe": b"MZ",
        "big.txt": b"x" * (1024 * 1024 + 1),
        "empty.md": b"",
    }
    paths = []
    for name, data in files.items():
        (src / name).write_bytes(data)
        paths.append(str(src / name))
    (src / "a" / "..%2F..%2Fescape.txt").write_bytes("海曙区".encode())
    paths.append(str(src / "a" / "..%2F..%2Fescape.txt"))

    html, table, pick, chat_filter, status, box = app_module.upload(paths, progress=lambda *a, **k: seen.append((a, k)))
    uploads = tmp_path / "home" / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["2F._2Fescape.txt", "anji_report.docx"]
    assert (uploads / "anji_report.docx").read_bytes() == files["anji <report>.docx"]
    # only the new files went to the indexer (nothing indexed before is touched)
    assert [p.name for p in calls[0]] == ["anji_report.docx", "scan.pdf", "2F._2Fescape.txt"]
    assert all(p.parent == uploads for p in calls[0])
    assert seen and seen[-1][0][0] == 1.0 and any("anji_report.docx" in str(k.get("desc")) for _, k in seen)
    ok = html.split('class="rag-up-ok"')[1].split("</ul>")[0]
    assert "anji &lt;report&gt;.docx</code> → <code class=\"rag-up-stored\">anji_report.docx" in ok and "安吉县" in ok and "2024" in ok and "正文 text" in ok
    refused = html.split('class="rag-up-refused"')[1]
    assert "scan.pdf</code>: no text layer (a scanned PDF?)" in refused
    assert "virus.exe</code>: unsupported file type (.exe)" in refused
    assert "big.txt</code>: file is 1.0 MB, over the 1 MB limit" in refused
    assert "empty.md</code>: empty file" in refused
    assert "<report>" not in html
    assert any(r[4].startswith("anji-") for r in table)  # the catalog lists the new report
    assert box is None  # the drop zone is cleared

    # the same file again is not copied twice; another file of that name gets its own
    (src / "anji <report>.docx").write_bytes(b"PK other bytes")
    app_module.upload([str(src / "anji <report>.docx")], progress=lambda *a, **k: None)
    assert sorted(p.name for p in uploads.iterdir()) == ["2F._2Fescape.txt", "anji_report-2.docx", "anji_report.docx"]


def test_a_failed_upload_loses_nothing(app_module, monkeypatch, tmp_path):
    from rag import ui_upload
    from rag.store import StoreError

    svc = _svc(tmp_path / "home")
    uploads = tmp_path / "home" / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "old.txt").write_text("已索引的报告", encoding="utf-8")
    before = list(svc.corpus.reports)
    calls = []
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(svc))
    monkeypatch.setattr(ui_upload, "index_paths", _fake_index(svc.corpus, calls, fail=StoreError("the store is locked")))
    new = tmp_path / "new.txt"
    new.write_text("新报告", encoding="utf-8")
    html, *_ = app_module.upload([str(new)], progress=lambda *a, **k: None)
    assert "new.txt</code>: not indexed: the store is locked" in html
    assert sorted(p.name for p in uploads.iterdir()) == ["old.txt"]  # the new copy is gone, the old file stays
    assert svc.corpus.reports == before
    assert "没有文件" in app_module.upload([], progress=lambda *a, **k: None)[0]


# --- correcting a wrong guess ---------------------------------------------------------------
def test_save_correction_writes_the_catalog_and_reindexes_the_folder(app_module, monkeypatch, tmp_path):
    from rag import catalog, ui_upload
    from rag.types import Report

    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "anji.docx").write_bytes(b"PK")
    r = Report("anji-2024", "anji.docx", "2024年安吉县人民政府工作报告", "安吉县", "county", 2024, (2023,), (2024,),
               sources=(("region", "text"), ("year", "text")), key="k-anji")
    corpus = _FakeCorpus([r], {}, {"k-anji": {"root": str(folder), "found_path": str(folder / "anji.docx"), "format": "docx"}})
    calls = []

    def reindex(paths, store, settings, *, sparse=None, progress=None, log=print):
        from rag.index import IndexResult

        calls.append([Path(p) for p in paths])
        row = catalog.load(Path(paths[0]))["anji.docx"]
        src = dict(r.sources)
        src.update({k: "catalog" for k in row if k != "file"})
        corpus.put(replace(r, year=row.get("year", r.year), id=f"anji-{row.get('year', r.year)}",
                           review_years=tuple(row.get("review_years", r.review_years)),
                           plan_years=tuple(row.get("plan_years", r.plan_years)),
                           sources=tuple(sorted(src.items()))), corpus.entries["k-anji"])
        return IndexResult(changed=[str(folder / "anji.docx")])

    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_svc(tmp_path, corpus)))
    monkeypatch.setattr(ui_upload, "index_paths", reindex)
    msg, table, pick, chat_filter, status = app_module.save_correction(
        "k-anji", "安吉县", "county", "2025", "2024", "2025", progress=lambda *a, **k: None)
    assert "已保存" in msg and "anji-2025" in msg, msg
    assert catalog.load(folder) == {"anji.docx": {"file": "anji.docx", "year": 2025, "review_years": [2024],
                                                  "plan_years": [2025]}}
    assert calls == [[folder]]  # the report's own folder is re-indexed
    row = next(x for x in table if x[4] == "anji-2025")
    assert row[2] == 2025 and row[6] == "text / catalog"
    assert pick.value == "k-anji"

    # nothing changed, a bad year, no report: a message, nothing written
    calls.clear()
    msg = app_module.save_correction("k-anji", "安吉县", "county", "2025", "2024", "2025", progress=lambda *a, **k: None)[0]
    assert "没有改动" in msg and calls == []
    msg = app_module.save_correction("k-anji", "安吉县", "county", "明年", "", "", progress=lambda *a, **k: None)[0]
    assert "未保存" in msg and "not a year" in msg and calls == []
    assert "请先选择" in app_module.save_correction("", "", "", "", "", "", progress=lambda *a, **k: None)[0]
    assert catalog.load(folder)["anji.docx"]["year"] == 2025


# --- compare --------------------------------------------------------------------------------
def _compare_corpus():
    from rag.types import Figure

    hs = _haishu()
    text = HAISHU_TEXT
    s, e = text.index("建议"), text.index("。") + 1
    figs = [Figure("haishu-2020", "gdp", "growth", "target", 2020, 6.5, "6.5%左右", unit="%", qualifier="approx",
                   start=s, end=e, section="二、2020年主要目标任务"),
            Figure("haishu-2020", "gdp", "growth", "result", 2019, 6.1, "6.1%", unit="%", start=0, end=10, section="一")]
    return _FakeCorpus([hs], {hs.key: text}, {hs.key: {"format": "text"}}, {hs.key: figs})


def test_compare_table_chart_csv_and_cell_passage(app_module, monkeypatch):
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_svc(corpus=_compare_corpus())))
    msg, table, refs, chart, csv_btn, passage = app_module.compare(["gdp", "cpi"], "target", "")
    assert list(table.columns) == ["地区 region", "级别 level", "年份 year", "地区生产总值", "居民消费价格"]
    assert table.values.tolist() == [["海曙区", "县级 county", 2020, "6.5%左右", "not stated"]]
    assert "1 份报告" in msg and passage == ""
    titles = [ax.get_title() for ax in chart.axes if ax.get_visible()]
    assert titles == ["地区生产总值 (%)"]
    bars = [p.get_height() for ax in chart.axes for p in ax.patches]
    assert sorted(bars) == [6.1, 6.5]  # the 2020 target and the 2019 result
    csv_text = Path(csv_btn.value).read_text(encoding="utf-8-sig") if isinstance(csv_btn.value, str) else \
        Path(csv_btn.value["path"]).read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith("region,level,year") and "海曙区" in csv_text and "6.5%左右" in csv_text

    out = app_module.compare_pick(SimpleNamespace(index=[0, 3]), refs)
    assert '<mark class="hl">建议奋力实现地区生产总值增长<mark class="fig">6.5%左右</mark>。</mark>' in out
    assert "&lt;script&gt;" in out and "<script>" not in out
    assert "没有数字" in app_module.compare_pick(SimpleNamespace(index=[0, 4]), refs)

    # no report plans 2031; a bad year; nothing indexed: one-line messages
    msg, table, *_ = app_module.compare(["gdp"], "target", "2031")
    assert "没有报告" in msg and table.empty
    assert "not a year" in app_module.compare(["gdp"], "target", "soon")[0]
    monkeypatch.setattr(app_module, "LOADER", _FakeLoader(_svc(corpus=_FakeCorpus())))
    assert "rag index" in app_module.compare(None, "target", "")[0]


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
        stop_group(self.proc)
        self.log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(self.log_path, ARTIFACTS / f"{self.name}.log")


@pytest.fixture(scope="module")
def empty_app(tmp_path_factory):
    """An app over an empty RAG_HOME, started at once: it boots while the seeds index."""
    app = _App(tmp_path_factory.mktemp("empty-home"), "app-server-no-index")
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, empty_app):
    """The app over a RAG_HOME indexed from the seeds with `rag index`; yields its URL."""
    home = tmp_path_factory.mktemp("app-home")
    rag = Path(sys.executable).with_name("rag")
    cmd = [str(rag), "index", "--quiet"] if rag.exists() else [sys.executable, "-m", "rag.cli", "index", "--quiet"]
    r = subprocess.run(cmd, cwd=ROOT, env=_env(home), capture_output=True, text=True, timeout=1200)
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


def _open(browser, url, **kw):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, **kw)
    page.goto(url)
    expect(page.locator("#status")).to_contain_text("已就绪", timeout=240_000)
    return page


@pytest.mark.slow
def test_browser_ask_click_citation_and_reading(ready_url, browser):
    from playwright.sync_api import expect

    page = _open(browser, ready_url)
    try:
        expect(page.locator("#explain")).to_be_hidden()
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#send").click()
        expect(page.locator("#chat")).to_contain_text("6.5%左右", timeout=180_000)
        source = page.locator("#sources details.rag-src summary", has_text="海曙").first
        expect(source).to_be_visible(timeout=60_000)
        expect(source).to_contain_text("[1]")
        expect(source).to_contain_text("主要目标任务")
        expect(source.locator("mark.fig", has_text="6.5%左右")).to_be_visible()
        expect(page.locator("#sources .rag-meta")).to_contain_text("抽取式")
        highlighted = page.locator("#sources .rag-passage mark.hl", has_text="6.5%").first
        expect(highlighted).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / "app-answer.png"), full_page=True)

        source.click()
        expect(highlighted).to_be_visible()
        passage = page.locator("#sources .rag-passage").first
        assert len(passage.inner_text()) > len(highlighted.inner_text()) + 100  # shown in its context
        page.screenshot(path=str(ARTIFACTS / "app-citation-open.png"), full_page=True)

        # how the question was understood: the checkbox shows the last question's reading
        page.locator("#explain-on input[type=checkbox]").check()
        explain = page.locator("#explain")
        expect(explain).to_be_visible(timeout=30_000)
        expect(explain).to_contain_text("地区生产总值")
        expect(explain).to_contain_text("海曙区")
        expect(explain).to_contain_text("2020")
        expect(explain).to_contain_text("目标 target")
        page.screenshot(path=str(ARTIFACTS / "app-explain.png"), full_page=True)

        # a follow-up is read with the previous question (same browser session)
        page.locator("#question textarea").fill("2019年呢?")
        page.locator("#question textarea").press("Enter")
        expect(page.locator("#sources")).to_contain_text("追问", timeout=180_000)
        expect(explain).to_contain_text("2019", timeout=30_000)
        expect(explain).to_contain_text(QUESTION)
        page.screenshot(path=str(ARTIFACTS / "app-follow-up.png"), full_page=True)
        page.locator("#explain-on input[type=checkbox]").uncheck()
        expect(explain).to_be_hidden(timeout=30_000)

        # a narrow window: no sideways scrolling, the sources still readable
        page.set_viewport_size({"width": 420, "height": 900})
        page.wait_for_timeout(500)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 430, f"page is {width}px wide in a 420px window"
        page.screenshot(path=str(ARTIFACTS / "app-narrow-420.png"), full_page=True)
    finally:
        page.close()


def _docx(path: Path) -> Path:
    from docx import Document

    d = Document()
    d.add_heading("2024年安吉县人民政府工作报告", 0)
    d.add_paragraph("——2024年1月10日在安吉县第十八届人民代表大会第四次会议上")
    d.add_heading("一、2023年工作回顾", 1)
    d.add_paragraph("2023年，全县实现地区生产总值600亿元，增长7.0%。一般公共预算收入60亿元，增长8%。")
    d.add_heading("二、2024年主要目标任务", 1)
    d.add_paragraph("2024年全县经济社会发展的主要预期目标是：地区生产总值增长5.5%左右，一般公共预算收入增长6%，"
                    "城镇调查失业率控制在5%以内，居民消费价格涨幅3%左右。")
    d.add_paragraph("我们将坚持稳中求进工作总基调，扎实推进共同富裕示范区建设。")
    d.save(str(path))
    return path


@pytest.mark.slow
def test_browser_upload_correct_and_reports_tab(ready_url, browser, tmp_path):
    from playwright.sync_api import expect

    upload = tmp_path / "drop"
    upload.mkdir()
    doc = _docx(upload / "安吉县 2024 报告 <1>.docx")
    junk = upload / "notes.xyz"
    junk.write_text("not a report", encoding="utf-8")
    page = _open(browser, ready_url)
    try:
        page.get_by_role("tab", name="报告 Reports").click()
        page.locator("#upload input[type=file]").set_input_files([str(doc), str(junk)])
        result = page.locator("#upload-result")
        expect(result.locator(".rag-up-report")).to_contain_text("安吉县", timeout=180_000)
        report = result.locator(".rag-up-report").first
        expect(report.locator(".rag-up-region")).to_have_text("安吉县")
        expect(report.locator(".rag-up-year")).to_have_text("2024")
        expect(report.locator(".rag-up-level")).to_have_text("县级 county")
        expect(report).to_contain_text("正文 text")
        expect(report.locator(".rag-up-stored")).to_have_text("安吉县_2024_报告_1.docx")  # stored under a safe name
        expect(result.locator(".rag-up-refused")).to_contain_text("notes.xyz")
        expect(result.locator(".rag-up-refused")).to_contain_text("unsupported file type (.xyz)")
        expect(page.locator("#status")).to_contain_text("6 份报告")
        page.screenshot(path=str(ARTIFACTS / "app-upload.png"), full_page=True)
        # the uploaded report answers questions at once (dense and sparse retrieval refreshed)
        d = _client(ready_url).predict("安吉县2024年地区生产总值增长目标是多少?", api_name="/ask")
        assert "5.5%左右" in d["answer"] and any(c["doc"] == "安吉县_2024_报告_1.docx" for c in d["citations"]), d

        # the new report is in the catalog; correct its year
        cell = page.locator("#catalog").get_by_text("anji-2024").first
        expect(cell).to_be_visible(timeout=30_000)
        cell.click()
        expect(page.locator("#report-head")).to_contain_text("2024年安吉县人民政府工作报告", timeout=60_000)
        expect(page.locator("#report-head")).to_contain_text("年份来自 year from 正文 text")
        page.locator("#fix").get_by_text("更正 Correct").click()
        year = page.locator("#fix-year textarea, #fix-year input").first
        expect(year).to_have_value("2024", timeout=30_000)
        year.fill("2025")
        page.locator("#fix-save").click()
        expect(page.locator("#fix-status")).to_contain_text("已保存", timeout=180_000)
        expect(page.locator("#catalog").get_by_text("anji-2025").first).to_be_visible(timeout=60_000)
        expect(page.locator("#catalog").get_by_text("anji-2024")).to_have_count(0)
        expect(page.locator("#report-head")).to_contain_text("年份来自 year from 目录 catalog", timeout=60_000)
        expect(page.locator("#report-head")).to_contain_text("2025年")
        page.screenshot(path=str(ARTIFACTS / "app-corrected.png"), full_page=True)

        # a seed report: its sections and its cited summary
        page.locator("#catalog").get_by_text("haishu-2020").first.click()
        expect(page.locator("#outline details").first).to_be_visible(timeout=60_000)
        expect(page.locator("#outline")).to_contain_text("主要目标任务")
        expect(page.locator("#summary")).to_contain_text("摘要", timeout=120_000)
        expect(page.locator("#summary")).to_contain_text("6.5%左右")
        page.screenshot(path=str(ARTIFACTS / "app-reports.png"), full_page=True)
    finally:
        page.close()


@pytest.mark.slow
def test_browser_compare_tab(ready_url, browser):
    from playwright.sync_api import expect

    page = _open(browser, ready_url, accept_downloads=True)
    try:
        page.get_by_role("tab", name="比较 Compare").click()
        table = page.locator("#compare-table")
        row = table.locator("[role=row]", has_text="海曙区")
        expect(row.first).to_be_visible(timeout=60_000)
        cell = row.locator("[role=gridcell]", has_text="6.5%左右")
        expect(cell).to_have_count(1)
        expect(row.first).to_contain_text("not stated")
        expect(page.locator("#compare-chart img")).to_be_visible(timeout=30_000)
        cell.click()
        passage = page.locator("#compare-passage")
        expect(passage.locator("mark.hl")).to_be_visible(timeout=30_000)
        expect(passage.locator("mark.hl")).to_contain_text("地区生产总值增长6.5%左右")
        expect(passage).to_contain_text("海曙区2020年政府工作报告")
        page.screenshot(path=str(ARTIFACTS / "app-compare.png"), full_page=True)

        with page.expect_download(timeout=30_000) as dl:
            page.locator("#compare-csv").click()
        path = dl.value.path()
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
        assert lines[0].startswith("region,level,year,report,file,地区生产总值")
        haishu = next(ln for ln in lines if ln.startswith("海曙区,"))
        assert "6.5%左右" in haishu and HAISHU_DOC in haishu

        # results: the table changes with the kind
        page.locator("#compare-kind").get_by_text("实际 result").click()
        page.locator("#compare-run").click()
        expect(table.locator("[role=row]", has_text="海曙区").first).to_contain_text("6.1%", timeout=60_000)
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
def test_app_without_index_names_the_fix(empty_app, browser):
    from gradio_client.exceptions import AppError
    from playwright.sync_api import expect

    empty_app.wait()
    with pytest.raises(AppError) as e:
        _client(empty_app.url).predict(QUESTION, api_name="/ask")
    msg = str(e.value)
    assert "rag index" in msg and "Traceback" not in msg
    page = browser.new_page()
    try:
        page.goto(empty_app.url)
        expect(page.locator("#status")).to_contain_text("rag index", timeout=120_000)
        expect(page.locator("#status")).to_contain_text("upload")
    finally:
        page.close()
