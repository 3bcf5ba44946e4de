from rag.query import analyze, choose_reports
from rag.types import Report

REPORTS = [
    Report("jiangbei-2020", "000.txt", "江北区2020年政府工作报告", "江北区", "区", 2020, (2019,), (2020,)),
    Report("cixi-2021", "001.txt", "慈溪市2021年政府工作报告", "慈溪市", "县级市", 2021, (2016, 2017, 2018, 2019, 2020), (2021, 2022, 2023, 2024, 2025)),
    Report("haishu-2020", "002.txt", "海曙区2020年政府工作报告", "海曙区", "区", 2020, (2019,), (2020,)),
    Report("ningbo-2023", "003.txt", "宁波市2023年政府工作报告", "宁波市", "市", 2023, (2022,), ()),
    Report("jiangbei-2018-article", "004.txt", "江北2018", "江北区", "区", 2019, (2018,), (), kind="article"),
]


def test_target_question_goes_to_the_plan_of_that_years_report():
    q = analyze("海曙区2020年GDP增长目标是多少?", REPORTS)
    assert q.regions == ("海曙区",) and q.years == (2020,) and q.intent == "target"
    assert q.indicators == ("地区生产总值",) and q.report_ids == ("haishu-2020",) and q.section_kind == "plan"


def test_result_question_and_aliases():
    for text in ("What was Jiangbei's 2019 GDP growth?", "江北2019年地区生产总值是多少", "江北区2019年新增城镇就业多少人?"):
        q = analyze(text, REPORTS)
        assert q.regions == ("江北区",) and q.intent == "result" and q.report_ids == ("jiangbei-2020",), text
    assert analyze("XX市2022年固定资产投资增长多少", REPORTS).regions == ("宁波市",)
    assert analyze("Ningbo 2022 exports", REPORTS).regions == ("宁波市",)


def test_uncovered_year_is_a_problem():
    assert analyze("宁波2023年GDP增长目标是多少?", REPORTS).problem
    assert analyze("海曙区2021年GDP增长目标是多少?", REPORTS).problem
    assert analyze("江北区2020年GDP实际增长了多少?", REPORTS).problem  # 2020 is only planned
    ids, problem = choose_reports(("慈溪市",), (2019,), "result", REPORTS)
    assert ids == ("cixi-2021",) and not problem


def test_relative_years():
    q = analyze("江北今年的GDP目标", [r for r in REPORTS if r.id == "jiangbei-2020"])
    assert q.years == (2020,)


def test_follow_ups():
    first = analyze("海曙区2020年GDP增长目标是多少?", REPORTS)
    q = analyze("那江北呢?", REPORTS, prev=first)
    assert q.regions == ("江北区",) and q.years == (2020,) and q.intent == "target"
    assert q.indicators == ("地区生产总值",) and q.resolved_from
    q2 = analyze("2019年呢?", REPORTS, prev=q)
    assert q2.regions == ("江北区",) and q2.years == (2019,) and q2.intent == "result"
    fresh = analyze("慈溪2020年全市地区生产总值是多少?", REPORTS, prev=q2)
    assert not fresh.resolved_from and fresh.regions == ("慈溪市",)


def test_specific_indicator_wins():
    assert analyze("慈溪2020年常住人口是多少?", REPORTS).indicators == ("常住人口",)
    assert analyze("城镇居民人均可支配收入", REPORTS).indicators == ("城镇居民人均可支配收入",)


def test_follow_up_to_a_region_without_that_year_answers_for_its_own_year():
    first = analyze("海曙区2020年GDP增长目标是多少?", REPORTS)
    q = analyze("那慈溪呢?", REPORTS, prev=first)
    assert not q.problem and q.years == (2021,) and q.report_ids == ("cixi-2021",)
    assert "2021" in q.note


def test_a_new_question_is_not_a_follow_up():
    first = analyze("慈溪2021年一般公共预算收入增长目标是多少?", REPORTS)
    q = analyze("慈溪2020年PM2.5浓度是多少?", REPORTS, prev=first)
    assert not q.resolved_from and q.indicators == ()
    for text in ("那江北呢?", "2019年呢?", "And Jiangbei?", "江北呢"):
        assert analyze(text, REPORTS, prev=first).resolved_from, text
