"""rag.structure + rag.chunk on real reports (the five seeds, the ten 2025 DOCX) and on
the fixture reports (tests/fixtures/reports, and a PDF built here): heads and their
levels, review/plan parts, and the chunk invariants (exact offsets, no chunk across a
section or page furniture, the token budget, nothing left out, PDF page numbers)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rag import load, tokens
from rag.chunk import ChunkSettings, chunk
from rag.structure import children, clean_label, part_kind, sections, subtree_end
from rag.text.numbers import quantities
from rag.text.sentences import split_sentences
from rag.types import Document, Report

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DOCX = ROOT / "corpus" / "reports-2025"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reports"
BUDGET = ChunkSettings().budget


def cut(doc: Document):
    return doc, sections(doc), chunk(doc)


def nospace(s: str) -> str:
    return re.sub(r"\s+", "", s)


def tops(secs):
    """(label, kind) of the top-level parts (level 1)."""
    return [(nospace(s.path[-1]), s.kind) for s in secs if len(s.path) == 1 and s.level == 1]


def section_at(secs, pos):
    return next(s for s in secs if s.start <= pos < s.end)


# --------------------------------------------------------------------------- invariants


def check_sections(doc, secs):
    assert secs
    first, last = doc.keep[0][0], doc.keep[-1][1]
    assert secs[0].start >= first and secs[-1].end == last
    for a, b in zip(secs, secs[1:]):
        assert a.end == b.start, (a.path, b.path)  # sections tile the content
    seen = {}
    for s in secs:
        assert s.start <= s.body_start <= s.end
        assert s.kind in ("review", "plan", "other")
        assert s.path and all(s.path), s.path
        if len(s.path) > 1:
            parent = seen.get(s.path[:-1])
            assert parent is not None, s.path  # the parent head came first
            assert s.level > parent.level
            assert s.kind == seen[s.path[:1]].kind  # a part's kind is its top head's
        seen.setdefault(s.path, s)


def check_chunks(doc, secs, chunks):
    assert chunks
    assert len({c.id for c in chunks}) == len(chunks)
    assert [c.ord for c in chunks] == list(range(len(chunks)))
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    covered = bytearray(len(doc.text))
    for c in chunks:
        assert c.text == doc.text[c.start:c.end]
        assert c.text and c.text == c.text.strip()
        assert c.report_id == doc.report.id and c.doc == doc.report.file
        assert c.tokens == tokens.count(c.text)
        # no chunk crosses a section, nor a stretch of page furniture
        sec = next((s for s in secs if s.path == c.section_path and s.start <= c.start and c.end <= s.end), None)
        assert sec is not None, (c.section_path, c.start, c.end)
        assert c.section_kind == sec.kind
        assert any(ks <= c.start and c.end <= ke for ks, ke in doc.keep)
        covered[c.start:c.end] = b"\x01" * (c.end - c.start)
    # nothing is left out: every content character is in a chunk or in a heading line
    for s in secs:
        covered[s.start:s.body_start] = b"\x01" * (s.body_start - s.start)
    missed = [i for ks, ke in doc.keep for i in range(ks, ke) if not covered[i] and not doc.text[i].isspace()]
    assert not missed, doc.text[missed[0]: missed[0] + 40]


def over_budget(doc, chunks, budget=BUDGET):
    """Chunks over the budget that are neither one (long) sentence nor a section's last
    chunk with a short tail merged in (allowed up to 1.25 x the budget by chunk.py)."""
    bad = []
    for i, c in enumerate(chunks):
        if c.tokens <= budget:
            continue
        if len(split_sentences(doc.text, c.start, c.end)) == 1:
            continue
        last = i + 1 == len(chunks) or chunks[i + 1].section_path != c.section_path
        if last and c.tokens <= budget * 1.25:
            continue
        bad.append((c.tokens, c.section_path[-1], c.text[:30]))
    return bad


# --------------------------------------------------------------------------- the seeds


@pytest.fixture(scope="module")
def seeds():
    return {p.name: cut(load.read(p, SEEDS)) for p in sorted(SEEDS.glob("*.txt"))}


SEED_TOPS = {
    "000_c180eaa18c962c1d.txt": [("一、2019年工作回顾", "review"), ("二、2020年工作总体要求和重点任务", "plan"),
                                 ("三、深入推进政府治理能力现代化", "plan")],
    "001_c3731563950f55ea.txt": [("一、2020年主要工作和“十三五”发展成就", "review"), ("二、“十四五”时期的主要目标和任务", "plan"),
                                 ("三、2021年主要工作安排", "plan")],
    "002_e628585dbd2362fe.txt": [("一、2019年工作回顾", "review"), ("二、2020年主要目标任务", "plan"),
                                 ("三、持续推进政府治理现代化", "plan"), ("附件", "other"), ("名词解释", "other"), ("（文末）", "other")],
    "003_887212d0c28f9641.txt": [("一、2022年工作回顾", "review")],
    "004_6b77bdb4c9c02796.txt": [],
}


@pytest.mark.parametrize("name", sorted(SEED_TOPS))
def test_seed_top_heads(seeds, name):
    doc, secs, _ = seeds[name]
    assert tops(secs) == SEED_TOPS[name]
    for s in secs:
        if len(s.path) == 1 and s.level == 1 and s.path[0] != "（文末）":
            # the head is the line it starts at (markdown marks and spacing aside)
            line = doc.text[s.start: s.body_start]
            assert nospace(s.path[0]) in nospace(line).replace("#", "")


def test_haishu_sections_nest_under_their_parts(seeds):
    _, secs, _ = seeds["002_e628585dbd2362fe.txt"]
    title = secs[0]
    assert title.level == 0 and nospace(title.path[0]) == "政府工作报告"
    i = next(i for i, s in enumerate(secs) if nospace(s.path[-1]) == "二、2020年主要目标任务")
    kids = [nospace(s.path[-1]) for s in children(secs, i)]
    assert kids[:2] == ["（一）聚焦以进固稳，推动产业转型持续提质", "（二）聚焦创新驱动，推动发展动能持续增强"]
    end = subtree_end(secs, i)
    assert nospace(section_at(secs, end).path[0]) == "三、持续推进政府治理现代化"
    assert all(s.kind == "plan" for s in secs if secs[i].start <= s.start < end)


def test_article_seed_is_one_review_part(seeds):
    doc, secs, chunks = seeds["004_6b77bdb4c9c02796.txt"]
    assert doc.report.kind == "article"
    assert {s.kind for s in secs} == {"review"}
    assert {c.section_kind for c in chunks} == {"review"}


@pytest.mark.parametrize("name", sorted(SEED_TOPS))
def test_seed_invariants(seeds, name):
    doc, secs, chunks = seeds[name]
    check_sections(doc, secs)
    check_chunks(doc, secs, chunks)
    assert over_budget(doc, chunks) == []


def test_seed_000_page_furniture_is_not_chunked(seeds):
    doc, _, chunks = seeds["000_c180eaa18c962c1d.txt"]
    stamp = doc.text.index("发布时间")
    assert not any(ks <= stamp < ke for ks, ke in doc.keep)
    assert not any("浏览次数" in c.text for c in chunks)


# --------------------------------------------------------------------------- the ten DOCX


@pytest.fixture(scope="module")
def docx():
    return {p.name: cut(load.read(p, DOCX)) for p in sorted(DOCX.glob("*.docx"))}


DOCX_NAMES = sorted(p.name for p in DOCX.glob("*.docx"))


@pytest.mark.parametrize("name", DOCX_NAMES)
def test_docx_has_a_review_part_then_a_plan_part(docx, name):
    doc, secs, chunks = docx[name]
    t = tops(secs)
    kinds = [k for _, k in t]
    assert "review" in kinds and "plan" in kinds
    assert kinds.index("review") < kinds.index("plan")
    review = next(lab for lab, k in t if k == "review")
    plan = next(lab for lab, k in t if k == "plan")
    assert "2024年" in review and "回顾" in review
    assert "2025年" in plan
    assert secs[0].level == 0 and "2025年" in secs[0].path[0]  # the title line
    # figures of both parts are chunked under their part's kind
    assert {"review", "plan"} <= {c.section_kind for c in chunks}


@pytest.mark.parametrize("name", DOCX_NAMES)
def test_docx_invariants(docx, name):
    doc, secs, chunks = docx[name]
    check_sections(doc, secs)
    check_chunks(doc, secs, chunks)


@pytest.mark.parametrize("name", DOCX_NAMES)
def test_docx_chunks_keep_the_budget(docx, name):
    doc, _, chunks = docx[name]
    assert over_budget(doc, chunks) == []


# --------------------------------------------------------------------------- fixture reports


@pytest.fixture(scope="module")
def fx():
    return {p.name: cut(load.read(p, FIXTURES, catalog={})) for p in sorted(FIXTURES.iterdir()) if p.name != "README.md"}


FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if p.name != "README.md")


def test_fixture_set():
    assert FIXTURE_NAMES == ["01_prefecture_city.txt", "02_county_gbk_cr.txt", "03_national_excerpt.md",
                             "04a_city_2023.txt", "04b_city_2024.txt", "05_district_page.html"]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_invariants(fx, name):
    doc, secs, chunks = fx[name]
    assert 1500 <= len(doc.text) <= 4000
    check_sections(doc, secs)
    check_chunks(doc, secs, chunks)
    assert over_budget(doc, chunks) == []


def test_prefecture_city_chapters_and_arabic_items(fx):
    doc, secs, chunks = fx["01_prefecture_city.txt"]
    assert secs[0].path == ("株洲市2024年政府工作报告",) and secs[0].level == 0
    assert tops(secs) == [("第一部分2023年工作回顾", "review"), ("第二部分2024年主要目标任务", "plan"),
                          ("第三部分全面加强政府自身建设", "plan")]
    i = next(i for i, s in enumerate(secs) if s.path == ("第一部分 2023年工作回顾",))
    assert [s.path[-1] for s in children(secs, i)] == [
        "1.聚焦产业强市，制造业高地建设提速", "2.聚焦项目攻坚，有效投资持续扩大", "3.聚焦民生改善，群众获得感持续增强"]
    assert all(s.level == 2 for s in children(secs, i))
    assert nospace(section_at(secs, subtree_end(secs, i)).path[0]) == "第二部分2024年主要目标任务"
    # "（1）做强…。正文" items are paragraphs of their "1." section, not heads
    assert not any(s.path[-1].startswith("（") for s in secs)
    pos = doc.text.index("（1）做强先进制造业集群")
    assert section_at(secs, pos).path == ("第一部分 2023年工作回顾", "1.聚焦产业强市，制造业高地建设提速")
    pos = doc.text.index("地区生产总值增长6%左右")
    assert section_at(secs, pos).kind == "plan"
    assert "\n#" not in doc.text and "**" not in doc.text  # no markdown in this one


def test_county_gbk_run_in_heads(fx):
    doc, secs, _ = fx["02_county_gbk_cr.txt"]
    assert tops(secs) == [("一、2022年工作回顾", "review"), ("二、2023年工作安排", "plan"), ("三、加强政府自身建设", "plan")]
    i = next(i for i, s in enumerate(secs) if s.path == ("一、2022年工作回顾",))
    kids = children(secs, i)
    assert [s.path[-1] for s in kids] == ["（一）生态经济提质增效", "（二）城乡融合持续深化", "（三）生态环境持续改善",
                                          "（四）民生福祉不断增进", "（五）改革开放纵深推进"]
    for s in kids:  # a run-in head: its paragraph starts on the head's own line
        assert s.body_start == s.start and doc.text[s.start:].startswith(s.path[-1] + "。")


def test_national_markdown_heads(fx):
    doc, secs, _ = fx["03_national_excerpt.md"]
    assert secs[0].path == ("政府工作报告（摘编）",) and secs[0].level == 0
    assert tops(secs) == [("一、2023年工作回顾", "review"), ("二、2024年经济社会发展总体要求和政策取向", "plan"),
                          ("三、2024年政府工作任务", "plan")]
    i = next(i for i, s in enumerate(secs) if s.path == ("一、2023年工作回顾",))
    assert [s.path[-1] for s in children(secs, i)] == ["（一）经济运行回升向好", "（二）着力扩大国内需求", "（三）大力推进现代化产业体系建设",
                                                       "（四）坚定不移深化改革扩大开放", "（五）切实保障和改善民生"]
    assert {s.level for s in children(secs, i)} == {2}
    assert not any(s.path[-1].startswith("#") for s in secs)
    pos = doc.text.index("国内生产总值增长5%左右")
    assert section_at(secs, pos).path == ("二、2024年经济社会发展总体要求和政策取向",)


def test_html_page_bold_heads(fx):
    doc, secs, _ = fx["05_district_page.html"]
    assert secs[0].path == ("2024年西湖区政府工作报告",)
    assert tops(secs) == [("一、2023年工作回顾", "review"), ("二、2024年工作安排", "plan")]
    for i, s in enumerate(secs):
        if len(s.path) == 1 and s.level == 1:
            assert len(children(secs, i)) == 5


def test_two_years_of_one_city_target_in_one_result_in_the_next(fx):
    """Suzhou's 2023 target is in the plan part of the 2023 report; its 2023 result in the
    review part of the 2024 report."""
    d23, s23, c23 = fx["04a_city_2023.txt"]
    d24, s24, c24 = fx["04b_city_2024.txt"]
    assert d23.report.plan_years == (2023,) and 2023 in d24.report.review_years
    assert 2023 not in d23.report.review_years and 2023 not in d24.report.plan_years

    target = "地区生产总值增长5.5%左右"
    pos = d23.text.index(target)
    assert section_at(s23, pos).kind == "plan"
    ch = next(c for c in c23 if c.start <= pos < c.end)
    assert ch.section_kind == "plan"
    q = next(q for q in quantities(ch.text) if q.kind == "percent" and q.value == 5.5)
    assert q.qualifier == "approx"

    result = "全年实现地区生产总值2.47万亿元、增长4.6%"
    pos = d24.text.index(result)
    assert section_at(s24, pos).kind == "review"
    assert next(c for c in c24 if c.start <= pos < c.end).section_kind == "review"
    # the 2022 result sits in the 2023 report's review part, the 2024 target in the 2024 report's plan part
    assert section_at(s23, d23.text.index("全年实现地区生产总值2.39万亿元")).kind == "review"
    assert section_at(s24, d24.text.index("地区生产总值增长5%左右")).kind == "plan"
    assert tops(s23)[0] == ("一、过去五年和2022年工作回顾", "review")


# --------------------------------------------------------------------------- a PDF built here

PDF_PAGES = [
    ["吉林市2024年政府工作报告", "——2024年1月8日在吉林市第十七届人民代表大会第四次会议上", "吉林市人民政府市长 赵某", "各位代表：",
     "现在，我代表市人民政府向大会报告工作，请予审议，并请市政协委员和其他列席人员提出意见。",
     "一、2023年工作回顾",
     "过去一年，在省委、省政府和市委的坚强领导下，我们坚持稳中求进工作总基调，全力以赴稳增长、调结构、惠民生、防风险，全市经济运行持续恢复、"
     "稳中向好。全年实现地区生产总值1720.5亿元、增长6.3%；一般公共预算收入126.8亿元、增长9.1%；规模以上工业增加值增长7.4%；"
     "固定资产投资增长8.2%；城镇、农村居民人均可支配收入分别增长5.6%和7.8%。",
     "一年来，我们坚持以项目建设为主抓手，以改革创新为动力，以保障和改善民生为根本，各项工作取得新的进展。"
     "经济运行呈现稳中有进、进中向好的良好态势，为实现“十四五”规划目标任务奠定了坚实基础。",
     "（一）产业转型步伐加快。化工产业转型升级取得新突破，碳纤维产业产值增长21.5%，新增规模以上工业企业68家。冰雪旅游持续火热，"
     "全年接待游客6120万人次，旅游总收入增长45.3%。"],
    ["（二）项目建设扎实推进。全年实施5000万元以上项目560个，新开工亿元以上项目210个，完成投资增长11.6%，争取地方政府专项债券资金58.6亿元。"
     "重大基础设施加快建设，新改建农村公路420公里，城市更新项目全面铺开。",
     "（三）民生福祉持续增进。城镇新增就业4.1万人，新建改扩建中小学校9所，新增养老床位1500张，完成老旧小区改造132个，城乡低保标准分别提高5%和8%。",
     "（四）营商环境持续优化。深化“放管服”改革，企业开办时间压缩至1个工作日，新增经营主体3.6万户，民间投资增长5.2%。",
     "（五）城乡面貌持续改善。完成城市更新项目45个，新建口袋公园20个，新增城市绿地面积120公顷，松花江沿岸生态环境明显改善，"
     "空气质量优良天数比例达到90.4%。",
     "同时，我们也清醒看到，全市经济总量不大、产业结构偏重，创新能力还不够强，民生领域还有不少短板。我们将采取有力措施，认真加以解决。"],
    ["二、2024年工作安排",
     "2024年全市经济社会发展的主要预期目标是：地区生产总值增长6.5%左右；一般公共预算收入增长6%；规模以上工业增加值增长8%；"
     "固定资产投资增长10%；社会消费品零售总额增长7%；城乡居民人均可支配收入增长与经济增长同步；城镇新增就业4万人以上。",
     "实现上述目标，必须坚持稳中求进、以进促稳、先立后破，把握好稳增长和调结构的关系，统筹发展和安全，"
     "努力推动经济实现质的有效提升和量的合理增长，重点抓好以下几个方面工作。",
     "（一）加快建设现代化产业体系。做大做强碳纤维、新材料、新能源汽车零部件等产业集群，力争碳纤维产业产值突破300亿元，新增规模以上工业企业60家以上。",
     "（二）全力扩大有效投资。全年实施5000万元以上项目600个，新开工亿元以上项目220个，固定资产投资增长10%以上。",
     "（三）大力发展冰雪经济。办好冰雪旅游节和雾凇冰雪节，接待游客力争突破7000万人次，旅游总收入增长20%以上。",
     "（四）持续保障和改善民生。新建改扩建中小学校8所，新增养老床位1200张，改造老旧小区120个，办好十件民生实事。"
     "落实就业优先政策，统筹做好高校毕业生、农民工、退役军人等重点群体就业，新增城镇就业4万人以上。",
     "（五）全面加强政府自身建设。坚持依法行政，自觉接受市人大及其常委会的法律监督和工作监督，主动接受市政协的民主监督，"
     "一般性支出压减5%以上，以政府的“紧日子”换取群众的“好日子”。",
     "各位代表！新的一年，让我们在省委、省政府和市委的坚强领导下，团结一心、奋勇争先，为全面建设社会主义现代化新吉林而努力奋斗！"],
]


def _cjk_font() -> tuple[str, int]:
    if shutil.which("fc-list") is None:
        pytest.skip("no fc-list: cannot look for a CJK font (install fontconfig and fonts-noto-cjk)")
    out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout
    files = sorted({ln.split(":")[0].strip() for ln in out.splitlines() if ln.strip()})
    files = [f for f in files if f.lower().endswith((".ttf", ".otf", ".ttc", ".otc"))]
    if not files:
        pytest.skip("no CJK font found by `fc-list :lang=zh` (install fonts-noto-cjk)")
    files.sort(key=lambda f: ("Regular" not in f, "Sans" not in f, f))
    path, index = files[0], 0
    if path.lower().endswith((".ttc", ".otc")):
        from fontTools.ttLib import TTCollection

        names = [face["name"].getDebugName(1) or "" for face in TTCollection(path).fonts]
        index = next((i for i, n in enumerate(names) if n.endswith(" SC")), 0)
    return path, index


@pytest.fixture(scope="module")
def pdf(tmp_path_factory):
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (test-only) is not installed")
    font, index = _cjk_font()

    class Doc(fpdf.FPDF):
        def footer(self):
            self.set_y(-15)
            self.set_font("cjk", size=9)
            self.cell(0, 10, f"- {self.page_no()} -", align="C")

    out = Doc()
    out.add_font("cjk", "", font, collection_font_number=index)
    for paras in PDF_PAGES:
        out.add_page()
        out.set_font("cjk", size=12)
        for para in paras:
            out.multi_cell(0, 8, para, new_x="LMARGIN", new_y="NEXT")
    folder = tmp_path_factory.mktemp("pdf-reports")
    path = folder / "report.pdf"
    path.write_bytes(bytes(out.output()))
    return cut(load.read(path, folder, catalog={}))


def test_pdf_report_loads_and_is_described(pdf):
    doc, _, _ = pdf
    assert doc.format == "pdf"
    assert 1500 <= len(doc.text) <= 4000
    assert "- 1 -" not in doc.text  # page numbers dropped
    r = doc.report
    assert (r.region, r.level, r.parent, r.region_key) == ("吉林市", "prefecture", "吉林省", "吉林省/吉林市")  # the city, not the province
    assert (r.year, r.review_years, r.plan_years) == (2024, (2023,), (2024,))
    assert r.speaker == "市长 赵某" and r.meeting == "吉林市第十七届人民代表大会第四次会议"


def test_pdf_sections(pdf):
    doc, secs, _ = pdf
    assert secs[0].path == ("吉林市2024年政府工作报告",)
    assert tops(secs) == [("一、2023年工作回顾", "review"), ("二、2024年工作安排", "plan")]
    i = next(i for i, s in enumerate(secs) if s.path == ("一、2023年工作回顾",))
    assert [s.path[-1] for s in children(secs, i)] == ["（一）产业转型步伐加快", "（二）项目建设扎实推进", "（三）民生福祉持续增进",
                                                       "（四）营商环境持续优化", "（五）城乡面貌持续改善"]
    check_sections(doc, secs)


def test_pdf_chunks_carry_page_numbers(pdf):
    doc, secs, chunks = pdf
    check_chunks(doc, secs, chunks)
    assert over_budget(doc, chunks) == []
    pages = sorted((m.start, m.end, m.level) for m in doc.marks if m.kind == "page")
    assert [p for _, _, p in pages] == [1, 2, 3]
    for c in chunks:
        page = next(p for s, e, p in pages if s <= c.start < e)
        assert c.page == page
    assert {c.page for c in chunks} == {1, 2, 3}
    plan = [c for c in chunks if c.section_kind == "plan"]
    assert plan and all(c.page == 3 for c in plan)
    target = next(c for c in chunks if "地区生产总值增长6.5%左右" in c.text.replace("\n", ""))
    assert target.page == 3 and target.section_kind == "plan"


# --------------------------------------------------------------------------- units


def mkdoc(text: str, year: int = 2024, kind: str = "report") -> Document:
    rep = Report(id="t", file="t.txt", title="", region="", level="", year=year, kind=kind)
    return Document(report=rep, path="", text=text, format="text", encoding="utf-8", sha256="", keep=load.content_spans(text))


BODY = "全年完成投资1180亿元，同比增长8.5%，其中产业项目投资占比提高2.3个百分点，重点项目建设取得明显成效。"


def test_numbering_ranks_of_official_documents():
    text = "\n".join(["某市2024年政府工作报告", "各位代表：", "一、2023年工作回顾", BODY, "（一）产业发展", BODY, "1.制造业", BODY,
                      "2.服务业", BODY, "（二）民生事业", BODY, "二、2024年工作安排", BODY, "（一）主要目标", BODY])
    secs = sections(mkdoc(text))
    assert [(s.path, s.level, s.kind) for s in secs] == [
        (("某市2024年政府工作报告",), 0, "other"),
        (("一、2023年工作回顾",), 1, "review"),
        (("一、2023年工作回顾", "（一）产业发展"), 2, "review"),
        (("一、2023年工作回顾", "（一）产业发展", "1.制造业"), 3, "review"),
        (("一、2023年工作回顾", "（一）产业发展", "2.服务业"), 3, "review"),
        (("一、2023年工作回顾", "（二）民生事业"), 2, "review"),
        (("二、2024年工作安排",), 1, "plan"),
        (("二、2024年工作安排", "（一）主要目标"), 2, "plan"),
    ]
    check_sections(mkdoc(text), secs)


def test_paren_arabic_heads_nest_under_arabic_dot_heads():
    text = "\n".join(["某市2024年政府工作报告", "一、2023年工作回顾", BODY, "（一）产业发展", BODY, "1.制造业", BODY,
                      "（1）轨道交通装备", BODY, "（2）航空动力", BODY, "2.服务业", BODY])
    paths = [s.path for s in sections(mkdoc(text))]
    assert ("一、2023年工作回顾", "（一）产业发展", "1.制造业", "（1）轨道交通装备") in paths


def test_salutations_are_not_heads():
    text = "\n".join(["某县2023年政府工作报告", "各位代表：", "一、2022年工作回顾", BODY, "各位代表！", BODY, "二、2023年工作安排", BODY, "谢谢！"])
    labels = [s.path[-1] for s in sections(mkdoc(text, 2023))]
    assert labels == ["某县2023年政府工作报告", "一、2022年工作回顾", "二、2023年工作安排"]


@pytest.mark.parametrize(
    "label, kind",
    [
        ("一、2023年工作回顾", "review"),
        ("二、2024年工作安排", "plan"),
        ("一、2024年主要工作", "plan"),  # a year of the report: its plan, though 主要工作 is a review word
        ("一、过去五年工作回顾", "review"),
        ("二、今后五年目标任务", "plan"),
        ("附件", "other"),
        ("名词解释", "other"),
    ],
)
def test_part_kind(label, kind):
    assert part_kind(label, 2024, "other") == kind


def test_part_kind_inherits_when_the_head_says_nothing():
    assert part_kind("三、加强政府自身建设", 2024, "plan") == "plan"
    assert part_kind("三、加强政府自身建设", 2024, "other") == "other"


def test_clean_label():
    assert clean_label("政 府 工 作 报 告") == "政府工作报告"
    assert clean_label("**二、2020年主要目标任务**") == "二、2020年主要目标任务"
    assert clean_label("（一）加快发展（P3）：") == "（一）加快发展"


def test_clean_label_keeps_a_space_between_words():
    assert clean_label("第三部分 全面加强政府自身建设") == "第三部分 全面加强政府自身建设"


def test_chunk_settings_budget_is_respected_for_a_smaller_budget(fx):
    doc, secs, _ = fx["04a_city_2023.txt"]
    small = ChunkSettings(budget=80, overlap=10, min_tokens=20)
    chunks = chunk(doc, small)
    check_chunks(doc, secs, chunks)
    assert len(chunks) > len(chunk(doc))
    assert over_budget(doc, chunks, budget=80) == []
