"""Eval metrics on hand-made tiny texts, gold items and results (no pipeline)."""
from __future__ import annotations

import json
import math

import pytest

from eval.gold import GoldItem, normalize
from eval.metrics import (
    METRIC_KEYS,
    answer_accuracy,
    answer_correct,
    citation_accuracy,
    citation_correct,
    first_hit_rank,
    hit_at_k,
    latency_p50,
    latency_p95,
    mrr,
    per_item,
    percentile,
    refusal_precision,
    refusal_recall,
    span_contains,
    summarize,
)

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
    # quote is never trusted
    s = {"doc": A, "start": 0, "end": 3, "quote": EV_A}
    assert not span_contains(TEXTS, s, A, EV_A)
    # bad offsets / unknown doc / empty evidence
    assert not span_contains(TEXTS, {"doc": A, "start": -5, "end": 10}, A, "x")
    assert not span_contains(TEXTS, {"doc": A, "start": "0", "end": 10}, A, "前言")
    assert not span_contains(TEXTS, {"doc": A, "start": 10, "end": 2}, A, "前言")
    assert not span_contains(TEXTS, {"doc": "zzz.txt", "start": 0, "end": 10}, "zzz.txt", "前言")
    assert not span_contains(TEXTS, whole(A), A, "")


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


def test_non_cross_doc_multi_evidence_any_counts():
    it = item(type="list", doc=A, ev=[EV_A, "新建学校5所"], must=())
    r = result(retrieved=[span(A, "另有其他内容"), span(A, "新建学校5所")])
    assert first_hit_rank(it, r, TEXTS) == 2


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
    # refused answerable items are left out of citation accuracy
    i2 = item("q2")
    r2 = dict(refused, id="q2")
    assert citation_accuracy([it, i2], [good, r2], TEXTS) == 1.0
    assert citation_accuracy([i2], [r2], TEXTS) is None


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
    assert refusal_precision(items, res) == 0.0  # defined as 0.0 when nothing refused
    assert refusal_recall(items, res) == 0.0
    s = summarize(items, res, TEXTS)
    assert s["overall"]["refusal_precision"] == 0.0
    assert s["overall"]["refusal_precision_defined"] is False
    # no unanswerable items: the refusal metrics do not apply
    assert refusal_precision([item("q1")], [result("q1", refused=True)]) is None
    assert refusal_recall([item("q1")], [result("q1")]) is None


# --------------------------------------------------------------------------- latency


def test_percentile_nearest_rank():
    vals = list(range(1, 101))  # 1..100
    assert percentile(vals, 50) == 50.0
    assert percentile(vals, 95) == 95.0
    assert percentile([10, 20, 30, 40], 50) == 20.0  # ceil(0.5*4)=2
    assert percentile([10, 20, 30, 40], 95) == 40.0  # ceil(3.8)=4
    assert percentile([7], 95) == 7.0
    assert percentile([], 50) is None
    assert percentile([3, 1, 2], 0) == 1.0


def test_latency_p50_p95():
    items = [item(f"q{i}") for i in range(1, 21)]
    res = [result(f"q{i}", latency_ms=i * 10) for i in range(1, 21)]
    assert latency_p50(items, res) == 100.0  # rank ceil(10)=10
    assert latency_p95(items, res) == 190.0  # rank ceil(19)=19
    # missing results and non-numeric latencies are left out
    res2 = res[:4] + [result("q5", latency_ms=None)]
    assert latency_p50(items, res2) == 20.0
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
