"""rag.guard: every figure of an answer must occur (by value and kind) in a cited span."""
from __future__ import annotations

import pytest

from rag import guard

# the sentence of the 2020 海曙 report (seeds/002) that states the growth target
SPAN = "建议奋力实现地区生产总值增长6.5%左右，一般公共预算收入、城乡居民人均可支配收入与经济增长基本同步，能源和环境指标完成市下达任务。"


def test_invented_figures_in_chinese_numerals_and_scales_are_caught():
    answer = "根据报告，增长目标为百分之八点八左右，总量突破一千五百亿元。[1]"
    res = guard.check(answer, [SPAN])
    assert not res.ok
    assert res.unsupported == ("百分之八点八左右", "突破一千五百亿元")
    msg = res.message()
    assert "百分之八点八左右" in msg and "突破一千五百亿元" in msg


def test_wrong_arabic_figure_is_caught_and_the_right_one_is_not():
    res = guard.check("地区生产总值增长7.5%左右，一般公共预算收入增长6.5% [1]", [SPAN])
    assert not res.ok and res.unsupported == ("7.5%左右",)


@pytest.mark.parametrize(
    "answer, cited",
    [
        ("地区生产总值增长百分之六点五左右 [1]", SPAN),  # Chinese numerals for 6.5%
        ("地区生产总值增长６．５％ [1]", SPAN),  # full width
        ("GDP为1170.1亿元 [1]", "全年实现地区生产总值11701000万元"),  # 亿 vs 万
        ("GDP为一千五百亿元 [1]", "全年实现地区生产总值1500亿元"),
        ("GDP约为1.5千亿 [1]", "全年实现地区生产总值1500亿元"),  # a bare scaled number vs an amount
        ("提高3个百分点 [1]", "占比提高 3 个百分点"),
        ("增长5.5% [1]", "增长5%—5.5%"),  # a bound of a range
    ],
)
def test_the_same_figure_in_another_form_passes(answer, cited):
    res = guard.check(answer, [cited])
    assert res.ok, res.unsupported
    assert res.unsupported == () and res.message() == ""


@pytest.mark.parametrize(
    "answer, cited, bad",
    [
        ("提高3个百分点", "增长3%", "3个百分点"),
        ("增长3%", "提高3个百分点", "3%"),
        ("GDP为1170.1万元", "GDP为1170.1亿元", "1170.1万元"),
        ("新增就业12万人", "新增投资12万元", "12万人"),
    ],
)
def test_kind_and_scale_must_match(answer, cited, bad):
    res = guard.check(answer, [cited])
    assert not res.ok and res.unsupported == (bad,)


def test_citation_markers_are_not_figures():
    assert guard.check("地区生产总值增长6.5%左右[1][2]", [SPAN]).ok
    assert guard.check("[12] 增长6.5%。[3]", [SPAN]).ok
    # the same digits outside brackets are checked
    res = guard.check("增长6.5%，新建3所学校 [1]", [SPAN])
    assert not res.ok and res.unsupported == ("3所",)


def test_figures_the_question_contains_are_not_flagged():
    q = "海曙区2020年的GDP增长目标是7%吗？"
    res = guard.check("不是7%，目标是增长6.5%左右 [1]", [SPAN], q)
    assert res.ok
    # without the question the 7% is unsupported
    assert guard.check("不是7%，目标是增长6.5%左右 [1]", [SPAN]).unsupported == ("7%",)


def test_years_and_word_counts_are_not_checked():
    ans = "2020年，海曙实施一批重大项目、建设三个中心、推进五大行动，“十四五”开局，地区生产总值增长6.5%左右 [1]"
    assert guard.check(ans, [SPAN]).ok


def test_any_cited_span_may_support_a_figure():
    res = guard.check("增长6.5%左右，收入112.5亿元 [1][2]", [SPAN, "一般公共预算收入112.5亿元"])
    assert res.ok


def test_no_cited_text_means_every_figure_is_unsupported():
    res = guard.check("增长6.5%左右，收入112.5亿元", [])
    assert res.unsupported == ("6.5%左右", "112.5亿元")


def test_an_unsupported_figure_is_listed_once():
    res = guard.check("增长8%，其中一季度增长8%，全年8%", [SPAN])
    assert res.unsupported == ("8%",)


def test_invented_count_with_duo_is_caught():
    res = guard.check("新增企业2000多家 [1]", ["新增企业3000多家"])
    assert not res.ok


def test_invented_points_in_words_are_caught():
    res = guard.check("占比提高两个百分点 [1]", ["占比提高1个百分点"])
    assert not res.ok


def test_chinese_numeral_year_is_not_flagged():
    assert guard.check("二〇二〇年地区生产总值增长6.5%左右 [1]", [SPAN]).ok


def test_pm25_name_is_not_flagged():
    assert guard.check("PM2.5平均浓度为30微克/立方米 [1]", ["细颗粒物平均浓度30微克/立方米"]).ok
