"""Eval metrics on hand-made tiny texts, gold items and results (no pipeline)."""
from __future__ import annotations

import json
import math

import pytest

from eval.gold import GoldItem, normalize
from eval.judge import answer_correct, citation_correct, per_item
from eval.metrics import (
    METRIC_KEYS,
    answer_accuracy,
    citation_accuracy,
    latency_p50,
    latency_p95,
    percentile,
    refusal_precision,
    refusal_recall,
    summarize,
)
from eval.retrieval_metrics import first_hit_rank, hit_at_k, mrr, span_contains

A = "a.txt"
B = "b.txt"
TEXT_A = "前言。2019年全区实现地区生产总值1170.1 亿元，增长6.8%。\n另有其他内容。新建学校5所。"
TEXT_B = "慈溪市报告。2020年目标：地区生产总值增长6%左右。实现地区生产总值1170.1 亿元，增长6.8%。"
TEXTS = {A: TEXT_A, B: TEXT_B}

EV_A = "地区生产总值1170.1 亿元"
EV_B = "地区生产总值增长6%左右"


def span(doc: str, evidence_or_text: str, text: str | None = None, **kw) -> dict:
    """A span of ``doc`` covering the first occurrence of ``evidence_or_text``."""
    t = TEXTS[doc] if text is None else text
    i = t.index(evidence_or_text)
    return {"doc": doc, "section": "s", "start": i, "end": i + len(evidence_or_text), **kw}


def whole(doc: str) -> dict:
    return {"doc": doc, "section": "s", "start": 0, "end": len(TEXTS[doc])}


def item(id="q1", type="numeric_result", must=("1170.1亿元",), doc=A, ev=EV_A, answer="1170.1亿元"):
    return GoldItem(
        id=id,
        question="2019年GDP是多少？",
        answer=answer,
        must_include=must,
        doc=doc,
        evidence=ev,
        type=type,
        difficulty="easy",
    )


def result(id="q1", answer="1170.1 亿元", refused=False, citations=(), retrieved=(), latency_ms=100):
    return {
        "id": id,
        "question": "?",
        "answer": answer,
        "refused": refused,
        "citations": list(citations),
        "retrieved": list(retrieved),
        "latency_ms": latency_ms,
    }


# --------------------------------------------------------------------------- normalize / spans


def test_normalize_nfkc_and_whitespace():
    assert normalize("1170.1 亿元") == normalize("1170.1亿元") == normalize("１１７０.１亿元")
    assert normalize("a\u3000b\n c\t") == "abc"


def test_span_contains_verbatim_and_normalised():
    assert span_contains(TEXTS, span(A, EV_A), A, EV_A)
    # evidence written without the space still matches after normalisation
    assert span_contains(TEXTS, span(A, EV_A), A, "地区生产总值1170.1亿元")
    assert span_contains(TEXTS, span(A, EV_A), A, "地区生产总值１１７０.１亿元")


def test_span_contains_rejects_wrong_doc_short_span_and_bad_offsets():
    # b.txt holds the same words, but the gold doc is a.txt
    assert EV_A in TEXT_B
    assert not span_contains(TEXTS, span(B, EV_A), A, EV_A)
    # span that only covers part of the evidence
    s = span(A, EV_A)
    s["end"] -= 3
    assert not span_contains(TEXTS, s, A, EV_A)
    # a quote is never trusted over valid offsets
    s = {"doc": A, "start": 0, "end": 3, "quote": EV_A}
    assert not span_contains(TEXTS, s, A, EV_A)
    # an empty span (start == end) or one running past the text is not a valid slice
    assert not span_contains(TEXTS, {"doc": A, "start": 3, "end": 3}, A, "x")
    assert not span_contains(TEXTS, {"doc": A, "start": 0, "end": len(TEXT_A) + 1}, A, "前言")
    # bad offsets / unknown doc / empty evidence
    assert not span_contains(TEXTS, {"doc": A, "start": -5, "end": 10}, A, "x")
    assert not span_contains(TEXTS, {"doc": A, "start": "0", "end": 10}, A, "前言")
    assert not span_contains(TEXTS, {"doc": A, "start": 10, "end": 2}, A, "前言")
    assert not span_contains(TEXTS, {"doc": "zzz.txt", "start": 0, "end": 10}, "zzz.txt", "前言")
    assert not span_contains(TEXTS, whole(A), A, "")


def test_span_contains_reads_the_quote_only_without_valid_offsets():
    """As shared/tools/score.py's covers(): the quote stands in for a span whose
    offsets are missing, of the wrong kind, empty or past the text."""
    for bad in ({}, {"start": "0", "end": 10}, {"start": 5, "end": 5}, {"start": 0, "end": len(TEXT_A) + 1}):
        assert span_contains(TEXTS, {"doc": A, "quote": "…" + EV_A + "…", **bad}, A, EV_A), bad
        assert not span_contains(TEXTS, {"doc": A, "quote": "另有其他内容", **bad}, A, EV_A), bad
        assert not span_contains(TEXTS, {"doc": B, "quote": EV_A, **bad}, A, EV_A), bad  # wrong doc


def test_span_contains_reads_seeds_dir(tmp_path):
    (tmp_path / A).write_text(TEXT_A, encoding="utf-8", newline="")
    assert span_contains(tmp_path, span(A, EV_A), A, EV_A)
    assert not span_contains(tmp_path, span(B, EV_B), B, EV_B)  # b.txt not in dir


# --------------------------------------------------------------------------- retrieval


def test_first_hit_rank_and_hit_at_k():
    it = item()
    miss = span(A, "另有其他内容")
    r1 = result(retrieved=[span(A, EV_A), miss])
    r2 = result(retrieved=[miss, span(B, EV_A), whole(A)])  # wrong doc at 2, hit at 3
    r_none = result(retrieved=[miss, span(B, EV_A)])
    assert first_hit_rank(it, r1, TEXTS) == 1
    assert first_hit_rank(it, r2, TEXTS) == 3
    assert first_hit_rank(it, r_none, TEXTS) is None
    assert first_hit_rank(it, None, TEXTS) is None
    assert hit_at_k([it], [r1], TEXTS, 1) == 1.0
    assert hit_at_k([it], [r2], TEXTS, 1) == 0.0
    assert hit_at_k([it], [r2], TEXTS, 3) == 1.0
    assert hit_at_k([it], [r_none], TEXTS, 5) == 0.0


def test_mrr_half_and_third():
    miss = span(A, "另有其他内容")
    i1, i2 = item("q1"), item("q2")
    r1 = result("q1", retrieved=[miss, span(A, EV_A)])  # rank 2
    r2 = result("q2", retrieved=[miss, miss, span(A, EV_A)])  # rank 3
    assert mrr([i1], [r1], TEXTS) == pytest.approx(1 / 2)
    assert mrr([i2], [r2], TEXTS) == pytest.approx(1 / 3)
    assert mrr([i1, i2], [r1, r2], TEXTS) == pytest.approx((1 / 2 + 1 / 3) / 2)
    # not retrieved at all counts 0
    r3 = result("q2", retrieved=[miss])
    assert mrr([i1, i2], [r1, r3], TEXTS) == pytest.approx(1 / 4)


def test_cross_doc_needs_every_evidence():
    it = item(type="cross_doc", doc=[A, B], ev=[EV_A, EV_B], must=())
    sa, sb = span(A, EV_A), span(B, EV_B)
    miss = span(A, "另有其他内容")
    full = result(retrieved=[sa, miss, miss, sb], citations=[sa, sb])
    partial = result(retrieved=[sa, miss, miss], citations=[sa])
    assert first_hit_rank(it, full, TEXTS) == 4  # smallest k covering both
    assert hit_at_k([it], [full], TEXTS, 3) == 0.0
    assert hit_at_k([it], [full], TEXTS, 5) == 1.0
    assert first_hit_rank(it, partial, TEXTS) is None
    assert hit_at_k([it], [partial], TEXTS, 5) == 0.0
    assert citation_correct(it, full, TEXTS)
    assert not citation_correct(it, partial, TEXTS)
    # B's evidence cited from A's doc does not count
    wrong = result(citations=[sa, {"doc": A, "start": 0, "end": len(TEXT_A)}])
    assert not citation_correct(it, wrong, TEXTS)


def test_several_evidence_strings_follow_the_shared_scorer():
    """score.py zips doc with evidence: with aligned lists every pair must be covered,
    whatever the type; one doc with several evidence strings keeps the first string."""
    from eval.retrieval_metrics import scored_pairs

    aligned = item(type="list", doc=[A, A], ev=[EV_A, "新建学校5所"], must=())
    assert scored_pairs(aligned) == ((A, EV_A), (A, "新建学校5所"))
    r = result(retrieved=[span(A, "另有其他内容"), span(A, "新建学校5所"), span(A, EV_A)],
               citations=[span(A, "新建学校5所")])
    assert first_hit_rank(aligned, r, TEXTS) == 3  # both covered from rank 3
    assert not citation_correct(aligned, r, TEXTS)  # only one pair cited
    one_doc = item(type="list", doc=A, ev=[EV_A, "新建学校5所"], must=())
    assert scored_pairs(one_doc) == ((A, EV_A),)
    assert first_hit_rank(one_doc, r, TEXTS) == 3
    assert first_hit_rank(one_doc, result(retrieved=[span(A, "新建学校5所")]), TEXTS) is None


def test_hit_and_mrr_skip_unanswerable_and_none_when_not_applicable():
    un = item("u1", type="unanswerable", must=(), answer="未提及")
    ok = item("q1")
    r_un = result("u1", refused=True, retrieved=[])
    r_ok = result("q1", retrieved=[span(A, EV_A)])
    assert hit_at_k([un, ok], [r_un, r_ok], TEXTS, 1) == 1.0
    assert mrr([un, ok], [r_un, r_ok], TEXTS) == 1.0
    assert hit_at_k([un], [r_un], TEXTS, 1) is None
    assert mrr([un], [r_un], TEXTS) is None
    assert citation_accuracy([un], [r_un], TEXTS) is None


# --------------------------------------------------------------------------- answers


def test_answer_correct_ok_with_normalisation():
    it = item(must=("1170.1亿元", "6.8%"))
    assert answer_correct(it, result(answer="地区生产总值 １１７０.１ 亿元，增长 6.8 %。"))


def test_answer_wrong_cases():
    it = item(must=("1170.1亿元", "6.8%"))
    assert not answer_correct(it, result(answer="1170.1亿元"))  # must_include missing
    assert not answer_correct(it, result(answer="1170.1亿元 6.8%", refused=True))  # refused
    assert not answer_correct(it, None)  # missing result
    pasted = "1170.1亿元，增长6.8%。" + "政府工作报告内容" * 40
    assert len(normalize(pasted)) > 300
    assert not answer_correct(it, result(answer=pasted))  # pasted passage


def test_answer_length_limit_edges_and_exempt_types():
    it = item(must=("1170.1亿元",))
    exactly = "1170.1亿元" + "x" * (300 - len("1170.1亿元"))
    assert len(normalize(exactly)) == 300
    assert answer_correct(it, result(answer=exactly))
    assert not answer_correct(it, result(answer=exactly + "y"))
    # white space does not count toward the limit
    assert answer_correct(it, result(answer=" ".join(exactly)))
    long = "1170.1亿元" + "长" * 500
    for t in ("summary", "list"):
        assert answer_correct(item(type=t, must=("1170.1亿元",)), result(answer=long))


def test_unanswerable_answer_correct():
    un = item("u1", type="unanswerable", must=(), answer="报告未提及")
    assert answer_correct(un, result("u1", answer="报告中没有相关信息", refused=True))
    assert not answer_correct(un, result("u1", answer="1170.1亿元", refused=False))
    assert not answer_correct(un, None)


def test_citation_correct_and_accuracy():
    it = item()
    good = result(citations=[span(A, EV_A, quote="whatever")])
    wrong_doc = result(citations=[span(B, EV_A)])  # same words, wrong doc
    no_ev = result(citations=[span(A, "另有其他内容", quote=EV_A)])  # quote lies
    refused = result(refused=True, citations=[span(A, EV_A)])
    assert citation_correct(it, good, TEXTS)
    assert not citation_correct(it, wrong_doc, TEXTS)
    assert not citation_correct(it, no_ev, TEXTS)
    assert not citation_correct(it, refused, TEXTS)
    assert citation_accuracy([it], [good], TEXTS) == 1.0
    assert citation_accuracy([it], [wrong_doc], TEXTS) == 0.0
    # a refused answerable item counts as a wrong citation (as in shared/tools/score.py)
    i2 = item("q2")
    r2 = dict(refused, id="q2")
    assert citation_accuracy([it, i2], [good, r2], TEXTS) == 0.5
    assert citation_accuracy([i2], [r2], TEXTS) == 0.0


def test_answer_accuracy_over_all_items():
    ok = item("q1")
    bad = item("q2")
    un = item("u1", type="unanswerable", must=())
    res = [result("q1"), result("q2", answer="不知道"), result("u1", refused=True)]
    assert answer_accuracy([ok, bad, un], res) == pytest.approx(2 / 3)


# --------------------------------------------------------------------------- refusals


def test_refusal_precision_recall():
    items = [
        item("u1", type="unanswerable", must=()),
        item("u2", type="unanswerable", must=()),
        item("q1"),
        item("q2"),
    ]
    res = [
        result("u1", refused=True),
        result("u2", refused=False),
        result("q1", refused=True),  # wrong refusal
        result("q2"),
    ]
    assert refusal_precision(items, res) == pytest.approx(1 / 2)
    assert refusal_recall(items, res) == pytest.approx(1 / 2)
    perfect = [result("u1", refused=True), result("u2", refused=True), result("q1"), result("q2")]
    assert refusal_precision(items, perfect) == 1.0
    assert refusal_recall(items, perfect) == 1.0


def test_refusal_nothing_refused_and_not_applicable():
    items = [item("u1", type="unanswerable", must=()), item("q1")]
    res = [result("u1"), result("q1")]
    assert refusal_precision(items, res) is None  # nothing refused: 0/0
    assert refusal_recall(items, res) == 0.0
    s = summarize(items, res, TEXTS)
    assert s["overall"]["refusal_precision"] is None
    assert s["overall"]["refusal_precision_defined"] is False
    # no unanswerable items: recall does not apply, every refusal is a wrong one
    assert refusal_precision([item("q1")], [result("q1", refused=True)]) == 0.0
    assert refusal_precision([item("q1")], [result("q1")]) is None
    assert refusal_recall([item("q1")], [result("q1")]) is None


# --------------------------------------------------------------------------- latency


def test_percentile_is_the_shared_scorers():
    """sorted(values)[min(n - 1, int(p/100 * n))], as in shared/tools/score.py."""
    vals = list(range(1, 101))  # 1..100
    assert percentile(vals, 50) == 51.0  # index 50
    assert percentile(vals, 95) == 96.0  # index 95
    assert percentile([10, 20, 30, 40], 50) == 30.0  # index 2: the upper middle value
    assert percentile([10, 20, 30, 40], 95) == 40.0  # index int(3.8)=3
    assert percentile([40, 10, 30], 50) == 30.0  # odd count: the median
    assert percentile([7], 95) == 7.0
    assert percentile([], 50) is None
    assert percentile([3, 1, 2], 0) == 1.0
    assert percentile([3, 1, 2], 100) == 3.0


def test_latency_p50_p95():
    items = [item(f"q{i}") for i in range(1, 21)]
    res = [result(f"q{i}", latency_ms=i * 10) for i in range(1, 21)]
    assert latency_p50(items, res) == 110.0  # index 10
    assert latency_p95(items, res) == 200.0  # index 19
    # missing results and non-numeric latencies are left out
    res2 = res[:4] + [result("q5", latency_ms=None)]
    assert latency_p50(items, res2) == 30.0  # 10 20 [30] 40
    assert latency_p50(items, []) is None


# --------------------------------------------------------------------------- missing results, summary


def test_missing_results_count_as_failures():
    items = [item("q1"), item("q2"), item("u1", type="unanswerable", must=())]
    res = [result("q1", retrieved=[span(A, EV_A)], citations=[span(A, EV_A)])]
    assert hit_at_k(items, res, TEXTS, 1) == pytest.approx(1 / 2)
    assert mrr(items, res, TEXTS) == pytest.approx(1 / 2)
    assert answer_accuracy(items, res) == pytest.approx(1 / 3)
    assert citation_accuracy(items, res, TEXTS) == pytest.approx(1 / 2)
    assert refusal_recall(items, res) == 0.0
    s = summarize(items, res, TEXTS)
    assert s["counts"]["missing_results"] == 2
    assert set(s["counts"]["missing_ids"]) == {"q2", "u1"}
    assert s["overall"]["n"] == 3
    row = per_item(items[1], None, TEXTS)
    assert row["missing"] and not row["answer_ok"] and row["hit_rank"] is None
    assert row["failures"] == ["no result"]


def test_results_as_mapping_and_extra_results():
    items = [item("q1")]
    res = {"q1": result("q1"), "zz": result("zz")}
    assert answer_accuracy(items, res) == 1.0
    s = summarize(items, list(res.values()), TEXTS)
    assert s["counts"]["extra_results"] == 1


def test_summarize_shape_and_nulls():
    items = [
        item("q1"),
        item("q2", type="entity", must=("慈溪",), doc=B, ev=EV_B),
        item("u1", type="unanswerable", must=()),
    ]
    res = [
        result("q1", retrieved=[span(A, EV_A)], citations=[span(A, EV_A)], latency_ms=100),
        result("q2", answer="慈溪", retrieved=[whole(A), span(B, EV_B)],
               citations=[span(B, EV_B)], latency_ms=300),
        result("u1", refused=True, latency_ms=200),
    ]
    s = summarize(items, res, TEXTS)
    assert set(s) == {"overall", "by_type", "counts"}
    for block in [s["overall"], *s["by_type"].values()]:
        assert set(METRIC_KEYS) <= set(block)
    o = s["overall"]
    assert o["hit@1"] == pytest.approx(1 / 2)
    assert o["hit@3"] == 1.0 and o["hit@5"] == 1.0
    assert o["mrr"] == pytest.approx(3 / 4)
    assert o["answer_accuracy"] == 1.0
    assert o["citation_accuracy"] == 1.0
    assert o["refusal_precision"] == 1.0 and o["refusal_recall"] == 1.0
    assert o["latency_p50_ms"] == 200.0 and o["latency_p95_ms"] == 300.0
    assert o["n"] == 3
    un = s["by_type"]["unanswerable"]
    assert un["hit@1"] is None and un["mrr"] is None and un["citation_accuracy"] is None
    assert un["answer_accuracy"] == 1.0 and un["refusal_recall"] == 1.0
    nr = s["by_type"]["numeric_result"]
    assert nr["refusal_precision"] is None and nr["refusal_recall"] is None
    assert nr["n"] == 1
    assert s["by_type"]["entity"]["hit@1"] == 0.0
    assert s["counts"]["by_type"] == {"numeric_result": 1, "entity": 1, "unanswerable": 1}
    json.dumps(s, allow_nan=False)  # serialisable, no NaN
    assert not any(isinstance(v, float) and math.isnan(v) for v in o.values())


def test_per_item_reasons():
    it = item()
    r = result(answer="不知道", retrieved=[span(A, "另有其他内容")], citations=[span(B, EV_A)])
    row = per_item(it, r, TEXTS)
    assert row["answer_ok"] is False and row["citation_ok"] is False and row["hit_rank"] is None
    assert any("missing" in f for f in row["failures"])
    assert "evidence not retrieved" in row["failures"]
    assert "no citation holds the evidence" in row["failures"]
    good = per_item(it, result(retrieved=[span(A, EV_A)], citations=[span(A, EV_A)]), TEXTS)
    assert good["failures"] == [] and good["hit_rank"] == 1 and good["citation_ok"] is True
    un = per_item(item("u1", type="unanswerable", must=()), result("u1", answer="1170亿"), TEXTS)
    assert un["citation_ok"] is None and un["hit_rank"] is None
    assert un["failures"] == ["answered an unanswerable question"]


# --------------------------------------------------------------------------- foreign citations


def test_foreign_citation_rate():
    from eval.metrics import foreign_citation_rate

    items = [item("q1"), item("q2"), item("q3"), item("u1", type="unanswerable", must=()), item("q4")]
    results = [
        result("q1", citations=[span(A, EV_A)]),  # own doc only
        result("q2", citations=[span(A, EV_A), span(B, EV_B)]),  # cites another report too
        result("q3", refused=True, citations=[span(B, EV_B)]),  # refused: not counted
        result("u1", citations=[span(B, EV_B)]),  # unanswerable: not counted
        result("q4"),  # no citation: not counted
    ]
    assert foreign_citation_rate(items, results) == 0.5
    assert foreign_citation_rate(items[3:4], results) is None
    assert summarize(items, results, TEXTS)["overall"]["foreign_citation_rate"] == 0.5


# --------------------------------------------------------------------------- the shared scorer


def _shared_score(tmp_path, items, results, texts=TEXTS) -> dict:
    """shared/tools/score.py (the format's independent scorer) on the same data."""
    import importlib.util
    from pathlib import Path

    from shared_files import shared_file

    path = shared_file("score.py")
    spec = importlib.util.spec_from_file_location("shared_score", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"id": it.id, "question": it.question, "answer": it.answer,
                                        "must_include": list(it.must_include), "doc": list(it.doc),
                                        "evidence": list(it.evidence), "type": it.type,
                                        "difficulty": it.difficulty}, ensure_ascii=False) + "\n" for it in items),
                    encoding="utf-8")
    res = tmp_path / "results.jsonl"
    res.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8")
    tdir = tmp_path / "texts"
    tdir.mkdir(exist_ok=True)
    for name, text in texts.items():
        (tdir / name).write_text(text, encoding="utf-8")
    return mod.score(gold, res, tdir)


AGREEING_KEYS = ("hit@1", "hit@3", "hit@5", "mrr", "answer_accuracy", "citation_accuracy", "refusal_recall",
                 "refusal_precision", "foreign_citation_rate")


def _agree(ours: dict, theirs: dict, keys=AGREEING_KEYS) -> list[str]:
    bad = []
    for k in keys:
        a, b = ours.get(k), theirs.get(k)
        if (a is None) != (b is None) or (a is not None and abs(a - b) > 0.0015):
            bad.append(f"{k}: ours {a} vs score.py {b}")
    return bad


def test_metrics_agree_with_the_shared_scorer(tmp_path):
    """Retrieval ranks, cross_doc, answer length limits, refusals, missing results and
    foreign citations: our metrics and shared/tools/score.py give the same figures."""
    items = [
        item("q1"),
        item("q2", ev="新建学校5所", must=("5所",)),
        item("q3", type="cross_doc", doc=(A, B), ev=(EV_A, EV_B), must=("1170.1亿元", "6%左右")),
        item("q4", type="summary", must=("1170.1亿元",)),
        item("q5", must=("1170.1亿元",)),
        item("u1", type="unanswerable", must=()),
        item("u2", type="unanswerable", must=()),
        item("q6"),  # no result
    ]
    long = "长" * 400 + "1170.1亿元"
    results = [
        result("q1", retrieved=[span(A, "前言"), span(A, EV_A)], citations=[span(A, EV_A)]),
        result("q2", answer="5 所", retrieved=[span(A, "新建学校5所")], citations=[span(B, EV_B)]),
        result("q3", answer="1170.1亿元；6%左右", retrieved=[span(A, EV_A), span(A, "前言"), span(B, EV_B)],
               citations=[span(A, EV_A), span(B, EV_B)]),
        result("q4", answer=long, retrieved=[whole(A)], citations=[whole(A)]),
        result("q5", answer=long, retrieved=[span(B, EV_B)], citations=[span(A, EV_A), span(B, EV_B)]),
        result("u1", refused=True, answer="报告未提及"),
        result("u2", answer="1170.1亿元", citations=[span(A, EV_A)]),
    ]
    ours = summarize(items, results, TEXTS)["overall"]
    theirs = _shared_score(tmp_path, items, results)
    assert not _agree(ours, theirs), _agree(ours, theirs)
    assert theirs["missing"] == 1 and ours["n"] == 8


def test_citation_accuracy_of_a_refused_answerable_item_agrees_with_the_shared_scorer(tmp_path):
    items = [item("q1"), item("q2")]
    results = [result("q1", citations=[span(A, EV_A)], retrieved=[span(A, EV_A)]),
               result("q2", refused=True, answer="报告中没有找到")]
    ours = summarize(items, results, TEXTS)["overall"]
    theirs = _shared_score(tmp_path, items, results)
    assert not _agree(ours, theirs), _agree(ours, theirs)


def test_several_evidence_strings_agree_with_the_shared_scorer(tmp_path):
    items = [item("q1", ev=(EV_A, "新建学校5所"), must=("5所",))]
    results = [result("q1", answer="5所", citations=[span(A, "新建学校5所")], retrieved=[span(A, "新建学校5所")])]
    ours = summarize(items, results, TEXTS)["overall"]
    theirs = _shared_score(tmp_path, items, results)
    assert not _agree(ours, theirs), _agree(ours, theirs)


def test_latency_p50_agrees_with_the_shared_scorer(tmp_path):
    items = [item("q1"), item("q2")]
    results = [result("q1", latency_ms=100), result("q2", latency_ms=300)]
    ours = summarize(items, results, TEXTS)["overall"]
    theirs = _shared_score(tmp_path, items, results)
    assert ours["latency_p50_ms"] == theirs["latency_p50_ms"], (ours["latency_p50_ms"], theirs["latency_p50_ms"])


def test_latency_p95_and_duplicate_results_agree_with_the_shared_scorer(tmp_path):
    items = [item(f"q{i}") for i in range(1, 8)]
    results = [result(f"q{i}", latency_ms=v) for i, v in enumerate([50, 10, 70, 30, 20, 60, 40], 1)]
    results.append(result("q1", answer="不知道", latency_ms=999))  # a second line for q1: the last one counts
    ours = summarize(items, results, TEXTS)["overall"]
    theirs = _shared_score(tmp_path, items, results)
    assert (ours["latency_p50_ms"], ours["latency_p95_ms"]) == (theirs["latency_p50_ms"], theirs["latency_p95_ms"])
    assert ours["answer_accuracy"] == pytest.approx(6 / 7) and theirs["answer_accuracy"] == round(6 / 7, 3)


def _random_run(rng, n: int):
    """Gold items over TEXTS and results with every kind of span, refusal and gap."""
    evs = {A: [EV_A, "新建学校5所", "另有其他内容", "前言"], B: [EV_B, "慈溪市报告", "增长6.8%"]}
    types = ["numeric_result", "numeric_target", "entity", "list", "yesno", "cross_doc", "unanswerable", "summary"]

    def rand_span(doc=None):
        doc = doc or rng.choice([A, B, A, "zzz.txt"])
        text = TEXTS.get(doc, "")
        kind = rng.random()
        if kind < 0.55 and text:  # a real slice around some evidence
            ev = rng.choice(evs[doc])
            i = text.index(ev)
            s, e = max(0, i - rng.randint(0, 3)), min(len(text), i + len(ev) + rng.randint(-2, 3))
            return {"doc": doc, "section": "s", "start": s, "end": e, "quote": text[s:e]}
        if kind < 0.7 and text:  # whole text, or a slice past the end with a quote
            return {"doc": doc, "start": 0, "end": len(text) + rng.choice([0, 5]), "quote": rng.choice(evs[doc])}
        if kind < 0.85:  # no offsets, a quote only
            return {"doc": doc, "quote": rng.choice(evs.get(doc, ["x"]))}
        return {"doc": doc, "start": rng.randint(0, 20), "end": rng.randint(0, 20)}  # maybe empty or reversed

    items, results = [], []
    for i in range(n):
        t = rng.choice(types)
        if t == "cross_doc" or (t == "summary" and rng.random() < 0.5):
            doc, ev = [A, B], [rng.choice(evs[A][:2]), rng.choice(evs[B][:2])]
        elif rng.random() < 0.2:
            doc, ev = A, [EV_A, "新建学校5所"]  # one doc, two strings
        else:
            doc = rng.choice([A, B])
            ev = rng.choice(evs[doc][:2])
        must = () if t == "unanswerable" else tuple(rng.sample(["1170.1亿元", "6%左右", "5所", "慈溪"], rng.randint(1, 2)))
        items.append(item(f"i{i}", type=t, must=must, doc=doc, ev=ev))
        if rng.random() < 0.1:
            continue  # no result
        answer = rng.choice(["1170.1 亿元，6%左右", "5所", "慈溪 5 所 1170.1亿元", "报告未提及", "长" * 310 + "1170.1亿元5所"])
        results.append(result(f"i{i}", answer=answer, refused=rng.random() < 0.25,
                              retrieved=[rand_span() for _ in range(rng.randint(0, 6))],
                              citations=[rand_span() for _ in range(rng.randint(0, 3))],
                              latency_ms=rng.randint(1, 2000)))
    rng.shuffle(results)
    return items, results


@pytest.mark.parametrize("seed", range(12))
def test_random_runs_agree_with_the_shared_scorer_overall_and_by_type(tmp_path, seed):
    """Every figure score.py prints, overall and per type, is ours too: the same number
    and the same printed text (3 decimals, whole ms)."""
    import random

    from eval.report_format import fmt_value

    rng = random.Random(seed)
    items, results = _random_run(rng, rng.randint(1, 40))
    s = summarize(items, results, TEXTS)
    theirs = _shared_score(tmp_path, items, results)
    keys = AGREEING_KEYS + ("latency_p50_ms", "latency_p95_ms")
    assert not _agree(s["overall"], theirs, keys), _agree(s["overall"], theirs, keys)
    for k in keys:
        assert fmt_value(k, s["overall"].get(k)) == fmt_value(k, theirs.get(k)), k
    assert theirs["missing"] == s["counts"]["missing_results"]
    for t, block in theirs["by_type"].items():
        shared = [k for k in block if k in s["by_type"][t]]
        assert shared, t
        assert not _agree(s["by_type"][t], block, shared), (t, _agree(s["by_type"][t], block, shared))
