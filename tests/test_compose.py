"""Pieces of answers (rag.compose): the headline figures of a report, found from its
figures (rag.facts) on a synthetic county report written for this test."""
from __future__ import annotations

from types import SimpleNamespace

from rag import load
from rag.compose import headline
from rag.facts import extract_figures
from rag.route import Route
from rag.structure import sections
from rag.types import Document, Report

REPORT = "\n".join([
    "某县2025年政府工作报告",
    "一、2024年工作回顾",
    "过去一年，全县经济社会发展总体平稳。一是经济运行回升向好。全县地区生产总值增长5.2%，经济总量突破600亿元。"
    "一般公共预算收入达到41.3亿元、增长3.1%，居民消费价格上涨0.4%，城镇调查失业率平均为4.6%。二是产业加快升级。"
    "新增高新技术企业45家。",
    "二、2025年主要目标",
    "全县经济社会发展的主要预期目标是：地区生产总值增长5.5%左右；一般公共预算收入增长4%；城镇调查失业率5.5%以内。",
])


def _corpus():
    rep = Report(id="mou-2025", file="m.txt", title="", region="", level="", year=2025, review_years=(2024,),
                 plan_years=(2025,), key="k")
    doc = Document(report=rep, path="", text=REPORT, format="text", encoding="utf-8", sha256="",
                   keep=load.content_spans(REPORT))
    secs = sections(doc)
    figs = extract_figures(doc, secs)
    return SimpleNamespace(figures=lambda key: figs, text=lambda key: REPORT,
                           section_at=lambda key, pos: next((s for s in reversed(secs) if s.start <= pos), None))


def test_headline_results_take_in_the_figure_sentences_before_and_after_the_busiest():
    p = headline(_corpus(), Route("", 2024, "result", ("k",)), "result")
    assert p.text.startswith("全县地区生产总值增长5.2%，经济总量突破600亿元。")
    assert p.text.endswith("城镇调查失业率平均为4.6%。") and "二是" not in p.text
    assert REPORT[p.start:p.end] == p.text


def test_headline_targets():
    p = headline(_corpus(), Route("", 2025, "target", ("k",)), "target")
    assert p.text.startswith("全县经济社会发展的主要预期目标是") and "5.5%左右" in p.text


def test_headline_of_asked_indicators_only():
    """A summary asked about some indicators is answered by a sentence stating them, or not at all."""
    p = headline(_corpus(), Route("", 2024, "result", ("k",)), "result", frozenset({"hightech_firms"}))
    assert p.text == "新增高新技术企业45家。"
    assert headline(_corpus(), Route("", 2024, "result", ("k",)), "result", frozenset({"grain"})) is None


def test_the_meeting_is_found_where_the_title_lines_break_it():
    from rag.compose import speaker_piece
    from rag.query import analyze

    text = "政府工作报告\n\n2024 年 1 月 9 日在某某县  \n第十八届人民代表大会第三次会议上\n\n县长 李某\n\n各位代表：\n"
    rep = Report(id="mou", file="m.txt", title="某某县2024年政府工作报告", region="", level="", year=2024,
                 meeting="某某县第十八届人民代表大会第三次会议", speaker="县长 李某", key="k")
    corpus = SimpleNamespace(by_key={"k": rep}, text=lambda key: text)
    p = speaker_piece(analyze("这份报告是在哪次会议上作的？"), Route("", 0, "", ("k",)), corpus)
    assert p is not None and "第十八届人民代表大会第三次会议" in p.text
    assert text[p.start:p.end].startswith("2024 年 1 月 9 日") and text[p.start:p.end].endswith("会议上")
    # asked with the speaker: the meeting line, on its own intent
    q = analyze("这份报告是谁作的，在哪次会议上？")
    who, where = (speaker_piece(q, Route("", 0, "", ("k",)), corpus, i) for i in ("speaker", "meeting"))
    assert "李某" in who.text and "第三次会议" in where.text and who.start != where.start


def test_a_paragraph_without_a_full_stop_is_cut_to_the_clauses_that_answer():
    from rag.compose import focus

    text = "，".join(f"第{i}项工作稳步推进" for i in range(40)) + "，有效应对“海葵”台风影响，" + "，".join(
        f"第{i}项任务全面完成" for i in range(40)) + "。"
    a, b = focus(text, 0, len(text), ("台风",), 120)
    assert "“海葵”台风" in text[a:b] and b - a <= 120
    assert focus("短句。", 0, 3, ("台风",), 120) == (0, 3)


def test_a_unit_asked_in_a_multi_part_question_binds_only_its_own_part():
    from rag.compose import fits
    from rag.query import analyze
    from rag.types import Figure

    q = analyze("湖南2024年接待游客多少人次、实现旅游收入多少？")
    money = Figure("r", "tourism_revenue", "level", "result", 2024, 1800.0, "1800亿元", unit="亿元")
    people = Figure("r", "tourists", "level", "result", 2024, 1.5, "1.5亿人次", unit="亿人次")
    assert fits(q, money) and fits(q, people)
    one = analyze("湖南2024年旅游收入多少人次？")
    assert not fits(one, money)
