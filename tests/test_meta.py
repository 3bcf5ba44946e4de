"""rag.meta.describe: what a report is (region, level, parent, year, years reviewed and
planned, speaker, meeting), from its text, and from the catalog when there is one."""
from __future__ import annotations

from pathlib import Path

import pytest

from rag import load
from rag.formats import extract
from rag.meta import describe

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DOCX = ROOT / "corpus" / "reports-2025"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reports"
LEVELS = {"national", "province", "prefecture", "county"}


# --------------------------------------------------------------------------- the ten DOCX

# region, speaker and meeting as each report's opening lines give them
DOCX_EXPECTED = {
    "2025年上海市政府工作报告.docx": ("上海市", "直辖市", "市长 龚正", "上海市第十六届人民代表大会第三次会议"),
    "2025年天津市政府工作报告.docx": ("天津市", "直辖市", "市长 张工", "天津市第十八届人民代表大会第三次会议"),
    "2025年重庆市政府工作报告.docx": ("重庆市", "直辖市", "市长 胡衡华", "重庆市第六届人民代表大会第三次会议"),
    "2025年辽宁省政府工作报告.docx": ("辽宁省", "省", "省长 李乐成", "辽宁省第十四届人民代表大会第三次会议"),
    "2025年吉林省政府工作报告.docx": ("吉林省", "省", "省长 胡玉亭", "吉林省第十四届人民代表大会第四次会议"),
    "2025年黑龙江省政府工作报告.docx": ("黑龙江省", "省", "省长 梁惠玲", "黑龙江省第十四届人民代表大会第三次会议"),
    "2025年安徽省政府工作报告.docx": ("安徽省", "省", "省长 王清宪", "安徽省第十四届人民代表大会第三次会议"),
    "2025年内蒙古自治区政府工作报告.docx": ("内蒙古自治区", "自治区", "主席 王莉霞", "内蒙古自治区第十四届人民代表大会第三次会议"),
    "2025年西藏政府工作报告.docx": ("西藏自治区", "自治区", "代理主席 嘎玛泽登", "西藏自治区第十二届人民代表大会第三次会议"),
    "2025年宁夏政府工作报告.docx": ("宁夏回族自治区", "自治区", "主席 张雨浦", "宁夏回族自治区第十三届人民代表大会第三次会议"),
}


@pytest.fixture(scope="module")
def docx_texts():
    return {p.name: extract(p) for p in sorted(DOCX.glob("*.docx"))}


def test_the_ten_docx_are_there(docx_texts):
    assert sorted(docx_texts) == sorted(DOCX_EXPECTED)


@pytest.mark.parametrize("name", sorted(DOCX_EXPECTED))
def test_docx_report_described_from_its_text(docx_texts, name):
    ex = docx_texts[name]
    r = describe(name, ex.text, title=ex.title)
    region, kind, speaker, meeting = DOCX_EXPECTED[name]
    assert (r.region, r.level, r.region_kind, r.region_key) == (region, "province", kind, region)
    assert r.parent == "全国"
    assert r.year == 2025
    assert r.review_years == (2024,) and r.plan_years == (2025,)
    assert r.speaker == speaker
    assert r.meeting == meeting
    assert r.kind == "report"
    assert r.source("region") == "text" and r.source("year") == "text" and r.guessed
    assert r.id.endswith("-2025")


# --------------------------------------------------------------------------- the seeds


@pytest.mark.parametrize(
    "file, key, year, review, plan, speaker",
    [
        ("000_c180eaa18c962c1d.txt", "浙江省/宁波市/江北区", 2020, (2019,), (2020,), "区长 傅贵荣"),
        ("001_c3731563950f55ea.txt", "浙江省/宁波市/慈溪市", 2021, (2016, 2017, 2018, 2019, 2020), (2021, 2022, 2023, 2024, 2025), "市长 盛悠"),
        ("002_e628585dbd2362fe.txt", "浙江省/宁波市/海曙区", 2020, (2019,), (2020,), "代区长 徐强"),
    ],
)
def test_seed_region_from_the_text_alone(file, key, year, review, plan, speaker):
    text = (SEEDS / file).read_text(encoding="utf-8")
    r = describe(file, text)  # no catalog
    assert r.region_key == key
    assert r.region == key.split("/")[-1] and r.level == "county" and r.parent == "宁波市"
    assert (r.year, r.review_years, r.plan_years) == (year, review, plan)
    assert r.speaker == speaker
    assert r.source("region") == "text"


def test_jiangbei_seed_is_ningbo_not_chongqing():
    text = (SEEDS / "000_c180eaa18c962c1d.txt").read_text(encoding="utf-8")
    assert describe("000.txt", text).region_key == "浙江省/宁波市/江北区"
    # the same district name in a text that names 重庆 is 重庆's 江北区
    cq = "江北区2021年政府工作报告\n——2021年1月7日在重庆市江北区第十八届人民代表大会第六次会议上\n区长 某某\n各位代表：\n过去一年，全区上下在重庆市委坚强领导下，推动江北高质量发展。\n"
    r = describe("report.txt", cq)
    assert r.region_key == "重庆市/江北区" and r.parent == "重庆市"
    assert r.meeting == "重庆市江北区第十八届人民代表大会第六次会议"


def test_masked_report_gets_no_region_guess():
    text = (SEEDS / "003_887212d0c28f9641.txt").read_text(encoding="utf-8")
    r = describe("003_887212d0c28f9641.txt", text)
    assert (r.region, r.level, r.region_key, r.parent) == ("", "", "", "")
    assert r.source("region") == "default"
    assert r.year == 2023 and r.review_years == (2022,)
    assert r.id == "003-887212d0c28f9641"  # from the file name


def test_meeting_across_a_line_break():
    text = (SEEDS / "002_e628585dbd2362fe.txt").read_text(encoding="utf-8")
    assert describe("002.txt", text).meeting == "海曙区第十一届人民代表大会第四次会议"


def test_article_reviews_the_year_it_reports_on():
    text = (SEEDS / "004_6b77bdb4c9c02796.txt").read_text(encoding="utf-8")
    r = describe("004_6b77bdb4c9c02796.txt", text)
    assert r.kind == "article"
    assert 2018 in r.review_years


def test_article_is_told_from_a_report():
    text = (SEEDS / "004_6b77bdb4c9c02796.txt").read_text(encoding="utf-8")
    r = describe("004_6b77bdb4c9c02796.txt", text)
    assert r.kind == "article" and r.plan_years == ()
    assert r.region_key == "浙江省/宁波市/江北区"


# --------------------------------------------------------------------------- the catalog


def test_catalog_fields_override_and_are_marked(seeds_copy):
    from rag import catalog

    cat = catalog.load(seeds_copy)
    text = (SEEDS / "003_887212d0c28f9641.txt").read_text(encoding="utf-8")
    r = describe("003_887212d0c28f9641.txt", text, catalog=cat["003_887212d0c28f9641.txt"])
    assert r.id == "ningbo-2023" and r.region == "宁波市" and r.region_key == "浙江省/宁波市"
    assert r.year == 2023 and r.review_years == (2022,) and r.plan_years == ()  # plan_years [] in the catalog
    assert r.aliases == ("XX市",)
    for f in ("id", "region", "year", "review_years", "plan_years", "speaker", "title", "kind"):
        assert r.source(f) == "catalog", f
    assert not r.guessed


def test_catalog_overrides_what_the_text_says():
    text = (FIXTURES / "01_prefecture_city.txt").read_text(encoding="utf-8")
    r = describe("zz.txt", text, catalog={"region": "湘潭市", "year": 2030, "speaker": "", "id": "x-1"})
    assert (r.region, r.region_key, r.year, r.speaker, r.id) == ("湘潭市", "湖南省/湘潭市", 2030, "", "x-1")
    assert r.review_years == (2029,) and r.plan_years == (2030,)  # derived from the catalog year
    assert r.source("region") == r.source("year") == r.source("speaker") == "catalog"
    assert r.source("review_years") == "text"
    # without the catalog the text's own answer
    assert describe("zz.txt", text).region == "株洲市"


def test_catalog_region_namesake_is_resolved_by_the_text():
    nb = (SEEDS / "000_c180eaa18c962c1d.txt").read_text(encoding="utf-8")
    assert describe("a.txt", nb, catalog={"region": "江北区"}).region_key == "浙江省/宁波市/江北区"
    cq = "政府工作报告\n各位代表：\n过去一年，在重庆市委坚强领导下，重庆江北区经济运行稳中有进。\n"
    assert describe("b.txt", cq, catalog={"region": "江北区"}).region_key == "重庆市/江北区"


def test_catalog_region_unknown_to_the_gazetteer_is_kept_as_written():
    r = describe("a.txt", "XX市2023年政府工作报告\n各位代表：\n", catalog={"region": "XX市"})
    assert r.region == "XX市" and r.region_key == "" and r.source("region") == "catalog"


def test_catalog_level_is_a_level():
    text = (SEEDS / "002_e628585dbd2362fe.txt").read_text(encoding="utf-8")
    r = describe("002_e628585dbd2362fe.txt", text, catalog={"region": "海曙区", "level": "区"})
    assert r.level in LEVELS


def test_load_read_applies_the_folder_catalog():
    doc = load.read(SEEDS / "002_e628585dbd2362fe.txt", SEEDS)
    assert doc.report.id == "haishu-2020" and doc.report.source("region") == "catalog"
    doc = load.read(SEEDS / "002_e628585dbd2362fe.txt", SEEDS, catalog={})
    assert doc.report.id == "haishu-2020" and doc.report.source("id") == "text"


# --------------------------------------------------------------------------- the fixture reports

FIXTURE_EXPECTED = {
    # file: (region, level, parent, key, year, review, plan, speaker, meeting, id)
    "01_prefecture_city.txt": ("株洲市", "prefecture", "湖南省", "湖南省/株洲市", 2024, (2023,), (2024,), "市长 刘某",
                               "株洲市第十六届人民代表大会第四次会议", "zhuzhou-2024"),
    "02_county_gbk_cr.txt": ("安吉县", "county", "湖州市", "浙江省/湖州市/安吉县", 2023, (2022,), (2023,), "县长 陈某",
                             "安吉县第十八届人民代表大会第三次会议", "anji-2023"),
    "04a_city_2023.txt": ("苏州市", "prefecture", "江苏省", "江苏省/苏州市", 2023, (2018, 2019, 2020, 2021, 2022), (2023,),
                          "市长 吴某", "苏州市第十七届人民代表大会第三次会议", "suzhou-2023"),
    "04b_city_2024.txt": ("苏州市", "prefecture", "江苏省", "江苏省/苏州市", 2024, (2023,), (2024,), "市长 吴某",
                          "苏州市第十七届人民代表大会第四次会议", "suzhou-2024"),
    "05_district_page.html": ("西湖区", "county", "杭州市", "浙江省/杭州市/西湖区", 2024, (2023,), (2024,), "区长 孙某",
                              "杭州市西湖区第十七届人民代表大会第四次会议", "xihu-2024"),
}


@pytest.fixture(scope="module")
def fixture_docs():
    return {p.name: load.read(p, FIXTURES, catalog={}) for p in sorted(FIXTURES.iterdir()) if p.name != "README.md"}


@pytest.mark.parametrize("name", sorted(FIXTURE_EXPECTED))
def test_fixture_report_described_from_its_text(fixture_docs, name):
    r = fixture_docs[name].report
    region, level, parent, key, year, review, plan, speaker, meeting, rid = FIXTURE_EXPECTED[name]
    assert (r.region, r.level, r.parent, r.region_key) == (region, level, parent, key)
    assert (r.year, r.review_years, r.plan_years) == (year, review, plan)
    assert r.speaker == speaker and r.meeting == meeting
    assert r.kind == "report" and r.id == rid and r.file == name
    assert r.source("region") == "text" and r.source("year") == "text"


def test_xihu_namesake_follows_the_city_the_text_names(fixture_docs):
    """西湖区 is both 杭州's and 南昌's: the page names 杭州, so it is 杭州's; the same
    text naming 南昌 instead is 南昌's."""
    text = fixture_docs["05_district_page.html"].text
    assert describe("p.html", text).region_key == "浙江省/杭州市/西湖区"
    assert describe("p.html", text.replace("杭州市", "南昌市").replace("杭州", "南昌")).region_key == "江西省/南昌市/西湖区"


def test_national_report_years_and_speaker(fixture_docs):
    r = fixture_docs["03_national_excerpt.md"].report
    assert (r.year, r.review_years, r.plan_years) == (2024, (2023,), (2024,))
    assert r.speaker == "总理 某某" and r.kind == "report"
    assert r.title == "政府工作报告（摘编）"


def test_national_report_is_national(fixture_docs):
    r = fixture_docs["03_national_excerpt.md"].report
    assert (r.region, r.level, r.region_key) == ("全国", "national", "全国")


def test_national_meeting(fixture_docs):
    assert fixture_docs["03_national_excerpt.md"].report.meeting == "第十四届全国人民代表大会第二次会议"
