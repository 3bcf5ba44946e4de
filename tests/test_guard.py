from rag import guard


def test_numbers_normalised():
    nums = {(n.value, n.kind) for n in guard.numbers("地区生产总值 1170.1 亿元，增长 6.1%；提高 6 个百分点；１２３家")}
    assert (1170.1e8, "plain") in nums and (6.1, "percent") in nums and (6, "points") in nums and (123, "plain") in nums


def test_guard_passes_supported_numbers():
    span = "全年实现地区生产总值 1170.1 亿元，增长 6.1%；一般公共预算收入 112.5 亿元"
    assert guard.check("海曙区2019年GDP为1170.1亿元,增长6.1% [1]", [span], "海曙区2019年GDP是多少").ok


def test_guard_catches_wrong_number():
    span = "建议奋力实现地区生产总值增长6.5%左右"
    res = guard.check("地区生产总值增长7.5%左右 [1]", [span])
    assert not res.ok and res.unsupported == ("7.5%",)
    assert "7.5%" in res.message()


def test_percent_is_not_points():
    assert not guard.check("提高3个百分点", ["增长3%"]).ok
    assert guard.check("提高3个百分点", ["占比提高 3 个百分点"]).ok


def test_units_scale():
    assert guard.check("1170.1亿元", ["11701000万元"]).ok
    assert not guard.check("1170.1万元", ["1170.1亿元"]).ok


def test_citation_markers_and_question_years_ignored():
    assert guard.check("2020年目标为6.5%左右 [1]", ["增长6.5%左右"], "海曙2020年的目标").ok
    assert not guard.check("2021年目标为6.5%左右 [1]", ["增长6.5%左右"], "海曙2020年的目标").ok
