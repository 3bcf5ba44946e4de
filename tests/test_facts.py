"""rag.facts: the figures a report states per indicator — growth, level, rate or a
qualitative target — read from realistic sentences (sentence_figures), from whole reports
with their review and plan parts (extract_figures), and one per indicator (best)."""
from __future__ import annotations

from pathlib import Path

import pytest
from fixtures_core import FIXTURE_REPORTS, PROVINCES

from rag import load
from rag.facts import best, extract_figures, sentence_figures
from rag.structure import sections
from rag.types import Document, Figure, Report


def figs(sentence: str) -> list[tuple]:
    """(indicator, measure, value) of each figure, in order."""
    return [(f.indicator, f.measure, f.value) for f in sentence_figures(sentence)]


def one(sentence: str, indicator: str, measure: str) -> Figure:
    got = [f for f in sentence_figures(sentence) if f.indicator == indicator and f.measure == measure]
    assert len(got) == 1, (sentence, got)
    return got[0]


# --------------------------------------------------------------------------- sentences


def test_headline_targets_with_qualifiers():
    s = "全市生产总值增长6%左右，一般公共预算收入增长6.5%，城镇调查失业率控制在5.5%以内，居民消费价格涨幅3%左右。"
    assert figs(s) == [("gdp", "growth", 6.0), ("fiscal_revenue", "growth", 6.5), ("unemployment", "rate", 5.5),
                       ("cpi", "growth", 3.0)]
    got = {f.indicator: (f.qualifier, f.text, f.unit) for f in sentence_figures(s)}
    assert got["gdp"] == ("approx", "6%左右", "%")
    assert got["unemployment"] == ("max", "5.5%以内", "%")
    assert one("新增城镇就业12万人以上。", "new_jobs", "level").qualifier == "min"
    assert one("地区生产总值增长7%以上、力争达到8%。", "gdp", "growth").value == 7.0  # the floor, not the stretch


def test_a_range():
    f = one("地区生产总值增长5%—5.5%。", "gdp", "growth")
    assert (f.value, f.high, f.qualifier) == (5.0, 5.5, "range")


def test_level_and_growth_of_one_indicator():
    s = "实现地区生产总值1170.1亿元，增长6.8%。"
    assert one(s, "gdp", "level").value == pytest.approx(1170.1e8)
    assert one(s, "gdp", "growth").value == 6.8
    assert one("社会消费品零售总额达到1500亿元，增长8%。", "retail", "level").qualifier == "reach"


def test_falls_are_negative_and_say_so():
    f = one("单位地区生产总值能耗下降2.5%。", "energy_intensity", "growth")
    assert (f.value, f.text) == (-2.5, "下降2.5%")
    assert one("固定资产投资下降3.2%。", "fixed_investment", "growth").value == -3.2


def test_shares_and_ratios():
    f = one("全社会研发投入占地区生产总值比重达到3%。", "rd_intensity", "rate")
    assert f.value == 3.0
    assert one("全社会研发经费支出相当于全市生产总值的比例达到4.5%左右。", "rd_intensity", "rate").value == 4.5
    assert one("服务业增加值占地区生产总值比重达到55.2%。", "tertiary_va", "rate").value == 55.2
    # the indicator after 占 is the denominator: 78.4% is not the budget spending
    assert figs("民生支出占一般公共预算支出的比重达到78.4%。") == []
    assert figs("城乡居民收入比缩小到1.64。") == [("income_ratio", "rate", 1.64)]
    assert figs("常住人口城镇化率提高到72%。") == [("urbanization", "rate", 72.0)]


def test_from_x_to_y_is_the_level_reached():
    assert figs("一般公共预算收入从524亿元增加到777亿元。") == [("fiscal_revenue", "level", 777e8)]
    assert figs("地区生产总值由524亿元增长到777亿元。") == [("gdp", "level", 777e8)]


def test_from_x_to_y_with_years_is_the_level_reached():
    assert figs("一般公共预算收入由2019年的52亿元提高到2023年的77亿元。") == [("fiscal_revenue", "level", 77e8)]


def test_respectively_hands_figures_out_in_order():
    assert figs("城镇和农村居民人均可支配收入分别增长5.1%和6.3%。") == [("urban_income", "growth", 5.1),
                                                                ("rural_income", "growth", 6.3)]
    assert figs("城镇、农村居民人均可支配收入分别为6.7万元和4.1万元,增长4.9%和7.5%。") == [
        ("urban_income", "level", 67000.0), ("rural_income", "level", 41000.0),
        ("urban_income", "growth", 4.9), ("rural_income", "growth", 7.5)]
    assert figs("城镇调查失业率、居民消费价格涨幅分别控制在5%和3%以内。") == [("unemployment", "rate", 5.0),
                                                                 ("cpi", "growth", 3.0)]
    assert figs("进出口总额增长10%，其中出口增长12%。") == [("trade", "growth", 10.0), ("exports", "growth", 12.0)]


def test_a_list_sharing_the_indicators_suffix():
    # "规上工业、农林牧渔业、服务业增加值分别增长…": 服务业增加值 is the third item, its figure the third
    got = figs("规上工业、农林牧渔业、服务业增加值分别增长6.6%、2%和4.4%。")
    assert ("tertiary_va", "growth", 4.4) in got
    assert ("tertiary_va", "growth", 6.6) not in got


def test_every_member_of_a_list_sharing_a_suffix():
    got = figs("规上工业、农林牧渔业、服务业增加值分别增长6.6%、2%和4.4%。")
    assert ("industry_va", "growth", 6.6) in got and ("primary_va", "growth", 2.0) in got


def test_scopes_of_one_indicator():
    s = "一般公共预算收入全市200.5亿元、与上一年基本持平,市级118.6亿元、增长5%;"
    got = {(f.measure, f.scope): f.value for f in sentence_figures(s) if f.indicator == "fiscal_revenue"}
    assert got == {("level", ""): 200.5e8, ("level", "市级"): 118.6e8, ("growth", "市级"): 5.0}
    s = "地区生产总值全市增长7.3%、市级增长7%。"
    assert {f.scope: f.value for f in sentence_figures(s)} == {"": 7.3, "市级": 7.0}


def test_chinese_numerals():
    assert figs("地区生产总值增长百分之六点五左右。") == [("gdp", "growth", 6.5)]
    assert figs("全年实现地区生产总值二千一百亿元。") == [("gdp", "level", 2100e8)]
    assert figs("新增城镇就业一万二千人。") == [("new_jobs", "level", 12000.0)]
    assert figs("全市生产总值突破两万亿元。") == [("gdp", "level", 2e12)]


def test_units_that_name_their_indicator():
    assert figs("港口集装箱吞吐量2329万标准箱。") == [("containers", "level", 2329e4)]
    f = one("PM2.5平均浓度下降到28微克/立方米。", "pm25", "level")
    assert f.value == 28.0 and f.unit == "微克/立方米"  # "PM2.5" is a name, not a figure


def test_qualitative_targets():
    f = one("居民人均可支配收入增长与经济增长基本同步。", "income", "qualitative")
    assert f.value is None and f.text == "居民人均可支配收入增长与经济增长基本同步"
    assert figs("居民消费价格与上年基本持平。") == [("cpi", "qualitative", None)]
    # an energy-saving target set as the quota handed down by the level above
    assert figs("节能减排指标完成省下达任务。") == [("energy_intensity", "qualitative", None)]


def test_qualitative_target_of_a_shared_form():
    assert figs("城乡居民人均可支配收入增长与经济增长同步。") == [("urban_income", "qualitative", None),
                                                        ("rural_income", "qualitative", None)]


def test_a_figure_of_another_subject_is_not_the_indicators():
    assert figs("新增城镇就业大学生5000人。") == []


def test_low_income_households_are_not_all_residents():
    assert [f for f in figs("低收入农户人均可支配收入增长14.3%。") if f[0] == "income"] == []


def test_each_member_keeps_its_own_term():
    got = {f.indicator: f.term for f in sentence_figures("地区生产总值、一般公共预算收入分别增长5.5%和6%。")}
    assert got == {"gdp": "地区生产总值", "fiscal_revenue": "一般公共预算收入"}


# --------------------------------------------------------------------------- whole reports

REPORT = "\n".join([
    "某市2024年政府工作报告",
    "一、2023年工作回顾",
    "全年实现地区生产总值1618.3亿元、增长6.1%；一般公共预算收入172.6亿元、增长8.4%。",
    "过去一年，我们坚持稳中求进。过去五年，全市地区生产总值年均增长6.5%，累计新增城镇就业20万人，经济实力迈上新台阶。",
    "城镇新增就业4.6万人，城镇调查失业率控制在5.5%以内。",
    "二、2024年工作安排",
    "今年经济社会发展的主要预期目标是：地区生产总值增长6%左右，一般公共预算收入增长5%以上，城镇调查失业率5.5%以内，"
    "居民消费价格涨幅3%左右，单位地区生产总值能耗下降2.5%。",
    "到2027年，地区生产总值力争突破2000亿元。",
    "三、名词解释",
    "1.地区生产总值：按市场价格计算的一个地区所有常住单位在一定时期内生产活动的最终成果，2023年为1618.3亿元。",
])


@pytest.fixture(scope="module")
def synthetic():
    rep = Report(id="mou-2024", file="m.txt", title="", region="", level="", year=2024, review_years=(2023,),
                 plan_years=(2024,))
    doc = Document(report=rep, path="", text=REPORT, format="text", encoding="utf-8", sha256="",
                   keep=load.content_spans(REPORT))
    return doc, extract_figures(doc, sections(doc))


def test_results_of_the_reviewed_year_targets_of_the_planned_one(synthetic):
    doc, got = synthetic
    table = {(f.indicator, f.measure, f.kind, f.year): f.value for f in got}
    assert table == {
        ("gdp", "level", "result", 2023): pytest.approx(1618.3e8), ("gdp", "growth", "result", 2023): 6.1,
        ("fiscal_revenue", "level", "result", 2023): pytest.approx(172.6e8),
        ("fiscal_revenue", "growth", "result", 2023): 8.4, ("new_jobs", "level", "result", 2023): 46000.0,
        ("unemployment", "rate", "result", 2023): 5.5,
        ("gdp", "growth", "target", 2024): 6.0, ("fiscal_revenue", "growth", "target", 2024): 5.0,
        ("unemployment", "rate", "target", 2024): 5.5, ("cpi", "growth", "target", 2024): 3.0,
        ("energy_intensity", "growth", "target", 2024): -2.5,
    }  # not the five-year average, not 2027's goal, not the glossary


def test_every_figure_cites_its_sentence(synthetic):
    doc, got = synthetic
    for f in got:
        sentence = doc.text[f.start:f.end]
        assert f.text in sentence and "\n" not in sentence
        assert f.report_id == "mou-2024"
        assert f.section == ("一、2023年工作回顾" if f.kind == "result" else "二、2024年工作安排")


@pytest.fixture(scope="module")
def real():
    out = {}
    for path in [PROVINCES / "2025年上海市政府工作报告.docx", FIXTURE_REPORTS / "04a_city_2023.txt",
                 FIXTURE_REPORTS / "04b_city_2024.txt"]:
        doc = load.read(path)
        out[Path(path).name] = (doc, best(extract_figures(doc, sections(doc))))
    return out


def _cell(figures, indicator, measure, kind, year):
    got = [f for f in figures if (f.indicator, f.measure, f.kind, f.year, f.scope) == (indicator, measure, kind, year, "")]
    assert len(got) == 1, (indicator, measure, kind, year, got)
    return got[0]


def test_shanghai_2025_headline_targets_and_2024_results(real):
    doc, fs = real["2025年上海市政府工作报告.docx"]
    assert (_cell(fs, "gdp", "growth", "target", 2025).text, _cell(fs, "gdp", "growth", "target", 2025).qualifier) == \
        ("5%左右", "approx")
    assert _cell(fs, "unemployment", "rate", "target", 2025).text == "5%以内"
    assert _cell(fs, "cpi", "growth", "target", 2025).value == 2.0
    assert _cell(fs, "gdp", "growth", "result", 2024).value == 5.0
    assert _cell(fs, "unemployment", "rate", "result", 2024).value == 4.2
    headline = doc.text[_cell(fs, "gdp", "growth", "target", 2025).start:]
    assert headline.startswith("综合各方面因素，建议今年全市经济社会发展的主要预期目标是")


def test_one_city_target_in_one_report_result_in_the_next(real):
    _, a = real["04a_city_2023.txt"]
    _, b = real["04b_city_2024.txt"]
    assert _cell(a, "gdp", "growth", "target", 2023).value == 5.5
    assert _cell(b, "gdp", "growth", "result", 2023).value == 4.6
    assert _cell(b, "gdp", "level", "result", 2023).value == pytest.approx(2.47e12)
    assert not [f for f in a if f.kind == "result" and f.year == 2023]  # the 2023 report reviews 2022
    assert not [f for f in b if f.kind == "target" and f.year == 2023]


# --------------------------------------------------------------------------- best


def _f(value, start, indicator="gdp", scope=""):
    return Figure("r", indicator, "growth", "target", 2024, value, f"{value}%", start=start, end=start + 10, scope=scope)


def test_best_keeps_the_first_unless_a_headline_sentence_states_it():
    alone, headline = _f(6.0, 0), _f(6.5, 100)
    others = [_f(5.0, 100, "cpi"), _f(3.0, 100, "fiscal_revenue")]
    assert best([alone, headline] + others)[0] is headline  # three figures in one sentence beat one
    assert best([alone, headline, others[0]])[0] is alone  # two do not
    got = best([_f(7.3, 0), _f(7.0, 0, scope="市级")])
    assert sorted((f.scope, f.value) for f in got) == [("", 7.3), ("市级", 7.0)]  # one per scope
    assert best([]) == []


def test_a_yearly_mean_is_one_years_figure_not_a_period():
    from rag.facts import sentence_figures
    from rag.query import analyze

    figs = [f for f in sentence_figures("强化土壤污染源头防控，PM2.5年均浓度降至35微克／立方米以下。") if f.indicator == "pm25"]
    assert figs and figs[0].value == 35
    assert not analyze("湖南2025年PM2.5年均浓度目标是多少？").period
    assert analyze("湖南GDP年均增长多少？").period


def test_an_elliptic_income_after_a_tourist_figure_and_a_shared_change_run():
    from rag.facts import sentence_figures

    got = [(f.indicator, f.measure, f.text) for f in
           sentence_figures("全省接待游客1.5亿人次、实现收入1800亿元，增长9.6%和12.3%。")]
    assert ("tourists", "level", "1.5亿人次") in got and ("tourism_revenue", "level", "1800亿元") in got
    assert not [g for g in got if g[1] == "growth"]  # whose growth is whose is not this code's guess
    got = [(f.indicator, f.text) for f in sentence_figures("规上工业、服务业增加值分别增长6.6%和4.4%。")]
    assert got == [("industry_va", "6.6%"), ("tertiary_va", "4.4%")]


def test_a_figure_of_another_physical_kind_is_not_the_indicators_level():
    assert [f for f in figs("粮食生产实现十连丰，25万亩高标准农田建成。") if f[0] == "grain"] == []
    assert [f[:2] for f in figs("粮食总产量达到612.4万吨。")] == [("grain", "level")]
    assert [f[:2] for f in figs("实际使用外资3.2亿美元。")] == [("fdi", "level")]  # dollars are money



def test_a_bare_word_under_a_short_head_naming_its_kin_is_the_indicator():
    text = "\n".join([
        "某省2025年政府工作报告",
        "一、2024年工作回顾",
        "——粮食生产再创新高。播种面积达到6120万亩，单产居全国前列，总产量达到612.5亿斤。",
        "——工业生产稳中有进。单产提高，总产量的说法不属于粮食。",
    ])
    rep = Report(id="mou-2025", file="m.txt", title="", region="", level="", year=2025, review_years=(2024,),
                 plan_years=(2025,))
    doc = Document(report=rep, path="", text=text, format="text", encoding="utf-8", sha256="",
                   keep=load.content_spans(text))
    got = [(f.indicator, f.measure, f.value) for f in extract_figures(doc, sections(doc)) if f.indicator == "grain"]
    assert got == [("grain", "level", pytest.approx(612.5e8))]
    assert [f for f in figs("播种面积达到6120万亩，总产量达到612.5亿斤。") if f[0] == "grain"] == []  # no head: no kin
    # the sentence may open with the bare word itself
    area = [(f.measure, f.value) for f in extract_figures(doc, sections(doc)) if f.indicator == "grain_area"]
    assert area == [("level", pytest.approx(6120e4))]
