"""Gold loader: problems reported with line numbers while valid lines still load."""
from __future__ import annotations

import json

import pytest

from eval.gold import GoldItem, load_gold, normalize, read_seed

A = "001_a.txt"
B = "002_b.txt"
TEXT_A = "2019年全区实现地区生产总值1170.1 亿元，增长6.8%。\r\n新建学校5所。"
TEXT_B = "2020年目标：地区生产总值增长6%左右。"


@pytest.fixture()
def seeds(tmp_path):
    d = tmp_path / "seeds"
    d.mkdir()
    (d / A).write_text(TEXT_A, encoding="utf-8", newline="")
    (d / B).write_text(TEXT_B, encoding="utf-8", newline="")
    return d


def obj(id="q1", **kw):
    o = {
        "id": id,
        "question": "2019年GDP？",
        "answer": "1170.1亿元",
        "must_include": ["1170.1亿元"],
        "doc": A,
        "evidence": "地区生产总值1170.1 亿元",
        "type": "numeric_result",
        "difficulty": "easy",
    }
    o.update(kw)
    return o


def write(tmp_path, lines, name="gold.jsonl"):
    p = tmp_path / name
    p.write_text(
        "\n".join(l if isinstance(l, str) else json.dumps(l, ensure_ascii=False) for l in lines)
        + "\n",
        encoding="utf-8",
    )
    return p


def test_valid_file_loads(tmp_path, seeds):
    p = write(
        tmp_path,
        [
            obj("q1"),
            obj("q2", doc=[A, B], evidence=["新建学校5所", "增长6%左右"], type="cross_doc",
                must_include=[]),
            obj("q3", type="unanswerable", must_include=[], evidence="新建学校5所"),
        ],
    )
    items, problems = load_gold(p, seeds)
    assert problems == []
    assert [i.id for i in items] == ["q1", "q2", "q3"]
    q1 = items[0]
    assert isinstance(q1, GoldItem)
    assert q1.doc == (A,) and q1.evidence == ("地区生产总值1170.1 亿元",)
    assert q1.must_include == ("1170.1亿元",)
    assert q1.line == 1
    assert items[1].doc == (A, B) and items[1].pairs() == ((A, "新建学校5所"), (B, "增长6%左右"))
    assert not items[2].answerable
    with pytest.raises(Exception):
        q1.id = "x"  # frozen


def test_problems_with_line_numbers_and_valid_lines_kept(tmp_path, seeds):
    lines = [
        obj("ok1"),  # 1
        '{"id": "bad", "question": ',  # 2 broken JSON
        {k: v for k, v in obj("m").items() if k != "evidence"},  # 3 missing field
        obj("u", doc="nope.txt"),  # 4 unknown doc
        obj("e", evidence="这句话不在文件里"),  # 5 evidence not found
        obj("ok1", answer="dup"),  # 6 duplicate id
        obj("t", type="numeric"),  # 7 bad type value
        obj("t2", doc=5),  # 8 bad JSON type of a field
        obj("L", doc=[A, B], evidence=["新建学校5所"]),  # 9 lengths differ
        "",  # 10 blank: skipped
        obj("ok2", doc=[A], evidence="新建学校5所"),  # 11 list doc, str evidence
        "[1, 2]",  # 12 not an object
        obj("mi", must_include="1170.1亿元"),  # 13 must_include not a list
    ]
    p = write(tmp_path, lines)
    items, problems = load_gold(p, seeds)
    assert [i.id for i in items] == ["ok1", "ok2"]
    assert items[1].line == 11 and items[1].doc == (A,) and items[1].evidence == ("新建学校5所",)
    text = "\n".join(problems)
    assert all("\n" not in pr for pr in problems)

    def has(line, *words):
        return any(
            pr.startswith(f"gold.jsonl:{line}:") and all(w in pr for w in words) for pr in problems
        )

    assert has(2, "broken JSON")
    assert has(3, "missing field 'evidence'")
    assert has(4, "unknown doc 'nope.txt'")
    assert has(5, f"evidence not found in {A}", "这句话不在文件里")
    assert has(6, "duplicate id 'ok1'", "line 1")
    assert has(7, "bad type 'numeric'")
    assert has(8, "bad type", "'doc'")
    assert has(9, "doc and evidence lists differ in length")
    assert has(12, "bad type")
    assert has(13, "bad type", "'must_include'")
    assert not any(pr.startswith("gold.jsonl:1:") or pr.startswith("gold.jsonl:11:") for pr in problems)
    assert not any(":10:" in pr for pr in problems), text


def test_str_and_list_doc_are_the_same(tmp_path, seeds):
    p = write(tmp_path, [obj("s", doc=A), obj("l", doc=[A], evidence=["地区生产总值1170.1 亿元"])])
    items, problems = load_gold(p, seeds)
    assert problems == []
    assert items[0].doc == items[1].doc == (A,)
    assert items[0].evidence == items[1].evidence


def test_one_doc_many_evidence_is_broadcast(tmp_path, seeds):
    p = write(tmp_path, [obj("l", type="list", evidence=["新建学校5所", "增长6.8%"])])
    items, problems = load_gold(p, seeds)
    assert problems == []
    assert items[0].pairs() == ((A, "新建学校5所"), (A, "增长6.8%"))


def test_evidence_matching_after_normalisation_is_accepted(tmp_path, seeds):
    p = write(tmp_path, [obj("n", evidence="地区生产总值1170.1亿元")])  # no space
    items, problems = load_gold(p, seeds)
    assert problems == [] and len(items) == 1


def test_must_include_not_in_evidence_is_not_an_error(tmp_path, seeds):
    p = write(tmp_path, [obj("q", must_include=["别的词"])])
    items, problems = load_gold(p, seeds)
    assert problems == [] and items[0].must_include == ("别的词",)


def test_empty_and_all_broken_files(tmp_path, seeds):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    items, problems = load_gold(empty, seeds)
    assert items == [] and problems and "empty" in problems[0]

    broken = write(tmp_path, ["{", "not json", '{"id": 1'], name="broken.jsonl")
    items, problems = load_gold(broken, seeds)
    assert items == []
    assert sum("broken JSON" in pr for pr in problems) == 3
    assert problems[0].startswith("broken.jsonl:1:")
    assert any("no valid items" in pr for pr in problems)

    items, problems = load_gold(tmp_path / "absent.jsonl", seeds)
    assert items == [] and problems and "cannot read" in problems[0]


def test_bom_and_invalid_utf8_line(tmp_path, seeds):
    p = tmp_path / "gold.jsonl"
    good = json.dumps(obj("q1"), ensure_ascii=False).encode("utf-8")
    p.write_bytes(b"\xef\xbb\xbf" + good + b"\n\xff\xfe bad\n")
    items, problems = load_gold(p, seeds)
    assert [i.id for i in items] == ["q1"]
    assert problems == ["gold.jsonl:2: not valid UTF-8"]


def test_read_seed_keeps_newlines_and_caches(seeds):
    t = read_seed(seeds, A)
    assert t == TEXT_A and "\r\n" in t  # no newline translation
    assert read_seed(seeds, A) is t  # cached
    (seeds / A).write_text(TEXT_A + "追加内容", encoding="utf-8", newline="")
    assert read_seed(seeds, A).endswith("追加内容")  # cache follows edits
    with pytest.raises(FileNotFoundError):
        read_seed(seeds, "missing.txt")
    with pytest.raises(FileNotFoundError):
        read_seed(seeds, "../seeds/" + A)


def test_normalize():
    assert normalize("１１７０.１ 亿元") == "1170.1亿元"
    assert normalize(" a\tb\u3000c\n") == "abc"


def test_golditem_coerces_and_checks_alignment():
    it = GoldItem("x", "q", "a", ["m"], "d.txt", "ev", "entity", "easy")
    assert it.doc == ("d.txt",) and it.evidence == ("ev",) and it.must_include == ("m",)
    with pytest.raises(ValueError):
        GoldItem("x", "q", "a", [], ["d1", "d2"], ["e1", "e2", "e3"], "cross_doc", "hard")
