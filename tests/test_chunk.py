"""rag.chunk on every report we have (five seeds, ten provincial DOCX, the fixture reports of
other regions, levels and heading styles) and on small built documents: chunk offsets are
exact slices of the stored text, chunks carry the path and kind of the one section they lie
in and the page they start on, the token budget holds, every character of body text is in
some chunk, and ids are stable so that an edit re-embeds only what it touched."""
from __future__ import annotations

from dataclasses import replace

import pytest
from fixtures_core import FIXTURE_REPORTS, PROVINCES, SEEDS

from rag import load, tokens
from rag.chunk import ChunkSettings, chunk
from rag.formats import Mark
from rag.structure import sections
from rag.text.sentences import split_sentences
from rag.types import Document, Report

FILES = sorted([p for p in SEEDS.glob("*.txt")] + [p for p in PROVINCES.glob("*.docx")]
               + [p for p in FIXTURE_REPORTS.iterdir() if p.name != "README.md"])
DEFAULT = ChunkSettings()


@pytest.fixture(scope="module")
def docs() -> dict[str, Document]:
    return {p.name: load.read(p) for p in FILES}


def check(doc: Document, chunks, settings: ChunkSettings = DEFAULT) -> None:
    """Every invariant the chunker promises."""
    secs = sections(doc)
    text = doc.text
    assert chunks, doc.report.id
    assert len({c.id for c in chunks}) == len(chunks)
    assert [c.ord for c in chunks] == list(range(len(chunks)))
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    covered = bytearray(len(text))
    for i, c in enumerate(chunks):
        assert c.text == text[c.start:c.end] and c.text == c.text.strip() and c.text
        assert c.tokens == tokens.count(c.text)
        assert (c.report_id, c.doc) == (doc.report.id, doc.report.file)
        assert c.id.startswith((doc.report.key or doc.report.id) + ":")
        own = [s for s in secs if s.path == c.section_path and s.start <= c.start and c.end <= s.end]
        assert len(own) == 1, (c.section_path, c.start, c.end)  # inside one section, with its path
        assert c.section_kind == own[0].kind
        assert any(ks <= c.start and c.end <= ke for ks, ke in doc.keep)  # no page furniture inside
        last = i + 1 == len(chunks) or chunks[i + 1].section_path != c.section_path
        # the budget; a section's last chunk may take a short tail (up to 1.25 x)
        assert c.tokens <= settings.budget or (last and c.tokens <= settings.budget * 1.25), (c.tokens, c.section)
        covered[c.start:c.end] = b"\x01" * (c.end - c.start)
    chunked = {c.section_path for c in chunks}
    for s in secs:  # a heading line of a section without body text is not chunked
        if s.path not in chunked:
            covered[s.start:s.body_start] = b"\x01" * (s.body_start - s.start)
    missed = [i for ks, ke in doc.keep for i in range(ks, ke) if not covered[i] and not text[i].isspace()]
    assert not missed, text[missed[0]: missed[0] + 40]


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_invariants_on_every_report(docs, name):
    check(docs[name], chunk(docs[name]))


@pytest.mark.parametrize("settings", [ChunkSettings(80, 0, 20), ChunkSettings(120, 40, 30), ChunkSettings(40, 10, 10)],
                         ids=lambda s: s.key())
def test_invariants_under_other_settings(docs, settings):
    for name in ("001_c3731563950f55ea.txt", "2025年宁夏政府工作报告.docx", "02_county_gbk_cr.txt"):
        doc = docs[name]
        small = chunk(doc, settings)
        check(doc, small, settings)
        assert len(small) > len(chunk(doc))


@pytest.mark.parametrize("settings", [ChunkSettings(80, 0, 20), ChunkSettings(120, 40, 30)], ids=lambda s: s.key())
def test_overlap_is_whole_trailing_sentences_within_the_overlap(docs, settings):
    doc = docs["001_c3731563950f55ea.txt"]
    chunks = chunk(doc, settings)
    overlaps = 0
    for a, b in zip(chunks, chunks[1:]):
        assert a.start < b.start
        if b.start < a.end:
            overlaps += 1
            assert a.section_path == b.section_path
            assert b.start in {s for s, _ in split_sentences(doc.text, a.start, a.end)}  # a sentence of a
            assert tokens.count(doc.text[b.start:a.end]) <= settings.overlap
    assert (overlaps > 0) == (settings.overlap > 0)


def test_section_paths_and_kinds(docs):
    doc = docs["04b_city_2024.txt"]
    chunks = chunk(doc)
    result = next(c for c in chunks if "全年实现地区生产总值2.47万亿元" in c.text)
    assert result.section_path == ("一、2023年工作回顾",) and result.section_kind == "review"
    target = next(c for c in chunks if "地区生产总值增长5%左右" in c.text)
    assert target.section_path == ("二、2024年工作安排",) and target.section_kind == "plan"
    assert target.embed_text() == "二、2024年工作安排\n" + target.text
    sub = next(c for c in chunks if c.section_path[-1].startswith("（一）加快发展新质生产力"))
    assert sub.section == "二、2024年工作安排 > （一）加快发展新质生产力，推进产业创新集群建设"
    # another heading style: 第一部分 chapters and "1." items (Zhuzhou)
    zz = chunk(docs["01_prefecture_city.txt"])
    assert any(len(c.section_path) >= 2 and c.section_path[0].startswith("第一部分") for c in zz)


def test_page_furniture_is_never_chunked(docs):
    doc = docs["000_c180eaa18c962c1d.txt"]
    stamp = doc.text.index("浏览次数")
    assert not any(c.start <= stamp < c.end for c in chunk(doc))
    assert len(doc.keep) > 1  # the stamp splits the content


# --------------------------------------------------------------------------- built documents


def mkdoc(text: str, marks=(), key: str = "") -> Document:
    rep = Report(id="t-2024", file="t.txt", title="", region="", level="", year=2024, key=key)
    return Document(report=rep, path="", text=text, format="text", encoding="utf-8", sha256="",
                    keep=load.content_spans(text), marks=tuple(marks))


def test_chunks_carry_the_page_they_start_on(docs):
    text = docs["04a_city_2023.txt"].text
    lines = text.splitlines(keepends=True)
    cuts = [0, sum(map(len, lines[:10])), sum(map(len, lines[:20])), len(text)]
    pages = [Mark(cuts[i], cuts[i + 1], "page", i + 1) for i in range(3)]
    chunks = chunk(mkdoc(text, pages), ChunkSettings(80, 0, 20))
    for c in chunks:
        assert c.page == next(m.level for m in pages if m.start <= c.start < m.end)
    assert {c.page for c in chunks} == {1, 2, 3}
    assert {c.page for c in chunk(mkdoc(text))} == {0}  # no page marks: page 0


def test_a_heading_only_section_gives_no_chunk_but_names_its_children():
    body = "全年完成投资1180亿元，同比增长8.5%，重点项目建设取得明显成效，产业项目投资占比提高2.3个百分点。"
    text = "\n".join(["某市2024年政府工作报告", "一、2023年工作回顾", "（一）产业发展", body, "（二）民生事业", body])
    chunks = chunk(mkdoc(text))
    # the title and 一、 have only their heading line: no chunk of theirs
    assert [c.section_path for c in chunks] == [("一、2023年工作回顾", "（一）产业发展"), ("一、2023年工作回顾", "（二）民生事业")]
    check(mkdoc(text), chunks)


def test_the_same_passage_twice_gets_two_ids():
    para = "坚持稳中求进工作总基调，全力以赴稳增长、调结构、惠民生、防风险。"
    text = "\n".join(["某市2024年政府工作报告", "一、2023年工作回顾", para, "", para])
    chunks = chunk(mkdoc(text, key="abc"), ChunkSettings(budget=45, overlap=0, min_tokens=1))
    same = [c for c in chunks if c.text == para]
    assert len(same) == 2 and same[0].hash == same[1].hash
    assert same[1].id == same[0].id + "-2" and same[0].id.startswith("abc:")


def test_one_very_long_sentence_is_cut_at_clauses():
    clause = "推进城市更新和老旧小区改造，"
    text = "某市2024年政府工作报告\n一、2023年工作回顾\n" + clause * 120 + "取得明显成效。"
    doc = mkdoc(text)
    settings = ChunkSettings(budget=100, overlap=0, min_tokens=10)
    chunks = chunk(doc, settings)
    body = [c for c in chunks if c.section_path == ("一、2023年工作回顾",)]
    assert len(body) >= 10
    check(doc, chunks, settings)


def test_ids_are_stable_and_an_edit_changes_only_its_chunk(docs):
    doc = docs["001_c3731563950f55ea.txt"]
    before = chunk(doc)
    assert [c.id for c in chunk(doc)] == [c.id for c in before]
    old = "城乡居民收入比缩小到1.64"
    text = doc.text.replace(old, "城乡居民收入比进一步缩小到1.64", 1)
    after = chunk(replace(doc, text=text, keep=load.content_spans(text)))
    gone = [c for c in before if c.id not in {a.id for a in after}]
    assert gone and all(old in c.text for c in gone)  # the later chunks moved, but kept their ids
    assert len(after) == len(before) and len(gone) <= 2


def test_settings_key_names_every_setting():
    keys = {ChunkSettings().key(), ChunkSettings(budget=200).key(), ChunkSettings(overlap=0).key(),
            ChunkSettings(min_tokens=10).key()}
    assert len(keys) == 4
