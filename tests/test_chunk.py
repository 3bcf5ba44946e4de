"""Chunking: golden files for all five seeds plus properties that must hold.

Regenerate the golden files after a deliberate change with
`RAG_UPDATE_GOLDEN=1 pytest tests/test_chunk.py` and review the diff.
"""
import json
import os
from pathlib import Path

import pytest

from rag import chunk as chunking
from rag import load, tokens

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
GOLDEN = Path(__file__).resolve().parent / "golden"
FILES = sorted(p.name for p in SEEDS.glob("*.txt"))

# Every heading of every seed, as the chunker must find it (label, level by path depth).
HEADINGS = {
    "000_c180eaa18c962c1d.txt": [
        "一、2019年工作回顾",
        "一年来,我们推动数字化创新,不断引领区域发展转型升级",
        "一年来,我们推动融合化发展,不断引领城乡品质提质升级",
        "一年来,我们推动市场化改革,不断引领发展环境优化升级",
        "一年来,我们推动国际化合作,不断引领开放文化优势升级",
        "一年来,我们推动多元化治理,不断引领民生福祉改善升级",
        "一年来,我们推动政府自身建设,不断引领江北铁军战斗力升级",
        "二、2020年工作总体要求和重点任务",
        "(一)从提升发展动能入手,推进江北产业高质量发展",
        "(五)从增强服务效能入手,冲刺江北社会高水平小康",
        "三、深入推进政府治理能力现代化",
        "(一)牢记初心使命,提高科学谋划能力",
        "(四)永葆清廉本色,提高依法行政能力",
    ],
    "001_c3731563950f55ea.txt": [
        "一、2020年主要工作和“十三五”发展成就",
        "(一)抗疫战疫赢得高分报表",
        "(六)治政优政展现更好效能",
        "这五年,创新改革彰显动能",
        "二、“十四五”时期的主要目标和任务",
        "发展能级显著提升",
        "民生保障更有温度",
        "三、2021年主要工作安排",
        "(一)聚焦抢抓机遇,力促区位提级扩能",
        "提升内外交通能级",
        "以绣花功夫推进城市更新",
        "(九)聚焦自身建设,力促唯实惟先智治",
        "增进依法行政“成色”",
    ],
    "002_e628585dbd2362fe.txt": [
        "政府工作报告",
        "一、2019 年工作回顾",
        "（一）转型升级不断推进",
        "（六）自身建设不断强化",
        "二、2020年主要目标任务",
        "（一）聚焦以进固稳，推动产业转型持续提质",
        "加强主体培育",
        "（四）聚焦内涵品质，推动城市形象持续提升",
        "推进平安建设",
        "三、持续推进政府治理现代化",
        "（四）突出清廉建设",
        "附件",
        "名词解释",
        "9610",
        "“246”产业",
        "唯实惟先",
    ],
    "003_887212d0c28f9641.txt": [
        "XX市2023年政府工作报告",
        "一、2022年工作回顾",
        "我们坚决贯彻国家关于稳住经济大盘重大决策部署",
        "(一)全力以赴助企纾困稳链,确保经济平稳运行",
        "(六)切实强化改革攻坚,高质量发展动能持续增强",
    ],
    "004_6b77bdb4c9c02796.txt": [
        "江北“六争攻坚”争出攀高跨越新突破",
        "争强服务创新样板区",
        "争来产业转型新机遇",
        "争活区域发展新动能",
        "争出城乡品质新蝶变",
        "奋楫争先再攀高",
    ],
}
# image captions and bylines that must NOT become headings
NOT_HEADINGS = ["宁波音乐港", "前洋E商小镇", "中兴大桥合龙", "市长盛悠", "通讯员 王涛", "---"]


def _doc(name):
    return load.read(SEEDS / name)


def _record(c):
    return {"id": c.id, "section": c.section, "kind": c.section_kind, "start": c.start, "end": c.end, "tokens": c.tokens}


@pytest.mark.parametrize("name", FILES)
def test_golden(name):
    chunks = chunking.chunk(_doc(name))
    got = [_record(c) for c in chunks]
    path = GOLDEN / f"{name}.chunks.json"
    if os.environ.get("RAG_UPDATE_GOLDEN") or not path.exists():
        path.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", FILES)
def test_chunks_are_exact_spans_under_budget(name):
    doc = _doc(name)
    chunks = chunking.chunk(doc)
    assert chunks
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]
        assert c.text == c.text.strip()
        assert c.tokens == tokens.count(c.text) <= chunking.BUDGET * 1.25
        assert any(s <= c.start and c.end <= e for s, e in doc.keep), "chunk reaches into boilerplate"
    assert len({c.id for c in chunks}) == len(chunks)
    # every kept sentence is in some chunk, but for the heading lines of heading-only sections
    covered = [False] * len(doc.text)
    for c in chunks:
        covered[c.start : c.end] = [True] * (c.end - c.start)
    for sec in chunking.sections(doc):
        covered[sec.start : sec.body_start] = [True] * (sec.body_start - sec.start)
    for s, e in doc.keep:
        for a, b in chunking.split_sentences(doc.text, s, e):
            assert any(covered[a:b]), doc.text[a:b]


@pytest.mark.parametrize("name", FILES)
def test_every_heading_found(name):
    secs = chunking.sections(_doc(name))
    labels = {label for s in secs for label in s.path}
    missing = [h for h in HEADINGS[name] if h not in labels]
    assert not missing
    assert not labels & set(NOT_HEADINGS)


@pytest.mark.parametrize("name", FILES)
def test_no_chunk_crosses_a_top_level_section(name):
    doc = _doc(name)
    starts = [s.start for s in chunking.sections(doc) if len(s.path) == 1] + [len(doc.text)]
    tops = list(zip(starts, starts[1:]))
    for c in chunking.chunk(doc):
        assert any(s <= c.start and c.end <= e for s, e in tops), c.section


def test_heading_path_and_kinds():
    chunks = chunking.chunk(_doc("002_e628585dbd2362fe.txt"))
    target = next(c for c in chunks if "6.5%左右" in c.text)
    assert target.section == "二、2020年主要目标任务" and target.section_kind == "plan"
    result = next(c for c in chunks if "1170.1 亿元" in c.text)
    assert result.section.startswith("一、2019 年工作回顾") and result.section_kind == "review"
    gloss = next(c for c in chunks if "是指减租、减息、减税、减费、减支" in c.text)
    assert gloss.section == "附件 > 名词解释 > 五减" and gloss.section_kind == "other"
    assert gloss.embed_text().startswith("附件 > 名词解释 > 五减\n")


def test_long_sections_split_with_overlap():
    doc = _doc("001_c3731563950f55ea.txt")
    chunks = chunking.chunk(doc, budget=120, overlap=40)
    by_section = {}
    for c in chunks:
        by_section.setdefault(c.section, []).append(c)
    multi = [cs for cs in by_section.values() if len(cs) > 2]
    assert multi
    assert any(b.start < a.end for cs in multi for a, b in zip(cs, cs[1:])), "some overlap"
    for cs in multi:
        for a, b in zip(cs, cs[1:]):
            # consecutive chunks of a section overlap, or touch with only white space between
            assert b.start < a.end or not doc.text[a.end : b.start].strip()
            assert a.start < b.start
    assert max(c.tokens for c in chunks) <= 150


def test_stable_ids():
    a = chunking.chunk(_doc("003_887212d0c28f9641.txt"))
    b = chunking.chunk(_doc("003_887212d0c28f9641.txt"))
    assert [c.id for c in a] == [c.id for c in b]
