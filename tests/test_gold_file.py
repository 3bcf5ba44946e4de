"""The gold Q&A sets under eval/gold/ against the shared format (shared/eval-format.md).

Checked independently of eval/gold.py (stdlib json + unicodedata), then once more
through the project's own loader. The docs are the seeds (plain text) and the reports
under corpus/ (read by rag.load, as the index stores them). The table-cell sets
(eval/gold/table-cells-*.jsonl) have a format of their own: tests/test_eval_table_cells.py.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from shared_files import shared_file

ROOT = Path(__file__).resolve().parents[1]
GOLD_DIR = ROOT / "eval" / "gold"
FORMAT = shared_file("eval-format.md")
QA_FILES = sorted(p for p in GOLD_DIR.glob("*.jsonl") if not p.name.startswith("table-cells"))

TYPES = {"numeric_result", "numeric_target", "entity", "list", "yesno", "cross_doc", "unanswerable", "summary"}
DIFFICULTIES = {"easy", "medium", "hard"}
FIELDS = {
    "id": str,
    "question": str,
    "answer": str,
    "must_include": list,
    "doc": (str, list),
    "evidence": (str, list),
    "type": str,
    "difficulty": str,
}
# each test half and the minimum number of items it holds
TEST_HALVES = {"seeds-test.jsonl": 60, "provinces-test.jsonl": 60, "adversarial-test.jsonl": 40, "compare-test.jsonl": 10}


def norm(s: str) -> str:
    """NFKC, then no white space: the format's matching rule."""
    return "".join(unicodedata.normalize("NFKC", s).split())


def as_list(x):
    return x if isinstance(x, list) else [x]


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def gold() -> dict[str, list[dict]]:
    return {p.name: rows(p) for p in QA_FILES}


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    """Every doc the gold sets may name: its text as stored."""
    from rag import load

    out = {p.name: p.read_bytes().decode("utf-8") for p in (ROOT / "seeds").glob("*.txt")}
    for p in sorted((ROOT / "corpus").glob("*/*")):
        if p.suffix.lower() in (".docx", ".pdf", ".html", ".htm", ".txt") and p.name not in out:
            out[p.name] = load.read(p, p.parent).text
    return out


def test_the_format_file_names_the_fields_checked_here():
    """If shared/eval-format.md changes its field list, this file must follow."""
    spec = FORMAT.read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `(\w+)` \|", spec, flags=re.M))
    assert table == set(FIELDS), table ^ set(FIELDS)
    for t in TYPES:
        assert f"`{t}`" in spec, t


def test_there_are_dev_and_test_halves():
    names = {p.name for p in QA_FILES}
    assert set(TEST_HALVES) <= names, set(TEST_HALVES) - names
    for t in TEST_HALVES:
        assert t.replace("-test", "-dev") in names, t


def test_every_line_is_an_object_with_the_required_fields(gold):
    for name, items in gold.items():
        assert items, f"{name} is empty"
        for it in items:
            where = f"{name}:{it.get('id')}"
            assert isinstance(it, dict), where
            assert set(FIELDS) <= set(it), f"{where}: missing {set(FIELDS) - set(it)}"
            for field, typ in FIELDS.items():
                assert isinstance(it[field], typ), f"{where}: {field} is {type(it[field]).__name__}"
            for field in ("id", "question", "answer"):
                assert it[field].strip(), f"{where}: empty {field}"
            assert it["type"] in TYPES, f"{where}: type {it['type']!r}"
            assert it["difficulty"] in DIFFICULTIES, f"{where}: difficulty {it['difficulty']!r}"
            assert all(isinstance(m, str) and norm(m) for m in it["must_include"]), where
            for field in ("doc", "evidence"):
                assert all(isinstance(v, str) and v.strip() for v in as_list(it[field])), f"{where}: {field}"


def test_must_include_per_type(gold):
    for name, items in gold.items():
        for it in items:
            if it["type"] == "unanswerable":
                assert it["must_include"] == [], f"{name}:{it['id']}: unanswerable items have must_include []"
            else:
                assert it["must_include"], f"{name}:{it['id']}: an answerable item needs must_include"


def test_doc_and_evidence_are_aligned(gold):
    for name, items in gold.items():
        for it in items:
            docs, evs = as_list(it["doc"]), as_list(it["evidence"])
            assert len(docs) == len(evs) or (len(docs) == 1 and evs), f"{name}:{it['id']}: {len(docs)} docs, {len(evs)} evidence"


def test_ids_are_unique_across_every_file(gold):
    counts = Counter(it["id"] for items in gold.values() for it in items)
    dup = sorted(i for i, c in counts.items() if c > 1)
    assert not dup, f"ids in more than one place: {dup[:20]}"


def _questions(gold, which: str) -> dict[str, str]:
    return {norm(it["question"]).lower(): f"{name}:{it['id']}" for name, items in gold.items()
            if name.endswith(f"-{which}.jsonl") for it in items}


def test_each_test_half_is_disjoint_from_its_own_dev_half(gold):
    for t in TEST_HALVES:
        d = t.replace("-test", "-dev")
        tq = {norm(it["question"]).lower() for it in gold[t]}
        dq = {norm(it["question"]).lower() for it in gold[d]}
        assert not tq & dq, f"{t} and {d} share questions: {sorted(tq & dq)[:5]}"
        assert not {it["id"] for it in gold[t]} & {it["id"] for it in gold[d]}


def test_no_test_question_is_in_any_dev_file(gold):
    test_q, dev_q = _questions(gold, "test"), _questions(gold, "dev")
    shared = sorted(f"{test_q[q]} = {dev_q[q]}" for q in set(test_q) & set(dev_q))
    assert not shared, f"{len(shared)} test questions also in dev files: {shared}"


def test_docs_exist_and_evidence_is_verbatim(gold, texts):
    for name, items in gold.items():
        for it in items:
            docs, evs = as_list(it["doc"]), as_list(it["evidence"])
            pairs = zip(docs * len(evs), evs) if len(docs) == 1 else zip(docs, evs)
            for d, ev in pairs:
                assert d in texts, f"{name}:{it['id']}: unknown doc {d}"
                assert ev in texts[d], f"{name}:{it['id']}: evidence not verbatim in {d}: {ev[:60]!r}"


def test_the_project_loader_accepts_every_item(gold, texts):
    from eval.gold import load_gold

    for p in QA_FILES:
        items, problems = load_gold(p, texts)
        assert not problems, problems[:5]
        assert len(items) == len(gold[p.name])


def test_test_halves_are_big_enough_and_varied(gold):
    for name, least in TEST_HALVES.items():
        items = gold[name]
        assert len(items) >= least, f"{name}: {len(items)} items"
        types = Counter(it["type"] for it in items)
        assert types["unanswerable"] >= 3, f"{name}: {types}"
    for name in ("seeds-test.jsonl", "provinces-test.jsonl"):
        types = Counter(it["type"] for it in gold[name])
        assert set(types) == TYPES, f"{name}: types {sorted(types)}"


def test_english_questions_are_present_in_the_test_halves(gold):
    def has_cjk(s):
        return any("\u4e00" <= ch <= "\u9fff" for ch in s)

    for name in ("seeds-test.jsonl", "provinces-test.jsonl"):
        english = sum(not has_cjk(it["question"]) for it in gold[name])
        assert english >= 3, f"{name}: {english} English questions"


def test_shared_copies_match_the_originals():
    """tests/fixtures/shared holds copies for clones without ../shared; they must not drift."""
    from shared_files import COPIES, ORIGINALS

    present = {n: p for n, p in ORIGINALS.items() if p.exists()}
    if not present:
        pytest.skip("no ../shared folder beside this clone: the copies are what the tests use")
    for name, original in present.items():
        assert (COPIES / name).read_bytes() == original.read_bytes(), f"tests/fixtures/shared/{name} is out of date"
