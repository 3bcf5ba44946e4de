"""rag.lexicon: the data files, indicator mentions (leftmost-longest), question names,
English names on word boundaries, shares of GDP, the glossary and the version."""
from __future__ import annotations

import hashlib
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

import rag.lexicon as lexmod
from rag.lexicon import lexicon, version

HERE = Path(lexmod.__file__).resolve().parent
TOML_FILES = sorted(HERE.glob("*.toml"))
PROVENANCE = re.compile(r"(?i)\bfrom\b|\bsources?\b|GB/T|GB \d|collected|vocabulary of|《")


def test_there_are_lexicon_files():
    names = {p.name for p in TOML_FILES}
    assert {"indicators.toml", "units.toml", "regions.toml", "headings.toml", "meta.toml", "cues.toml",
            "glossary.toml", "boilerplate.toml"} <= names


@pytest.mark.parametrize("path", TOML_FILES, ids=lambda p: p.name)
def test_each_file_loads_and_opens_with_where_its_entries_come_from(path):
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data
    lines = path.read_text(encoding="utf-8").splitlines()
    head = []
    for ln in lines:
        if not ln.startswith("#"):
            break
        head.append(ln.lstrip("# "))
    assert len(head) >= 3, f"{path.name}: no comment block at the top"
    block = " ".join(head)
    assert PROVENANCE.search(block), f"{path.name}: the top comment does not say where the entries come from"


def test_lexicon_loads_every_part():
    lex = lexicon()
    assert lex is lexicon()  # loaded once
    assert len(lex.indicators) > 40
    assert lex.units["%"] == "percent" and lex.units["个百分点"] == "points"
    assert lex.scales["亿"] == 1e8 and lex.scales["万亿"] == 1e12
    assert lex.qualifiers_after["左右"] == "approx" and lex.qualifiers_before["控制在"] == "max"
    assert "—" in lex.range_joiners
    assert lex.headings["numbering"] and lex.meta["titles"] and lex.regions["municipalities"]
    assert len(lex.glossary) > 500


def test_indicator_ids_are_unique_and_references_resolve():
    raw = tomllib.loads((HERE / "indicators.toml").read_text(encoding="utf-8"))["indicator"]
    ids = Counter(r["id"] for r in raw)
    assert [i for i, n in ids.items() if n > 1] == []
    lex = lexicon()
    assert set(lex.by_id) == set(ids)
    for i in lex.indicators:
        assert i.default in i.measures, i.id
        for ref in (i.share, i.broader, *i.covers, *i.stated_by, *i.kin):
            assert not ref or ref in lex.by_id, (i.id, ref)


def test_no_name_belongs_to_two_indicators():
    """Mentions are read leftmost-longest over all indicators: a term owned twice would
    silently go to whichever comes first."""
    lex = lexicon()
    owners: dict[str, set[str]] = {}
    for i in lex.indicators:
        for t in (*i.terms, *i.ask, *i.english):
            owners.setdefault(t.lower(), set()).add(i.id)
    assert {t: o for t, o in owners.items() if len(o) > 1} == {}


# --------------------------------------------------------------------------- mentions


def ids_terms(ms):
    return [(m.indicator, m.term) for m in ms]


def test_mentions_are_leftmost_longest_trade_is_not_exports():
    text = "全年进出口总额增长5%，其中出口增长8%，进口下降2%"
    ms = lexicon().mentions(text)
    assert ids_terms(ms) == [("trade", "进出口总额"), ("exports", "出口"), ("imports", "进口")]
    for m in ms:
        assert text[m.start:m.end] == m.term


def test_mentions_urban_income_is_not_income():
    text = "城镇居民人均可支配收入增长5%，农村居民人均可支配收入增长7%，全体居民人均可支配收入增长6%，居民人均可支配收入"
    assert ids_terms(lexicon().mentions(text)) == [
        ("urban_income", "城镇居民人均可支配收入"),
        ("rural_income", "农村居民人均可支配收入"),
        ("income", "全体居民人均可支配收入"),
        ("income", "居民人均可支配收入"),
    ]


def test_mentions_longest_names():
    lex = lexicon()
    assert ids_terms(lex.mentions("外贸进出口总额")) == [("trade", "外贸进出口总额")]
    assert ids_terms(lex.mentions("规模以上工业增加值增长6%")) == [("industry_va", "规模以上工业增加值")]
    assert ids_terms(lex.mentions("人均地区生产总值")) == [("gdp_per_capita", "人均地区生产总值")]
    assert ids_terms(lex.mentions("gdp增长5%")) == [("gdp", "gdp")]  # case-insensitive


def test_question_only_names_do_not_read_report_text():
    lex = lexicon()
    assert lex.mentions("老百姓收入怎么样") == []
    assert ids_terms(lex.asked("老百姓收入怎么样")) == [("income", "老百姓收入")]
    assert ids_terms(lex.asked("城里人收入多少")) == [("urban_income", "城里人收入")]
    assert ids_terms(lex.asked("外资用了多少")) == [("fdi", "外资")]


def test_share_of_gdp():
    lex = lexicon()
    # the whole "X占GDP比重" is the R&D intensity, not R&D spending + GDP
    assert ids_terms(lex.mentions("研发经费支出占GDP比重达到2.6%")) == [("rd_intensity", "研发经费支出占GDP比重")]
    assert lex.share_of("rd_spending") == ("rd_intensity", "rate")
    # an indicator without a share indicator: its own rate
    assert lex.share_of("tertiary_va") == ("tertiary_va", "rate")
    assert lex.by_id["rd_spending"].share == "rd_intensity"


# --------------------------------------------------------------------------- English


def test_english_names_match_on_word_boundaries():
    lex = lexicon()
    assert ids_terms(lex.asked("How much did exports grow?")) == [("exports", "exports")]
    assert lex.asked("Which exporters grew?") == []
    assert lex.asked("taxation policy") == []
    assert ids_terms(lex.asked("taxes and tax revenue")) == [("tax_revenue", "taxes"), ("tax_revenue", "tax revenue")]
    assert ids_terms(lex.asked("What was the GDP growth target?")) == [("gdp", "GDP"), ("gdp", "growth target")]
    assert ids_terms(lex.asked("What is Ningbo's urban disposable income?")) == [("urban_income", "urban disposable income")]
    assert lex.asked("cpix") == []


def test_names_of_and_search_names():
    lex = lexicon()
    names = lex.names_of("gdp")
    assert names[0] == "地区生产总值"
    assert "国内生产总值" in names and "生产总值" in names and "GDP" in names
    assert "gross domestic product" not in names  # English question names are not Chinese names
    assert len(names) == len(set(names))
    assert lex.search_names("gdp") == ("地区生产总值", "生产总值")
    assert lex.search_names("trade") == ("进出口总额", "进出口")


@pytest.mark.parametrize(
    "english, expected",
    [
        ("world natural heritage site", [("世界自然遗产",)]),
        ("high-standard farmland and new quality productive forces", [("高标准农田",), ("新质生产力",)]),
        ("the Port", [("港", "港口")]),
        ("special-purpose bonds", [("专项债券", "专项债")]),
        ("the portfolio", []),  # "port" only as a word
    ],
)
def test_translate(english, expected):
    assert lexicon().translate(english) == expected


def test_version_is_a_fingerprint_of_the_files():
    h = hashlib.sha1()
    for p in TOML_FILES:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    assert version() == h.hexdigest()[:10]
    assert re.fullmatch(r"[0-9a-f]{10}", version())


@pytest.mark.parametrize("table,section", [("patterns", ("cues", "patterns")), ("items", ("headings", "items")),
                                           ("text", ("phrasing", "patterns"))])
def test_every_data_pattern_compiles_and_is_reached_by_name(table, section):
    entries = getattr(lexicon(), section[0])[section[1]]
    assert entries
    for name in entries:
        assert lexmod.pattern(name, table).pattern == entries[name]
    with pytest.raises(KeyError):
        lexmod.pattern("no-such-pattern", table)


def test_item_patterns_read_other_numbering_styles():
    start = lexmod.pattern("start", "items")
    for line in ("一是加快建设现代化产业体系。", "（三）深化改革。", "2.扩大内需。", "第一，稳住外贸。", "三要抓好民生。"):
        assert start.match(line), line
    for line in ("一年来，我们…", "2025年主要目标", "十四五时期"):
        assert not start.match(line), line
    assert lexmod.pattern("announce", "items").search("要重点把握以下几个方面：")
    assert not lexmod.pattern("announce", "items").search("全年地区生产总值增长5%。")


def test_text_patterns_read_report_phrasing_of_any_region():
    pat = lambda name: lexmod.pattern(name, "text")  # noqa: E731
    assert pat("part_scope").search("州级一般公共预算收入") is None
    assert pat("part_scope").search("县级一般公共预算收入").group(1) == "县级"
    assert pat("qualitative").search("城乡居民收入增长与经济增长基本同步")
    assert pat("source_line").search("来源：甘肃日报\n").group(1) == "甘肃日报"
    assert pat("site_suffix").split("2024年政府工作报告_某某县人民政府门户网站")[0] == "2024年政府工作报告"
    assert pat("change_after").match("，增长6.5%").group(1) == "增长6.5%"
