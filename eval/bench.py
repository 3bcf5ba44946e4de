"""``rag bench``: how fast the pipeline is, as figures. It never asserts a speed.

    rag bench [--only SECTIONS] [--skip SECTIONS] [--quick] [--paths DIR ...]
              [--questions N] [--gold PATH ...] [--threads N]
              [--backends torch,onnx] [--sentences N]
              [--load N] [--load-questions M] [--llm-delay S] [--llm-timeout T]
              [--scale 1000,10000,100000] [--scale-queries Q] [--json PATH]

Sections (default: index, query, summary, table, embed; ``--load`` and ``--scale`` add
their own):

(a) ``index``: the real embedder (the configured backend) indexes each folder of
    ``--paths`` (default ``seeds/`` and ``corpus/reports-2025``) into a temporary data
    directory: model load, then per folder seconds, chunks/s and reports/s (and the
    share spent embedding); then a re-index of the unchanged folders. Each other
    backend of ``--backends`` (e.g. ``torch``, the float32 model) then indexes the same
    folders into a store of its own, and the configured backend's speed-up over it is
    printed.
(b) ``query``: extractive answers to a sample of gold questions about the indexed
    reports (``--questions``, default 30, from the dev gold halves): latency p50, p95
    and max of the first ask of each question, then of a repeat.
(c) ``summary``: ``rag.summary.summarize`` per report, cold (no cache) and cached.
(d) ``table``: ``rag.table.cells`` over every indexed report for one indicator (each
    core indicator, targets and results), and ``rows_for`` of the core five; printed
    with the target (< 200 ms). The first call (after indexing) is shown apart.
(e) ``embed``: the embedder's sentences/s on sentences of the indexed reports, for the
    configured backend, or for each of ``--backends torch,onnx`` side by side (with
    the mean cosine between their vectors). A backend that cannot load is printed as
    ``unavailable: <reason>``.
(f) ``--load N``: N simulated users (threads) ask ``--load-questions`` questions each
    against one shared set of services: throughput and latency p50/p95/max. With
    ``--llm-delay S`` the answers go through the LLM path to a fake, slow
    OpenAI-compatible server started in-process on 127.0.0.1 (streaming SSE, one
    reply takes S seconds), with the answer deadline ``--llm-timeout`` (default S/2,
    so the deadline is what ends them); meanwhile a probe asks extractive questions to
    show whether the app stays responsive.
(g) ``--scale``: a synthetic store of that many chunks with random unit vectors (no
    embedding) in a temporary Chroma, through the project's ``Store``: add time,
    query p50/p95 (unfiltered and filtered to one report) and the process RSS.

``--quick`` indexes only the smallest seed, times 5 questions and 64 sentences.
``--json PATH`` also writes every figure as JSON. Temporary data directories are
removed; the converted model folder is shared (never rebuilt).

This module is the command: options, which sections run, and the run itself. The
sections live beside it: (a)–(d) in :mod:`eval.bench_pipeline`, (e) in
:mod:`eval.bench_embed`, (f) in :mod:`eval.bench_load` (its fake LLM server in
:mod:`eval.bench_fake_llm`), (g) in :mod:`eval.bench_scale`; the printed report in
:mod:`eval.bench_report`, shared helpers in :mod:`eval.bench_common`.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from rag.settings import BACKENDS

from .bench_common import REPO_ROOT, _err, _r, _settings, _temp_dir, pct, rss_mb
from .bench_embed import bench_embed
from .bench_fake_llm import fake_llm_server
from .bench_load import bench_load
from .bench_pipeline import (TABLE_TARGET_MS, _gold_questions, _index_targets, bench_index, bench_index_with,
                             bench_query, bench_summary, bench_table)
from .bench_report import format_report
from .bench_scale import bench_scale

__all__ = ["SECTIONS", "TABLE_TARGET_MS", "build_parser", "main", "run_bench", "format_report",
           "fake_llm_server", "rss_mb", "pct"]

GOLD_DIR = Path(__file__).resolve().parent / "gold"
DEFAULT_PATHS = (REPO_ROOT / "seeds", REPO_ROOT / "corpus" / "reports-2025")
DEFAULT_GOLD = (GOLD_DIR / "seeds-dev.jsonl", GOLD_DIR / "provinces-dev.jsonl")
SECTIONS = ("index", "query", "summary", "table", "embed", "load", "scale")
DEFAULT_SECTIONS = ("index", "query", "summary", "table", "embed")
QUICK = {"questions": 5, "sentences": 64}


# --------------------------------------------------------------------------- CLI


def _csv(text: str) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag bench", description="Timings of the pipeline, printed as figures "
                                "(nothing is asserted).")
    p.add_argument("--only", default="", help=f"comma-separated sections to run, of {', '.join(SECTIONS)}")
    p.add_argument("--skip", default="", help="comma-separated sections to leave out")
    p.add_argument("--quick", action="store_true",
                   help=f"index only the smallest seed; {QUICK['questions']} questions, {QUICK['sentences']} sentences")
    p.add_argument("--paths", nargs="+", default=None,
                   help="folders (or files) to index, each timed on its own (default: seeds/ corpus/reports-2025)")
    p.add_argument("--questions", type=int, default=None, help="gold questions timed in (b) (default 30)")
    p.add_argument("--gold", action="append", default=None,
                   help="gold file(s) whose questions are timed (default: the seeds and provinces dev halves)")
    p.add_argument("--threads", type=int, default=None, help="embedder threads (default RAG_TORCH_THREADS, 1)")
    p.add_argument("--backends", default="", help="embedder backends compared in (e), e.g. torch,onnx "
                   "(default: the configured one)")
    p.add_argument("--sentences", type=int, default=None, help="sentences embedded per backend in (e) (default 256)")
    p.add_argument("--load", type=int, default=0, metavar="N", help="(f) N concurrent simulated users")
    p.add_argument("--load-questions", type=int, default=5, metavar="M", help="questions each user asks (default 5)")
    p.add_argument("--llm-delay", type=float, default=None, metavar="S",
                   help="(f) answer through a fake slow LLM server taking S seconds per reply")
    p.add_argument("--llm-timeout", type=float, default=None, metavar="T",
                   help="the LLM answer deadline with --llm-delay (default S/2)")
    p.add_argument("--scale", default="", help="(g) synthetic store sizes, e.g. 1000,10000,100000")
    p.add_argument("--scale-queries", type=int, default=50, help="queries timed per store size (default 50)")
    p.add_argument("--json", dest="json_path", default=None, help="also write the figures to this JSON file")
    return p


def _sections(args) -> list[str]:
    only, skip = _csv(args.only), _csv(args.skip)
    bad = [s for s in only + skip if s not in SECTIONS]
    if bad:
        raise ValueError(f"unknown section(s) {', '.join(bad)}; known: {', '.join(SECTIONS)}")
    chosen = only or list(DEFAULT_SECTIONS) + (["load"] if args.load else []) + (["scale"] if args.scale else [])
    return [s for s in SECTIONS if s in chosen and s not in skip]


# --------------------------------------------------------------------------- run


def run_bench(args, sections: list[str], log=_err) -> dict[str, Any]:
    """Every requested section's figures as one dict."""
    importlib.import_module("rag.settings")  # offline flags first

    fig: dict[str, Any] = {"settings": {"sections": sections, "quick": bool(args.quick), "cpus": os.cpu_count()}}
    t_all = time.perf_counter()
    needs_index = any(s in sections for s in ("index", "query", "summary", "table", "embed", "load"))
    if needs_index:
        from rag.service import build

        paths = [Path(p) for p in (args.paths or DEFAULT_PATHS)]
        targets = _index_targets(paths, args.quick)
        n_questions = args.questions or (QUICK["questions"] if args.quick else 30)
        n_sentences = args.sentences or (QUICK["sentences"] if args.quick else 256)
        with _temp_dir("rag-bench-") as home:
            svc = build(_settings(home, args.threads))
            fig["settings"].update({"embedder": svc.embedder.name, "embed_threads": svc.settings.embed.threads,
                                    "indexed": [str(p) for p in targets]})
            idx = bench_index(svc, targets)
            if "index" in sections:
                fig["index"] = idx
                others = [b for b in _csv(args.backends) if b not in (svc.settings.embed.backend, "remote")]
                if others:
                    idx["against"] = [bench_index_with(b, targets, args.threads, idx) for b in others]
            files = {r.file for r in svc.corpus.reports}
            questions = _gold_questions([Path(g) for g in (args.gold or DEFAULT_GOLD)], files, n_questions)
            if "query" in sections:
                fig["query"] = bench_query(svc, questions)
                log(f"bench: timed {len(questions)} questions")
            if "summary" in sections:
                fig["summary"] = bench_summary(svc)
                log("bench: summaries done")
            if "table" in sections:
                fig["table"] = bench_table(svc)
            if "embed" in sections:
                fig["embed"] = bench_embed(svc, _csv(args.backends), n_sentences)
                log("bench: embedder throughput done")
            if "load" in sections:
                users = max(1, args.load or 1)
                fig["load"] = bench_load(svc, questions, users, max(1, args.load_questions), args.llm_delay,
                                         args.llm_timeout)
                log("bench: load done")
            del svc
    if "scale" in sections:
        sizes = [int(x) for x in _csv(args.scale or "1000")]
        fig["scale"] = bench_scale(sizes, max(1, args.scale_queries), log=log)
    fig["settings"]["elapsed_s"] = _r(time.perf_counter() - t_all, 1)
    fig["settings"]["memory"] = rss_mb()
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    try:
        sections = _sections(args)
    except ValueError as e:
        _err(f"rag bench: {e}")
        return 2
    try:
        sizes = [int(x) for x in _csv(args.scale)]
    except ValueError:
        _err(f"rag bench: --scale wants comma-separated chunk counts, e.g. 1000,10000,100000 (got {args.scale!r})")
        return 2
    if any(s < 1 for s in sizes) or args.load < 0 or (args.questions is not None and args.questions < 1) \
            or (args.threads is not None and args.threads < 1) or (args.llm_delay is not None and args.llm_delay < 0):
        _err("rag bench: sizes, counts and delays must be positive")
        return 2
    if args.llm_delay is not None and not args.load:
        _err("rag bench: --llm-delay needs --load N")
        return 2
    known = (*BACKENDS, "remote")
    bad = [b for b in _csv(args.backends) if b not in known]
    if bad:
        _err(f"rag bench: unknown backend(s) {', '.join(bad)}; use {', '.join(known)}")
        return 2
    if not sections:
        _err("rag bench: no section left to run")
        return 2
    fig = run_bench(args, sections)
    print(format_report(fig))
    if args.json_path:
        p = Path(args.json_path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(fig, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
