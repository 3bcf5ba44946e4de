"""rag.load: finding report files (discover), reading one (read) with a one-line reason
when it cannot be read, symlink confinement, size limits, page furniture (content_spans),
the catalog, and the fixture reports in every format."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from rag import load
from rag.catalog import CatalogError
from rag.catalog import load as load_catalog
from rag.load import LoadError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reports"
REPORT = (FIXTURES / "01_prefecture_city.txt").read_text(encoding="utf-8")


def names(found):
    return sorted(f.path.name for f in found)


def read_error(path, root=None, **kw) -> str:
    with pytest.raises(LoadError) as e:
        load.read(path, root, **kw)
    msg = str(e.value)
    assert msg and "\n" not in msg  # one line for the user
    return msg


# --------------------------------------------------------------------------- discover


def test_discover_finds_reports_and_says_why_others_are_skipped(tmp_path):
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text(REPORT, encoding="utf-8")
    (tmp_path / "sub" / "c.HTML").write_text("<p>x</p>", encoding="utf-8")
    (tmp_path / "README.md").write_text("# what this folder is", encoding="utf-8")
    (tmp_path / "LICENSE").write_text("MIT", encoding="utf-8")
    (tmp_path / "licence.txt").write_text("CC-BY", encoding="utf-8")
    (tmp_path / "notes.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "table.xlsx").write_bytes(b"PK")
    (tmp_path / "Makefile").write_text("all:", encoding="utf-8")
    (tmp_path / "catalog.toml").write_text("", encoding="utf-8")  # the catalog is not a report
    (tmp_path / "x.txt.tmp").write_text("half written", encoding="utf-8")
    found, skipped = load.discover([tmp_path])
    assert names(found) == ["a.txt", "b.md", "c.HTML"]
    assert all(f.root == tmp_path.resolve() for f in found)
    reasons = {Path(p).name: why for p, why in skipped}
    assert sorted(reasons) == ["LICENSE", "Makefile", "README.md", "licence.txt", "notes.doc", "table.xlsx"]
    for n in ("README.md", "LICENSE", "licence.txt"):
        assert "README/licence" in reasons[n]
    assert reasons["notes.doc"].startswith("unsupported file type (.doc)")
    assert reasons["table.xlsx"].startswith("unsupported file type (.xlsx)")
    assert reasons["Makefile"].startswith("unsupported file type (no suffix)")
    assert all("\n" not in why for why in reasons.values())


def test_discover_ignores_hidden_files_and_folders(tmp_path):
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "b.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / ".git" / "README").write_text("x", encoding="utf-8")
    found, skipped = load.discover([tmp_path])
    assert names(found) == ["a.txt"] and skipped == []


def test_discover_files_and_missing_paths(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text(REPORT, encoding="utf-8")
    found, skipped = load.discover([f, tmp_path / "nope"])
    assert [(x.path, x.root) for x in found] == [(f, tmp_path.resolve())]
    assert skipped == [(str(tmp_path / "nope"), "no such file or folder")]


def test_discover_does_not_follow_directory_symlinks(tmp_path):
    reports, outside = tmp_path / "reports", tmp_path / "outside"
    reports.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text(REPORT, encoding="utf-8")
    (reports / "a.txt").write_text(REPORT, encoding="utf-8")
    os.symlink(outside, reports / "more")
    found, _ = load.discover([reports])
    assert names(found) == ["a.txt"]


# --------------------------------------------------------------------------- symlinks


@pytest.fixture
def linked(tmp_path):
    reports, outside = tmp_path / "reports", tmp_path / "outside"
    reports.mkdir()
    outside.mkdir()
    (reports / "a.txt").write_text(REPORT, encoding="utf-8")
    (outside / "secret.txt").write_text(REPORT, encoding="utf-8")
    os.symlink(outside / "secret.txt", reports / "escape.txt")
    os.symlink(reports / "gone.txt", reports / "dangling.txt")
    os.symlink(reports / "a.txt", reports / "alias.txt")
    os.symlink("../outside/secret.txt", reports / "relative.txt")
    return reports


def test_symlink_outside_the_folder_is_refused(linked):
    found, _ = load.discover([linked])
    by_name = {f.path.name: f for f in found}
    assert set(by_name) == {"a.txt", "alias.txt", "dangling.txt", "escape.txt", "relative.txt"}
    for n in ("escape.txt", "relative.txt"):
        msg = read_error(by_name[n].path, by_name[n].root)
        assert "outside the reports folder" in msg and "secret.txt" in msg


def test_dangling_symlink_has_its_own_reason(linked):
    msg = read_error(linked / "dangling.txt", linked)
    assert "dangling symlink" in msg and "outside" not in msg


def test_symlink_inside_the_folder_is_read(linked):
    doc = load.read(linked / "alias.txt", linked, catalog={})
    assert doc.path == str((linked / "a.txt").resolve())
    assert doc.report.file == "alias.txt" and doc.report.region == "株洲市"


def test_a_symlink_given_by_itself_is_confined_to_its_own_folder(linked):
    (found,), _ = load.discover([linked / "escape.txt"])
    assert "outside the reports folder" in read_error(found.path, found.root)


# --------------------------------------------------------------------------- files that are not read


def test_size_limit(tmp_path):
    f = tmp_path / "big.txt"
    f.write_text(REPORT * 3, encoding="utf-8")
    size_mb = f.stat().st_size / 1024 / 1024
    msg = read_error(f, tmp_path, catalog={}, max_mb=size_mb / 2)
    assert "MB limit" in msg and "RAG_MAX_FILE_MB" in msg
    assert load.read(f, tmp_path, catalog={}, max_mb=size_mb * 2).text  # under the limit it reads


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "empty file"),
        (b"  \n\r\n\t  ", "empty file"),
        (b"\x00\x01\x02PK\x03\x04" * 50, "binary file"),
        ("发布时间：2024-01-22 16:30\n浏览次数：2817\n".encode("utf-8"), "no text content"),
    ],
    ids=["empty", "whitespace", "binary", "only-boilerplate"],
)
def test_empty_binary_and_boilerplate_only_files(tmp_path, raw, reason):
    f = tmp_path / "r.txt"
    f.write_bytes(raw)
    assert reason in read_error(f, tmp_path, catalog={})


def test_other_unreadable_paths(tmp_path):
    assert read_error(tmp_path / "nope.txt", tmp_path) == "no such file"
    (tmp_path / "folder.txt").mkdir()
    assert read_error(tmp_path / "folder.txt", tmp_path) == "not a regular file"
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0" * 10)
    assert read_error(tmp_path / "old.doc", tmp_path).startswith("unsupported file type (.doc)")
    (tmp_path / "bad.docx").write_bytes(b"not a zip at all")
    assert read_error(tmp_path / "bad.docx", tmp_path, catalog={})


# --------------------------------------------------------------------------- the catalog


def test_broken_catalog_is_a_clear_error(tmp_path):
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "catalog.toml").write_text('[[report]]\nfile = "a.txt"\nregion = 株洲市\n', encoding="utf-8")
    with pytest.raises(CatalogError) as e:
        load_catalog(tmp_path)
    msg = str(e.value)
    assert "catalog.toml" in msg and "not valid TOML" in msg and "line 3" in msg
    with pytest.raises(CatalogError):
        load.read(tmp_path / "a.txt", tmp_path)  # reading with the folder's catalog
    # told to use no catalog, the file reads
    assert load.read(tmp_path / "a.txt", tmp_path, catalog={}).report.region == "株洲市"


def test_catalog_in_another_encoding_is_a_clear_error(tmp_path):
    (tmp_path / "catalog.toml").write_bytes('[[report]]\nfile = "a.txt"\nregion = "株洲市"\n'.encode("gbk"))
    with pytest.raises(CatalogError, match="not valid TOML"):
        load_catalog(tmp_path)


def test_catalog_applies_to_its_folder(tmp_path):
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "catalog.toml").write_text('[[report]]\nfile = "a.txt"\nid = "zz-2024"\nregion = "湘潭市"\n', encoding="utf-8")
    assert load_catalog(tmp_path) == {"a.txt": {"file": "a.txt", "id": "zz-2024", "region": "湘潭市"}}
    r = load.read(tmp_path / "a.txt", tmp_path).report
    assert (r.id, r.region, r.source("region"), r.year, r.source("year")) == ("zz-2024", "湘潭市", "catalog", 2024, "text")
    assert load_catalog(tmp_path / "nowhere") == {}


# --------------------------------------------------------------------------- page furniture


def test_content_spans_leave_out_furniture_lines_and_trailers():
    text = ("2024年某区政府工作报告\n发布时间：2024-01-22 16:30 浏览次数：2817\n各位代表：\n" + "正文内容。" * 40 + "\n"
            "来源：区政府办公室\n" + "更多正文。" * 20 + "\n版权所有：某区人民政府 网站标识码：123\n联系我们\n")
    spans = load.content_spans(text)
    kept = "".join(text[s:e] for s, e in spans)
    assert "发布时间" not in kept and "来源：" not in kept
    assert "版权所有" not in kept and "联系我们" not in kept  # the trailer and all after it
    assert "2024年某区政府工作报告" in kept and "正文内容。" in kept and "更多正文。" in kept
    assert len(spans) == 3
    for s, e in spans:
        assert text[s:e].strip()


def test_seed_publication_stamp_is_furniture():
    seed = Path(__file__).resolve().parent.parent / "seeds" / "000_c180eaa18c962c1d.txt"
    doc = load.read(seed, seed.parent)
    stamp = doc.text.index("发布时间")
    assert not any(s <= stamp < e for s, e in doc.keep)
    assert doc.text.startswith("政府工作报告") and doc.keep[0][0] == 0


# --------------------------------------------------------------------------- the fixture reports


@pytest.mark.parametrize(
    "name, fmt, encoding",
    [
        ("01_prefecture_city.txt", "text", "utf-8"),
        ("02_county_gbk_cr.txt", "text", "gb18030"),
        ("03_national_excerpt.md", "text", "utf-8"),
        ("04a_city_2023.txt", "text", "utf-8"),
        ("04b_city_2024.txt", "text", "utf-8"),
        ("05_district_page.html", "html", ""),
    ],
)
def test_fixture_reports_read(name, fmt, encoding):
    path = FIXTURES / name
    raw = path.read_bytes()
    doc = load.read(path, FIXTURES, catalog={})
    assert doc.format == fmt and doc.encoding == encoding
    assert doc.sha256 == hashlib.sha256(raw).hexdigest()
    assert doc.path == str(path.resolve()) and doc.report.path == doc.path
    assert doc.keep and doc.keep[0][0] >= 0 and doc.keep[-1][1] <= len(doc.text)
    assert "\r" not in doc.text
    assert 1500 <= len(doc.text) <= 4000
    assert "政府工作报告" in doc.text.splitlines()[0]


def test_gbk_cr_only_fixture_is_exactly_its_bytes():
    raw = (FIXTURES / "02_county_gbk_cr.txt").read_bytes()
    assert b"\r" in raw and b"\n" not in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    doc = load.read(FIXTURES / "02_county_gbk_cr.txt", FIXTURES, catalog={})
    assert doc.text == raw.decode("gbk").replace("\r", "\n")
    assert doc.keep == ((0, len(doc.text)),)


def test_html_fixture_keeps_the_report_and_drops_the_page():
    doc = load.read(FIXTURES / "05_district_page.html", FIXTURES, catalog={})
    lines = doc.text.splitlines()
    assert lines[0] == "2024年西湖区政府工作报告"
    assert lines[-1].startswith("各位代表！新的一年")
    for junk in ("首页", "当前位置", "发布时间", "浏览次数", "分享到", "上一篇", "下一篇", "打印本页", "相关文章",
                 "网站标识码", "ICP备", "无障碍", "搜索"):
        assert junk not in doc.text, junk
    heads = [doc.text[m.start:m.end] for m in doc.marks if m.kind == "bold"]
    assert "一、2023年工作回顾" in heads and "二、2024年工作安排" in heads


def test_discover_in_the_fixture_folder_skips_its_readme():
    found, skipped = load.discover([FIXTURES])
    assert names(found) == ["01_prefecture_city.txt", "02_county_gbk_cr.txt", "03_national_excerpt.md",
                            "04a_city_2023.txt", "04b_city_2024.txt", "05_district_page.html"]
    assert [(Path(p).name, why) for p, why in skipped] == [("README.md", "a folder's README/licence file, not a report")]
