"""Per-report summaries (rag.summary): every line and table row cites exact spans of the
report it summarises, figures are verbatim, the cache follows the content, the Markdown
is escaped, and an LLM overview is guarded (a real local server in the slow tier)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from rag.summary.model import FigureRow, Summary, SummaryLine
from rag.summary.render import esc, to_markdown
from rag.text.numbers import figures
from rag.types import Citation, Report

ROOT = Path(__file__).resolve().parent.parent


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def assert_grounded(s: Summary, text: str) -> None:
    for c in s.citations():
        assert text[c.start:c.end] == c.quote, c
    for line in s.overview + s.review + s.tasks:
        assert line.citations, line
        quotes = "".join(_squash(c.quote) for c in line.citations)
        if not line.flagged:
            for f in figures(line.text):
                assert _squash(f.text) in quotes, (f.text, line.text)
    for row in s.results + s.targets:
        assert _squash(row.text) in _squash(row.citation.quote), row


# --- fast: the Markdown is safe whatever a report holds --------------------------------------
def _fake_summary(title: str, quote: str) -> Summary:
    r = Report(id="x-1", file="x.txt", title=title, region="某市", level="city", year=2025)
    c = Citation(1, "x.txt", "x-1", "一、目标", 0, len(quote), quote)
    return Summary(report=r, overview=(SummaryLine(quote, (c,)),), results=(),
                   targets=(FigureRow("地区生产总值", quote, "growth", c),), tasks=())


@pytest.mark.parametrize("evil", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                                  "[点我](javascript:alert(1))", "| a | b |\n| --- |", "# 标题\n\n---"])
def test_report_text_cannot_inject_markup(evil):
    md = to_markdown(_fake_summary(evil, f"增长5%左右{evil}"))
    assert "<script" not in md and "<img" not in md and "](javascript" not in md
    for line in md.splitlines():
        if line.startswith("| 地区生产总值"):
            assert line.count(" | ") == 2  # the injected pipes did not add columns
    assert esc("a\nb") == "a b"


def test_summary_round_trips_through_json():
    s = _fake_summary("某市政府工作报告", "地区生产总值增长5%左右")
    assert Summary.from_dict(json.loads(json.dumps(s.to_dict(), ensure_ascii=False))) == s


# --- slow: the real index ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def svc(corpus_services):
    return corpus_services


@pytest.mark.slow
def test_every_report_is_summarised_and_grounded(svc):
    from rag.summary.service import summarize_all

    out = summarize_all(svc, use_cache=False)
    assert len(out) == len(svc.corpus.reports) >= 15
    for s in out:
        text = svc.corpus.text(s.report.key)
        assert s.overview, s.report.id
        assert_grounded(s, text)
    # a work report that plans a year has a target table; the provincial ones all do
    provincial = [s for s in out if s.report.file.endswith(".docx")]
    assert provincial and all(s.targets for s in provincial), [s.report.id for s in provincial if not s.targets]
    assert all(s.targets_year == s.report.year for s in provincial)


@pytest.mark.slow
def test_haishu_tables(svc):
    from rag.summary.service import summarize

    s = summarize(svc, "002_e628585dbd2362fe.txt", use_cache=False)
    gdp = [row for row in s.targets if row.indicator == "地区生产总值"]
    assert gdp and "6.5%" in gdp[0].text and s.targets_year == 2020
    assert any(row.indicator == "地区生产总值" for row in s.results) and s.results_year == 2019
    md = to_markdown(s)
    assert "## 2020年主要目标" in md and "## 出处" in md


@pytest.mark.slow
def test_cache_hits_and_follows_the_content(svc):
    from rag.summary.service import summarize

    key = svc.corpus.reports[0].key
    first = summarize(svc, key)
    again = summarize(svc, key)
    assert again.cached and again == replace(first, cached=True, seconds=again.seconds)
    with pytest.raises(LookupError):
        summarize(svc, "no-such-report-anywhere")


@pytest.mark.slow
def test_llm_overview_against_a_dead_endpoint_keeps_the_extractive_one(svc):
    from rag.llm import LLMConfig
    from rag.summary.extractive import extractive
    from rag.summary.llm import with_llm_overview

    r = svc.corpus.reports[0]
    s = extractive(svc.corpus, r)
    cfg = LLMConfig(base_url="http://127.0.0.1:9/v1", model="none", timeout=2)
    out = with_llm_overview(s, cfg, svc.settings.prompts)
    assert out.overview == s.overview and out.mode == "extractive"
    assert any("LLM" in n for n in out.notes)


@pytest.mark.slow
def test_llm_overview_with_the_real_local_server(svc, monkeypatch):
    from llm_server import llm_server

    from rag.llm import LLMConfig
    from rag.summary.extractive import extractive
    from rag.summary.llm import with_llm_overview

    r = next(x for x in svc.corpus.reports if x.file.startswith("002_"))
    s = extractive(svc.corpus, r)
    with llm_server() as (base_url, model):
        out = with_llm_overview(s, LLMConfig(base_url=base_url, model=model, timeout=60), svc.settings.prompts)
    # a 270M base model writes what it writes: either cited sentences (each guarded) or a note
    text = svc.corpus.text(r.key)
    if out.mode == "extractive":
        assert out.notes and out.overview == s.overview
    else:
        for line in out.overview:
            assert line.citations and all(text[c.start:c.end] == c.quote for c in line.citations)
            quotes = "".join(_squash(c.quote) for c in line.citations)
            assert line.flagged or all(_squash(f.text) in quotes for f in figures(line.text))


@pytest.mark.slow
def test_cli_writes_markdown_and_json(tmp_path):
    env_home = tmp_path / "home"
    env = {**__import__("os").environ, "RAG_HOME": str(env_home)}
    rag = [sys.executable, "-m", "rag.cli"]
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "002_e628585dbd2362fe.txt").write_bytes((ROOT / "seeds" / "002_e628585dbd2362fe.txt").read_bytes())
    subprocess.run(rag + ["index", str(folder)], env=env, check=True, capture_output=True, timeout=600)
    out = tmp_path / "out"
    p = subprocess.run(rag + ["summarize", "--all", "--out", str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    mds = list(out.glob("*.md"))
    assert len(mds) == 1 and "6.5%" in mds[0].read_text(encoding="utf-8")
    d = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    assert d["targets"] and d["version"]
    p = subprocess.run(rag + ["summarize", "no-such-report"], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 2 and "Traceback" not in p.stderr
