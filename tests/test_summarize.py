"""rag.summarize: structured summaries with citations (issue 5).

Fast tests: the extractive summary of every seed (spans exist, figures verbatim),
the key tables of 海曙/江北/慈溪, the cache, bad input, the CLI, and the LLM path
against a fake `_complete` (guard, mid-way failure, token budgets) and a dead
endpoint. The ``slow`` test runs map-reduce against the real local LLM server
(tests/llm_server.py).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rag import summarize as S  # noqa: E402
from rag import tokens  # noqa: E402
from rag.guard import check  # noqa: E402
from rag.llm import LLMConfig, LLMError  # noqa: E402

SEEDS = ROOT / "seeds"
IDS = ["jiangbei-2020", "cixi-2021", "haishu-2020", "ningbo-2023", "jiangbei-2018-article"]


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def assert_grounded(s: S.Summary, text: str, allow_flagged: bool = False) -> None:
    """Every citation is a real span; every line's numbers are in its spans; every
    table cell is a verbatim (spaces removed) piece of its span."""
    for c in s.citations():
        assert text[c.start : c.end] == c.quote, c
        assert c.doc == s.report.file
    for line in s.overview + s.tasks:
        assert line.citations, line
        if allow_flagged and line.flagged:
            continue
        assert not line.flagged, line
        quotes = [c.quote for c in line.citations]
        res = check(line.text, quotes)
        assert res.ok, (line.text, res.unsupported)
        joined = _squash("".join(quotes))
        for num in re.findall(r"\d+(?:\.\d+)?", _squash(line.text)):
            assert num in joined, (num, line.text)
    for row in s.results + s.targets:
        q = _squash(row.citation.quote)
        for cell in row[1:3]:
            for piece in cell.split("，"):
                assert piece in q, (row, piece)
        assert row[1] or row[2], row


@pytest.fixture(scope="module")
def seed_summaries(tmp_path_factory):
    import os

    old = os.environ.get("RAG_HOME")
    os.environ["RAG_HOME"] = str(tmp_path_factory.mktemp("sum-home"))
    try:
        return {i: S.summarize_report(i, use_cache=False) for i in IDS}
    finally:
        if old is None:
            os.environ.pop("RAG_HOME", None)
        else:
            os.environ["RAG_HOME"] = old


def row(rows, indicator):
    found = [r for r in rows if r.indicator == indicator]
    assert found, (indicator, [r.indicator for r in rows])
    return found[0]


# --------------------------------------------------------------------------- every seed


@pytest.mark.parametrize("rid", IDS)
def test_every_seed_is_grounded(seed_summaries, rid):
    s = seed_summaries[rid]
    text = (SEEDS / s.report.file).read_text(encoding="utf-8")
    assert s.mode == "extractive" and not s.cached
    assert 2 <= len(s.overview) <= 5
    assert s.results, "every seed reports figures"
    assert s.tasks
    assert_grounded(s, text)
    # citations are numbered 1..n in order of first appearance, no gaps
    assert [c.n for c in s.citations()] == list(range(1, len(s.citations()) + 1))
    # JSON round trip and Markdown
    d = s.to_dict()
    again = S.Summary.from_dict(json.loads(json.dumps(d, ensure_ascii=False)))
    assert again.results == s.results and again.tasks == s.tasks and again.overview == s.overview
    md = s.to_markdown()
    assert md.startswith(f"# {s.report.title}")
    assert "## 概述" in md and "## 出处" in md
    for c in d["overview"][0]["citations"]:
        assert set(c) == {"n", "doc", "start", "end", "quote", "section"}


def test_task_bullets_follow_the_plan_heads(seed_summaries):
    counts = {"haishu-2020": 8, "jiangbei-2020": 5, "cixi-2021": 9}
    for rid, n in counts.items():
        tasks = seed_summaries[rid].tasks
        assert len(tasks) == n, (rid, [t.text[:12] for t in tasks])
        heads = [re.match(r"^[（(]([一二三四五六七八九十]+)[）)]", t.text).group(1) for t in tasks]
        assert heads == list("一二三四五六七八九十")[:n]
        assert all(t.citations[0].quote.lstrip("（(").startswith(h) for t, h in zip(tasks, heads))
    # the 宁波 excerpt stops after the review: its bullets are the review sections, said in a note
    nb = seed_summaries["ningbo-2023"]
    assert len(nb.tasks) == 6 and not nb.targets
    assert any("回顾" in n for n in nb.notes)
    # the article: a bullet per section, no targets
    art = seed_summaries["jiangbei-2018-article"]
    assert art.report.kind == "article" and not art.targets
    assert [t.text.split("：")[0] for t in art.tasks] == [
        "争强服务创新样板区", "争来产业转型新机遇", "争活区域发展新动能", "争出城乡品质新蝶变", "奋楫争先再攀高",
    ]


def test_haishu_tables(seed_summaries):
    s = seed_summaries["haishu-2020"]
    gdp = row(s.targets, "地区生产总值")
    assert "6.5%" in gdp.target and gdp.qualifier == "左右"
    assert "6.5%左右" in _squash(gdp.citation.quote)
    res = row(s.results, "地区生产总值")
    assert res.value == "1170.1亿元" and res.growth == "6.1%"
    assert row(s.results, "一般公共预算收入").value == "112.5亿元"
    # "城乡居民人均可支配收入分别增长 7.9%、9.4%" → one row each
    assert row(s.results, "城镇居民人均可支配收入").growth == "7.9%"
    assert row(s.results, "农村居民人均可支配收入").growth == "9.4%"
    jobs = row(s.targets, "城镇新增就业")
    assert jobs.target == "18500人" and jobs.qualifier == "以上"
    # the overview names the report, the headline result and target, with citations
    text = " ".join(x.text for x in s.overview)
    assert "海曙" in text and "1170.1亿元" in text and "6.5%左右" in text
    assert s.targets_title.startswith("2020") and s.results_title.startswith("2019")


def test_jiangbei_tables(seed_summaries):
    s = seed_summaries["jiangbei-2020"]
    gdp = row(s.targets, "地区生产总值")
    assert "7%" in gdp.target and gdp.qualifier == "左右"
    res = row(s.results, "地区生产总值")
    assert res.value == "639.6亿元" and res.growth.startswith("7.9%")
    assert "全市" in res.growth  # the rank where given
    assert row(s.results, "城镇居民人均可支配收入").value == "67738元"
    assert row(s.results, "农村居民人均可支配收入").growth == "8.4%"


def test_cixi_city_wide_and_city_level_are_distinct_rows(seed_summaries):
    s = seed_summaries["cixi-2021"]
    whole = row(s.targets, "地区生产总值（全市）")
    level = row(s.targets, "地区生产总值（市级）")
    assert whole.target.endswith("7.3%") and level.target.endswith("7%") and level.target != whole.target
    assert row(s.targets, "一般公共预算收入（全市）").target.endswith("6.3%")
    assert row(s.targets, "一般公共预算收入（市级）").target.endswith("6.5%")
    r_whole = row(s.results, "地区生产总值（全市）")
    r_level = row(s.results, "地区生产总值（市级）")
    assert (r_whole.value, r_whole.growth) == ("2008.3亿元", "4.8%")
    assert (r_level.value, r_level.growth) == ("1328.3亿元", "3.8%")
    # five-year figures are labelled as such, not mixed with the year's
    assert any("十三五" in r.indicator for r in s.results)
    assert any("十四五" in r.indicator for r in s.targets)
    assert not any("十四五" in r.indicator for r in s.targets[:4])


def test_figures_are_never_invented():
    # the extractor only returns verbatim pieces of the sentence
    text = "全年实现地区生产总值 1170.1 亿元，增长 6.1%；一般公共预算收入、城乡居民收入与经济增长基本同步。"
    rows = S._figures(text, 0, len(text), "results", "", text, "一、回顾", False)
    assert [(r.canon, r.a, r.b) for r in rows] == [("地区生产总值", "1170.1亿元", "6.1%")]
    text = "服务业增加值、商品销售额分别增长6.5%和7.5%，工业投资、民间投资分别增长10%和9.5%以上。"
    rows = S._figures(text, 0, len(text), "targets", "", text, "三、2021年主要工作安排", False)
    got = {r.canon: (r.a, r.b) for r in rows}
    assert got["服务业增加值"] == ("增长6.5%", "") and got["商品销售额"] == ("7.5%", "")
    assert got["工业投资"] == ("增长10%", "") and got["民间投资"] == ("9.5%", "以上")
    # a share of GDP is not GDP, "服务贸易进出口" is not total trade
    text = "服务业增加值占GDP比重达到67.8%，服务贸易进出口总额增长 13%以上。"
    rows = S._figures(text, 0, len(text), "results", "", text, "一、回顾", False)
    assert [(r.canon, r.a) for r in rows] == [("服务业增加值", "占GDP比重达到67.8%")]


# --------------------------------------------------------------------------- progress and cache


def test_progress_goes_over_sections():
    calls = []
    s = S.summarize_report("jiangbei-2020", use_cache=False, progress=lambda d, t: calls.append((d, t)))
    assert len(calls) > 5
    assert calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert s.tasks


def test_cache_hit_and_changed_report_is_resummarised(seeds_copy, monkeypatch, _home):
    monkeypatch.setenv("RAG_SEEDS", str(seeds_copy))
    first = S.summarize_report("haishu-2020")
    assert not first.cached
    second = S.summarize_report("haishu-2020")
    assert second.cached
    assert second.results == first.results and second.tasks == first.tasks
    assert second.to_markdown().replace(" · 缓存命中", "") == first.to_markdown()
    files = list((_home / "summaries").glob("*.json"))
    assert len(files) == 1
    # the file changes: summarised again, with the new figure
    path = seeds_copy / "002_e628585dbd2362fe.txt"
    raw = path.read_text(encoding="utf-8")
    path.write_text(raw.replace("1170.1 亿元", "1180.4 亿元"), encoding="utf-8")
    third = S.summarize_report("haishu-2020")
    assert not third.cached
    assert row(third.results, "地区生产总值").value == "1180.4亿元"
    assert third.doc_sha256 != first.doc_sha256
    assert S.summarize_report("haishu-2020").cached
    assert len(list((_home / "summaries").glob("*.json"))) == 2
    # use_cache=False never reads it
    assert not S.summarize_report("haishu-2020", use_cache=False).cached


def test_summarize_all_covers_the_seeds():
    seen = []
    out = S.summarize_all(progress=lambda d, t: seen.append((d, t)))
    assert [s.report.id for s in out] == IDS
    assert seen[-1][0] == seen[-1][1]
    assert all(s.cached for s in S.summarize_all())


# --------------------------------------------------------------------------- bad input


def test_unknown_id_lists_the_known_ids(capsys):
    with pytest.raises(S.UnknownReport) as exc:
        S.summarize_report("nosuch-2020")
    msg = str(exc.value)
    for rid in IDS:
        assert rid in msg
    ns = argparse.Namespace(reports=["nosuch-2020"], all=False, json=False, out=None, llm=False)
    assert S.cmd_summarize(ns) == 2
    err = capsys.readouterr().err
    assert "nosuch-2020" in err and "haishu-2020" in err


def test_file_names_and_paths_resolve():
    a = S.summarize_report("002_e628585dbd2362fe.txt")
    b = S.summarize_report(str(SEEDS / "002_e628585dbd2362fe.txt"))
    assert a.report.id == b.report.id == "haishu-2020"


def test_empty_and_headingless_documents(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n", encoding="utf-8")
    s = S.summarize_report(str(empty))
    assert s.overview == () and s.results == () and s.notes
    assert "empty" in s.to_markdown() or "没有内容" in s.to_markdown()
    json.dumps(s.to_dict())

    flat = tmp_path / "flat.txt"
    body = "去年全区经济平稳运行，地区生产总值增长5.2%，一般公共预算收入达到30亿元。我们将继续推进改革开放，改善民生。\n"
    flat.write_text(body, encoding="utf-8")
    s = S.summarize_report(str(flat))
    assert 1 <= len(s.overview) <= 5
    assert_grounded(s, body)
    assert row(s.results, "地区生产总值").growth == "5.2%"
    assert any("无章节" in n or "no headings" in n for n in s.notes)

    one = tmp_path / "one.txt"
    one.write_text("hello", encoding="utf-8")
    s = S.summarize_report(str(one))
    assert_grounded(s, "hello")
    assert len(s.to_markdown().splitlines()) < 20

    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(S.SummaryError):
        S.summarize_report(str(binary))


# --------------------------------------------------------------------------- CLI


def test_cli_prints_and_writes(tmp_path, capsys):
    p = argparse.ArgumentParser(prog="rag")
    sub = p.add_subparsers(dest="cmd", required=True)
    S.add_parser(sub)
    args = p.parse_args(["summarize", "haishu-2020", "--json", "--quiet"])
    assert args.func is S.cmd_summarize and args.reports == ["haishu-2020"] and args.json and not args.llm
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["report"]["id"] == "haishu-2020" and data["targets"]

    args = p.parse_args(["summarize", "cixi-2021", "--quiet"])
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith("# 慈溪市2021年政府工作报告")

    out = tmp_path / "out"
    args = p.parse_args(["summarize", "--all", "--out", str(out), "--quiet"])
    assert args.func(args) == 0
    for rid in IDS:
        assert (out / f"{rid}.md").read_text(encoding="utf-8").startswith("# ")
        assert json.loads((out / f"{rid}.json").read_text(encoding="utf-8"))["report"]["id"] == rid

    args = p.parse_args(["summarize", "--quiet"])
    assert args.func(args) == 2


# --------------------------------------------------------------------------- LLM path (fake and dead)


CFG = LLMConfig("http://127.0.0.1:9/v1", "fake-model", timeout=5)


def test_llm_lines_are_guarded_and_budgeted(monkeypatch):
    monkeypatch.setenv("RAG_LLM_CONTEXT", "1024")
    sent: list[int] = []

    def fake(cfg, msgs, max_tokens):
        sent.append(sum(tokens.count(m[1]) for m in msgs) + max_tokens)
        user = msgs[1][1]
        if "材料：" in user:  # reduce
            return "报告总结了2019年工作 [1]。地区生产总值增长99.9% [1]。今年要推进八方面工作 [3]。"
        if "聚焦以进固稳" in user:
            return "推动产业转型，规上工业增加值增长6%。"  # true: in the section
        if "聚焦创新驱动" in user:
            return "新开工项目 350 个。"  # invented: replaced by the extractive bullet
        return "<p><p><p><p>"  # junk: extractive there

    monkeypatch.setattr(S, "_complete", fake)
    s = S.summarize_report("haishu-2020", llm_cfg=CFG, use_cache=False)
    text = (SEEDS / s.report.file).read_text(encoding="utf-8")
    assert s.mode == "llm:fake-model"
    assert max(sent) <= 1024  # every call fits the context
    assert s.tasks[0].text == "（一）聚焦以进固稳，推动产业转型持续提质：推动产业转型，规上工业增加值增长6%。"
    assert "350" not in s.tasks[1].text and s.tasks[1].text.startswith("（二）")
    assert any("350" in n for n in s.notes)
    flagged = [x for x in s.overview if x.flagged]
    assert [x.text for x in flagged] == ["地区生产总值增长99.9%。"]
    assert any(not x.flagged and "八方面" in x.text for x in s.overview)
    assert_grounded(s, text, allow_flagged=True)
    # the tables stay extractive
    assert row(s.results, "地区生产总值").value == "1170.1亿元"


def test_llm_failing_midway_keeps_finished_sections(monkeypatch):
    calls = {"n": 0}

    def fake(cfg, msgs, max_tokens):
        calls["n"] += 1
        if calls["n"] > 3:
            raise LLMError("LLM endpoint x is not reachable (connection refused); answering extractively", "unreachable")
        return "这一部分总结了工作。"

    monkeypatch.setattr(S, "_complete", fake)
    s = S.summarize_report("jiangbei-2018-article", llm_cfg=CFG)
    assert s.mode == "llm:fake-model"
    assert any("失败" in n and "3" in n for n in s.notes)
    llm_lines = [t for t in s.tasks if t.text.endswith("这一部分总结了工作。")]
    assert 1 <= len(llm_lines) <= 3
    assert len(s.tasks) == 5
    # a partial LLM summary is not cached: the next run tries again
    calls["n"] = -100
    again = S.summarize_report("jiangbei-2018-article", llm_cfg=CFG)
    assert not again.cached and not any("失败" in n for n in again.notes)
    assert S.summarize_report("jiangbei-2018-article", llm_cfg=CFG).cached
    # extractive and LLM summaries are cached apart
    assert not S.summarize_report("jiangbei-2018-article").cached


def test_dead_endpoint_gives_the_extractive_summary_with_a_note():
    try:
        from llm_server import free_port
    except ImportError:
        from tests.llm_server import free_port
    cfg = LLMConfig(f"http://127.0.0.1:{free_port()}/v1", "gemma-3-270m", timeout=5)
    s = S.summarize_report("haishu-2020", llm_cfg=cfg)
    plain = S.summarize_report("haishu-2020", use_cache=False)
    assert s.mode == "extractive"
    assert any("not reachable" in n or "失败" in n for n in s.notes)
    assert s.results == plain.results and s.tasks == plain.tasks
    assert not S.summarize_report("haishu-2020", llm_cfg=cfg).cached  # failures are not cached


def test_llm_setting_comes_from_the_environment(monkeypatch):
    try:
        from llm_server import free_port
    except ImportError:
        from tests.llm_server import free_port
    # no LLM configured (conftest clears it): extractive
    assert S.summarize_report("jiangbei-2018-article").mode == "extractive"
    # configured (here: nothing listening) → tried, then extractive with a note
    monkeypatch.setenv("RAG_LLM_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("RAG_LLM_MODEL", "gemma-3-270m")
    s = S.summarize_report("jiangbei-2018-article", use_cache=False)
    assert s.mode == "extractive" and any("reachable" in n for n in s.notes)
    # llm_cfg=False forces the extractive summary, no LLM call, no note
    s = S.summarize_report("jiangbei-2018-article", llm_cfg=False, use_cache=False)
    assert s.mode == "extractive" and not s.notes
    # a broken configuration is said, not raised
    monkeypatch.delenv("RAG_LLM_MODEL")
    s = S.summarize_report("jiangbei-2018-article", use_cache=False)
    assert s.mode == "extractive" and any("RAG_LLM_MODEL" in n for n in s.notes)


# --------------------------------------------------------------------------- the real server (slow)


MINI = """某区2020年政府工作报告

一、2019年工作回顾

全年实现地区生产总值 1170.1 亿元，增长 6.1%；一般公共预算收入 112.5 亿元，增长 7.5%。我们推进了产业转型和城市更新。

二、2020年主要目标任务

建议奋力实现地区生产总值增长6.5%左右。围绕预期目标，重点做好两方面工作：

（一）推动产业转型

规上工业增加值增长6%，固定资产投资增长10%。

（二）增进民生福祉

城镇新增就业 18500 人以上，新建学校9所。
"""


@pytest.mark.slow
def test_llm_map_reduce_with_the_real_server(monkeypatch, tmp_path):
    try:
        from llm_server import LLMServerUnavailable, start_llm_server
    except ImportError:
        from tests.llm_server import LLMServerUnavailable, start_llm_server
    import os

    doc = tmp_path / "mini.txt"
    doc.write_text(MINI, encoding="utf-8")
    try:
        base_url, model, stop = start_llm_server()
    except LLMServerUnavailable as exc:
        if os.environ.get("RAG_SKIP_LLM_SERVER") == "1":
            pytest.skip(f"RAG_SKIP_LLM_SERVER=1: {exc}")
        pytest.fail(str(exc), pytrace=False)
    try:
        monkeypatch.setenv("RAG_LLM_BASE_URL", base_url)
        monkeypatch.setenv("RAG_LLM_MODEL", model)
        monkeypatch.setenv("RAG_LLM_TIMEOUT", "120")
        # short replies keep the 270M model on 2 cores quick; the budgets still hold
        monkeypatch.setattr(S, "MAP_OUT_TOKENS", 48)
        monkeypatch.setattr(S, "REDUCE_OUT_TOKENS", 64)
        from rag.llm import config_from_env

        cfg = config_from_env()
        calls = []
        real = S._complete

        def spy(cfg, msgs, max_tokens):
            calls.append(max_tokens)
            return real(cfg, msgs, max_tokens)

        monkeypatch.setattr(S, "_complete", spy)
        progress = []
        s = S.summarize_report(str(doc), llm_cfg=cfg, progress=lambda d, t: progress.append((d, t)))
        # map over the sections (title, two part intros, two task sections), then one reduce
        assert calls == [48] * 5 + [64], calls
        assert progress[-1][0] == progress[-1][1]
        assert not any("失败" in n for n in s.notes), s.notes
        assert s.mode in (f"llm:{model}", "extractive")  # extractive where every reply was unusable (noted)
        if s.mode == "extractive":
            assert any("不可用" in n for n in s.notes)
        # every number either passes the guard, or the line is flagged / replaced
        known = "、".join([s.report.title, "2020", "2019"])
        for c in s.citations():
            assert MINI[c.start : c.end] == c.quote
        for line in s.overview + s.tasks:
            assert line.citations
            if not line.flagged:
                assert check(line.text, [c.quote for c in line.citations], question=known).ok, line
        # the tables are extracted, never the LLM's
        assert row(s.targets, "地区生产总值").target == "增长6.5%"
        assert row(s.results, "地区生产总值").value == "1170.1亿元"
        assert [t.text[:8] for t in s.tasks][0].startswith("（一）")
    finally:
        stop()
    # the endpoint is gone now: the same call falls back to the extractive summary, with a note
    s = S.summarize_report(str(doc), llm_cfg=cfg, use_cache=False)
    assert s.mode == "extractive" and any("reachable" in n or "失败" in n for n in s.notes)
