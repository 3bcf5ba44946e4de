"""Report writer: files written, tables hold the numbers, the chart is a PNG."""
from __future__ import annotations

import json
import struct

from eval.gold import GoldItem
from eval.metrics import summarize
from eval.report import write_report, write_summary_json
from eval.report_format import ratio

A = "a.txt"
TEXT_A = "前言。2019年全区实现地区生产总值1170.1亿元，增长6.8%。新建学校5所，新增就业岗位1.2万个。"
TEXTS = {A: TEXT_A}
EV = "地区生产总值1170.1亿元"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def sp(ev: str) -> dict:
    i = TEXT_A.index(ev)
    return {"doc": A, "section": "一、回顾", "start": i, "end": i + len(ev), "score": 0.5}


def it(id, type="numeric_result", must=("1170.1亿元",), ev=EV):
    return GoldItem(id, f"问题{id}：2019年地区生产总值是多少？", "1170.1亿元", must, A, ev, type, "easy")


ITEMS = [
    it("q1"),
    it("q2", must=("1.2万个",), ev="新增就业岗位1.2万个"),
    it("q3", type="entity", must=("5所",), ev="新建学校5所"),
    it("u1", type="unanswerable", must=()),
    it("q4"),
]


def res(id, answer, refused=False, retrieved=(), citations=(), latency_ms=100):
    return {
        "id": id, "question": "?", "answer": answer, "refused": refused,
        "citations": list(citations), "retrieved": list(retrieved), "latency_ms": latency_ms,
    }


PROJECT = [
    res("q1", "1170.1亿元", retrieved=[sp(EV)], citations=[sp(EV)], latency_ms=120),
    res("q2", "长" * 400 + "1.2万个", retrieved=[sp("前言"), sp("新增就业岗位1.2万个")],
        citations=[sp("前言")], latency_ms=300),
    res("q3", "5所", retrieved=[sp("新建学校5所")], citations=[sp("新建学校5所")], latency_ms=80),
    res("u1", "报告未提及", refused=True, latency_ms=50),
    # q4 missing
]
BASELINE = [
    res("q1", "不知道", retrieved=[sp("前言")], latency_ms=10),
    res("q2", "1.2万个", retrieved=[sp("新增就业岗位1.2万个")], citations=[sp("新增就业岗位1.2万个")],
        latency_ms=10),
    res("q3", "学校", latency_ms=10),
    res("u1", "1170亿", latency_ms=10),
    res("q4", "1170.1亿元", retrieved=[sp(EV)], citations=[sp(EV)], latency_ms=10),
]


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def test_report_files_and_numbers(tmp_path):
    s = summarize(ITEMS, PROJECT, TEXTS)
    p = write_report(tmp_path / "out", s, ITEMS, PROJECT, TEXTS, title="测试报告 eval",
                     settings={"k": 5, "mode": "extractive"})
    assert p == tmp_path / "out" / "report.md"
    md = p.read_text(encoding="utf-8")
    png = tmp_path / "out" / "metrics.png"
    assert png.exists()
    w, h = png_size(png)
    assert w > 100 and h > 100
    assert md.startswith("# 测试报告 eval")
    assert "k=5 · mode=extractive" in md
    assert "![chart](metrics.png)" in md
    o = s["overall"]
    # overall numbers: answer accuracy 3/5 (q1, q3, u1), hit@1 2/4, mrr (1+1/2+1+0)/4
    assert o["answer_accuracy"] == 0.6
    assert f"| answer_accuracy | 0.600 |" in md
    assert f"| hit@1 | 0.500 |" in md
    assert f"| mrr | {o['mrr']:.3f} |" in md and abs(o["mrr"] - 0.625) < 1e-9
    assert "| latency_p95_ms | 300 |" in md
    assert "| n | 5 |" in md
    # per-type table: the unanswerable row has "—" for hit@1
    un_row = next(l for l in md.splitlines() if l.startswith("| unanswerable |"))
    assert "—" in un_row and "1.000" in un_row
    # failures: q4 missing first, q2's pasted answer trimmed
    fail = md.split("## Worst failures")[1]
    assert "q4" in fail and "(no result)" in fail
    q2_row = next(l for l in fail.splitlines() if "| q2 |" in l)
    assert "长" * 140 in q2_row and "长" * 160 not in q2_row and "…" in q2_row
    assert "too long" in q2_row
    assert "a.txt·一、回顾·前言" in q2_row  # top-3 retrieved: doc·section·text
    assert "| q1 |" not in fail  # q1 is all right
    assert "Project vs baseline" not in md


def test_report_with_baseline(tmp_path):
    s = summarize(ITEMS, PROJECT, TEXTS)
    b = summarize(ITEMS, BASELINE, TEXTS)
    p = write_report(tmp_path, s, ITEMS, PROJECT, TEXTS, baseline_summary=b,
                     baseline_results=BASELINE)
    md = p.read_text(encoding="utf-8")
    assert "## Project vs baseline" in md
    pa, ba = s["overall"]["answer_accuracy"], b["overall"]["answer_accuracy"]
    assert ba == 0.4  # q2 and q4
    assert f"| answer_accuracy | {pa:.3f} | {ba:.3f} | {pa / ba:.2f}× |" in md
    # baseline refused nothing: refusal recall 0 -> ratio undefined
    assert b["overall"]["refusal_recall"] == 0.0
    assert "| refusal_recall | 1.000 | 0.000 | — |" in md
    assert "both: 0 · project only: 3 · baseline only: 2 · neither: 0" in md
    png_size(tmp_path / "metrics.png")


def test_summary_json_and_ratio(tmp_path):
    s = summarize(ITEMS, PROJECT, TEXTS)
    p = write_summary_json(tmp_path / "o", s)
    assert p.name == "summary.json"
    back = json.loads(p.read_text(encoding="utf-8"))
    assert back["overall"]["answer_accuracy"] == s["overall"]["answer_accuracy"]
    assert back["by_type"]["unanswerable"]["hit@1"] is None
    assert ratio(1.0, 0.5) == 2.0
    assert ratio(1.0, 0.0) is None and ratio(None, 1.0) is None and ratio(1.0, None) is None


def test_report_no_failures_and_ascii_fallback(tmp_path, monkeypatch):
    import eval.report_chart as rep

    monkeypatch.setattr(rep, "find_cjk_font", lambda: None)
    items = [ITEMS[0]]
    results = [PROJECT[0]]
    s = summarize(items, results, TEXTS)
    p = write_report(tmp_path, s, items, results, TEXTS, title="只有中文")
    md = p.read_text(encoding="utf-8")
    assert "No failures." in md
    png_size(tmp_path / "metrics.png")
