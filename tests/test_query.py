"""rag.query.analyze: what a question asks (intent, indicators and measures), where (regions
resolved against the gazetteer and the indexed reports), when (years, a report's year, a
target or a result, relative years, periods), and what else shapes the answer (list
counts, units, unknown places, follow-ups). Fast: no index, no embedder."""
from __future__ import annotations

import json

import pytest
from fixtures_core import CIXI, HAISHU, JIANGBEI, NINGBO, SUZHOU

from rag.query import Part, analyze

# what Corpus.region_aliases() gives for the seeds, Suzhou and two provinces (tests/test_corpus.py checks it)
ALIASES = {
    "江北区": (JIANGBEI,), "江北": (JIANGBEI,), "海曙区": (HAISHU,), "海曙": (HAISHU,), "慈溪市": (CIXI,), "慈溪": (CIXI,),
    "宁波市": (NINGBO,), "宁波": (NINGBO,), "XX市": (NINGBO,), "XX City": (NINGBO,), "苏州市": (SUZHOU,), "苏州": (SUZHOU,),
    "上海市": ("上海市",), "上海": ("上海市",), "重庆市": ("重庆市",), "重庆": ("重庆市",),
}


def ask(text: str, prev=None, aliases=ALIASES):
    return analyze(text, aliases, prev=prev)


def measures(q) -> list[tuple[str, str]]:
    return [(p.indicator, p.measure) for p in q.parts]


# --------------------------------------------------------------------------- figure questions

FIGURES = [
    # question, intent, time, parts, years, regions
    ("海曙区2020年GDP增长目标是多少?", "figure", "target", [("gdp", "growth")], (2020,), (HAISHU,)),
    ("江北区2019年地区生产总值实际增长了多少?", "figure", "result", [("gdp", "growth")], (2019,), (JIANGBEI,)),
    ("苏州2023年一般公共预算收入是多少亿元?", "figure", "", [("fiscal_revenue", "level")], (2023,), (SUZHOU,)),
    ("上海2025年城镇调查失业率目标", "figure", "target", [("unemployment", "rate")], (2025,), ("上海市",)),
    ("上海2025年研发经费投入强度目标", "figure", "target", [("rd_intensity", "rate")], (2025,), ("上海市",)),
    ("XX市2022年一般公共预算收入增长多少", "figure", "", [("fiscal_revenue", "growth")], (2022,), (NINGBO,)),
    ("宁波市海曙区2020年GDP增长目标", "figure", "target", [("gdp", "growth")], (2020,), (HAISHU,)),
]


@pytest.mark.parametrize("text, intent, time, parts, years, regions", FIGURES, ids=[f[0] for f in FIGURES])
def test_figure_questions(text, intent, time, parts, years, regions):
    q = ask(text)
    assert (q.intent, q.time, measures(q), q.years, q.regions) == (intent, time, parts, years, regions)
    assert not q.english and not q.unknown_places


def test_a_parent_qualifying_its_district_is_not_a_second_region():
    assert ask("宁波市海曙区2020年GDP增长目标").region_names == ("海曙区",)


def test_namesakes_resolve_to_the_indexed_one_unless_the_question_says_which():
    # 江北区 is a district of Ningbo (indexed) and of Chongqing (not indexed)
    assert ask("江北区2019年GDP增长多少").regions == (JIANGBEI,)
    assert analyze("江北区2019年GDP增长多少").regions == ("重庆市/江北区",)  # no corpus: the gazetteer's pick
    assert ask("重庆江北区2024年GDP").regions == ("重庆市/江北区",)
    assert ask("宁波市江北区2019年GDP增长多少").regions == (JIANGBEI,)
    assert ask("What was Suzhou's GDP growth last year?").regions == (SUZHOU,)  # Suzhou is also 宿州 in pinyin


def test_multi_part_questions_name_each_indicator():
    q = ask("慈溪市2021年地区生产总值和一般公共预算收入的增长目标分别是多少？")
    assert q.indicators == ("gdp", "fiscal_revenue") and q.time == "target" and q.regions == (CIXI,)
    q = ask("江北区2019年地区生产总值规模和增速分别是多少")
    assert measures(q) == [("gdp", "level"), ("gdp", "growth")]
    # a shared form is each of the indicators it covers
    assert ask("城乡居民人均可支配收入增长目标是多少").indicators == ("urban_income", "rural_income")
    # the specific wins over the general
    assert ask("慈溪2020年城镇居民人均可支配收入是多少").indicators == ("urban_income",)


def test_a_thing_the_lexicon_does_not_know_asked_beside_an_indicator_is_a_part_of_free_words():
    q = analyze("湘潭市今年城镇新增就业和农村劳动力转移就业目标各是多少？")
    assert [(p.indicator, p.label) for p in q.parts] == [("new_jobs", "城镇新增就业"), ("", "农村劳动力转移就业")]
    # a bare word of a kin indicator is that indicator
    q = analyze("株洲去年粮食播种面积和总产量分别是多少？")
    assert q.indicators == ("grain_area", "grain")
    # two named indicators, or one asked without "each", add nothing
    assert [p.label for p in analyze("株洲市GDP和一般公共预算收入的目标各是多少").parts] == ["gdp", "一般公共预算收入"]
    assert len(analyze("湘潭市城镇新增就业和农村劳动力转移就业情况").parts) == 1
    # a place or a scope joined on is not a thing asked
    assert len(analyze("湖南今年城镇新增就业和长沙的目标各是多少").parts) == 1
    assert len(analyze("株洲今年城镇新增就业和全市的目标各是多少").parts) == 1
    assert len(analyze("湘潭今年各项工作中城镇新增就业和农村劳动力转移就业情况").parts) == 1  # 各项 asks nothing


def test_english_questions_about_what_a_report_says_or_plans_on_a_topic_are_summaries():
    q = analyze("What does Hunan's report say about stabilising foreign trade and foreign investment in 2025?")
    assert q.intent == "summary" and {"外贸", "外资"} <= set(q.topic)  # the indicators' plain words name the part
    q = analyze("What does Guangxi plan for its cultural and tourism industry in 2025?")
    assert q.intent == "summary" and "旅游" in q.topic
    assert analyze("What are Zhuzhou's main tasks for 2025 regarding urban renewal?").intent == "summary"
    assert analyze("Summarise what Xiangtan did on urban–rural development in 2024.").topic == ("城乡",)
    assert analyze("What does Hunan plan for GDP growth in 2025?").intent == "figure"  # a figure named: its figure
    assert analyze("What does Hunan's 2025 government work report say about tourism?").intent == "summary"


def test_last_years_result_and_this_years_target_in_clauses_of_their_own_are_both_asked():
    assert analyze("株洲去年城镇新增就业多少，今年定的目标是多少？").times == ("result", "target")
    assert analyze("湘潭今年粮食产量目标多少？去年实际产了多少？").times == ("target", "result")
    assert analyze("株洲去年GDP增长多少").times == ()
    assert analyze("今年GDP目标比去年实际高还是低").times == ()  # one clause: a comparison
    assert analyze("株洲2024年GDP增长多少，2025年目标是多少").times == ()  # years named: their own routes


def test_a_rate_indicator_asked_in_a_unit_of_its_level_is_asked_as_that_level():
    assert measures(analyze("湘潭今年空气质量优良天数要达到多少天？")) == [("air_quality", "level")]
    assert measures(analyze("湘潭今年空气质量优良天数比例目标是多少？")) == [("air_quality", "rate")]
    assert measures(analyze("What R&D spending intensity is Hunan aiming for this year?")) == [("rd_intensity", "rate")]


def test_an_english_set_up_is_an_establishment_not_a_target():
    q = analyze("How many new foreign-invested enterprises were set up in Hunan in 2024?")
    assert q.time == "result" and "外资企业|外商投资企业" in q.terms
    assert analyze("What did Hunan set for GDP growth this year?").time == "target"
    assert "落后产能" in analyze("How many outdated-capacity firms did Zhuzhou shut down?").terms


def test_more_ways_of_asking_for_a_summary():
    assert analyze("衡阳今年民生方面主要安排了什么？").intent == "summary"
    assert analyze("简要介绍株洲2024年港产城融合发展情况").intent == "summary"
    q = analyze("Brief me on Hunan's auto industry in 2024.")
    assert q.intent == "summary" and "汽车产业" in q.topic


def test_the_review_named_as_a_whole_is_no_topic_and_the_economys_results_are_its_headline():
    from rag.compose import is_headline_summary

    q = analyze("帮我概括株洲2024年的工作回顾")
    assert q.intent == "summary" and q.topic == () and q.time == "result"
    assert is_headline_summary(analyze("总结一下湘潭2024年经济发展的主要成绩"))


def test_an_indicator_is_one_key_term_any_of_whose_report_names_counts():
    from rag.support import has_term

    q = analyze("Did Xiangtan rank first in Hunan for actual foreign investment in 2024?")
    (term,) = [t for t in q.terms if "实际使用外资" in t.split("|")]
    assert has_term(term, "实际利用外资完成率居全省第一")  # the report's other wording of it


def test_shared_growth_predicate_applies_to_every_indicator():
    q = ask("江北区2019年地区生产总值和一般公共预算收入分别增长了多少?")
    assert measures(q) == [("gdp", "growth"), ("fiscal_revenue", "growth")]


def test_urban_and_rural_income_asked_together():
    assert set(ask("城镇和农村居民收入各增长多少").indicators) == {"urban_income", "rural_income"}


def test_two_regions_and_two_years():
    q = ask("上海和重庆2025年GDP增长目标分别是多少")
    assert q.regions == ("上海市", "重庆市") and q.years == (2025,) and q.time == "target"
    q = ask("慈溪2020年和江北2019年GDP分别增长多少")
    assert q.regions == (CIXI, JIANGBEI) and q.years == (2020, 2019)
    assert ask("苏州2023年和2024年GDP增长目标分别是多少").years == (2023, 2024)


# --------------------------------------------------------------------------- time


def test_report_year_is_not_a_data_year():
    q = ask("海曙区2020年政府工作报告中提到的GDP增长目标是多少")
    assert q.report_year == 2020 and q.years == ()
    q = ask("2025年政府工作报告中上海2024年GDP增长多少")
    assert q.report_year == 2025 and q.years == (2024,)
    q = ask("海曙区2020年报告和宁波市2023年报告中的一般公共预算收入分别是多少")
    assert q.report_years == (2020, 2023) and q.years == () and q.regions == (HAISHU, NINGBO)


@pytest.mark.parametrize("text, relative, time", [
    ("江北区去年GDP增长多少", "last", "result"),
    ("江北区今年GDP增长目标", "this", "target"),
    ("苏州明年的GDP目标", "next", "target"),
    ("What was Jiangbei's GDP growth last year?", "last", "result"),
    ("What is Shanghai's GDP growth target this year?", "this", "target"),
])
def test_relative_years_are_left_to_each_report(text, relative, time):
    q = ask(text)
    assert (q.relative, q.time, q.years) == (relative, time, ())


def test_periods():
    q = ask("上海“十四五”期间GDP年均增长多少")
    assert q.period and q.years == ()
    q = ask("2016-2020年慈溪GDP年均增长多少")
    assert q.period and q.years == (2020,)  # answered from the report reviewing the period's end
    q = ask("慈溪“十三五”末常住人口是多少")
    assert q.years == (2020,) and not q.period  # the end of a period is one year
    assert ask("上海过去五年GDP年均增长多少").period
    assert not ask("海曙区2020年GDP增长目标是多少?").period


def test_target_and_result_words():
    assert ask("苏州2023年GDP增长目标是多少？实际增长多少？").time == "target"
    assert ask("苏州2023年完成了GDP增长目标吗").time == "result"
    assert ask("Did Suzhou achieve its 2023 GDP growth target?").time == "result"


def test_did_it_meet_its_target_asks_for_the_result():
    assert ask("Did Suzhou meet its 2023 GDP growth target?").time == "result"


# --------------------------------------------------------------------------- intents


@pytest.mark.parametrize("text, intent", [
    ("上海2025年政府工作报告是谁作的", "speaker"),
    ("Who delivered the 2025 Shanghai government work report?", "speaker"),
    ("“246”产业是指什么", "define"),
    ("慈溪“十四五”时期的主要目标是什么?", "summary"),
    ("哪些省份2025年地区生产总值增长目标在5.5%以上?", "compare"),
    ("Which province set the highest GDP growth target for 2025?", "compare"),
    ("海曙区2020年GDP增长目标是否达到6.5%?", "yesno"),
    ("海曙区2020年要重点做好哪五个方面的工作?", "summary"),
    ("“全国十大考古新发现”是哪个项目", "entity"),
])
def test_intents(text, intent):
    assert ask(text).intent == intent


def test_how_many_points_is_a_figure_question():
    assert ask("海曙区2020年GDP增长目标比上年提高了几个百分点").intent == "figure"


@pytest.mark.parametrize("text, n", [
    ("海曙区2020年要重点做好哪五个方面的工作?", 5),
    ("三大科创引领高地是哪些", 3),
    ("重庆2025年要实施哪十项行动", 10),
    ("苏州2024年有哪12个重点项目", 12),
    ("“全国十大考古新发现”是哪个项目", 0),  # a name, not a list
    ("海曙区2020年GDP增长目标是多少?", 0),
])
def test_list_counts(text, n):
    assert ask(text).list_count == n


def test_points_are_not_a_list_count():
    assert ask("城镇调查失业率下降了2个百分点吗").list_count == 0


@pytest.mark.parametrize("text, kind", [
    ("宁波2022年一般公共预算收入是多少亿元?", "money"),
    ("安吉县2022年城镇新增就业多少万人", "people"),
    ("株洲2023年粮食产量多少亿斤", "mass"),
    ("研发投入强度提高了多少个百分点", "points"),
    ("海曙区2020年GDP增长目标是多少?", ""),
])
def test_unit_kind(text, kind):
    assert ask(text).unit_kind == kind


def test_numeric_only_and_scopes():
    assert ask("上海2025年GDP增长目标的具体数值是多少").numeric_only
    assert not ask("上海2025年GDP增长目标是多少").numeric_only
    assert ask("慈溪市2021年一般公共预算收入全市和市级口径分别是多少").scopes == ("", "市级")
    assert ask("慈溪市2021年市级一般公共预算收入").scopes == ("市级",)


# --------------------------------------------------------------------------- English, unknown places


def test_english_questions():
    q = ask("What was Jiangbei's GDP growth target for 2020?")
    assert q.english and q.intent == "figure" and q.time == "target"
    assert measures(q) == [("gdp", "growth")] and q.years == (2020,) and q.regions == (JIANGBEI,)
    q = ask("What was XX City's fiscal revenue in 2022?")
    assert q.english and q.regions == (NINGBO,) and q.indicators == ("fiscal_revenue",) and q.time == "result"
    assert "一般公共预算收入" in q.search_text  # retrieval gets the Chinese name


@pytest.mark.parametrize("text, unknown", [
    ("火星2020年GDP增长目标是多少?", ("火星",)),
    ("What is the GDP of the moon?", ("moon",)),
    ("What is the GDP growth target of Atlantis City?", ("Atlantis City",)),
])
def test_unknown_places(text, unknown):
    q = ask(text)
    assert q.unknown_places == unknown and q.regions == ()


def test_known_places_are_not_unknown():
    for text in ("海曙区2020年GDP增长目标是多少?", "上海2025年GDP增长目标", "What was Cixi's GDP growth in 2019?",
                 "2024年国内生产总值增长目标是多少"):
        assert ask(text).unknown_places == (), text


def test_the_nation_as_a_yardstick_is_not_asked_about():
    q = ask("江北区2019年GDP增速是否高于全国平均水平")
    assert q.regions == (JIANGBEI,)


def test_a_parent_as_a_yardstick_is_not_asked_about():
    assert ask("海曙区2020年GDP增速在宁波全市排第几").regions == (HAISHU,)
    assert ask("海曙区2020年GDP增速居宁波全市前列吗").regions == (HAISHU,)
    # a parent's scope ("全市") with a figure of its own is a second subject, not a yardstick
    q = ask("慈溪2020年和宁波全市2022年的研发投入强度分别是多少?")
    assert set(q.regions) == {CIXI, NINGBO} and set(q.years) == {2020, 2022}


# --------------------------------------------------------------------------- follow-ups, explain


def test_follow_ups_inherit_what_they_do_not_say():
    first = ask("海曙区2020年GDP增长目标是多少?")
    q = ask("那江北呢?", prev=first)
    assert q.resolved_from == first.text
    assert (q.regions, q.years, q.time, measures(q)) == ((JIANGBEI,), (2020,), "target", [("gdp", "growth")])
    q2 = ask("2019年呢?", prev=q)
    assert q2.regions == (JIANGBEI,) and q2.years == (2019,) and q2.time == ""  # the reports decide
    q3 = ask("And Cixi?", prev=ask("What was Jiangbei's GDP growth in 2019?"))
    assert q3.regions == (CIXI,) and q3.years == (2019,) and q3.resolved_from


def test_a_full_question_is_not_a_follow_up():
    first = ask("慈溪2021年一般公共预算收入增长目标是多少?")
    q = ask("海曙区2020年GDP增长目标是多少?", prev=first)
    assert not q.resolved_from and q.indicators == ("gdp",) and q.regions == (HAISHU,)


def test_explain_is_json_with_indicator_names():
    q = ask("慈溪市2021年地区生产总值和一般公共预算收入的增长目标分别是多少？")
    d = json.loads(json.dumps(q.explain(), ensure_ascii=False))  # serialisable as it is
    assert [p["indicator"] for p in d["parts"]] == ["地区生产总值", "一般公共预算收入"]
    assert d["regions"] == [CIXI] and d["years"] == [2021] and d["intent"] == "figure" and d["time"] == "target"
    assert q.parts[0] == Part("gdp", q.parts[0].measure, "地区生产总值")  # explain does not change the query


@pytest.mark.parametrize("text, want", [
    ("宁波2022年外贸自营进出口总额和出口额各多少?", ["trade", "exports"]),
    ("XX市2022年外贸进出口规模和出口分别是多少？", ["trade", "exports"]),
    ("2024年进口和出口分别增长多少？", ["imports", "exports"]),
])
def test_a_broader_indicator_asked_beside_a_narrower_one_is_kept(text, want):
    assert [p.indicator for p in analyze(text).parts] == want


def test_the_narrower_indicator_takes_the_measure_said_after_the_broader_words():
    # "urban residents' per capita disposable income grow": the predicate follows the broader
    # indicator's words, and belongs to the narrower one that is asked
    q = ask("By what percentage did urban residents' per capita disposable income grow in Ningbo in 2022?")
    assert measures(q) == [("urban_income", "growth")]
    assert measures(ask("What was urban residents' per capita disposable income in Ningbo in 2022?")) == [("urban_income", "")]


def test_a_report_year_belongs_to_the_region_whose_report_it_names():
    q = ask("龙观乡在海曙区报告和宁波市2023年报告里分别获得了哪些荣誉?")
    assert q.regions == (HAISHU, NINGBO) and q.report_years == (0, 2023) and q.report_year == 0 and q.years == ()
    # one year after two regions is both reports' year
    q2 = ask("宁波和慈溪2023年报告中GDP增长多少")
    assert q2.report_year == 2023 and 0 not in q2.report_years
    q3 = ask("海曙区2020年报告和宁波市2023年报告中关于龙观乡的内容")
    assert q3.report_years == (2020, 2023)


def test_a_place_name_inside_a_proper_name_is_not_a_region_asked():
    assert ask("宁波舟山港2022年货物吞吐量是多少?").regions == (NINGBO,)  # the port, not 舟山市
    assert ask("南京大学2024年招生多少人?").regions == ()
    assert ask("舟山2022年GDP增长多少?").regions == ("浙江省/舟山市",)


def test_colloquial_section_questions_are_summaries():
    for q in ("贵州去年在城市更新方面做了什么?", "今年在稳外贸方面有什么安排?", "明年准备怎么抓农村改革?",
              "山东2023年教育方面干了哪些事?"):
        assert analyze(q).intent == "summary", q
    assert analyze("明年准备怎么抓农村改革?").time == "target"
    # generic words name no part of a report
    assert analyze("广西2024年经济社会发展取得了哪些成就?").topic == ()


def test_english_questions_for_the_main_figures_are_headline_summaries():
    from rag.compose import is_headline_summary

    for q in ("Summarize Hunan's main economic targets for 2025.", "What were the key 2024 economic indicators of Gansu?",
              "Give an overview of Hubei's main economic and social results in 2024."):
        assert is_headline_summary(analyze(q)), q
    assert not is_headline_summary(analyze("Summarize Hunan's plans for rural revitalisation in 2025."))


def test_a_definition_asked_with_a_count_is_a_list_and_recognised_is_no_target():
    assert analyze("“三个中心”是指哪三个？").intent == "list"
    assert analyze("“三个中心”是指什么？").intent == "define"
    q = analyze("哪个园区被认定为国家级示范园区？")
    assert q.intent == "entity" and q.time != "target"


def test_the_digital_economy_as_a_whole_is_not_its_core_industries():
    assert [p.indicator for p in analyze("甘肃2025年数字经济规模要达到多少？").parts] == ["digital_scale"]
    assert [p.indicator for p in analyze("数字经济核心产业增加值增长多少？").parts] == ["digital_va"]


def test_a_shared_ending_after_a_year_still_makes_two_parts():
    q = analyze("湖南2024年城镇和农村常住居民人均可支配收入分别增长多少？")
    assert [(p.indicator, p.measure) for p in q.parts] == [("urban_income", "growth"), ("rural_income", "growth")]


def test_words_about_the_answer_itself_name_no_part():
    assert analyze("青海2023年主要从哪几个方面推进工作？请简要概括。").topic == ()


def test_the_parts_of_the_years_work_are_a_summary_but_a_quoted_names_members_a_list():
    q = analyze("青海2021年重点做好哪六个方面的工作？")
    assert q.intent == "summary" and q.topic == () and q.list_count == 6
    assert analyze("青海2021年的重点任务包括哪些内容？").intent == "summary"
    assert analyze("某区“三大行动”指哪三个方面？").intent == "list"


def test_a_broader_indicator_right_before_a_narrower_one_is_not_asked_and_partner_trade_is_not_trade():
    from rag.lexicon import lexicon

    assert [p.indicator for p in analyze("2023年外贸出口增长了多少？").parts] == ["exports"]
    assert [p.indicator for p in analyze("外贸进出口和进口分别增长多少？").parts] == ["trade", "imports"]
    said = [m.indicator for m in lexicon().mentions("进出口总额增长5%，自东盟国家进口增长40%，对欧盟出口下降3%。")]
    assert said == ["trade"]


def test_english_plural_and_singular_glossary_forms_and_english_list_counts():
    from rag.lexicon import lexicon

    lex = lexicon()
    assert ("产业链",) in lex.translate("which industrial chains")
    assert ("政务服务",) in lex.translate("government service applications")
    assert analyze("Which six signature industrial chains did Gansu plan for 2021?").list_count == 6
    assert analyze("Name the three pilot industries of Hubei.").list_count == 3
    assert analyze("What is Hubei's GDP growth target for 2025?").list_count == 0


def test_a_share_of_gdp_asked_in_english_is_the_indicators_share():
    for q in ("What ratio of R&D spending to GDP is Hunan aiming for in 2025?",
              "What share of GDP did Hunan aim for its R&D expenditure to reach in 2025?"):
        assert [(p.indicator, p.measure) for p in analyze(q).parts] == [("rd_intensity", "rate")], q
    assert [p.indicator for p in analyze("What are Hunan's GDP and R&D spending targets?").parts] == ["gdp", "rd_spending"]


def test_who_gave_the_report_and_which_is_strictest_are_read_as_asked():
    assert analyze("某县2020年的政府工作报告由哪位领导所作？").intent == "speaker"
    assert analyze("湖南、湖北今年的PM2.5目标分别是多少？哪个最严？").intent == "compare"
    assert analyze("湖南2019年主要做了哪六方面工作？").intent == "summary"


def test_two_consecutive_years_are_two_years_and_a_longer_span_a_period():
    q = analyze("湖南一般公共预算收入从2023年到2024年是怎么变化的？")
    assert q.years == (2023, 2024) and not q.period
    q = analyze("湖南2016-2020年GDP年均增长多少？")
    assert q.years == (2020,) and q.period


def test_a_target_against_another_years_result_leaves_each_year_its_own_time():
    q = analyze("湖南2025年GDP增长目标比2024年实际增速高还是低？")
    assert q.years == (2025, 2024) and q.time == ""
    assert analyze("湖南2025年GDP增长目标是多少？实际呢？").time == "target"


@pytest.mark.parametrize("q, years", [
    ("株洲19年财政收入多少？", (2019,)),  # a two-digit year
    ("连续18年粮食增产的是哪个县？", ()),  # a duration, not a year
    ("近20年来GDP翻了几番？", ()),
    ("哪个园区产值超2000亿元？", ()),  # an amount, not a year
    ("2023年和2024年GDP各是多少？", (2023, 2024)),
])
def test_years_written_short_are_years_and_amounts_or_durations_are_not(q, years):
    assert analyze(q).years == years


def test_several_short_names_before_a_count_of_autonomous_regions_name_each():
    assert set(analyze("桂新两个自治区今年投资增长目标分别是多少？").regions) == {"广西壮族自治区", "新疆维吾尔自治区"}


@pytest.mark.parametrize("q", ["赣州去年在交通建设上做了些什么？", "湘今年在乡村振兴方面有啥安排？",
                               "南平市2023年经济工作的主要思路是什么？"])
def test_colloquial_section_questions_are_summaries(q):
    assert analyze(q).intent == "summary"


def test_an_english_summary_names_its_part_in_the_reports_words():
    q = analyze("Summarise Jilin's 2025 plans for cultural tourism and the ice-and-snow economy.")
    assert q.intent == "summary" and "冰雪经济" in q.topic and not q.parts  # "economy" here is no GDP
    assert [p.indicator for p in analyze("How fast did the economy of Jilin grow in 2024?").parts] == ["gdp"]


def test_which_district_of_two_is_a_comparison():
    assert analyze("In 2022, which district attracted more foreign investment, Yuelu or Tianxin?").intent == "compare"


def test_a_share_asked_without_its_denominator_is_the_share_of_the_economy():
    p = analyze("株洲2023年服务业在整个经济里占多大分量？").parts
    assert [(x.indicator, x.measure) for x in p] == [("tertiary_va", "rate")]
    assert [(x.indicator, x.measure) for x in analyze("株洲2023年研发经费占比多少？").parts] == [("rd_intensity", "rate")]
    assert analyze("株洲2023年服务业增加值是多少？").parts[0].measure != "rate"


def test_a_parent_with_its_own_year_after_a_child_is_a_second_region():
    q = analyze("株洲2020年和湖南省2022年的研发投入强度各是多少？")
    assert set(q.regions) == {"湖南省/株洲市", "湖南省"} and q.years == (2020, 2022)
    assert analyze("湖南省株洲市2022年研发投入强度是多少？").regions == ("湖南省/株洲市",)  # a qualifier


def test_english_names_in_the_plural_with_hyphens_and_a_shared_ending():
    parts = analyze("What were urban and rural per-capita disposable incomes in Zhuzhou in 2022?").parts
    assert [p.indicator for p in parts] == ["urban_income", "rural_income"]
    assert [p.indicator for p in analyze("How many high tech enterprises did Zhuzhou add?").parts] == ["hightech_firms"]
    # a plural of a fallback word is still a fallback: the named indicator wins
    assert [p.indicator for p in analyze("What are the growth targets for exports and imports?").parts] == ["trade"]


def test_who_gave_the_report_and_at_which_session_asks_both():
    from rag.query import asks_meeting

    assert asks_meeting(analyze("Who delivered Zhuzhou's 2023 report, and at which session?"))
    assert asks_meeting(analyze("株洲2023年报告是谁作的，在哪次会议上？"))
    assert not asks_meeting(analyze("株洲2023年报告是谁作的？"))


def test_an_english_question_quoting_a_figure_searches_for_it_as_written_in_chinese():
    q = analyze("Which park in Zhuzhou has more than 1,250 registered firms?")
    assert "1250" in q.terms
    assert "2024" not in analyze("Which park in Zhuzhou opened in 2024?").terms  # a year is no figure


def test_n_areas_of_work_without_a_measure_word_is_a_list():
    q = analyze("株洲2023年重点做好的八方面工作都是啥？")
    assert q.intent == "list" and q.list_count == 8


@pytest.mark.parametrize("q, n", [("What are the five priority areas in Zhuzhou's 2023 work plan?", 5),
                                  ("What are Zhuzhou's three leading industries?", 3)])
def test_an_english_what_are_the_n_question_is_a_list_of_n(q, n):
    a = analyze(q)
    assert a.intent == "list" and a.list_count == n


@pytest.mark.parametrize("q", ["株洲和湘潭2023年一般公共预算收入哪个多？", "株洲、湘潭2023年谁的GDP增速高？",
                               "Which of Zhuzhou and Xiangtan had higher fiscal revenue in 2023?"])
def test_one_picked_among_named_regions_is_a_comparison(q):
    assert analyze(q).intent == "compare"


def test_which_of_one_regions_things_is_still_a_name():
    assert analyze("株洲2023年哪个产业集群入选国家级名单？").intent in ("entity", "list")
