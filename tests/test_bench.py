"""`rag bench` (eval/bench.py, its sections in eval/bench_*.py): its options, the report's
figure lines, the fake slow LLM server, and one slow run with the smallest options.
Nothing here asserts a speed."""
from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from eval import bench, bench_common, bench_embed, bench_fake_llm, bench_pipeline, bench_scale
from eval.bench import build_parser, main
from eval.bench_report import format_report

ROOT = Path(__file__).resolve().parents[1]

# the figure lines of each section, as the report prints them
LINES = {
    "index": ("(a) index throughput", "model load", "chunks/s", "reports/s", "sparse index build",
              "re-index unchanged"),
    "query": ("(b) query latency, extractive", "first ask p50 / p95 / max", "repeat p50 / p95 / max",
              "refused / errors"),
    "summary": ("(c) summary time per report", "cold p50 / p95 / max", "cached p50 / p95 / max"),
    "table": ("(d) comparison table", "one indicator, all reports: p50 / max", "target < 200 ms",
              "rows_for, five core indicators"),
    "embed": ("(e) embedder throughput", "sentences/s"),
    "load": ("(f) load:", "throughput", "questions/s", "latency p50 / p95 / max", "answers by mode"),
    "llm": ("fake LLM: reply time / deadline", "LLM part p50 / p95 / max", "deadline",
            "responsiveness: extractive probe p50 / p95"),
    "scale": ("(g) scale: synthetic corpora", "query p50 / p95", "one report p50 / p95", "RSS", "BM25 build",
              "BM25 load", "BM25 query p50 / p95", "cold open", "disk", "random unit vectors"),
}


def lat(v=10.0):
    return {"n": 3, "p50_ms": v, "p95_ms": v * 2, "max_ms": v * 3}


def sample_fig() -> dict:
    return {
        "settings": {"cpus": 2, "embedder": "e5", "embed_threads": 1, "quick": True, "elapsed_s": 1.0,
                     "memory": {"rss_mb": 100.0, "peak_mb": 120.0}},
        "index": {"model_load_s": 1.0, "folders": [{"name": "seeds", "reports": 5, "chunks": 291, "seconds": 10.0,
                                                    "embed_seconds": 9.0, "chunks_per_s": 29.1, "reports_per_s": 0.5}],
                  "total": {"reports": 5, "chunks": 291, "seconds": 10.0, "chunks_per_s": 29.1, "reports_per_s": 0.5},
                  "sparse_build_s": 0.1, "reindex_unchanged_s": 0.2, "reindex_embedded": 0},
        "query": {"questions": 3, "first": lat(), "repeat": lat(), "refused": 0, "n_errors": 0},
        "summary": {"status": "ok", "reports": 5, "cold": lat(), "cached": lat(1.0), "total_cold_s": 0.1},
        "table": {"reports": 5, "one_indicator_p50_ms": 1.0, "one_indicator_max_ms": 2.0, "rows_for_core_ms": 3.0,
                  "within_target": True},
        "embed": {"sentences": 8, "threads": 1, "backends": [
            {"backend": "torch", "configured": True, "status": "ok", "sentences_per_s": 50.0, "load_s": 0.1},
            {"backend": "onnx", "configured": False, "status": "unavailable: ImportError: no onnxruntime"}],
            "comparisons": []},
        "load": {"status": "ok", "users": 2, "per_user": 1, "mode": "llm (fake server)", "throughput_qps": 1.0,
                 "answered": 2, "seconds": 2.0, "latency": lat(), "modes": {"llm": 2}, "n_errors": 0, "errors": [],
                 "llm_delay_s": 0.4, "deadline_s": 0.2, "llm_requests": 2, "llm_replies_cut_off": 2,
                 "llm_part": lat(), "deadline_held": True, "deadline_rule": "LLM part <= deadline + 0.54 s",
                 "probe": lat()},
        "scale": {"dim": 384, "queries": 5, "k": 30, "sizes": [
            {"chunks": 1000, "add_s": 1.0, "add_per_s": 1000.0, "query": lat(), "query_one_report": lat(),
             "rss_mb": 100.0, "rss_delta_mb": 10.0, "bm25_build_s": 0.5, "bm25_load_s": 0.01, "bm25_query": lat(),
             "reopen_s": 0.1, "disk_mb": 12.0}], "real_chunks": 1274, "tokenize_per_s": 500.0,
                  "vectors": "random unit vectors (no embedding)"},
    }


def assert_lines(out: str, groups) -> None:
    for g in groups:
        for line in LINES[g]:
            assert line in out, (g, line)


# --------------------------------------------------------------------------- fast


def test_the_report_has_every_figure_line():
    out = format_report(sample_fig())
    assert_lines(out, LINES)
    assert "unavailable: ImportError: no onnxruntime" in out
    assert "held" in out and "within target" in out


def test_the_index_run_of_another_backend_is_printed_with_the_speed_up():
    fig = sample_fig()
    fig["index"]["against"] = [{"backend": "torch", "model_load_s": 1.0, "speedup": 2.05,
                                "total": {"reports": 5, "chunks": 291, "seconds": 20.5, "chunks_per_s": 14.2}}]
    out = format_report(fig)
    assert "torch: 5 reports, 291 chunks" in out and "14.20 chunks/s" in out and "2.05× as fast" in out


def test_the_report_shows_what_went_wrong():
    fig = sample_fig()
    fig["table"]["within_target"] = False
    fig["load"]["deadline_held"] = False
    fig["summary"] = {"status": "unavailable: ImportError: x"}
    out = format_report(fig)
    assert "OVER target" in out and "EXCEEDED" in out and "unavailable: ImportError: x" in out


def test_sections_chosen_by_the_options():
    p = build_parser()
    assert bench._sections(p.parse_args([])) == list(bench.DEFAULT_SECTIONS)
    assert bench._sections(p.parse_args(["--load", "2", "--scale", "1000"])) == list(bench.SECTIONS)
    assert bench._sections(p.parse_args(["--only", "scale"])) == ["scale"]
    assert bench._sections(p.parse_args(["--skip", "embed,summary"])) == ["index", "query", "table"]
    with pytest.raises(ValueError, match="unknown section"):
        bench._sections(p.parse_args(["--only", "speed"]))


@pytest.mark.parametrize("argv, message", [
    (["--only", "speed"], "unknown section"),
    (["--llm-delay", "1"], "--llm-delay needs --load N"),
    (["--backends", "tensorflow"], "unknown backend"),
    (["--scale", "0"], "must be positive"),
    (["--scale", "abc"], "--scale wants comma-separated chunk counts"),
    (["--only", "scale", "--skip", "scale"], "no section left"),
])
def test_bad_options_exit_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_gold_questions_prefer_the_indexed_reports():
    gold = [ROOT / "eval" / "gold" / "seeds-dev.jsonl"]
    qs = bench_pipeline._gold_questions(gold, {"004_6b77bdb4c9c02796.txt"}, 3)
    own = [json.loads(x) for x in gold[0].read_text(encoding="utf-8").splitlines()]
    own_q = {x["question"] for x in own if x["doc"] == "004_6b77bdb4c9c02796.txt"}
    assert len(qs) == 3 and set(qs) <= own_q
    # too few about the indexed reports: topped up with the others
    assert len(bench_pipeline._gold_questions(gold, {"none.txt"}, 4)) == 4


def test_fake_llm_server_streams_an_openai_reply():
    from rag.llm import LLMConfig, stream_chat

    with bench_fake_llm.fake_llm_server(0.3) as srv:
        cfg = LLMConfig(base_url=srv.base_url, model="fake-slow", timeout=10)
        t0 = time.perf_counter()
        pieces = list(stream_chat(cfg, [("user", "你好")]))
        took = time.perf_counter() - t0
        assert "".join(pieces) == bench_fake_llm._FakeLLM.REPLY and len(pieces) > 1
        assert took >= 0.25
        assert srv.requests == 1 and srv.cut_off == 0


def test_bench_table_on_a_hand_made_corpus():
    from rag.types import Figure, Report

    reports = [Report(id=f"r{i}", file=f"r{i}.txt", title="", region=f"{i}市", level="prefecture", year=2025,
                      review_years=(2024,), plan_years=(2025,), key=f"k{i}") for i in range(3)]
    figs = [Figure("r", "gdp", "growth", "target", 2025, 5.0, "5%", unit="%")]
    corpus = SimpleNamespace(reports=reports, figures=lambda key: list(figs))
    t = bench_pipeline.bench_table(SimpleNamespace(corpus=corpus), repeats=2)
    assert t["reports"] == 3 and t["target_ms"] == 200.0
    assert set(t["per_indicator_ms"]) == {f"{i}/{k}" for i in ("gdp", "cpi", "unemployment", "fiscal_revenue", "income")
                                          for k in ("target", "result")}
    assert isinstance(t["within_target"], bool) and t["first_call_ms"] >= 0
    assert "first call (not in the p50)" in format_report({"settings": {}, "table": t})


class FakeEmbedder:
    def __init__(self, name="fake", flip=False):
        self.name, self.flip = name, flip

    def embed_passages(self, texts, batch_size=None, progress=None):
        return [[0.0, 1.0] if self.flip else [1.0, 0.0] for _ in texts]


def fake_services(backend="torch"):
    text = "第一句话说了一件事情。第二句话说了另一件事情。第三句话很短吗？不，它也不短。"
    refs = {f"c{i}": SimpleNamespace(key="k", ord=i) for i in range(3)}
    corpus = SimpleNamespace(reports=[SimpleNamespace(key="k")], text=lambda key: text, chunks=refs,
                             chunk=lambda cid: SimpleNamespace(embed_text=lambda: f"节\n{text} {cid}"))
    settings = SimpleNamespace(embed=SimpleNamespace(base_url="", backend=backend, threads=1), models_dir=ROOT)
    return SimpleNamespace(corpus=corpus, settings=settings, embedder=FakeEmbedder())


def test_bench_embed_compares_backends_and_survives_one_that_cannot_load(monkeypatch):
    def other(settings, backend, current):
        if backend == "onnx":
            raise ImportError("onnxruntime is not installed")
        return FakeEmbedder(backend, flip=backend == "onnx-int8")

    monkeypatch.setattr(bench_embed, "_embedder_for", other)
    e = bench_embed.bench_embed(fake_services(), ["torch", "onnx", "onnx-int8"], 8)
    rows = {r["backend"]: r for r in e["backends"]}
    assert rows["torch"]["status"] == "ok" and rows["torch"]["sentences"] == e["sentences"] > 0
    assert rows["torch"]["chunks"] == e["chunks"] == 3 and rows["torch"]["chunks_per_s"] > 0
    assert rows["onnx"]["status"] == "unavailable: ImportError: onnxruntime is not installed"
    assert rows["onnx-int8"]["status"] == "ok"
    (c,) = e["comparisons"]
    assert (c["a"], c["b"], c["mean_cosine"]) == ("torch", "onnx-int8", 0.0)
    out = format_report({"settings": {"cpus": 2}, "embed": e})
    assert "unavailable: ImportError: onnxruntime is not installed" in out and "onnx-int8 vs torch" in out
    assert "chunks/s (indexing)" in out and c["chunk_speedup_b_over_a"] > 0


def test_rss_is_read():
    m = bench_common.rss_mb()
    assert m["rss_mb"] and m["peak_mb"] >= m["rss_mb"] > 0


# --------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_bench_scale_on_a_small_synthetic_store():
    sc = bench_scale.bench_scale([300], 5, log=lambda m: None)
    (row,) = sc["sizes"]
    assert row["chunks"] == row["stored"] == 300 and row["reports"] == 2
    assert row["query"]["n"] == row["query_one_report"]["n"] == 5
    assert row["add_s"] > 0 and row["rss_mb"] > 0
    # real chunk text with BM25 over it: built, loaded from disk, searched
    assert sc["real_chunks"] > 100 and sc["tokenize_per_s"] > 0
    assert row["bm25_build_s"] > 0 and row["bm25_load_s"] is not None and row["bm25_query"]["n"] == 5
    assert row["disk_mb"] > 0 and row["reopen_s"] > 0


@pytest.mark.slow
def test_rag_bench_smallest_run(tmp_path, capsys, embedder):
    """Every section, the smallest options: one seed, three questions, a 1000-chunk
    store, two users through the fake slow LLM."""
    js = tmp_path / "bench.json"
    rc = main(["--quick", "--questions", "3", "--sentences", "16", "--scale", "1000", "--scale-queries", "5",
               "--load", "2", "--load-questions", "1", "--llm-delay", "0.4", "--llm-timeout", "0.2",
               "--backends", "auto,torch", "--json", str(js)])
    out = capsys.readouterr().out
    assert rc == 0
    assert_lines(out, LINES)
    fig = json.loads(js.read_text(encoding="utf-8"))
    assert set(fig) >= {"settings", "index", "query", "summary", "table", "embed", "load", "scale"}
    assert fig["index"]["total"]["chunks"] > 0 and fig["index"]["reindex_embedded"] == 0
    (vs,) = fig["index"]["against"]  # the same seed again, with the float32 model in a store of its own
    assert vs["backend"] == "torch" and vs["total"]["chunks"] == fig["index"]["total"]["chunks"] and vs["speedup"] > 0
    assert fig["query"]["questions"] == 3 and fig["query"]["first"]["n"] + fig["query"]["n_errors"] == 3
    assert fig["summary"]["status"] == "ok" and fig["summary"]["reports"] == 1
    assert [b["status"] for b in fig["embed"]["backends"]] == ["ok", "ok"]
    ld = fig["load"]
    assert ld["answered"] + ld["n_errors"] == 2 and ld["llm_requests"] >= 2
    assert fig["scale"]["sizes"][0]["stored"] == 1000
