"""Validate the gold Q&A benchmark file eval/gold.jsonl (format: /work/shared/eval-format.md).

Stdlib only: json, unicodedata, pathlib, collections.
"""
import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "eval" / "gold.jsonl"
SEEDS = ROOT / "seeds"

TYPES = {
    "numeric_result",
    "numeric_target",
    "entity",
    "list",
    "yesno",
    "cross_doc",
    "unanswerable",
    "summary",
}
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


def norm(s):
    """NFKC, then drop all white space (the matching rule of the eval format)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", s) if not ch.isspace())


def has_cjk(s):
    for ch in s:
        cp = ord(ch)
        if (
            0x3400 <= cp <= 0x4DBF
            or 0x4E00 <= cp <= 0x9FFF
            or 0xF900 <= cp <= 0xFAFF
            or 0x20000 <= cp <= 0x2FA1F
        ):
            return True
    return False


def as_list(x):
    return x if isinstance(x, list) else [x]


def _load_lines():
    return GOLD.read_bytes().decode("utf-8").splitlines()


def _load_items():
    return [json.loads(line) for line in _load_lines() if line.strip()]


@pytest.fixture(scope="module")
def items():
    return _load_items()


@pytest.fixture(scope="module")
def seed_texts():
    # decode exactly as stored: UTF-8, no newline translation, no normalisation
    return {p.name: p.read_bytes().decode("utf-8") for p in SEEDS.glob("*.txt")}


def test_gold_file_exists():
    assert GOLD.is_file(), f"missing {GOLD}"


def test_every_line_parses_to_object():
    for n, line in enumerate(_load_lines(), 1):
        assert line.strip(), f"line {n} is empty"
        obj = json.loads(line)
        assert isinstance(obj, dict), f"line {n} is not a JSON object"


def test_fields_present_and_typed(items):
    for it in items:
        assert set(it) >= set(FIELDS), f"{it.get('id')}: missing {set(FIELDS) - set(it)}"
        for name, typ in FIELDS.items():
            assert isinstance(it[name], typ), f"{it.get('id')}: field {name} has wrong type"
        for name in ("id", "question", "answer"):
            assert it[name].strip(), f"{it['id']}: empty {name}"
        assert all(isinstance(m, str) and m.strip() for m in it["must_include"]), it["id"]
        for name in ("doc", "evidence"):
            vals = as_list(it[name])
            assert vals, f"{it['id']}: empty {name} list"
            assert all(isinstance(v, str) and v for v in vals), f"{it['id']}: bad {name}"


def test_ids_unique(items):
    dup = [i for i, c in Counter(it["id"] for it in items).items() if c > 1]
    assert not dup, f"duplicate ids: {dup}"


def test_type_and_difficulty_values(items):
    for it in items:
        assert it["type"] in TYPES, f"{it['id']}: bad type {it['type']}"
        assert it["difficulty"] in DIFFICULTIES, f"{it['id']}: bad difficulty {it['difficulty']}"


def test_docs_exist(items, seed_texts):
    for it in items:
        for d in as_list(it["doc"]):
            assert d in seed_texts, f"{it['id']}: unknown doc {d}"


def test_doc_evidence_aligned(items):
    for it in items:
        doc, ev = it["doc"], it["evidence"]
        assert isinstance(doc, list) == isinstance(ev, list), f"{it['id']}: doc/evidence shape differ"
        if isinstance(doc, list):
            assert len(doc) == len(ev), f"{it['id']}: doc and evidence lists differ in length"
        if it["type"] == "cross_doc":
            assert isinstance(doc, list) and len(doc) >= 2, f"{it['id']}: cross_doc needs >= 2 docs"


def test_evidence_verbatim_in_doc(items, seed_texts):
    for it in items:
        for d, e in zip(as_list(it["doc"]), as_list(it["evidence"])):
            assert e in seed_texts[d], f"{it['id']}: evidence not verbatim in {d}: {e[:60]!r}"


def test_must_include_in_evidence(items):
    for it in items:
        evs = [norm(e) for e in as_list(it["evidence"])]
        for m in it["must_include"]:
            nm = norm(m)
            assert nm, f"{it['id']}: must_include normalises to empty"
            if it["type"] == "cross_doc":
                assert any(nm in e for e in evs), f"{it['id']}: {m!r} in no evidence"
            else:
                assert all(nm in e for e in evs), f"{it['id']}: {m!r} not in evidence"


def test_must_include_rules_per_type(items):
    for it in items:
        if it["type"] == "unanswerable":
            assert it["must_include"] == [], f"{it['id']}: unanswerable must have must_include == []"
        else:
            assert it["must_include"], f"{it['id']}: answerable item needs must_include"


def test_counts_and_coverage(items, seed_texts):
    assert len(items) >= 120, f"only {len(items)} items"
    types = Counter(it["type"] for it in items)
    assert set(types) == TYPES, f"types present: {sorted(types)}"
    assert types["unanswerable"] >= 12, types
    assert types["cross_doc"] >= 10, types
    docs = {d for it in items for d in as_list(it["doc"])}
    assert docs == set(seed_texts), f"docs not covered: {set(seed_texts) - docs}"


def test_english_share(items):
    english = sum(1 for it in items if not has_cjk(it["question"]))
    share = english / len(items)
    assert 0.10 <= share <= 0.20, f"English questions: {english}/{len(items)} = {share:.1%}"
