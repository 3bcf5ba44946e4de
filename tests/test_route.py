"""rag.route.plan over an indexed corpus (seeds, ten provinces, fixture reports): a region is
answered only from its own reports, a year's target from the report planning it and its
result from the report reviewing it, report years pair with their regions, and a route
nobody covers says what is indexed."""
from __future__ import annotations

import pytest
from fixtures_core import CIXI, HAISHU, JIANGBEI, NINGBO, SUZHOU, core, report

from rag.query import analyze
from rag.route import MAX_ROUTES, Route, coverage, indexed_regions, own_year, plan


@pytest.fixture(scope="module")
def corpus():
    return core().corpus


def routes(corpus, text, only=None):
    return plan(analyze(text, corpus.region_aliases()), corpus.reports, only)


def ids(corpus, rt: Route) -> list[str]:
    return [corpus.by_key[k].id for k in rt.reports]


# --------------------------------------------------------------------------- strict regions

QUESTIONS = [
    "江北区2019年GDP增长多少", "江北区2020年GDP增长目标", "宁波2022年GDP增长多少", "XX市2022年一般公共预算收入",
    "慈溪2019年GDP增长", "海曙2020年GDP增长目标是多少，江北呢", "苏州去年GDP增长多少", "重庆2025年GDP增长目标",
    "西湖区2024年GDP增长目标", "安吉2022年GDP增长多少", "全国2024年GDP增长目标", "What was Cixi's GDP growth in 2019?",
    "重庆江北区2024年GDP增长多少", "浙江2020年GDP增长目标", "吉林市2024年GDP", "南昌西湖区2023年GDP",
]


@pytest.mark.parametrize("text", QUESTIONS)
def test_a_region_is_answered_only_from_its_own_reports(corpus, text):
    for rt in routes(corpus, text):
        assert rt.region, text
        assert rt.reports or rt.problem
        # its own reports; or, with no report of its own, a containing region's, for the
        # sentences that write its name only
        own = [corpus.by_key[k].region_key == rt.region for k in rt.reports]
        above = [rt.region.startswith(corpus.by_key[k].region_key + "/") for k in rt.reports]
        assert all(own) or (rt.within and all(above)), (text, ids(corpus, rt))


def test_jiangbei_never_routes_to_other_ningbo_reports(corpus):
    for text in ("江北区2019年GDP增长多少", "江北2020年一般公共预算收入目标", "What was Jiangbei's GDP growth in 2019?"):
        got = {i for rt in routes(corpus, text) for i in ids(corpus, rt)}
        assert got and got <= {"jiangbei-2020", "jiangbei-2018-article"}, text
    # the city is not answered from its districts, nor the district from the city
    assert [ids(corpus, rt) for rt in routes(corpus, "宁波2022年GDP增长多少")] == [["ningbo-2023"]]


def test_a_namesake_not_indexed_is_not_answered_by_the_indexed_one(corpus):
    (rt,) = routes(corpus, "重庆江北区2024年GDP增长多少")
    assert rt.region == "重庆市/江北区" and not rt.reports and "没有重庆市江北区的报告" in rt.problem
    # 吉林省 is indexed, 吉林市 is not: the province's report, for sentences writing 吉林市
    # (not 吉林, the province's own short name)
    (rt,) = routes(corpus, "吉林市2024年GDP")
    assert rt.region == "吉林省/吉林市" and rt.within == ("吉林市",) and "没有吉林市的报告" in rt.note
    assert ids(corpus, rt) == ["jilin-2025"]


def test_a_city_without_a_report_is_asked_of_its_provinces_for_the_sentences_naming_it(corpus):
    (rt,) = routes(corpus, "本溪哪个景区去年成了国家5A级景区？")
    assert rt.region == "辽宁省/本溪市" and ids(corpus, rt) == ["liaoning-2025"] and set(rt.within) == {"本溪市", "本溪"}
    (rt,) = routes(corpus, "杭州2024年GDP增长多少")  # no report of 浙江 either: nothing to ask
    assert rt.problem and not rt.reports


def test_a_namesake_problem_says_which_one(corpus):
    (rt,) = routes(corpus, "重庆江北区2024年GDP增长多少")
    assert "重庆" in rt.problem.split("indexed:")[0]


def test_a_province_without_a_report_is_not_answered_from_its_cities(corpus):
    (rt,) = routes(corpus, "浙江2020年GDP增长目标")
    assert rt.region == "浙江省" and not rt.reports
    assert "没有浙江省的报告" in rt.problem


# --------------------------------------------------------------------------- coverage messages


def test_a_region_not_indexed_lists_the_indexed_regions(corpus):
    (rt,) = routes(corpus, "北京2025年GDP增长目标")
    assert rt.region == "北京市" and not rt.reports
    assert rt.problem.startswith("没有北京市的报告")
    listed = rt.problem.split("indexed:")[1]
    assert all(name in listed for name in ("上海市", "江北区", "苏州市", "宁夏回族自治区"))


def test_a_year_not_covered_lists_the_regions_reports(corpus):
    (rt,) = routes(corpus, "江北区2021年GDP增长目标")
    assert not rt.reports and rt.time == "target"
    assert "报告中没有江北区2021年的目标" in rt.problem
    assert "江北区 2020年报告(回顾2019/计划2020)" in rt.problem and "江北区 2019年报告(回顾2018/计划—)" in rt.problem
    assert "苏州" not in rt.problem  # only that region's reports
    (rt,) = routes(corpus, "宁波2023年GDP目标")  # the Ningbo copy stops after its review
    assert not rt.reports and "宁波市 2023年报告(回顾2022/计划—)" in rt.problem
    (rt,) = routes(corpus, "江北区2020年GDP实际增长多少")  # 2020 is only planned
    assert not rt.reports and "实际结果" in rt.problem


def test_coverage_and_indexed_regions_are_bounded():
    many = [report(f"r{i}", region=f"地区{i:02d}", year=2024, review=(2023,), plan=(2024,), region_key=f"k{i}")
            for i in range(25)]
    text = coverage(many)
    assert text.count("年报告(") == 12 and text.endswith(" 等25份") and "地区00 2024年报告(回顾2023/计划2024)" in text
    assert coverage(many, "k3") == "地区03 2024年报告(回顾2023/计划2024)"
    regions = indexed_regions(many)
    assert regions.count("、") == 19 and regions.endswith(" 等25个地区")


# --------------------------------------------------------------------------- years


def test_target_from_the_planning_report_result_from_the_reviewing_one(corpus):
    (t,) = routes(corpus, "苏州2023年GDP增长目标是多少")
    (r,) = routes(corpus, "苏州2023年地区生产总值实际增长多少")
    assert (t.time, ids(corpus, t)) == ("target", ["suzhou-2023"])
    assert (r.time, ids(corpus, r)) == ("result", ["suzhou-2024"])
    # a five-year plan's later year is still a target of the report that plans it
    (c,) = routes(corpus, "慈溪市2023年的GDP目标")
    assert ids(corpus, c) == ["cixi-2021"]


def test_without_a_time_word_the_reports_decide(corpus):
    (rt,) = routes(corpus, "慈溪2019年GDP增长多少")  # only reviewed: a result
    assert rt.time == "result" and ids(corpus, rt) == ["cixi-2021"]
    (rt,) = routes(corpus, "西湖区2024年GDP增长多少")  # only planned: a target
    assert rt.time == "target" and ids(corpus, rt) == ["xihu-2024"]
    (rt,) = routes(corpus, "苏州2023年GDP增长多少")  # planned by one, reviewed by the next: both, newest first
    assert rt.time == "" and ids(corpus, rt) == ["suzhou-2024", "suzhou-2023"]


def test_a_result_route_keeps_only_reports_reviewing_that_year(corpus):
    (rt,) = routes(corpus, "江北区2019年GDP增长多少")
    assert rt.time == "result" and ids(corpus, rt) == ["jiangbei-2020"]


def test_relative_years_prefer_reports_with_that_part(corpus):
    (rt,) = routes(corpus, "苏州去年GDP增长多少")
    assert rt.year == 0 and rt.time == "result" and ids(corpus, rt) == ["suzhou-2024", "suzhou-2023"]
    (rt,) = routes(corpus, "江北区今年GDP增长目标")
    assert ids(corpus, rt) == ["jiangbei-2020"]  # the article plans nothing


def test_last_years_result_and_this_years_target_asked_together_are_two_routes(corpus):
    rts = routes(corpus, "苏州去年城镇新增就业多少，今年目标是多少？")
    assert [(rt.time, rt.year, ids(corpus, rt)[0]) for rt in rts] == [("result", 2023, "suzhou-2024"),
                                                                     ("target", 2024, "suzhou-2024")]
    assert len(routes(corpus, "苏州今年城镇新增就业目标是多少？")) == 1


def test_two_regions_with_a_year_each_pair_up(corpus):
    rts = routes(corpus, "慈溪2020年和江北2019年GDP分别增长多少")
    assert [(rt.region, rt.year) for rt in rts] == [(CIXI, 2020), (JIANGBEI, 2019)]
    assert ids(corpus, rts[0]) == ["cixi-2021"] and ids(corpus, rts[1])[0] == "jiangbei-2020"
    rts = routes(corpus, "苏州2023年和2024年GDP增长目标分别是多少")
    assert [(rt.year, ids(corpus, rt)) for rt in rts] == [(2023, ["suzhou-2023"]), (2024, ["suzhou-2024"])]
    rts = routes(corpus, "上海和重庆2025年GDP增长目标分别是多少")
    assert [ids(corpus, rt) for rt in rts] == [["shanghai-2025"], ["chongqing-2025"]]
    assert [rt.label for rt in rts] == ["上海市2025年", "重庆市2025年"]


def test_routes_are_capped():
    q = analyze("上海和重庆2025年GDP增长目标")
    from dataclasses import replace

    q = replace(q, regions=tuple(f"r{i}" for i in range(5)), years=(2020, 2021, 2022))
    assert len(plan(q, [])) == MAX_ROUTES


# --------------------------------------------------------------------------- report years


def test_each_region_in_its_own_report_year(corpus):
    rts = routes(corpus, "海曙区2020年报告和宁波市2023年报告中的一般公共预算收入分别是多少")
    assert [(rt.region, ids(corpus, rt)) for rt in rts] == [(HAISHU, ["haishu-2020"]), (NINGBO, ["ningbo-2023"])]
    rts = routes(corpus, "海曙区2023年报告和宁波市2023年报告中的一般公共预算收入分别是多少")
    assert "没有海曙区2023年的报告" in rts[0].problem and ids(corpus, rts[1]) == ["ningbo-2023"]


def test_a_report_year_picks_the_report(corpus):
    (rt,) = routes(corpus, "2025年政府工作报告中上海2024年GDP增长多少")
    assert ids(corpus, rt) == ["shanghai-2025"] and rt.year == 2024 and rt.time == "result"
    (rt,) = routes(corpus, "江北区2021年报告中的GDP目标")
    assert not rt.reports and "没有江北区2021年的报告" in rt.problem
    (rt,) = routes(corpus, "苏州2023年政府工作报告中的GDP增长目标")
    assert ids(corpus, rt) == ["suzhou-2023"]


# --------------------------------------------------------------------------- a chosen report


def test_only_the_chosen_report(corpus):
    key = core().by_id["suzhou-2024"].key
    (rt,) = routes(corpus, "苏州去年GDP增长多少", only=key)
    assert rt.reports == (key,)
    (rt,) = routes(corpus, "海曙区2020年GDP增长目标是多少", only=key)
    assert not rt.reports and rt.problem.startswith("所选报告与问题中的地区/年份不符")


def test_own_year_of_a_follow_up(corpus):
    target = analyze("海曙区2020年GDP增长目标是多少?", corpus.region_aliases())
    assert own_year(target, CIXI, corpus.reports) == 2021  # the first year Cixi's report plans
    result = analyze("海曙区2019年GDP实际增长多少?", corpus.region_aliases())
    assert result.time == "result" and own_year(result, CIXI, corpus.reports) == 2020
    assert own_year(target, SUZHOU, corpus.reports) == 2024  # the newest plan
    assert own_year(target, "北京市", corpus.reports) == 0


# --------------------------------------------------------------------------- end to end (slow)


@pytest.mark.slow
def test_answers_cite_only_the_asked_regions_reports(seed_services):
    ans, q = seed_services.answerer.ask("江北区2019年地区生产总值增长多少？", use_llm=False)
    assert q.regions == (JIANGBEI,)
    assert not ans.refused and "7.9%" in ans.answer
    assert ans.citations and {c.report_id for c in ans.citations} <= {"jiangbei-2020", "jiangbei-2018-article"}
    ans, _ = seed_services.answerer.ask("重庆江北区2024年GDP增长多少？", use_llm=False)
    assert ans.refused and not ans.citations


def test_the_time_asked_of_a_report_follows_from_the_year_asked():
    from rag.route import time_for

    r = report("x-2020", year=2020, review=(2019,), plan=(2020,))
    assert time_for(Route("", 2019, "", ("k",)), r) == "result"
    assert time_for(Route("", 2020, "", ("k",)), r) == "target"
    assert time_for(Route("", 2020, "result", ("k",)), r) == "result"  # the question's own word wins
    assert time_for(Route("", 0, "", ("k",)), r) == ""


def test_a_region_starting_a_proper_name_that_only_a_related_report_writes_is_that_name():
    from rag.route import name_owners
    from rag.types import Report

    city = Report(id="c", file="c.txt", title="", region="株洲市", level="city", year=2024, key="c",
                  region_key="湖南省/株洲市")
    county = Report(id="x", file="x.txt", title="", region="攸县", level="county", year=2024, key="x",
                    region_key="湖南省/株洲市/攸县")
    other = Report(id="o", file="o.txt", title="", region="湘潭市", level="city", year=2024, key="o",
                   region_key="湖南省/湘潭市")
    texts = {"c": "全市生产总值增长5.5%。", "x": "株洲航空产业园入驻企业52家，产值增长18%。",
             "o": "株洲航空产业园合作项目签约。"}
    reports = [city, county, other]
    q = analyze("株洲航空产业园入驻了多少家企业？")
    assert name_owners(q, reports, texts.get).regions == ("湖南省/株洲市/攸县",)  # written by the county below
    q = analyze("株洲2023年生产总值增长多少？")  # the city's own figure: unchanged
    assert name_owners(q, reports, texts.get).regions == q.regions
    texts["c"] += "株洲航空产业园加快建设。"  # the city writes it too: the city's own
    q = analyze("株洲航空产业园入驻了多少家企业？")
    assert name_owners(q, reports, texts.get).regions == q.regions
