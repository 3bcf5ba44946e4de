"""Section summaries (rag.compose_sections): the lines a section without sub-heads is
summarised by — its opening, then its key-figure sentences, in text order."""
from __future__ import annotations

from rag.compose_sections import inline_heads, key_sentences

# a plan section of a county report (written for this test), no sub-heads
TEXT = ("深入实施节水行动。我县一方面缺水，一方面用水方式粗放。抓好节水刻不容缓。"
        "农业领域抓好高效节水灌溉。新建高效节水灌溉面积20万亩，力争新增节水2700万立方米以上。"
        "工业领域推广先进节水技术。城市再生水利用率达到50%以上、管网漏损率控制在9%以内、新建节水型小区12个。"
        "完善用水权交易制度。矿井疏干水利用率达到70%以上。")


def _said(spans):
    return [TEXT[a:b] for a, b in spans]


def test_opening_then_the_sentences_with_most_figures_in_text_order():
    got = _said(key_sentences(TEXT, 0, len(TEXT), 6))
    assert got[:3] == ["深入实施节水行动。", "我县一方面缺水，一方面用水方式粗放。", "抓好节水刻不容缓。"]
    assert got[3:] == ["新建高效节水灌溉面积20万亩，力争新增节水2700万立方米以上。",
                       "城市再生水利用率达到50%以上、管网漏损率控制在9%以内、新建节水型小区12个。",
                       "矿井疏干水利用率达到70%以上。"]


def test_the_busiest_figures_win_when_lines_are_few():
    got = _said(key_sentences(TEXT, 0, len(TEXT), 4))
    assert got == ["深入实施节水行动。", "我县一方面缺水，一方面用水方式粗放。",
                   "新建高效节水灌溉面积20万亩，力争新增节水2700万立方米以上。",
                   "城市再生水利用率达到50%以上、管网漏损率控制在9%以内、新建节水型小区12个。"]


def test_no_figures_no_padding():
    plain = "坚持稳中求进。坚持守正创新。坚持系统集成。坚持底线思维。坚持人民至上。"
    assert [plain[a:b] for a, b in key_sentences(plain, 0, len(plain), 8)] == ["坚持稳中求进。", "坚持守正创新。",
                                                                              "坚持系统集成。", "坚持底线思维。"]
    assert key_sentences("", 0, 0, 8) == []


def test_run_in_heads_are_found_inside_a_paragraph():
    text = "一年来主要做了以下工作。新兴业态培育成长。数字经济核心产业增加值增长12%，新增上市公司5家。"
    heads = [text[a:b] for a, b in inline_heads(text, 0, len(text))]
    assert heads == ["新兴业态培育成长。"]


PARTS = "\n".join([
    "某县2025年政府工作报告",
    "一、2024年工作回顾",
    "（一）产业升级步伐加快",
    "新增高新技术企业45家，规上工业增加值增长7.1%。",
    "（二）民生福祉持续改善",
    "城镇新增就业1.2万人。新建养老服务中心6个。",
    "二、2025年重点工作",
    "（一）坚持以人民为中心，推动共同富裕取得新进展",
    "实施就业优先工程，城镇新增就业1.1万人以上。",
])


def _pieces(question: str):
    from types import SimpleNamespace

    from rag.compose_sections import section_pieces
    from rag.query import analyze
    from rag.route import Route
    from rag.settings import AnswerWeights
    from rag.structure import sections
    from rag.types import Document, Report
    from rag import load

    rep = Report(id="mou-2025", file="m.txt", title="", region="", level="", year=2025, review_years=(2024,),
                 plan_years=(2025,), key="k")
    doc = Document(report=rep, path="", text=PARTS, format="text", encoding="utf-8", sha256="",
                   keep=load.content_spans(PARTS))
    secs = sections(doc)
    corpus = SimpleNamespace(sections=lambda key: secs, text=lambda key: PARTS)
    q = analyze(question)
    return section_pieces(q, Route("", 0, q.time, ("k",)), corpus, AnswerWeights())


def test_a_plan_question_is_not_summarised_from_the_review():
    assert _pieces("2025年民生方面有哪些安排?") == []  # the plan's part says 民生 in other words
    got = _pieces("2024年民生方面取得了哪些成绩?")
    assert got and "新建养老服务中心6个" in " ".join(p.text for p in got)
