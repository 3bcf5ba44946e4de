"""`rag eval` (eval/run.py) on the new library, and the quick-start baseline's splitter.

Fast: the runner's helpers, its option and corpus checks. Slow: the CLI end to end in a
subprocess, on the provinces test half's items about two reports, producing the output
contract's files, whose figures the independent scorer (shared/tools/score.py) must
reproduce, in its JSON and in what it prints."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from shared_files import shared_file

from eval.gold import GoldItem

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD_DIR = ROOT / "eval" / "gold"
SCORER = shared_file("score.py")
JB = "000_c180eaa18c962c1d.txt"

RESULT_FIELDS = {"id", "question", "answer", "refused", "citations", "retrieved", "latency_ms"}
CITATION_FIELDS = {"doc", "section", "start", "end", "quote"}
RETRIEVED_FIELDS = {"doc", "section", "start", "end", "score"}
# the figures `rag eval` and shared/tools/score.py both print (same definitions: tests/test_eval_metrics.py)
SHARED_KEYS = ("hit@1", "hit@3", "hit@5", "mrr", "answer_accuracy", "citation_accuracy", "refusal_precision",
               "refusal_recall", "foreign_citation_rate", "latency_p50_ms", "latency_p95_ms")

UNKNOWN_DOC = {"id": "t-unknown", "question": "这是什么?", "answer": "x", "must_include": ["x"],
               "doc": "999_no_such_file.txt", "evidence": "x", "type": "entity", "difficulty": "easy"}


def as_list(x):
    return x if isinstance(x, list) else [x]


def rag_cli() -> list[str]:
    exe = Path(sys.executable).parent / "rag"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "rag.cli"]


# --------------------------------------------------------------------------- fast


def test_baseline_split_keeps_exact_offsets():
    from eval.baseline import CHUNK_SIZE, split_text

    text = (SEEDS / JB).read_bytes().decode("utf-8")
    chunks = split_text(text, JB)
    assert len(chunks) > 5
    for c in chunks:
        assert c.doc == JB and text[c.start:c.end] == c.text and 0 < len(c.text) <= CHUNK_SIZE
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert len(text.rstrip()) - chunks[-1].end < 5


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
    assert RESULT_FIELDS <= set(r)


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


def test_corpus_folders_follow_the_gold_docs(tmp_path):
    from eval.run import corpus_folders

    folders, missing = corpus_folders(GOLD_DIR / "provinces-test.jsonl", None)
    assert ROOT / "corpus" / "reports-2025" in folders and not missing
    folders, missing = corpus_folders(GOLD_DIR / "seeds-test.jsonl", None)
    assert folders == [SEEDS] and not missing
    g = tmp_path / "g.jsonl"
    g.write_text(json.dumps(UNKNOWN_DOC) + "\n", encoding="utf-8")
    folders, missing = corpus_folders(g, [str(SEEDS)])
    assert folders == [SEEDS.resolve()] and missing == ["999_no_such_file.txt"]


def test_a_gold_file_about_no_known_report_is_refused(tmp_path, capsys):
    from eval.run import main

    gold = tmp_path / "bad.jsonl"
    gold.write_text('{"id": "t-broken", "question": "江北区2019年\n' + json.dumps(UNKNOWN_DOC) + "\n", encoding="utf-8")
    rc = main(["--gold", str(gold), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "doc '999_no_such_file.txt' is in none of" in err and "--corpus DIR" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, message", [
    (["--k", "0"], "--k must be between 1 and 50"),
    (["--limit", "0"], "--limit must be at least 1"),
    (["--gold", "/nonexistent/gold.jsonl"], "no gold file"),
])
def test_bad_options_exit_2(args, message, capsys):
    from eval.run import main

    assert main(args) == 2
    assert message in capsys.readouterr().err


# --------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_llm_mode_without_endpoint_is_an_error(tmp_path, capsys):
    from eval.run import main

    rc = main(["--gold", str(GOLD_DIR / "seeds-test.jsonl"), "--out", str(tmp_path / "out"), "--mode", "llm"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "RAG_LLM_BASE_URL" in err and "--mode extractive" in err
    assert not (tmp_path / "out").exists()


def _check_spans(rows: list[dict], texts: dict[str, str]) -> None:
    """Every cited span's slice is its quote; every retrieved span is a real slice."""
    for r in rows:
        assert RESULT_FIELDS <= set(r), r.keys()
        assert isinstance(r["refused"], bool)
        assert isinstance(r["latency_ms"], int) and r["latency_ms"] >= 0
        for c in r["citations"]:
            assert CITATION_FIELDS <= set(c), c
            text = texts[c["doc"]]
            assert 0 <= c["start"] < c["end"] <= len(text)
            assert text[c["start"]:c["end"]] == c["quote"], (r["id"], c)
        for s in r["retrieved"]:
            assert RETRIEVED_FIELDS <= set(s), s
            text = texts[s["doc"]]
            assert 0 <= s["start"] < s["end"] <= len(text), (r["id"], s)


@pytest.mark.slow
def test_rag_eval_cli_end_to_end_agrees_with_the_shared_scorer(tmp_path):
    """`rag eval --gold eval/gold/provinces-test.jsonl --corpus DIR` with DIR holding two
    reports (吉林, 西藏): the items about other reports are reported and skipped, the
    eight left (targets, results, an entity, a list, a summary, an unanswerable one) are
    scored; then shared/tools/score.py on the output prints the same figures."""
    gold = GOLD_DIR / "provinces-test.jsonl"
    lines = [line for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [json.loads(line) for line in lines]
    docs = {"2025年吉林省政府工作报告.docx", "2025年西藏政府工作报告.docx"}
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for d in docs:
        shutil.copy(ROOT / "corpus" / "reports-2025" / d, corpus / d)
    kept = [(line, it) for line, it in zip(lines, items) if set(as_list(it["doc"])) <= docs]
    assert len(kept) >= 6 and any(it["type"] == "unanswerable" for _, it in kept)
    out = tmp_path / "out"
    env = {**os.environ, "RAG_TORCH_THREADS": "2"}
    proc = subprocess.run(rag_cli() + ["eval", "--gold", str(gold), "--corpus", str(corpus), "--out", str(out)],
                          capture_output=True, text=True, timeout=900, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]

    # the items about reports left out are reported line by line and skipped
    left_out = [n for n, it in enumerate(items, 1) if not set(as_list(it["doc"])) <= docs]
    err = proc.stderr.splitlines()
    for n in left_out[:3]:
        assert any(line.startswith(f"provinces-test.jsonl:{n}: unknown doc") for line in err), n
    assert f"scoring {len(kept)} valid items, {len(left_out)} skipped" in err

    # the output contract
    for name in ("results.jsonl", "summary.json", "report.md", "metrics.png"):
        assert (out / name).is_file(), name
    texts = {p.name: p.read_text(encoding="utf-8") for p in (out / "texts").iterdir()}
    assert docs <= set(texts)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [it["id"] for _, it in kept]
    assert all("error" not in r for r in rows), [r.get("error") for r in rows]
    _check_spans(rows, texts)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {"overall", "by_type", "counts", "settings"} <= set(summary)
    assert summary["overall"]["n"] == len(kept)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Overall" in report and "![chart](metrics.png)" in report

    # the independent scorer, on the same items, gives the same figures
    subset = tmp_path / "gold-kept.jsonl"
    subset.write_text("\n".join(line for line, _ in kept) + "\n", encoding="utf-8")
    argv = [sys.executable, str(SCORER), str(subset), str(out / "results.jsonl"), str(out / "texts")]
    sc = subprocess.run(argv + ["--json"], capture_output=True, text=True, timeout=120)
    assert sc.returncode == 0, sc.stderr
    theirs = json.loads(sc.stdout)
    assert theirs["items"] == len(kept) and theirs["missing"] == 0
    ours = summary["overall"]
    for k in SHARED_KEYS:
        a, b = ours.get(k), theirs.get(k)
        assert (a is None) == (b is None), (k, a, b)
        if a is not None:
            assert round(a, 3) == b, (k, a, b)
    for t, block in theirs["by_type"].items():
        for k, b in block.items():
            if k in summary["by_type"][t]:
                a = summary["by_type"][t][k]
                assert (a is None) == (b is None) and (a is None or round(a, 3) == b), (t, k, a, b)

    # ... and the two programs print the same figures
    sc_text = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert sc_text.returncode == 0, sc_text.stderr
    printed_ours, printed_theirs = _printed(proc.stdout), _printed(sc_text.stdout)
    for k in SHARED_KEYS:
        assert k in printed_ours and k in printed_theirs, k
        assert printed_ours[k] == printed_theirs[k], (k, printed_ours[k], printed_theirs[k])


def _printed(stdout: str) -> dict[str, float | None]:
    """``metric value`` lines of a metrics table as printed (``—``/``None``: no value)."""
    out: dict[str, float | None] = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in SHARED_KEYS and parts[0] not in out:
            out[parts[0]] = None if parts[1] in ("—", "None") else float(parts[1])
    return out
