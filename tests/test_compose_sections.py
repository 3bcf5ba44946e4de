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


def _corpus(text: str, year: int):
    """A one-report corpus over ``text``, a report of ``year`` reviewing the year before."""
    from types import SimpleNamespace

    from rag import load
    from rag.structure import sections
    from rag.types import Document, Report

    rep = Report(id=f"mou-{year}", file="m.txt", title="", region="", level="", year=year, review_years=(year - 1,),
                 plan_years=(year,), key="k")
    doc = Document(report=rep, path="", text=text, format="text", encoding="utf-8", sha256="",
                   keep=load.content_spans(text))
    secs = sections(doc)
    return SimpleNamespace(sections=lambda key: secs, text=lambda key: text, report=lambda key: rep,
                           section_at=lambda key, pos: max((s for s in secs if s.start <= pos), key=lambda s: s.start,
                                                           default=None))


def _pieces(question: str, text: str = PARTS):
    from rag.compose_sections import section_pieces
    from rag.query import analyze
    from rag.route import Route
    from rag.settings import AnswerWeights

    q = analyze(question)
    return section_pieces(q, Route("", 0, q.time, ("k",)), _corpus(text, 2025), AnswerWeights())


def test_a_plan_question_is_not_summarised_from_the_review():
    assert _pieces("2025年民生方面有哪些安排?") == []  # the plan's part says 民生 in other words
    got = _pieces("2024年民生方面取得了哪些成绩?")
    assert got and "新建养老服务中心6个" in " ".join(p.text for p in got)


# a county's 2021 report (written for this test): the year's review, then the five-year
# plan period's, in parallel parts that each open with the period
PERIOD = "\n".join([
    "某县2021年政府工作报告",
    "一、2020年和“十三五”时期工作回顾",
    "（一）疫情防控有力有效",
    "实现本地病例零新增，复工复产率100%。",
    "（二）项目建设加快推进",
    "实施重点项目86个，完成投资125亿元。",
    "过去五年，经济实力跃上新台阶。全县地区生产总值达到512亿元，年均增长7.6%。一般公共预算收入年均增长9.1%。",
    "过去五年，城乡面貌焕然一新。完成旧城改造240万平方米，新建农村公路680公里。",
    "过去五年，民生福祉持续增进。累计新增城镇就业6.8万人，城乡居民收入比缩小到1.71。",
    "各位代表！成绩来之不易。这是全县人民团结奋斗的结果。",
    "二、“十四五”时期的主要目标",
    "——发展能级显著提升。地区生产总值突破700亿元。",
    "——民生保障更有温度。居民收入增长与经济增长同步。",
    "三、2021年主要工作",
    "（一）加快产业转型",
    "新增规上工业企业50家。",
])


def _period(question: str):
    from rag.compose_sections import period_pieces
    from rag.query import analyze
    from rag.route import Route

    q = analyze(question)
    return [p.text for p in period_pieces(q, Route("", 0, q.time, ("k",)), _corpus(PERIOD, 2021), 8)]


def test_a_five_year_review_is_summarised_by_its_parallel_parts():
    got = _period("“十三五”时期取得了哪些成就?")
    assert len(got) == 3 and all(line.startswith("过去五年") for line in got)
    assert "512亿元" in got[0] and "民生福祉持续增进" in got[2]


def test_the_part_naming_the_topic_is_given_alone_without_the_address_after_it():
    got = _period("过去五年民生福祉方面有哪些亮点?")
    assert got[0].startswith("过去五年，民生福祉持续增进") and "6.8万人" in " ".join(got)
    assert not any("各位代表" in line or "成绩来之不易" in line for line in got)


def test_a_period_the_report_plans_or_a_single_year_is_not_a_review():
    assert _period("“十四五”时期的主要目标是什么?") == []
    assert _period("2020年项目建设有哪些成绩?") == []


def test_a_heading_may_shorten_a_term_to_its_head_but_a_generic_head_names_nothing():
    from rag.compose_sections import _named

    assert _named("扩大内需", "（一）聚力扩内需、稳外需") == 2.0
    assert _named("对外开放", "打造内陆开放高地") == 2.0
    assert _named("扩大内需", "扩大内需") == 4.0
    assert _named("重大任务", "二、主要目标和任务") == 0.0
    assert _named("外需", "稳外贸") == 0.0  # a two-character term is its own head


def test_a_top_part_is_summarised_by_its_sub_parts_not_the_heads_inside_them():
    text = "\n".join([
        "某州2025年政府工作报告",
        "一、2024年工作回顾",
        "（一）产业发展势头良好",
        "一年来做了大量工作。工业提质增效。规上工业增加值增长8.2%，新增规上企业60家以上。服务业加快发展。服务业增加值增长6.1%，限上商贸企业增加到320家。",
        "（二）改革开放持续深化",
        "营商环境持续改善，新设经营主体2.1万户。",
        "（三）民生保障更加有力",
        "城镇新增就业1.5万人，新建幼儿园12所。",
        "（四）安全底线牢牢守住",
        "安全生产事故起数下降12%。",
        "二、2025年工作安排",
        "（一）加快产业转型",
        "新增规上工业企业50家。",
    ])
    got = [p.text for p in _pieces("2024年工作回顾讲了哪几个方面?", text)]
    assert [g[:7] for g in got[1:]] == ["（一）产业发展", "（二）改革开放", "（三）民生保障", "（四）安全底线"]
    assert len(got) == 5 and not any(g.startswith(("工业提质增效", "服务业加快发展")) for g in got)


# a city's 2025 report (written for this test): the plan part's general requirements, then
# a single line announcing its tasks over nine sub-parts, and a second plan part without
# sub-parts
TASKS = "\n".join([
    "某市2025年政府工作报告",
    "一、2024年工作回顾",
    "一年来，经济运行稳中有进。地区生产总值增长5.6%。",
    "二、2025年总体要求和主要目标",
    "今年政府工作的总体要求是稳中求进。地区生产总值增长5.5%左右。",
    "三、2025年重点工作",
    "重点抓好九个方面工作：",
    *[f"（{n}）{t}" + "\n" + f"{t}是今年的重要任务，要抓紧抓实。" for n, t in zip(
        "一二三四五六七八九",
        ["扩大有效投资", "提振居民消费", "发展先进制造", "推进城乡融合", "深化改革开放",
         "加强生态保护", "办好民生实事", "守牢安全底线", "推动边境发展"])],
])


def test_the_tasks_announced_by_one_line_are_all_listed():
    got = [p.text for p in _pieces("今年重点做哪几方面工作?", TASKS)]
    assert [g[:3] for g in got if g.startswith("（")] == [f"（{n}）" for n in "一二三四五六七八九"]  # all nine, past the line limit


def test_of_two_plan_parts_a_question_naming_none_gets_the_one_with_sub_parts():
    got = [p.text for p in _pieces("今年工作安排有哪些?", TASKS)]
    assert any("推动边境发展" in g for g in got) and not any("总体要求" in g for g in got)


def test_a_paragraphs_opening_sentence_with_a_count_is_a_run_in_head():
    text = ("（七）聚焦改善民生，着力增强群众获得感。加大民生投入。\n"
            "办好15件民生实事。新建城市书房30个，改造老旧小区120个，新增托位2000个。\n"
            "发展社会事业。城镇新增就业8万人，新建改建幼儿园20所。")
    heads = [text[a:b] for a, b in inline_heads(text, 0, len(text))]
    assert heads == ["办好15件民生实事。", "发展社会事业。"]
    mid = "（七）聚焦改善民生。新增就业8万人。办好15件民生实事。城镇新增就业8万人，新建改建幼儿园20所，更多更多。"
    assert [mid[a:b] for a, b in inline_heads(mid, 0, len(mid))] == []  # inside a paragraph, a count is a figure


def test_a_topic_ending_in_a_generic_word_is_named_by_its_field():
    from rag.compose_sections import _named

    assert _named("生态建设", "（九）以治沙为牵引，全力推动生态安全屏障建设") == 2.0
    assert _named("重大任务", "（一）扎实推进重大项目建设") == 0.0  # "重大" alone is no field
    assert _named("扩大内需", "聚力扩内需、稳外需") == 2.0


def test_the_general_requirements_are_the_sentence_stating_them_in_the_plan_part():
    from types import SimpleNamespace

    from rag.compose_sections import approach_piece
    from rag.query import analyze
    from rag.route import Route

    base = _corpus(TASKS, 2025)
    corpus = SimpleNamespace(text=base.text, section_at=lambda key, pos: max(
        (s for s in base.sections(key) if s.start <= pos), key=lambda s: s.start, default=None))
    route = Route("", 0, "", ("k",))
    for question in ("今年工作的总体思路是什么？", "What is the overall approach for this year?"):
        p = approach_piece(analyze(question), route, corpus)
        assert p is not None and p.text == "今年政府工作的总体要求是稳中求进。" and TASKS[p.start:p.end] == p.text
    assert approach_piece(analyze("今年重点做哪几方面工作?"), route, corpus) is None


def test_a_head_run_into_its_paragraph_leads_into_the_parts_own_statement():
    text = "\n".join([
        "某自治州2025年政府工作报告",
        "一、2025年工作安排",
        "（一）扩大有效投资。实施重点项目300个，完成投资800亿元。",
        "（二）更好保障和改善民生。坚持尽力而为、量力而行，安排资金48亿元，实施民生实事18项，增强群众获得感。",
        "全力促进就业增收。落实就业优先政策，城镇新增就业3万人，农牧民转移就业20万人以上。",
        "提升医疗卫生服务能力。推进县域医共体建设，新建改建乡镇卫生院12所，乡村医生培训全覆盖。",
    ])
    got = [p.text for p in _pieces("2025年民生方面有哪些安排?", text)]
    assert got and "安排资金48亿元" in got[0] and any(g.startswith("全力促进就业增收") for g in got)


def test_a_heading_naming_one_of_two_topic_words_in_full_is_the_part_asked():
    text = "\n".join([
        "某省2025年政府工作报告",
        "一、2025年工作安排",
        "（一）扩大有效投资",
        "实施重点项目300个，完成投资800亿元。",
        "（二）推动特色文旅产业发展",
        "高水平办好冬季运动会。接待游客增长10%，建设一批度假区。",
    ])
    got = [p.text for p in _pieces("Summarise the province's 2025 plans for cultural tourism and the ice-and-snow economy.", text)]
    assert got and any("冬季运动会" in g for g in got)


def test_of_two_plan_parts_with_sub_parts_the_one_naming_the_year_is_the_years_work():
    text = "\n".join([
        "某县2021年政府工作报告",
        "一、2020年工作回顾",
        "地区生产总值增长3.6%。",
        "二、“十四五”时期的主要目标和任务",
        "（一）发展能级显著提升",
        "地区生产总值突破700亿元。",
        "（二）民生保障更有温度",
        "居民收入增长与经济增长同步。",
        "三、2021年主要工作安排",
        "（一）聚焦科创赋能",
        "研发投入增长10%。",
        "（二）聚焦实体经济",
        "规上工业增加值增长7%。",
    ])
    from rag.compose_sections import section_pieces
    from rag.query import analyze
    from rag.route import Route
    from rag.settings import AnswerWeights

    q = analyze("2021年政府工作重点抓哪几个方面？")
    got = [p.text for p in section_pieces(q, Route("", 2021, "target", ("k",)), _corpus(text, 2021), AnswerWeights())]
    assert got[0] == "三、2021年主要工作安排" and any("科创赋能" in g for g in got)


# a province's review written as "一是…二是…" paragraphs under one heading (written for this test)
ITEMS = "\n".join([
    "某省2025年政府工作报告",
    "一、2024年工作回顾",
    "一年来，主要做了以下工作。",
    "一是坚持以发展现代化大农业为主攻方向，粮食安全根基更加坚实。粮食产量达到780亿斤。新建高标准农田300万亩。",
    "二是因地制宜发展新质生产力，产业体系建设扎实推进。认定高新技术企业900家以上。",
    "二、2025年工作安排",
    "（一）加快农业强省建设",
    "新建高标准农田200万亩。",
])


def test_a_topic_no_heading_names_is_found_in_the_enumerated_paragraph_opening_with_it():
    from rag.compose_sections import item_pieces
    from rag.query import analyze
    from rag.route import Route

    base = _corpus(ITEMS, 2025)
    from types import SimpleNamespace

    corpus = SimpleNamespace(text=base.text, report=base.report, section_at=lambda key, pos: max(
        (s for s in base.sections(key) if s.start <= pos), key=lambda s: s.start, default=None))
    q = analyze("2024年在农业方面取得了哪些成绩？")
    got = [p.text for p in item_pieces(q, Route("", 2024, "result", ("k",)), corpus, 8)]
    assert got[0].startswith("一是坚持以发展现代化大农业") and any("780亿斤" in g for g in got)
    assert not any("200万亩" in g for g in got)  # the plan's paragraph is not the review's
    assert item_pieces(analyze("2024年工作回顾讲了哪几个方面？"), Route("", 2024, "result", ("k",)), corpus, 8) == []


def test_a_summary_by_sub_heads_adds_the_parts_key_figures_from_under_them():
    text = "\n".join([
        "某自治区2025年政府工作报告",
        "一、2025年工作安排",
        "（一）深入推进生态建设",
        "坚决守护蓝天碧水。全面实施生态环境监测能力提升行动。地级市空气质量优良天数比例保持在95%以上，地表水优良比例达到100%。",
        "持续加强生态保护与修复。坚持山水林田湖草沙一体化保护。完成营造林80万亩以上、草原修复120万亩。",
    ])
    got = [p.text for p in _pieces("2025年生态建设有哪些安排?", text)]
    assert any(g.startswith("坚决守护蓝天碧水") for g in got)
    assert any("营造林80万亩以上" in g for g in got) and any("95%以上" in g for g in got)


def test_the_last_part_ends_where_the_closing_words_to_the_congress_begin():
    text = "\n".join([
        "某自治区2025年政府工作报告",
        "一、2025年重点工作",
        "（一）扩大有效投资。实施重点项目300个，完成投资800亿元。",
        "（二）加快推动边境地区发展。坚持固边和兴边并重，努力实现边民富、边关美。",
        "加快推进智慧边防建设，发展边境游和边境贸易。",
        "各位代表！新形势对政府工作提出了新的更高要求。要以赤诚之心讲政治。忠诚捍卫“两个确立”。"
        "要以勤勉之心提效能。坚持民有所盼、政有所为。",
    ])
    got = " ".join(p.text for p in _pieces("2025年边境地区发展方面有哪些安排?", text))
    assert "固边和兴边并重" in got and "智慧边防" in got
    assert "各位代表" not in got and "赤诚之心" not in got and "勤勉之心" not in got


def test_a_topic_named_by_a_sub_head_run_into_a_paragraph_is_summarised_by_its_span():
    from rag.compose_sections import item_pieces
    from rag.query import analyze
    from rag.route import Route

    text = "\n".join([
        "某市2025年政府工作报告",
        "一、2024年工作回顾",
        "（一）坚持开放带动，对外开放水平持续提升。自贸片区建设加快推进。新增制度创新成果12项，跨境贸易便利化水平明显提高。"
        "国际物流大通道建设提质增效。中欧班列开行1200列、增长15%，铁海联运班列通达68个国家和地区的210个港口。"
        "营商环境持续优化。企业开办时间压缩至1个工作日，新增经营主体3.2万户。",
        "二、2025年工作安排",
        "（一）扩大有效投资。实施重点项目300个。",
    ])
    q = analyze("2024年国际物流大通道建设情况概述")
    got = [p.text for p in item_pieces(q, Route("", 2024, "result", ("k",)), _corpus(text, 2025), 8)]
    assert got[0] == "国际物流大通道建设提质增效。" and any("210个港口" in g for g in got)
    assert not any("3.2万户" in g or "制度创新" in g for g in got)  # the next head's span and the one before are not it
