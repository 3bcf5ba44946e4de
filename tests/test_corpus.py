"""rag.corpus.Corpus over an indexed store: the reports and their metadata, region aliases for
questions, stored texts, sections, figures and chunks that round-trip the manifest exactly,
page numbers, ``resolve`` for every way a report is named, and refreshing when the store
changes. Fast tests index through the real pipeline into a dict-backed store; the slow
one checks the same against real Chroma."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fixtures_core import (ANJI, FIXTURE_IDS, FIXTURE_REPORTS, JIANGBEI, NINGBO, PROVINCE_IDS, SEED_IDS, SEEDS, SUZHOU,
                           XIHU, MemoryStore, build_pdf, core, index_into)

from rag import chunk as chunking
from rag import load
from rag.corpus import Corpus, UnknownReport
from rag.facts import extract_figures
from rag.index import remove_reports
from rag.structure import sections


@pytest.fixture(scope="module")
def c():
    return core()


def key_of(c, rid: str) -> str:
    return c.by_id[rid].key


# --------------------------------------------------------------------------- reports


def test_every_report_is_indexed_once(c):
    corpus = c.corpus
    assert {r.id for r in corpus.reports} == SEED_IDS | PROVINCE_IDS | FIXTURE_IDS
    assert len(corpus) == len(corpus.reports) == 21
    assert [Path(f).name for f, _ in c.result.skipped] == ["README.md", "README.md"]  # nothing else was skipped
    assert [r.id for r in corpus.reports] == [r.id for r in sorted(corpus.reports, key=lambda r: (r.region, r.year, r.file))]
    for r in corpus.reports:
        assert corpus.report(r.key) is r and corpus.report(r.id) is r


def test_report_metadata(c):
    r = c.by_id["jiangbei-2020"]
    assert (r.region, r.region_key, r.year, r.review_years, r.plan_years, r.kind) == \
        ("江北区", JIANGBEI, 2020, (2019,), (2020,), "report")
    assert c.by_id["jiangbei-2018-article"].kind == "article"
    assert c.by_id["ningbo-2023"].aliases == ("XX市",) and c.by_id["ningbo-2023"].plan_years == ()
    assert (c.by_id["anji-2023"].region_key, c.by_id["xihu-2024"].region_key) == (ANJI, XIHU)
    assert c.by_id["quanguo-2024"].level == "national"
    assert all(c.by_id[i].level == "province" and c.by_id[i].plan_years == (2025,) for i in PROVINCE_IDS)


def test_region_aliases_name_only_indexed_regions(c):
    aliases = c.corpus.region_aliases()
    indexed = {r.region_key for r in c.corpus.reports}
    assert all(set(keys) <= indexed for keys in aliases.values())
    assert aliases["江北"] == aliases["江北区"] == (JIANGBEI,)
    assert aliases["XX市"] == aliases["XX City"] == aliases["宁波"] == (NINGBO,)
    assert aliases["宁夏"] == aliases["宁夏回族自治区"] == ("宁夏回族自治区",)
    assert aliases["西湖"] == (XIHU,) and aliases["苏州"] == (SUZHOU,)
    assert "北京" not in aliases and "重庆市/江北区" not in {k for ks in aliases.values() for k in ks}


# --------------------------------------------------------------------------- what the manifest holds


@pytest.mark.parametrize("path", [SEEDS / "002_e628585dbd2362fe.txt", FIXTURE_REPORTS / "02_county_gbk_cr.txt",
                                  FIXTURE_REPORTS / "05_district_page.html",
                                  SEEDS.parent / "corpus" / "reports-2025" / "2025年安徽省政府工作报告.docx"],
                         ids=lambda p: p.name)
def test_texts_sections_figures_and_chunks_round_trip(c, path):
    doc = load.read(path)
    key = next(r.key for r in c.corpus.reports if r.path == doc.path)
    corpus = c.corpus
    assert corpus.text(key) == doc.text
    assert corpus.keep(key) == list(doc.keep)
    secs = sections(doc)
    assert corpus.sections(key) == secs
    assert corpus.figures(key) == extract_figures(doc, secs)
    want = chunking.chunk(doc)
    assert [corpus.chunk(x.id) for x in want] == [
        # what a stored chunk can tell: no token count, no hash
        chunking.Chunk(x.id, x.report_id, x.doc, x.section_path, x.section_kind, x.start, x.end, x.text, 0, "", x.ord, x.page)
        for x in want]
    assert corpus.chunk_ids({key}) == {x.id for x in want}
    assert str(corpus.path(key)) == str(path.absolute())


def test_section_at_is_the_innermost_section(c):
    key = key_of(c, "suzhou-2024")
    text = c.corpus.text(key)
    pos = text.index("全年实现地区生产总值2.47万亿元")
    assert c.corpus.section_at(key, pos).path == ("一、2023年工作回顾",)
    pos = text.index("PM2.5平均浓度27微克")
    assert c.corpus.section_at(key, pos).path == ("一、2023年工作回顾", "（五）生态环境持续改善")
    assert c.corpus.section_at(key, len(text) + 5) is None
    assert c.corpus.section_at("no-such-key", 0) is None and c.corpus.sections("no-such-key") == []


def test_no_chunk_or_figure_of_one_report_points_into_another(c):
    for ref in c.corpus.chunks.values():
        r = c.corpus.by_key[ref.key]
        assert 0 <= ref.start < ref.end <= len(c.corpus.text(ref.key)), r.id
    for r in c.corpus.reports:
        for f in c.corpus.figures(r.key):
            assert f.report_id == r.id and f.text in c.corpus.text(r.key)[f.start:f.end]


# --------------------------------------------------------------------------- resolve


def test_resolve_every_way_a_report_is_named(c):
    r = c.by_id["haishu-2020"]
    for ref in ("haishu-2020", r.key, "002_e628585dbd2362fe.txt", "002_e628585dbd2362fe",
                str(SEEDS / "002_e628585dbd2362fe.txt"), "海曙区2020", "海曙区 2020年", "海曙"):
        assert c.corpus.resolve(ref) is r, ref
    assert c.corpus.resolve("苏州市2024").id == "suzhou-2024"
    assert c.corpus.resolve("江北区2020").id == "jiangbei-2020"  # not the 2019 article


@pytest.mark.parametrize("ref", ["苏州", "江北区", "北京2025", "no-such-report"])
def test_resolve_refuses_what_is_ambiguous_or_unknown(c, ref):
    with pytest.raises(UnknownReport, match="indexed: .*haishu-2020"):
        c.corpus.resolve(ref)


def test_resolve_nothing():
    with pytest.raises(UnknownReport, match="no report given"):
        core().corpus.resolve("  ")


def test_resolve_a_short_name_with_a_year(c):
    assert c.corpus.resolve("苏州 2024").id == "suzhou-2024"
    assert c.corpus.resolve("慈溪2021").id == "cixi-2021"


# --------------------------------------------------------------------------- a store of its own


JILIN = [
    ["吉林市2024年政府工作报告", "——2024年1月8日在吉林市第十七届人民代表大会第四次会议上", "各位代表：",
     "一、2023年工作回顾",
     "过去一年，全市经济运行持续恢复、稳中向好。全年实现地区生产总值1720.5亿元、增长6.3%；一般公共预算收入126.8亿元、增长9.1%。"],
    ["（一）产业转型步伐加快。碳纤维产业产值增长21.5%，新增规模以上工业企业68家。冰雪旅游持续火热，全年接待游客6120万人次。",
     "（二）民生福祉持续增进。城镇新增就业4.1万人，新建改扩建中小学校9所，新增养老床位1500张。"],
    ["二、2024年工作安排",
     "2024年全市经济社会发展的主要预期目标是：地区生产总值增长6.5%左右；一般公共预算收入增长6%；城镇新增就业4万人以上。",
     "各位代表！让我们团结一心、奋勇争先，为全面建设社会主义现代化新吉林而努力奋斗！"],
]


def test_page_at_for_a_pdf(tmp_path):
    folder = tmp_path / "pdf"
    folder.mkdir()
    build_pdf(folder / "jilin.pdf", JILIN)
    store = MemoryStore()
    index_into(store, [folder], tmp_path / "home")
    corpus = Corpus(store)
    (r,) = corpus.reports
    text = corpus.text(r.key)
    assert corpus.page_at(r.key, text.index("全年实现地区生产总值1720.5亿元")) == 1
    assert corpus.page_at(r.key, text.index("城镇新增就业4.1万人")) == 2
    assert corpus.page_at(r.key, text.index("地区生产总值增长6.5%左右")) == 3
    assert {corpus.chunk(i).page for i in corpus.chunk_ids()} == {1, 2, 3}
    for ref in corpus.chunks.values():
        assert ref.page == corpus.page_at(r.key, ref.start)
    assert core().corpus.page_at(key_of(core(), "suzhou-2024"), 100) == 0  # a text file has no pages


def test_refresh_follows_the_store(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in ("04a_city_2023.txt", "01_prefecture_city.txt"):
        shutil.copy(FIXTURE_REPORTS / name, folder / name)
    store = MemoryStore()
    index_into(store, [folder], tmp_path / "home")
    corpus = Corpus(store)
    assert {r.id for r in corpus.reports} == {"suzhou-2023", "zhuzhou-2024"}
    assert corpus.refresh() is False  # nothing changed
    shutil.copy(FIXTURE_REPORTS / "04b_city_2024.txt", folder / "04b_city_2024.txt")
    index_into(store, [folder], tmp_path / "home")
    assert corpus.refresh() is True
    assert corpus.resolve("苏州市2024").id == "suzhou-2024" and "苏州" in corpus.region_aliases()

    gone = corpus.resolve("zhuzhou-2024")
    text = corpus.text(gone.key)  # cached
    assert text
    remove_reports(store, [gone.key])
    assert corpus.refresh() is True
    assert "zhuzhou-2024" not in {r.id for r in corpus.reports} and "株洲" not in corpus.region_aliases()
    assert corpus.text(gone.key) == "" and not corpus.chunk_ids({gone.key}) and corpus.figures(gone.key) == []
    with pytest.raises(UnknownReport):
        corpus.resolve("zhuzhou-2024")


# --------------------------------------------------------------------------- real Chroma (slow)


@pytest.mark.slow
def test_chroma_manifest_matches_the_pipeline(corpus_services, c):
    real = corpus_services.corpus
    assert {r.id for r in real.reports} == SEED_IDS | PROVINCE_IDS
    for r in real.reports:
        assert r == c.corpus.by_key[r.key]  # same key for the same file, same metadata
        assert real.text(r.key) == c.corpus.text(r.key)
        assert real.sections(r.key) == c.corpus.sections(r.key)
        assert real.figures(r.key) == c.corpus.figures(r.key)
        assert real.chunk_ids({r.key}) == c.corpus.chunk_ids({r.key})
    stored = corpus_services.store.stored_ids()
    assert stored == real.chunk_ids()  # no stray chunk, none missing
    assert real.resolve("重庆市2025").id == "chongqing-2025"
