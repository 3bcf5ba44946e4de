"""rag.table over the indexed corpus: one cell per (report, indicator) with its cited
figure, comparisons (thresholds, highest/lowest, side by side, a side not stated), the
CSV export, and a year's target against its result (met / missed)."""
from __future__ import annotations

import csv
import io

import pytest
from fixtures_core import CIXI, JIANGBEI, SUZHOU, core

from rag import table
from rag.lexicon import lexicon
from rag.query import analyze
from rag.types import Figure

# the 2025 GDP growth targets the ten provincial reports state (checked against their text)
GDP_2025 = {"shanghai-2025": 5.0, "tianjin-2025": 5.0, "chongqing-2025": 6.0, "liaoning-2025": 5.0, "jilin-2025": 5.5,
            "heilongjiang-2025": 5.0, "anhui-2025": 5.5, "neimenggu-2025": 6.0, "xizang-2025": 7.0, "ningxia-2025": 5.5}


@pytest.fixture(scope="module")
def corpus():
    return core().corpus


def compare(corpus, text):
    return table.comparison(analyze(text, corpus.region_aliases()), corpus)


def ids(cells) -> set[str]:
    return {c.report.id for c in cells}


# --------------------------------------------------------------------------- cells


def test_province_targets_for_2025(corpus):
    cells = table.cells(corpus, ["gdp"], "target", 2025, level="province")
    assert {c.report.id: table.value_of(c) for c in cells} == GDP_2025
    for c in cells:
        f = c.figure
        assert (f.indicator, f.measure, f.kind, f.year) == ("gdp", "growth", "target", 2025)
        assert f.text in corpus.text(c.report.key)[f.start:f.end]  # the cell cites its sentence


def test_default_year_is_each_reports_own(corpus):
    targets = {c.report.id: c for c in table.cells(corpus, ["gdp"], "target")}
    assert table.value_of(targets["cixi-2021"]) == 7.3  # its first plan year, the whole city (not 市级 7%)
    assert table.value_of(targets["suzhou-2023"]) == 5.5 and table.value_of(targets["suzhou-2024"]) == 5.0
    assert "ningbo-2023" not in targets  # plans nothing
    results = {c.report.id: c for c in table.cells(corpus, ["gdp"], "result")}
    assert table.value_of(results["suzhou-2024"]) == 4.6 and results["suzhou-2024"].figure.year == 2023
    assert table.value_of(results["cixi-2021"]) == 4.8 and results["cixi-2021"].figure.year == 2020


def test_one_measure_per_column(corpus):
    (cell,) = table.cells(corpus, ["gdp"], "target", 2025, {CIXI})
    assert cell.figure is None  # Cixi's 2025 goal is a level (3000亿元), not a growth target
    (cell,) = table.cells(corpus, ["gdp"], "target", 2025, {CIXI}, measure="level")
    assert table.value_of(cell) == 3000e8


def test_a_qualitative_cell_has_no_value(corpus):
    (cell,) = table.cells(corpus, ["income"], "target", 2025, {"上海市"})
    assert cell.figure.measure == "qualitative" and "同步" in cell.figure.text
    assert table.value_of(cell) is None


def test_filters(corpus):
    assert ids(table.cells(corpus, ["gdp"], "target", 2024, level="prefecture")) == {"zhuzhou-2024", "suzhou-2024"}
    assert ids(table.cells(corpus, ["gdp"], "result", 2019, {JIANGBEI})) == {"jiangbei-2020"}
    cells = table.cells(corpus, None, "target", 2024, {SUZHOU})
    assert [c.indicator for c in cells] == list(lexicon().table_core)


# --------------------------------------------------------------------------- comparisons


def test_threshold(corpus):
    cmp = compare(corpus, "哪些省份2025年地区生产总值增长目标在5.5%以上?")
    assert cmp.kind == "threshold"
    assert ids(cmp.hits) == {k for k, v in GDP_2025.items() if v >= 5.5}
    assert ids(cmp.others) == {k for k, v in GDP_2025.items() if v < 5.5}  # provinces only: no national, no city
    assert cmp.verdict.endswith("的地区生产总值目标≥5.5%") and "西藏自治区" in cmp.verdict
    cmp = compare(corpus, "哪些省份2025年城镇新增就业目标在50万人以上")
    assert ids(cmp.hits) == {"shanghai-2025", "anhui-2025", "chongqing-2025"}  # 60万, 68万, 65万
    assert "liaoning-2025" in ids(cmp.others)  # 47万人左右


def test_an_asked_value_is_matched_with_its_qualifier(corpus):
    """"目标是5%左右": that value stated the same way; 辽宁's 5%以上 is not 5%左右."""
    cmp = compare(corpus, "哪些省份2025年地区生产总值增长目标是5%左右?")
    assert cmp.kind == "threshold"
    assert ids(cmp.hits) == {"shanghai-2025", "tianjin-2025", "heilongjiang-2025"}
    assert "liaoning-2025" in ids(cmp.others)
    assert cmp.verdict.endswith("的地区生产总值目标为5%左右")
    cmp = compare(corpus, "Which provinces set a 2025 GDP growth target of around 6%?")
    assert ids(cmp.hits) == {"neimenggu-2025", "chongqing-2025"}
    cmp = compare(corpus, "2025年地区生产总值增长目标为5%左右的省份有哪些?")  # provinces only, as asked
    assert ids(cmp.hits) == {"shanghai-2025", "tianjin-2025", "heilongjiang-2025"}
    assert all(c.report.level == "province" for c in cmp.hits + cmp.others)
    cmp = compare(corpus, "哪些省份2025年地区生产总值增长目标为5.5%以上?")  # a bound, not a value
    assert ids(cmp.hits) == {k for k, v in GDP_2025.items() if v >= 5.5}


def test_threshold_on_results(corpus):
    cmp = compare(corpus, "哪些地区2024年GDP增长超过5.5%")
    assert ids(cmp.hits) == {"neimenggu-2025", "anhui-2025", "xizang-2025", "chongqing-2025"}
    assert "实际>5.5%" in cmp.verdict
    assert all(c.figure.kind == "result" and c.figure.year == 2024 for c in cmp.hits)


def test_highest_and_lowest(corpus):
    cmp = compare(corpus, "Which province set the highest GDP growth target for 2025?")
    assert (cmp.kind, ids(cmp.hits), cmp.verdict) == ("max", {"xizang-2025"}, "西藏自治区最高（7%以上）")
    cmp = compare(corpus, "2025年哪个地区的GDP增长目标最低")
    assert cmp.kind == "min" and ids(cmp.hits) == {k for k, v in GDP_2025.items() if v == 5.0}


def test_two_regions_side_by_side(corpus):
    cmp = compare(corpus, "上海和重庆2025年GDP增长目标哪个高")
    assert (cmp.kind, ids(cmp.hits), ids(cmp.others)) == ("max", {"chongqing-2025"}, {"shanghai-2025"})
    cmp = compare(corpus, "上海和重庆2025年GDP增长目标分别是多少")
    assert cmp.kind == "list" and ids(cmp.hits) == {"shanghai-2025", "chongqing-2025"} and cmp.verdict == ""


def test_a_side_not_stated_is_refused(corpus):
    cmp = compare(corpus, "上海和宁波2025年GDP增长目标哪个高")
    assert cmp.kind == "missing" and not cmp.hits and cmp.verdict.startswith("无法比较")


def test_a_side_not_stated_names_only_that_side(corpus):
    verdict = compare(corpus, "上海和宁波2025年GDP增长目标哪个高").verdict
    assert "宁波市" in verdict and "上海" not in verdict and "浙江省/" not in verdict


# --------------------------------------------------------------------------- target vs result


def test_target_vs_result_pairs_two_reports(corpus):
    t, r = table.target_vs_result(corpus, SUZHOU, 2023, "gdp")
    assert (t.report.id, t.figure.text, r.report.id, r.figure.text) == ("suzhou-2023", "5.5%左右", "suzhou-2024", "4.6%")
    assert table.met(t.figure, r.figure) == "未完成"
    t, r = table.target_vs_result(corpus, JIANGBEI, 2020, "gdp")
    assert t.report.id == "jiangbei-2020" and r is None  # no 2021 report reviews 2020
    assert table.target_vs_result(corpus, "北京市", 2024, "gdp") == (None, None)


def fig(value, qualifier="", measure="growth", kind="target", high=None, indicator="gdp"):
    return Figure("r", indicator, measure, kind, 2024, value, "", qualifier=qualifier, high=high)


@pytest.mark.parametrize("target, result, verdict", [
    (fig(6.0, "approx"), fig(5.6), "完成"),  # "左右": half a point either side
    (fig(6.0, "approx"), fig(5.4), "未完成"),
    (fig(6.0, "min"), fig(5.9), "未完成"),  # "以上" is a floor
    (fig(6.0, "min"), fig(6.0), "完成"),
    (fig(5.5, "max", "rate"), fig(5.2, measure="rate"), "完成"),  # "以内" is a ceiling
    (fig(5.5, "max", "rate"), fig(5.6, measure="rate"), "未完成"),
    (fig(5.0, "range", high=5.5), fig(5.2), "完成"),
    (fig(3000e8, "approx", "level"), fig(2900e8, measure="level"), "完成"),  # a level: 5% either side
    (fig(3000e8, "approx", "level"), fig(2800e8, measure="level"), "未完成"),
    (fig(None, measure="qualitative"), fig(5.0), "无法比较"),
])
def test_met(target, result, verdict):
    assert table.met(target, result) == verdict


def test_met_for_lower_is_better_indicators():
    assert table.met(fig(5.5, "approx", "rate", indicator="unemployment"), fig(4.2, measure="rate")) == "完成"
    assert table.met(fig(-2.5, indicator="energy_intensity"), fig(-3.0, indicator="energy_intensity")) == "完成"


# --------------------------------------------------------------------------- rows and CSV


def test_rows_and_csv(corpus):
    rows = table.rows_for(corpus, ["gdp", "unemployment"], "target", 2025, {"上海市", "重庆市"})
    by = {r["report"]: r for r in rows}
    assert set(by) == {"shanghai-2025", "chongqing-2025"}
    sh, cq = by["shanghai-2025"], by["chongqing-2025"]
    assert (sh["region"], sh["level"], sh["year"]) == ("上海市", "province", 2025)
    assert sh["地区生产总值"] == "5%左右" and sh["城镇调查失业率"] == "5%以内"
    assert cq["地区生产总值"] == "6%左右" and cq["城镇调查失业率"] == "not stated"  # its headline names no rate
    assert cq["城镇调查失业率 · source"] == ""
    file, span = sh["地区生产总值 · source"].rsplit(":", 1)
    start, end = map(int, span.split("-"))
    key = core().by_id["shanghai-2025"].key
    assert file == sh["file"] and "全市生产总值增长5%左右" in corpus.text(key)[start:end]

    text = table.to_csv(rows)
    back = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0].split(",")[:5] == ["region", "level", "year", "report", "file"]
    assert [r["report"] for r in back] == [r["report"] for r in rows]
    assert back[0] == {k: str(v) for k, v in rows[0].items()}
    assert table.to_csv([]) == ""


# --------------------------------------------------------------------------- target against last year's result


def test_targets_against_the_previous_years_results(corpus):
    got = compare(corpus, "哪些省份2025年地区生产总值增长目标高于本地2024年实际增速？")
    assert got.kind == "versus"
    pairs = [(t.report.id, t.kind, r.report.id, r.kind) for t, r in zip(got.hits[::2], got.hits[1::2])]
    assert pairs and all(tid == rid and (tk, rk) == ("target", "result") for tid, tk, rid, rk in pairs)
    for t, r in zip(got.hits[::2], got.hits[1::2]):
        assert t.figure.value > r.figure.value and t.figure.year == 2025 and r.figure.year == 2024
    assert "heilongjiang-2025" in {t.report.id for t in got.hits}  # 5%左右 against 3.2%
    assert "shanghai-2025" not in {t.report.id for t in got.hits}  # 5%左右 against 5%: not higher
    below = compare(corpus, "Which provinces set a 2025 growth target below their actual 2024 growth?")
    assert below.kind == "versus" and "anhui-2025" in {c.report.id for c in below.hits}  # 5.5%以上 against 5.8%
    assert not {c.report.id for c in below.hits} & {c.report.id for c in got.hits}


def test_met_check_pairs_a_years_target_with_the_next_reports_result(corpus):
    t, r, verdict = table.met_check(analyze("苏州2023年完成地区生产总值增长目标了吗？", corpus.region_aliases()), corpus)
    assert (t.report.id, r.report.id, t.figure.text, r.figure.text, verdict) == (
        "suzhou-2023", "suzhou-2024", "5.5%左右", "4.6%", "未完成")
    assert table.met_check(analyze("Did Suzhou meet its 2023 GDP growth target?", corpus.region_aliases()), corpus)[2] == "未完成"
    # only one of the two reports indexed: not answered from the table
    assert table.met_check(analyze("江北区2020年完成了增长目标吗？", corpus.region_aliases()), corpus) is None
    assert table.met_check(analyze("苏州2023年地区生产总值增长目标是多少？", corpus.region_aliases()), corpus) is None


def test_vs_rows_pair_targets_with_results_and_say_met(corpus):
    rows = {(r["report"], r["year"]): r for r in table.vs_rows(corpus, ["gdp"])}
    sz = rows[("suzhou-2023", 2023)]
    assert (sz["地区生产总值 · target"], sz["地区生产总值 · result"], sz["地区生产总值 · met"]) == ("5.5%左右", "4.6%", "未完成")
    assert sz["地区生产总值 · result source"].startswith(next(r.file for r in corpus.reports if r.id == "suzhou-2024"))
    jb = rows[("jiangbei-2020", 2020)]
    assert jb["地区生产总值 · result"] == "not indexed" and jb["地区生产总值 · met"] == ""
