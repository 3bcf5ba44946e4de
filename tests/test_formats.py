"""rag.formats: bytes of TXT/MD, DOCX, PDF and HTML files → stored text + marks.

Real libraries, real files: DOCX are built with python-docx, PDF with fpdf2 and a
CJK font found on the system (Debian's fonts-noto-cjk), HTML pages are written
here in the shape of government sites. Only the encrypted DOCX is a committed
fixture (tests/fixtures/formats/, see its README).
"""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rag.formats import SUFFIXES, Extracted, FormatError, Mark, extract, kind_of
from rag.formats.plain import decode

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "formats"
CORPUS = ROOT / "corpus" / "reports-2025"


def marked(ex: Extracted, kind: str) -> list[str]:
    return [ex.text[m.start : m.end] for m in ex.marks if m.kind == kind]


def check_marks_inside(ex: Extracted) -> None:
    for m in ex.marks:
        assert 0 <= m.start <= m.end <= len(ex.text), m


# ------------------------------------------------------------------ dispatch


def test_kind_of_by_suffix_case_insensitive():
    assert kind_of("a/报告.TXT") == "text"
    assert kind_of("报告.md") == "text"
    assert kind_of("报告.text") == "text"
    assert kind_of(Path("x/报告.Docx")) == "docx"
    assert kind_of("报告.pdf") == "pdf"
    for s in (".html", ".htm", ".xhtml", ".SHTML"):
        assert kind_of("page" + s) == "html"
    assert kind_of("报告.doc") is None
    assert kind_of("README") is None
    assert set(SUFFIXES.values()) == {"text", "docx", "pdf", "html"}


def test_unknown_type_is_a_format_error():
    with pytest.raises(FormatError) as e:
        extract("表格.xyz", raw=b"whatever")
    assert str(e.value) == "unsupported file type (.xyz)"


def test_raw_given_means_the_file_is_not_read(tmp_path):
    ex = extract(tmp_path / "does-not-exist.txt", raw="政府工作报告".encode())
    assert ex == Extracted(text="政府工作报告", format="text", encoding="utf-8")


def test_missing_file_is_a_format_error(tmp_path):
    with pytest.raises(FormatError, match="cannot read the file"):
        extract(tmp_path / "missing.txt")


def test_importing_the_package_loads_no_heavy_library():
    code = (
        "import sys, rag.formats, rag.formats.plain, rag.formats.docx, rag.formats.pdf, rag.formats.html;"
        "print(sorted(m for m in ('docx', 'pypdfium2', 'trafilatura', 'lxml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_mark_and_extracted_are_frozen():
    m = Mark(0, 2, "heading", 1)
    with pytest.raises(AttributeError):
        m.start = 1  # type: ignore[misc]
    assert Extracted(text="a", format="text").marks == ()


# ------------------------------------------------------------------ TXT / MD

REPORT = "\u3000\u3000各位代表：\n\u3000\u3000现在，我代表市人民政府，向大会报告工作，请予审议。\n一、2024年工作回顾\n"


def test_utf8(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(REPORT.encode("utf-8"))
    ex = extract(path)
    assert (ex.text, ex.encoding, ex.format, ex.marks) == (REPORT, "utf-8", "text", ())


def test_utf8_with_bom_drops_the_bom():
    assert decode(b"\xef\xbb\xbf" + REPORT.encode("utf-8")) == (REPORT, "utf-8-sig")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(codec):
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    assert decode(bom + REPORT.encode(codec)) == (REPORT, "utf-16")


def test_gbk_bytes_decode_as_gb18030():
    text, enc = decode(REPORT.encode("gbk"))
    assert (text, enc) == (REPORT, "gb18030")


def test_cr_only_and_crlf_line_ends_become_newlines():
    assert decode("第一行\r第二行\r\r第四行".encode("gbk")) == ("第一行\n第二行\n\n第四行", "gb18030")
    assert decode("第一行\r\n第二行\r\n".encode("utf-8")) == ("第一行\n第二行\n", "utf-8")
    assert decode(b"\xff\xfe" + "甲\r\n乙\r丙".encode("utf-16-le")) == ("甲\n乙\n丙", "utf-16")


def test_leading_spaces_and_text_are_kept_as_is():
    raw = "\u3000\u3000　全角空格　与 半角 空格  \t保留\n".encode()
    assert decode(raw)[0] == "\u3000\u3000　全角空格　与 半角 空格  \t保留\n"


@pytest.mark.parametrize("raw", [b"", b"   \r\n\t\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n", b"\xff\xfe"])
def test_empty_file(raw):
    with pytest.raises(FormatError) as e:
        decode(raw)
    assert str(e.value) == "empty file"


def test_binary_file():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))
    with pytest.raises(FormatError) as e:
        extract("图.txt", raw=png)
    assert str(e.value) == "binary file, not text"


def test_control_byte_soup_is_binary():
    with pytest.raises(FormatError, match="^binary file, not text$"):
        decode(bytes([1, 2, 3, 4, 5, 6, 7, 8]) * 50 + "中文".encode())


def test_latin1_text_is_not_taken_for_chinese():
    with pytest.raises(FormatError, match="cannot decode"):
        decode("Résumé of the café, déjà vu, naïve façade.".encode("latin-1"))


def test_damaged_utf8_is_not_read_as_gb18030():
    good = ("政府工作报告。" * 40).encode("utf-8")
    damaged = good[:99] + b"\xff" + good[99:]  # 99 = 33 characters of 3 bytes
    with pytest.raises(FormatError) as e:
        decode(damaged)
    assert str(e.value).startswith("not valid UTF-8")
    assert "byte at 99" in str(e.value)


# ------------------------------------------------------------------ DOCX

docx_lib = pytest.importorskip("docx", reason="python-docx is not installed")


def _docx_bytes(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def build_report_docx() -> bytes:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    d = docx_lib.Document()
    d.core_properties.title = "2025年某市政府工作报告"
    d.add_heading("2025年某市政府工作报告", level=0)  # style Title
    d.add_paragraph("各位代表：")
    d.add_heading("一、2024年工作回顾", level=1)  # style Heading 1 (bold in the default template)
    p = d.add_paragraph("\u3000\u3000")
    p.add_run("加快国际经济中心建设，产业体系现代化水平持续提升").bold = True
    p.add_run("。重点围绕发展新质生产力，打造28个未来产业试验场。")
    bold_style = d.styles.add_style("加粗正文", WD_STYLE_TYPE.PARAGRAPH)
    bold_style.base_style = d.styles["Normal"]
    bold_style.font.bold = True
    d.add_paragraph("（一）全段加粗的段落", style="加粗正文")
    p = d.add_paragraph("", style="加粗正文")
    p.add_run("前半加粗")
    p.add_run("后半不加粗").bold = False
    char_style = d.styles.add_style("强调字", WD_STYLE_TYPE.CHARACTER)
    char_style.font.bold = True
    p = d.add_paragraph("普通文字")
    p.add_run("字符样式加粗", style="强调字")
    d.styles.add_style("标题 3", WD_STYLE_TYPE.PARAGRAPH)
    d.add_paragraph("（二）中文标题样式", style="标题 3")
    p = d.add_paragraph("大纲级别段落")
    p._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="1"/>'))
    t = d.add_table(rows=3, cols=3)
    for i, row in enumerate([["指标", "2024年", "增长"], ["地区生产总值", "5.2万亿元", "5%"]]):
        for j, v in enumerate(row):
            t.cell(i, j).text = v
    t.cell(2, 0).merge(t.cell(2, 1)).text = "横向合并"
    t.cell(2, 2).text = "备注"
    t2 = d.add_table(rows=2, cols=2)
    t2.cell(0, 0).merge(t2.cell(1, 0)).text = "纵向合并"
    t2.cell(0, 1).text = "甲"
    t2.cell(1, 1).text = "乙"
    p = d.add_paragraph("正文有文本框")
    p.add_run()._r.append(
        parse_xml(
            f'<w:pict {nsdecls("w")} xmlns:v="urn:schemas-microsoft-com:vml"><v:shape style="width:100pt;height:50pt">'
            "<v:textbox><w:txbxContent><w:p><w:r><w:t>文本框内容不应出现</w:t></w:r></w:p></w:txbxContent>"
            "</v:textbox></v:shape></w:pict>"
        )
    )
    d.sections[0].header.paragraphs[0].text = "页眉文字不应出现"
    d.sections[0].footer.paragraphs[0].text = "页脚文字不应出现"
    p = d.add_paragraph("有批注的段落")
    d.add_comment(p.runs, text="批注内容不应出现", author="审阅人")
    sdt = parse_xml(
        f'<w:sdt {nsdecls("w")}><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>内容控件里的段落</w:t></w:r></w:p>'
        "</w:sdtContent></w:sdt>"
    )
    d.element.body.insert(len(d.element.body) - 1, sdt)  # before the final sectPr
    p = d.add_paragraph("有修订")
    p._p.append(parse_xml(f'<w:ins {nsdecls("w")} w:id="1" w:author="a"><w:r><w:t>插入的字</w:t></w:r></w:ins>'))
    p._p.append(parse_xml(f'<w:del {nsdecls("w")} w:id="2" w:author="a"><w:r><w:delText>删除的字</w:delText></w:r></w:del>'))
    d.add_paragraph("")
    d.add_paragraph("结尾。")
    return _docx_bytes(d)


DOCX_LINES = [
    "2025年某市政府工作报告",
    "各位代表：",
    "一、2024年工作回顾",
    "\u3000\u3000加快国际经济中心建设，产业体系现代化水平持续提升。重点围绕发展新质生产力，打造28个未来产业试验场。",
    "（一）全段加粗的段落",
    "前半加粗后半不加粗",
    "普通文字字符样式加粗",
    "（二）中文标题样式",
    "大纲级别段落",
    "指标\t2024年\t增长",
    "地区生产总值\t5.2万亿元\t5%",
    "横向合并\t备注",
    "纵向合并\t甲",
    "\t乙",
    "正文有文本框",
    "有批注的段落",
    "内容控件里的段落",
    "有修订插入的字",  # a tracked insertion is text, a tracked deletion is not
    "",
    "结尾。",
]


@pytest.fixture(scope="module")
def report_docx() -> Extracted:
    return extract("报告.docx", raw=build_report_docx())


def test_docx_text_is_the_body_in_order(report_docx):
    ex = report_docx
    assert ex.format == "docx" and ex.encoding == ""
    assert ex.text.split("\n") == DOCX_LINES
    assert ex.title == "2025年某市政府工作报告"
    check_marks_inside(ex)


def test_docx_leaves_out_text_boxes_headers_footers_comments(report_docx):
    for hidden in ("文本框内容不应出现", "页眉文字不应出现", "页脚文字不应出现", "批注内容不应出现"):
        assert hidden not in report_docx.text


def test_docx_headings_by_style_and_outline_level(report_docx):
    ex = report_docx
    heads = [(ex.text[m.start : m.end], m.level) for m in ex.marks if m.kind == "heading"]
    assert heads == [
        ("2025年某市政府工作报告", 1),  # Title
        ("一、2024年工作回顾", 1),  # Heading 1
        ("（二）中文标题样式", 3),  # 标题 3
        ("大纲级别段落", 2),  # outline level 1 (0-based) in the paragraph
    ]


def test_docx_bold_runs(report_docx):
    assert marked(report_docx, "bold") == [
        "一、2024年工作回顾",  # Heading 1 is bold by its style
        "加快国际经济中心建设，产业体系现代化水平持续提升",  # run-in head, without the leading spaces
        "（一）全段加粗的段落",  # bold by the paragraph style
        "前半加粗",  # style bold, then a run that says bold=False
        "字符样式加粗",  # bold by a character style
    ]


def test_docx_tables_rows_and_merged_cells(report_docx):
    ex = report_docx
    assert marked(ex, "table") == [
        "指标\t2024年\t增长\n地区生产总值\t5.2万亿元\t5%\n横向合并\t备注",
        "纵向合并\t甲\n\t乙",
    ]
    assert marked(ex, "row") == ["指标\t2024年\t增长", "地区生产总值\t5.2万亿元\t5%", "横向合并\t备注", "纵向合并\t甲", "\t乙"]


def test_docx_marks_are_sorted_by_position(report_docx):
    starts = [m.start for m in report_docx.marks]
    assert starts == sorted(starts)


def test_docx_text_equals_python_docx_paragraphs_without_tables():
    d = docx_lib.Document()
    d.add_paragraph("\u3000\u3000第一段，有全角空格缩进。")
    p = d.add_paragraph("有换行")
    p.add_run().add_break()
    p.add_run("和\t制表符")
    d.add_paragraph("   ")
    d.add_paragraph("最后一段  ")
    ex = extract("x.docx", raw=_docx_bytes(d))
    assert ex.text == "\n".join(p.text for p in d.paragraphs)
    assert ex.text == "\u3000\u3000第一段，有全角空格缩进。\n有换行\n和\t制表符\n   \n最后一段  "


def test_docx_not_a_zip():
    with pytest.raises(FormatError) as e:
        extract("x.docx", raw=b"just some text, renamed to .docx")
    assert str(e.value) == "corrupt DOCX (not a zip file)"


def test_docx_zip_without_a_word_document():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a word document")
    with pytest.raises(FormatError) as e:
        extract("x.docx", raw=buf.getvalue())
    assert str(e.value).startswith("corrupt DOCX (")
    assert "\n" not in str(e.value)


def test_docx_truncated():
    raw = build_report_docx()
    with pytest.raises(FormatError) as e:
        extract("x.docx", raw=raw[: len(raw) // 2])
    assert str(e.value).startswith("corrupt DOCX (")


def test_docx_old_binary_doc_renamed():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000 + "WordDocument".encode("utf-16-le")
    with pytest.raises(FormatError) as e:
        extract("old.docx", raw=ole)
    assert str(e.value).startswith("corrupt DOCX (an old binary Word .doc")


def test_docx_password_protected():
    # tests/fixtures/formats/encrypted.docx: a real ECMA-376 agile-encrypted package (password "secret")
    with pytest.raises(FormatError) as e:
        extract(FIXTURES / "encrypted.docx")
    assert str(e.value) == "password-protected DOCX"


def test_docx_without_text():
    d = docx_lib.Document()
    d.add_paragraph("")
    d.add_paragraph("  \u3000 ")
    with pytest.raises(FormatError) as e:
        extract("empty.docx", raw=_docx_bytes(d))
    assert str(e.value) == "no text in the document"


def test_docx_macro_enabled_content_type_is_read():
    raw = build_report_docx()
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"wordprocessingml.document.main+xml", b"wordprocessingml.template.main+xml"
                )
                assert b"template.main+xml" in data
            dst.writestr(info, data)
    assert extract("t.docx", raw=out.getvalue()).text.split("\n") == DOCX_LINES


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus/reports-2025 is not here")
def test_docx_real_reports_match_python_docx_and_find_bold_heads():
    files = sorted(CORPUS.glob("*.docx"))
    assert len(files) >= 10
    with_bold_heads = 0
    for f in files:
        ex = extract(f)
        assert ex.text == "\n".join(p.text for p in docx_lib.Document(str(f)).paragraphs), f.name
        check_marks_inside(ex)
        bold = marked(ex, "bold")
        if any(b.startswith("一、2024年工作回顾") for b in bold):
            with_bold_heads += 1
    assert with_bold_heads >= 4
    sh = extract(CORPUS / "2025年上海市政府工作报告.docx")
    bold = marked(sh, "bold")
    assert "一、2024年工作回顾" in bold
    assert "加快国际经济中心建设，产业体系现代化水平持续提升" in bold  # a run-in head
    line = next(ln for ln in sh.text.split("\n") if "加快国际经济中心建设" in ln)
    assert line.startswith("\u2003\u2003加快国际经济中心建设，产业体系现代化水平持续提升。")  # em spaces kept


# ------------------------------------------------------------------ PDF


def _cjk_font() -> tuple[str, int]:
    """(font file, face index) of a Simplified-Chinese font on this system, or skip."""
    if shutil.which("fc-list") is None:
        pytest.skip("no fc-list: cannot look for a CJK font (install fontconfig and fonts-noto-cjk)")
    out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout
    files = sorted({ln.split(":")[0].strip() for ln in out.splitlines() if ln.strip()})
    files = [f for f in files if f.lower().endswith((".ttf", ".otf", ".ttc", ".otc"))]
    if not files:
        pytest.skip("no CJK font found by `fc-list :lang=zh` (install fonts-noto-cjk)")
    files.sort(key=lambda f: ("Regular" not in f, "Sans" not in f, f))
    path = files[0]
    index = 0
    if path.lower().endswith((".ttc", ".otc")):
        from fontTools.ttLib import TTCollection

        names = [face["name"].getDebugName(1) or "" for face in TTCollection(path).fonts]
        index = next((i for i, n in enumerate(names) if n.endswith(" SC")), 0)
    return path, index


PARA = "全市地区生产总值增长5.2%，GDP总量达到1.2万亿元。我们坚持稳中求进工作总基调，推动高质量发展取得新成效。"


@pytest.fixture(scope="module")
def cjk_pdf_maker():
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (test-only) is not installed")
    path, index = _cjk_font()

    def make(pages: list[list[str]], *, header: str = "", spaced_title: str = "", title: str = "", user_password=None, owner_password=None) -> bytes:
        class Doc(fpdf.FPDF):
            def header(self):
                if header and self.page_no() > 1:
                    self.set_font("cjk", size=9)
                    self.cell(0, 6, header, align="C", new_x="LMARGIN", new_y="NEXT")

            def footer(self):
                self.set_y(-15)
                self.set_font("cjk", size=9)
                self.cell(0, 10, f"- {self.page_no()} -", align="C")

        pdf = Doc()
        pdf.add_font("cjk", "", path, collection_font_number=index)
        if title:
            pdf.set_title(title)
        if owner_password:
            pdf.set_encryption(owner_password=owner_password, user_password=user_password)
        for n, paras in enumerate(pages):
            pdf.add_page()
            if n == 0 and spaced_title:
                # a letter-spaced title and pieces of text set apart: the PDF has no space
                # characters there, only gaps (PDFium reports "generated" spaces)
                pdf.set_font("cjk", size=18)
                for k, ch in enumerate(spaced_title):
                    pdf.text(60 + k * 14, 25, ch)
                pdf.set_font("cjk", size=12)
                for x, piece in ((20, "增长"), (34, "5.2%"), (46, "，GDP"), (60, "总量"), (90, "GDP"), (104, "growth")):
                    pdf.text(x, 38, piece)
                pdf.set_y(45)
            pdf.set_font("cjk", size=12)
            for para in paras:
                pdf.multi_cell(0, 8, para, new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())

    return make


PAGES = [
    ["市长\u3000张三", "各位代表：", PARA * 3],
    ["\u3000\u3000二、2025年工作安排", PARA * 2],
    ["\u3000\u3000三、加强政府自身建设", PARA],
    ["各位代表！奋斗成就伟业，实干创造辉煌。"],
]


@pytest.fixture(scope="module")
def report_pdf_raw(cjk_pdf_maker) -> bytes:
    return cjk_pdf_maker(PAGES, header="2025年某市政府工作报告", spaced_title="政府工作报告", title="2025年某市政府工作报告")


@pytest.fixture(scope="module")
def report_pdf(report_pdf_raw) -> Extracted:
    return extract("报告.pdf", raw=report_pdf_raw)


def test_pdf_pages_and_page_marks(report_pdf):
    ex = report_pdf
    assert ex.format == "pdf"
    pages = [m for m in ex.marks if m.kind == "page"]
    assert [m.level for m in pages] == [1, 2, 3, 4]
    texts = [ex.text[m.start : m.end] for m in pages]
    assert texts[0].startswith("政府工作报告\n增长5.2%，GDP总量GDP growth\n市长\u3000张三\n各位代表：\n全市地区生产总值增长5.2%")
    assert texts[1].startswith("\u3000\u3000二、2025年工作安排\n全市地区")
    assert texts[2].startswith("\u3000\u3000三、加强政府自身建设\n全市地区")
    assert texts[3] == "各位代表！奋斗成就伟业，实干创造辉煌。"
    assert ex.text == "\n".join(texts)  # pages joined by one newline
    assert ex.title == "2025年某市政府工作报告"
    check_marks_inside(ex)


def test_pdf_chinese_text_comes_out_clean(report_pdf):
    ex = report_pdf
    assert "(cid:" not in ex.text and "\ufffd" not in ex.text
    first = ex.text.split("\n")[:2]
    # generated spaces next to Chinese text removed, between Latin words kept
    assert first == ["政府工作报告", "增长5.2%，GDP总量GDP growth"]
    flat = ex.text.replace("\n", "")
    assert flat.count(PARA) == 6  # lines broken mid-sentence rejoin to the paragraph, nothing lost
    assert "GDP总量达到1.2万亿元" in flat
    assert "\u3000张三" in ex.text  # a real ideographic space stays


def test_pdf_lines_stay_lines(report_pdf):
    first = report_pdf.text.split("\n")
    long_lines = [ln for ln in first if ln.startswith("全市地区生产总值")]
    assert long_lines and all(len(ln) < len(PARA * 3) for ln in long_lines)


def test_pdf_drops_page_numbers_and_running_header(report_pdf):
    ex = report_pdf
    for n in range(1, 5):
        assert f"- {n} -" not in ex.text
    assert "2025年某市政府工作报告" not in ex.text  # the running header of pages 2-4


def test_pdf_page_number_rule_needs_agreement():
    from rag.formats.pdf import _drop_furniture

    # printed numbers = page - 1 (unnumbered cover), on first or last line
    pages = [["封面", "政府工作报告"], ["正文一", "1"], ["2", "正文二"], ["正文三", "第 3 页 共 3 页"]]
    assert _drop_furniture(pages) == [["封面", "政府工作报告"], ["正文一"], ["正文二"], ["正文三"]]
    # a lone number on one page of many is content, not a page number
    pages = [["表一", "2019"], ["正文"], ["正文"]]
    assert _drop_furniture(pages) == pages
    # a one-page document: "1" at its end is its page number
    assert _drop_furniture([["正文", "- 1 -"]]) == [["正文"]]
    # a running header goes from pages 2.. (page 1 keeps it: it may be the title);
    # numbering that restarts is still a footer ("— # —" on every page)
    pages = [["某市政府工作报告", f"正文{n}", f"— {n % 2 + 1} —"] if n else ["某市政府工作报告", "正文0", "— 1 —"] for n in range(4)]
    assert _drop_furniture(pages) == [["某市政府工作报告", "正文0"], ["正文1"], ["正文2"], ["正文3"]]
    # the same first line on only two of five pages stays
    pages = [["（一）", "甲"], ["（一）", "乙"], ["丙"], ["丁"], ["戊"]]
    assert _drop_furniture(pages) == pages


def test_pdf_owner_password_only_is_readable(cjk_pdf_maker):
    raw = cjk_pdf_maker([[PARA]], owner_password="owner")
    assert PARA in extract("p.pdf", raw=raw).text.replace("\n", "")


def test_pdf_password_protected(cjk_pdf_maker):
    raw = cjk_pdf_maker([[PARA]], owner_password="owner", user_password="user")
    with pytest.raises(FormatError) as e:
        extract("p.pdf", raw=raw)
    assert str(e.value) == "password-protected PDF"


def test_pdf_without_text_layer():
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (test-only) is not installed")
    from PIL import Image

    pdf = fpdf.FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.rect(20, 20, 100, 60, style="F")
        pdf.image(Image.new("RGB", (200, 100), (200, 30, 30)), x=20, y=100, w=100)
    with pytest.raises(FormatError) as e:
        extract("scan.pdf", raw=bytes(pdf.output()))
    assert str(e.value) == "no text layer (a scanned PDF? run OCR first)"


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "corrupt PDF (empty file)"),
        (b"hello, this is not a PDF", "corrupt PDF (not a PDF)"),
        (b"%PDF-1.4\n" + b"garbage " * 100, "corrupt PDF (damaged file)"),
    ],
)
def test_pdf_corrupt(raw, message):
    pytest.importorskip("pypdfium2")
    with pytest.raises(FormatError) as e:
        extract("x.pdf", raw=raw)
    assert str(e.value) == message


def test_pdf_truncated(report_pdf_raw):
    raw = report_pdf_raw
    with pytest.raises(FormatError) as e:
        extract("x.pdf", raw=raw[: len(raw) // 2])
    assert str(e.value).startswith("corrupt PDF (")


# ------------------------------------------------------------------ HTML


def _paragraphs(n: int, seed: str) -> list[str]:
    """Distinct report-like paragraphs."""
    out = []
    for i in range(n):
        out.append(
            f"{seed}第{i + 1}项工作：全年地区生产总值增长{i % 9}.{i % 7}%，规上工业增加值增长{(i * 3) % 11}.{i % 5}%，"
            f"新建和改造{100 + i * 7}个项目，惠及群众{20 + i}万人，推动第{i + 1}批重点改革任务落地见效，"
            f"确保{2025 + i % 3}年目标任务全面完成。"
        )
    return out


PRE = _paragraphs(40, "回顾")
POST = _paragraphs(60, "安排")
TITLE = "2025年某市政府工作报告"
TABLE_ROWS = [["指标", "2024年", "增速"], ["地区生产总值", "1.2万亿元", "5.2%"], ["一般公共预算收入", "1650亿元", "3.1%"]]

NAV = "".join(f'<li><a href="/c{i}/">{t}</a></li>' for i, t in enumerate(["首页", "要闻动态", "政务公开", "政务服务", "互动交流"]))
SIDE = "".join(f'<li><a href="/n{i}.html">关于印发第{i}批重点项目清单的通知</a><span>2025-01-{i + 1:02d}</span></li>' for i in range(12))


def gov_page(content_class: str = "zoom") -> str:
    body = ['<p>　　各位代表：</p>', "<p>　　现在，我代表市人民政府，向大会报告工作，请予审议。</p>", "<h2>一、2024年工作回顾</h2>"]
    body += [f"<p>　　{t}</p>" for t in PRE[:20]]
    body.append("<p>　　各位代表！</p>")
    body.append("<h3>（一）坚持创新驱动</h3>")
    body.append("<p>　　<strong>加快国际经济中心建设，产业体系现代化水平持续提升</strong>。重点围绕发展新质生产力，打造28个未来产业试验场。</p>")
    body += [f"<p>　　{t}</p>" for t in PRE[20:]]
    body.append("<table border='1'>" + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in TABLE_ROWS) + "</table>")
    body.append("<p>　　各位代表！</p>")
    body.append("<h2>二、2025年工作安排</h2>")
    body += [f"<p>　　{t}</p>" for t in POST]
    body.append("<p>　　各位代表！让我们团结一心，奋发进取，为全面完成今年目标任务而努力奋斗！</p>")
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{TITLE}_政府工作报告_某市人民政府门户网站</title><meta property="og:title" content="{TITLE}">
<script>var _hmt = _hmt || [];</script><style>.nav li {{ float: left; }}</style></head><body>
<div class="top"><a href="/">某市人民政府门户网站</a> <a href="/wza">无障碍</a> <a>长者模式</a><form><input name="q"><button>搜索</button></form></div>
<div class="nav"><ul>{NAV}</ul></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a> &gt; <a href="/bg">政府工作报告</a></div>
<div class="wrap"><div class="left"><div class="detail">
<h1>{TITLE}</h1>
<div class="info">发布时间：2025-01-21 来源：市政府办公厅 浏览次数：12345 【字体：<a>大</a> <a>中</a> <a>小</a>】</div>
<div class="{content_class}">{''.join(body)}</div>
<div class="share">分享到：<a>微信</a> <a>微博</a></div>
<div class="prenext"><p>上一篇：<a href="/a1.html">2024年某市政府工作报告</a></p><p>下一篇：<a href="/a2.html">关于2024年预算执行情况的报告</a></p></div>
<div class="print">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</div>
</div></div>
<div class="right"><h3>相关文章</h3><ul>{SIDE}</ul><h3>热点专题</h3><ul>{SIDE}</ul></div></div>
<div class="footer"><p>主办：某市人民政府办公厅 承办：某市大数据中心</p><p>网站标识码：1234567890 某ICP备05008890号 某公网安备 31010102002533号</p>
<p><a href="/sitemap">网站地图</a> | <a href="/contact">联系我们</a></p></div></body></html>"""


EXPECTED_HTML_LINES = (
    [TITLE, "各位代表：", "现在，我代表市人民政府，向大会报告工作，请予审议。", "一、2024年工作回顾"]
    + PRE[:20]
    + ["各位代表！", "（一）坚持创新驱动", "加快国际经济中心建设，产业体系现代化水平持续提升。重点围绕发展新质生产力，打造28个未来产业试验场。"]
    + PRE[20:]
    + ["\t".join(r) for r in TABLE_ROWS]
    + ["各位代表！", "二、2025年工作安排"]
    + POST
    + ["各位代表！让我们团结一心，奋发进取，为全面完成今年目标任务而努力奋斗！"]
)


@pytest.mark.parametrize("content_class", ["zoom", "TRS_Editor", "article-content"])
def test_html_government_page_keeps_the_whole_report_and_nothing_else(content_class):
    pytest.importorskip("trafilatura")
    raw = gov_page(content_class).encode("utf-8")
    assert len("".join(PRE + POST)) > 8000
    ex = extract("报告.html", raw=raw)
    assert ex.format == "html"
    assert ex.text.split("\n") == EXPECTED_HTML_LINES  # repeated "各位代表！" lines kept too
    for junk in ("首页", "当前位置", "上一篇", "下一篇", "分享到", "打印本页", "网站标识码", "相关文章", "重点项目清单", "浏览次数"):
        assert junk not in ex.text, junk
    assert ex.title == TITLE
    check_marks_inside(ex)


def test_html_marks():
    pytest.importorskip("trafilatura")
    ex = extract("报告.html", raw=gov_page().encode("utf-8"))
    heads = [(ex.text[m.start : m.end], m.level) for m in ex.marks if m.kind == "heading"]
    assert heads == [(TITLE, 1), ("一、2024年工作回顾", 2), ("（一）坚持创新驱动", 3), ("二、2025年工作安排", 2)]
    assert marked(ex, "bold") == ["加快国际经济中心建设，产业体系现代化水平持续提升"]
    assert marked(ex, "table") == ["\n".join("\t".join(r) for r in TABLE_ROWS)]
    assert marked(ex, "row") == ["\t".join(r) for r in TABLE_ROWS]


def test_html_gbk_page_with_declared_charset():
    pytest.importorskip("trafilatura")
    page = gov_page().replace('<meta charset="utf-8">', '<meta charset="gbk">')
    ex = extract("报告.htm", raw=page.encode("gbk"))
    assert ex.text.split("\n") == EXPECTED_HTML_LINES
    assert ex.title == TITLE


def test_html_gb2312_http_equiv_old_table_layout_with_br():
    pytest.importorskip("trafilatura")
    paras = ["各位代表："] + PRE[:25] + ["各位代表！"] + POST[:10]
    body = "".join(f"　　{p}<br>\n" for p in paras)
    side = "".join(f'<tr><td><a href="/x{i}.htm">市政府召开第{i}次常务会议</a></td></tr>' for i in range(15))
    page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>某市人民政府</title></head>
<body><table width="1000"><tr><td><a href="/">首页</a></td><td><a href="/xw">新闻</a></td><td><a href="/gk">公开</a></td></tr></table>
<table width="1000"><tr><td width="720" valign="top"><table width="100%">
<tr><td align="center"><b>{TITLE}</b></td></tr>
<tr><td align="center">时间：2025-01-20 来源：某市日报 【字体：<a>大</a> <a>中</a> <a>小</a>】</td></tr>
<tr><td><div id="zoom"><font face="仿宋" size="3">{body}</font></div></td></tr>
<tr><td align="right">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</td></tr>
</table></td><td width="270" valign="top"><table><tr><td><b>最新动态</b></td></tr>{side}</table></td></tr></table>
<table width="1000"><tr><td>版权所有：某市人民政府办公厅 某ICP备05003300号</td></tr></table></body></html>"""
    ex = extract("old.shtml", raw=page.encode("gb2312"))
    lines = ex.text.split("\n")
    assert lines[-len(paras) :] == paras  # one line per <br>
    assert "常务会议" not in ex.text and "字体" not in ex.text and "打印本页" not in ex.text
    assert ex.title == "某市人民政府"


def test_html_navigation_page_has_no_main_text():
    pytest.importorskip("trafilatura")
    items = "".join(f"<li><a href='/bg/{y}.html'>{y}年某市政府工作报告</a><span>{y}-01-20</span></li>" for y in range(2000, 2026))
    page = f"""<html><head><meta charset="utf-8"><title>政府工作报告_某市人民政府</title></head><body>
<div class="nav"><ul>{NAV}</ul></div><div class="main"><h2>政府工作报告</h2><ul class="list">{items}</ul>
<div class="page">共26条 第1页 <a>下一页</a> <a>尾页</a></div></div><div class="footer">主办：某市人民政府办公厅</div></body></html>"""
    with pytest.raises(FormatError) as e:
        extract("list.html", raw=page.encode("utf-8"))
    assert str(e.value) == "no main text found in the page"


@pytest.mark.parametrize(
    "page",
    [
        "",
        "<html><head><title>空白</title></head><body></body></html>",
        """<html><head><meta charset="utf-8"><title>404 页面不存在</title></head><body><div class="header">某市人民政府</div>
<div class="content"><h1>404</h1><p>抱歉，您访问的页面不存在或已被删除！</p><p><a href="/">返回首页</a></p></div>
<div class="footer">主办：某市人民政府办公厅</div></body></html>""",
    ],
)
def test_html_empty_and_404_pages(page):
    pytest.importorskip("trafilatura")
    with pytest.raises(FormatError) as e:
        extract("x.html", raw=page.encode("utf-8"))
    assert str(e.value) == "no main text found in the page"


def test_html_charset_detection_without_declaration():
    from rag.formats.html import decode_html

    page = "<html><body><p>政府工作报告，各位代表：现在我代表市人民政府向大会报告工作。</p></body></html>"
    assert decode_html(page.encode("gbk")) == page
    assert decode_html(page.encode("utf-8")) == page
    assert decode_html(b"\xef\xbb\xbf" + page.encode("utf-8")) == page
    # declared GB2312 but a character only GB18030 has: still decoded (GB18030 is the superset)
    assert decode_html('<meta charset="gb2312"><p>镕</p>'.encode("gb18030")).endswith("<p>镕</p>")
