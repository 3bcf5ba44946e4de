"""`rag eval` (eval/run.py), the quick-start baseline (eval/baseline.py) and
`rag bench` (eval/bench.py), end to end on the real seeds."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import GoldItem, read_seed

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

JB = "000_c180eaa18c962c1d.txt"
JBA = "004_6b77bdb4c9c02796.txt"
NB = "003_887212d0c28f9641.txt"

# Real seed sentences: 2 numeric, 1 unanswerable, 1 cross_doc, 1 English; then a broken
# line and a line naming a doc that does not exist (both must be reported and skipped).
GOLD_LINES = [
    {"id": "t-num-1", "question": "江北区2019年地区生产总值是多少?", "answer": "639.6亿元",
     "must_include": ["639.6亿元"], "doc": JB, "evidence": "2019年实现地区生产总值639.6亿元,增长7.9%",
     "type": "numeric_result", "difficulty": "easy"},
    {"id": "t-num-2", "question": "江北区2020年GDP增长目标是多少?", "answer": "7%左右",
     "must_include": ["7%左右"], "doc": JB, "evidence": "建议奋力实现地区生产总值增长7%左右",
     "type": "numeric_target", "difficulty": "easy"},
    {"id": "t-unans", "question": "XX市2022年地区生产总值是多少?", "answer": "资料未提供",
     "must_include": [], "doc": NB, "evidence": "预计一般公共预算收入达1680亿元,同口径增长5%",
     "type": "unanswerable", "difficulty": "medium"},
    {"id": "t-cross", "question": "江北区2018年和2019年一般公共预算收入分别是多少?", "answer": "72.9亿元; 78.2亿元",
     "must_include": ["72.9亿元", "78.2亿元"], "doc": [JBA, JB],
     "evidence": ["一般公共预算收入72.9亿元,增长12.1%", "一般公共预算收入78.2亿元,增长7.2%"],
     "type": "cross_doc", "difficulty": "hard"},
    {"id": "t-en", "question": "What was Jiangbei District's GDP growth rate in 2019?", "answer": "7.9%",
     "must_include": ["7.9%"], "doc": JB, "evidence": "2019年实现地区生产总值639.6亿元,增长7.9%",
     "type": "numeric_result", "difficulty": "easy"},
]
BROKEN_LINE = '{"id": "t-broken", "question": "江北区2019年'
UNKNOWN_DOC = {"id": "t-unknown", "question": "这是什么?", "answer": "x", "must_include": ["x"],
               "doc": "999_no_such_file.txt", "evidence": "x", "type": "entity", "difficulty": "easy"}
VALID_IDS = [d["id"] for d in GOLD_LINES]
RESULT_FIELDS = {"id", "question", "answer", "refused", "citations", "retrieved", "latency_ms"}
CITATION_FIELDS = {"doc", "section", "start", "end", "quote"}
RETRIEVED_FIELDS = {"doc", "section", "start", "end", "score"}


def write_gold(path: Path) -> Path:
    lines = [json.dumps(d, ensure_ascii=False) for d in GOLD_LINES[:3]]
    lines.append(BROKEN_LINE)  # line 4
    lines.append(json.dumps(GOLD_LINES[3], ensure_ascii=False))
    lines.append(json.dumps(UNKNOWN_DOC, ensure_ascii=False))  # line 6
    lines.append(json.dumps(GOLD_LINES[4], ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check_spans(rows: list[dict]) -> None:
    """Every cited span's slice is its quote; every retrieved span is a real slice."""
    for r in rows:
        assert RESULT_FIELDS <= set(r), r.keys()
        assert isinstance(r["refused"], bool)
        assert isinstance(r["latency_ms"], int) and r["latency_ms"] >= 0
        for c in r["citations"]:
            assert CITATION_FIELDS <= set(c), c
            text = read_seed(SEEDS, c["doc"])
            assert 0 <= c["start"] < c["end"] <= len(text)
            assert text[c["start"]:c["end"]] == c["quote"], (r["id"], c)
        for s in r["retrieved"]:
            assert RETRIEVED_FIELDS <= set(s), s
            text = read_seed(SEEDS, s["doc"])
            assert 0 <= s["start"] < s["end"] <= len(text), (r["id"], s)
            assert text[s["start"]:s["end"]].strip()


# --------------------------------------------------------------------------- fast


def test_baseline_split_keeps_exact_offsets():
    from eval.baseline import CHUNK_SIZE, split_text

    text = (SEEDS / JB).read_bytes().decode("utf-8")
    chunks = split_text(text, JB)
    assert len(chunks) > 5
    for c in chunks:
        assert c.doc == JB
        assert text[c.start:c.end] == c.text
        assert c.end == c.start + len(c.text)
        assert 0 < len(c.text) <= CHUNK_SIZE
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)
    # the chunks cover the report: the last one reaches (near) the end of the text
    assert len(text.rstrip()) - chunks[-1].end < 5


def test_baseline_split_agrees_with_splitter_start_index():
    """The splitter's own start_index is already exact on the seeds (no fallback used)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    text = (SEEDS / JB).read_bytes().decode("utf-8")
    sp = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50, add_start_index=True)
    for d in sp.create_documents([text]):
        i = d.metadata["start_index"]
        assert text[i:i + len(d.page_content)] == d.page_content


def test_count_skipped_and_failure_result():
    from eval.run import count_skipped, failure_result

    probs = ["g.jsonl:4: broken JSON (x at column 3)", "g.jsonl:6: unknown doc 'a.txt'",
             "g.jsonl:6: another problem on the same line", "g.jsonl: no valid items"]
    assert count_skipped(probs, "g.jsonl") == 2
    it = GoldItem("a", "问?", "x", ("x",), JB, "x", "entity", "easy")
    r = failure_result(it, RuntimeError("boom\nsecond line"), "extractive", 12)
    assert r["id"] == "a" and r["answer"] == "" and r["refused"] is False
    assert r["citations"] == [] and r["retrieved"] == [] and r["latency_ms"] == 12
    assert r["notes"] == ["error: RuntimeError: boom second line"]


def test_run_items_records_errors_and_goes_on():
    from eval.run import _run_items

    items = [GoldItem(f"q{i}", "问?", "x", ("x",), JB, "x", "entity", "easy") for i in range(3)]

    def ask(it):
        if it.id == "q1":
            raise ValueError("bad question")
        return {"id": it.id, "question": it.question, "answer": "x", "refused": False,
                "citations": [], "retrieved": [], "latency_ms": 1}

    out = _run_items(items, ask, "extractive", "test")
    assert [r["id"] for r in out] == ["q0", "q1", "q2"]
    assert "error" in out[1] and "bad question" in out[1]["notes"][0]
    assert "error" not in out[0] and "error" not in out[2]


def test_llm_mode_without_endpoint_is_an_error(tmp_path, capsys):
    from eval.run import main

    gold = write_gold(tmp_path / "gold.jsonl")
    rc = main(["--gold", str(gold), "--out", str(tmp_path / "out"), "--mode", "llm"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "RAG_LLM_BASE_URL" in err and "--mode llm" in err
    assert not (tmp_path / "out").exists()


def test_gold_problems_are_printed_line_by_line(tmp_path, capsys):
    """An all-broken gold file: every problem on stderr, nothing scored, exit 1."""
    from eval.run import main

    gold = tmp_path / "bad.jsonl"
    gold.write_text(BROKEN_LINE + "\n" + json.dumps(UNKNOWN_DOC) + "\n", encoding="utf-8")
    rc = main(["--gold", str(gold), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.splitlines()
    assert rc == 1
    assert any(line.startswith("bad.jsonl:1: broken JSON") for line in err)
    assert any(line.startswith("bad.jsonl:2: unknown doc '999_no_such_file.txt'") for line in err)
    assert "scoring 0 valid items, 2 skipped" in err


# --------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_eval_run_end_to_end_with_baseline(tmp_path, capsys, monkeypatch, seed_index):
    import rag.service
    from rag.answer import Answerer
    from rag.retrieve import Retriever

    from eval.run import main

    # the session's seed index stands in for the process-wide answerer (no re-embedding)
    monkeypatch.setattr(rag.service, "_answerer", Answerer(Retriever(seed_index), None))
    gold = write_gold(tmp_path / "tiny.jsonl")
    out = tmp_path / "out"
    rc = main(["--gold", str(gold), "--out", str(out), "--baseline"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err

    # problems reported line by line, then the count
    err = cap.err.splitlines()
    assert any(line.startswith("tiny.jsonl:4: broken JSON") for line in err), cap.err
    assert any(line.startswith("tiny.jsonl:6: unknown doc '999_no_such_file.txt'") for line in err)
    assert "scoring 5 valid items, 2 skipped" in err

    for name in ("results.jsonl", "summary.json", "report.md", "metrics.png", "baseline_results.jsonl"):
        assert (out / name).is_file(), name

    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == VALID_IDS
    assert all("error" not in r for r in rows), [r.get("error") for r in rows]
    assert all(r["mode"] == "extractive" for r in rows)
    check_spans(rows)
    answered = [r for r in rows if not r["refused"]]
    assert answered and all(r["citations"] for r in answered)

    brows = [json.loads(line) for line in (out / "baseline_results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in brows] == VALID_IDS
    check_spans(brows)
    assert all(len(r["retrieved"]) == 4 and r["refused"] is False for r in brows)
    assert all(r["answer"] == r["citations"][0]["quote"] for r in brows)  # extractive: the top chunk

    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {"overall", "by_type", "counts", "settings", "baseline"} <= set(s)
    assert set(s["by_type"]) == {"numeric_result", "numeric_target", "unanswerable", "cross_doc"}
    assert s["overall"]["n"] == 5 and s["counts"]["items"] == 5
    assert {"overall", "by_type"} <= set(s["baseline"]) and s["baseline"]["overall"]["n"] == 5
    st = s["settings"]
    assert st["n_skipped"] == 2 and st["n_items"] == 5 and st["mode"] == "extractive" and st["k"] == 5
    assert st["gold"] == str(gold) and st["embedder"] and st["elapsed_seconds"] > 0
    assert "p50" in st["latency_note"] and "p95" in st["latency_note"]

    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Project vs baseline" in report
    assert "| metric | project | baseline | ratio (project/baseline) |" in report
    assert "![chart](metrics.png)" in report
    assert (out / "metrics.png").read_bytes().startswith(b"\x89PNG")

    # the overall table on stdout
    assert "hit@1" in cap.out and "answer_accuracy" in cap.out and "baseline" in cap.out


@pytest.mark.slow
def test_bench_quick(tmp_path, capsys, embedder):
    import os

    from eval.bench import main

    home = os.environ["RAG_HOME"]
    js = tmp_path / "bench.json"
    rc = main(["--quick", "--skip-summaries", "--json", str(js)])
    out = capsys.readouterr().out
    assert rc == 0
    assert os.environ["RAG_HOME"] == home  # the temporary data directory is undone
    for row in ("cold index (incl. model load)", "chunks/s", "bare encode, same chunks",
                "index / bare encode", "re-index unchanged", "warm latency p50", "warm latency p95",
                "summaries"):
        assert row in out, row
    fig = json.loads(js.read_text(encoding="utf-8"))
    assert set(fig) >= {"settings", "index", "query", "summaries", "targets"}
    assert fig["settings"]["quick"] is True and len(fig["settings"]["seeds"]) == 1
    i = fig["index"]
    assert i["chunks"] > 0 and i["chunks"] == i["bare_encode_chunks"]
    assert i["cold_index_s"] > i["model_load_s"] >= 0 and i["bare_encode_s"] > 0
    assert i["reindex_embedded"] == 0
    q = fig["query"]
    assert q["questions"] == 5 and q["timed"] == 5 and q["p50_ms"] > 0 and q["p95_ms"] >= q["p50_ms"]
    assert fig["summaries"]["cold_s"] is None and "skipped" in fig["summaries"]["status"]
