from pathlib import Path

import pytest

from rag import load
from rag.catalog import load_catalog

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

REPORT = "二、2020年主要目标任务\n地区生产总值增长6.5%左右。\n"


def test_seeds_load_with_catalog():
    cat = load_catalog(SEEDS)
    assert len(cat) == 5
    for p in load.discover([SEEDS]):
        d = load.read(p, cat)
        assert d.encoding == "utf-8"
        assert d.text == p.read_bytes().decode("utf-8")  # offsets refer to the file as stored
        assert not d.report.guessed
    assert {r.region for r in cat.values()} == {"江北区", "慈溪市", "海曙区", "宁波市"}


def test_boilerplate_is_marked_not_cut():
    d = load.read(SEEDS / "000_c180eaa18c962c1d.txt")
    kept = "".join(d.text[s:e] for s, e in d.keep)
    assert "浏览次数" not in kept and "信息来源" not in kept
    assert "区长傅贵荣作政府工作报告" in kept
    cixi = load.read(SEEDS / "001_c3731563950f55ea.txt")
    end = cixi.keep[-1][1]
    assert "试读结束" in cixi.text[end:] and "客服微信" not in cixi.text[:end]
    assert cixi.text[:end].rstrip().endswith("而努力奋斗!")


def test_bom_and_gb18030(tmp_path):
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + REPORT.encode())
    (tmp_path / "gbk.txt").write_bytes(REPORT.encode("gb18030"))
    bom = load.read(tmp_path / "bom.txt")
    gbk = load.read(tmp_path / "gbk.txt")
    assert (bom.encoding, gbk.encoding) == ("utf-8-sig", "gb18030")
    assert bom.text == gbk.text == REPORT
    assert gbk.report.guessed and gbk.report.year == 2020


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\n\t ", "empty file"),
        ("image.txt", bytes(range(256)) * 10, "binary"),
        ("latin.txt", "café résumé naïve ".encode("latin-1") * 50, "cannot decode"),
        ("notes.pdf", b"%PDF-1.4", "not a .txt or .md"),
    ],
)
def test_bad_inputs_have_one_line_messages(tmp_path, name, data, message):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(load.LoadError) as e:
        load.read(tmp_path / name)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_huge_file_refused_clearly(tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        line = ("地区生产总值增长6.5%左右。" * 20 + "\n").encode()
        while f.tell() < 50 * 1024 * 1024:
            f.write(line * 100)
    with pytest.raises(load.LoadError, match=r"50\.\d MB, over the 20 MB limit"):
        load.read(big)
    monkeypatch.setenv("RAG_MAX_FILE_MB", "60")
    assert len(load.read(big).text) > 10_000_000


def test_odd_file_names(tmp_path):
    for name in ("my report 2020.txt", "海曙区 政府工作报告.md"):
        (tmp_path / name).write_text(REPORT, encoding="utf-8")
        d = load.read(tmp_path / name)
        assert d.text == REPORT
    assert [p.name for p in load.discover([tmp_path])] == sorted(["my report 2020.txt", "海曙区 政府工作报告.md"])


def test_guess_region_for_unknown_file(tmp_path):
    (tmp_path / "x.txt").write_text("2022年北仑区政府工作报告\n各位代表:\n现在,我代表北仑区人民政府向大会报告工作。", encoding="utf-8")
    d = load.read(tmp_path / "x.txt")
    assert d.report.guessed and d.report.region == "北仑区" and d.report.year == 2022
    assert d.report.review_years == (2021,) and d.report.plan_years == (2022,)
