"""``rag eval``: score the RAG pipeline on a gold Q&A file.

    rag eval [--gold PATH] [--out DIR] [--mode extractive|llm] [--baseline] [--k N] [--limit N]

Any gold file in the shared format (``shared/eval-format.md``) works. Steps:

1. validate the gold file (:func:`eval.gold.load_gold`), print every problem on
   stderr, then ``scoring N valid items, M skipped``;
2. make sure ``seeds/`` is indexed (incremental, cheap when unchanged) and load the
   models once (the process-wide :func:`rag.service.answerer`);
3. ask every question fresh (no conversation), ``--mode llm`` through the configured
   LLM, ``extractive`` without it; an item whose ask raises becomes a failure result
   with the error in ``notes`` — the run never stops for one item;
4. with ``--baseline``, the LangChain quick-start RAG (:mod:`eval.baseline`) answers
   the same items with the same embedder;
5. write ``results.jsonl`` (+ ``baseline_results.jsonl``), ``summary.json``
   (metrics overall and per type, ``settings``, and ``baseline``), ``report.md`` and
   ``metrics.png``, and print the overall metrics table.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

from .gold import GoldItem, gold_docs, load_gold
from .metrics import METRIC_KEYS, percentile, summarize
from .report import write_report, write_summary_json
from .report_format import fmt_value, ratio

__all__ = ["DEFAULT_GOLD", "REPO_ROOT", "build_parser", "main", "failure_result", "count_skipped"]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GOLD = Path(__file__).resolve().parent / "gold" / "seeds-test.jsonl"
WARM_SAMPLE = 30  # questions re-asked (extractive) to measure warm-query latency


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rag eval", description="Score the pipeline on a gold Q&A file (shared/eval-format.md)."
    )
    p.add_argument("--gold", default=None, help=f"gold JSONL file (default: {DEFAULT_GOLD.relative_to(REPO_ROOT)})")
    p.add_argument("--out", default=None, help="output folder (default: runs/eval-<YYYYmmdd-HHMMSS>)")
    p.add_argument("--mode", choices=("extractive", "llm"), default="extractive",
                   help="extractive (no LLM, default) or llm (needs RAG_LLM_BASE_URL + RAG_LLM_MODEL)")
    p.add_argument("--baseline", action="store_true",
                   help="also run the LangChain quick-start RAG and compare side by side")
    p.add_argument("--k", type=int, default=5, help="passages to retrieve (default 5)")
    p.add_argument("--limit", type=int, default=None, help="score only the first N valid items")
    p.add_argument("--corpus", action="append", default=None,
                   help="folder of reports to index (repeatable); default: the known corpus folders holding the gold docs")
    return p


def count_skipped(problems: Sequence[str], gold_name: str) -> int:
    """Number of gold lines left out: distinct line numbers among the problems."""
    pat = re.compile(rf"^{re.escape(gold_name)}:(\d+): ")
    return len({m.group(1) for p in problems if (m := pat.match(p))})


def failure_result(item: GoldItem, error: BaseException, mode: str, latency_ms: int = 0) -> dict[str, Any]:
    """The result of an item whose ask raised: no answer, the error in ``notes``."""
    msg = " ".join(str(error).split()) or error.__class__.__name__
    return {
        "id": item.id,
        "question": item.question,
        "answer": "",
        "refused": False,
        "citations": [],
        "retrieved": [],
        "latency_ms": latency_ms,
        "mode": mode,
        "guard_ok": False,
        "notes": [f"error: {error.__class__.__name__}: {msg}"],
        "error": f"{error.__class__.__name__}: {msg}",
    }


def _progress(items, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="q", file=sys.stderr, dynamic_ncols=True)


def _run_items(items: Sequence[GoldItem], ask: Callable[[GoldItem], dict], mode: str, desc: str) -> list[dict]:
    out = []
    for it in _progress(items, desc):
        t0 = time.perf_counter()
        try:
            r = ask(it)
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 - one bad item never stops the run
            r = failure_result(it, e, mode, int((time.perf_counter() - t0) * 1000))
        out.append(r)
    return out


def _write_jsonl(path: Path, rows: Sequence[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def _fmt_ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f}"


def _print_tables(summary: dict, baseline: dict | None) -> None:
    overall = summary["overall"]
    if baseline is None:
        rows = [(k, fmt_value(k, overall.get(k))) for k in METRIC_KEYS]
        w = max(len(k) for k in METRIC_KEYS)
        print(f"{'metric':<{w}}  project")
        for k, v in rows:
            print(f"{k:<{w}}  {v}")
    else:
        b = baseline["overall"]
        w = max(len(k) for k in METRIC_KEYS)
        print(f"{'metric':<{w}}  {'project':>9}  {'baseline':>9}  {'ratio':>7}")
        for k in METRIC_KEYS:
            r = None if k == "n" else ratio(overall.get(k), b.get(k))
            rs = "—" if r is None else f"{r:.2f}x"
            print(f"{k:<{w}}  {fmt_value(k, overall.get(k)):>9}  {fmt_value(k, b.get(k)):>9}  {rs:>7}")
    print()
    keys = ("hit@5", "answer_accuracy", "citation_accuracy")
    types = list(summary.get("by_type", {}))
    if types:
        tw = max(len(t) for t in types + ["type"])
        head = f"{'type':<{tw}}  {'n':>3}  " + "  ".join(f"{k:>17}" for k in keys)
        print(head + ("   (project / baseline)" if baseline else ""))
        for t in types:
            blk = summary["by_type"][t]
            bblk = (baseline or {}).get("by_type", {}).get(t, {}) if baseline else None
            cells = []
            for k in keys:
                c = fmt_value(k, blk.get(k))
                if bblk is not None:
                    c += " / " + fmt_value(k, bblk.get(k))
                cells.append(f"{c:>17}")
            print(f"{t:<{tw}}  {blk.get('n', 0):>3}  " + "  ".join(cells))
        print()


def corpus_folders(gold: Path | Sequence[Path], given: Sequence[str] | None) -> tuple[list[Path], list[str]]:
    """The folders to index for a gold file (or several): the ones given, else every known
    corpus folder (seeds/ and each folder under corpus/) holding one of its docs. Also the
    doc names that none of them holds."""
    golds = [gold] if isinstance(gold, (str, Path)) else list(gold)
    docs = set().union(*(gold_docs(g) for g in golds))
    if given:
        folders = [Path(g).resolve() for g in given]
    else:
        known = [REPO_ROOT / "seeds"] + sorted(p for p in (REPO_ROOT / "corpus").glob("*") if p.is_dir())
        folders = [f for f in known if any((f / d).exists() for d in docs)]
    present = {p.name for f in folders for p in f.rglob("*") if p.is_file()}
    return folders, sorted(d for d in docs if d not in present)


def eval_services(folders: list[Path], mode: str):
    """Services over a collection of its own for this corpus, so the user's index (and
    other corpora) never leak into a benchmark."""
    import hashlib
    from dataclasses import replace

    from rag.service import build
    from rag.settings import Settings

    settings = Settings.from_env()
    tag = hashlib.sha1("|".join(sorted(str(f) for f in folders)).encode()).hexdigest()[:8]
    settings = replace(settings, collection=f"eval-{tag}", llm=settings.llm if mode == "llm" else None)
    return build(settings)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    t_start = time.perf_counter()
    started = datetime.now()

    from rag import settings as _offline  # noqa: F401  (sets the offline flags before any model code loads)

    gold = Path(args.gold) if args.gold else DEFAULT_GOLD
    if args.k < 1 or args.k > 50:
        _err("rag eval: --k must be between 1 and 50")
        return 2
    if args.limit is not None and args.limit < 1:
        _err("rag eval: --limit must be at least 1")
        return 2
    if not gold.is_file():
        _err(f"rag eval: no gold file {gold}")
        return 2

    # 1. the corpus the gold file is about, indexed in a collection of its own
    folders, missing = corpus_folders(gold, args.corpus)
    for d in missing:
        _err(f"rag eval: doc {d!r} is in none of {', '.join(map(str, folders)) or 'the corpus folders'}; its items are skipped")
    if not folders:
        _err("rag eval: no corpus folder holds the gold file's docs; give --corpus DIR")
        return 2
    from rag.index import index_paths
    from rag.store import StoreError

    try:
        svc = eval_services(folders, args.mode)
    except StoreError as e:
        _err(f"rag eval: {e}")
        return 2
    if args.mode == "llm" and svc.settings.llm is None:
        _err("rag eval: --mode llm needs an LLM endpoint: set RAG_LLM_BASE_URL and RAG_LLM_MODEL "
             "(or RAG_OLLAMA_HOST and RAG_LLM_MODEL), or use --mode extractive")
        return 2
    t_idx = time.perf_counter()
    res = index_paths(folders, svc.store, svc.settings, sparse=svc.sparse, log=lambda m: _err(f"index: {m}"))
    svc.retriever.refresh()
    index_s = time.perf_counter() - t_idx
    _err(f"index: {len(res.added)} added, {len(res.changed)} changed, {len(res.unchanged)} unchanged, "
         f"{len(res.skipped)} skipped; {res.chunks_embedded} chunks embedded ({index_s:.1f}s)")
    corpus = svc.corpus
    texts = {r.file: corpus.text(r.key) for r in corpus.reports}

    # 2. the gold file, checked against the texts as stored
    items, problems = load_gold(gold, texts)
    for p in problems:
        _err(p)
    n_skipped = count_skipped(problems, gold.name)
    if args.limit is not None:
        items = items[: args.limit]
    _err(f"scoring {len(items)} valid items, {n_skipped} skipped")
    if not items:
        _err(f"rag eval: no valid items in {gold}")
        return 1

    a = svc.answerer
    embedder = svc.embedder
    use_llm = args.mode == "llm"
    from rag.llm import describe

    mode = describe(a.llm_cfg) if use_llm else "extractive"
    try:  # warm-up (jieba dictionary, first encode); not scored
        a.ask("2020年地区生产总值是多少?", k=args.k, use_llm=False)
    except Exception:  # noqa: BLE001
        pass

    from rag.answer import answer_to_dict

    def ask_project(it: GoldItem) -> dict:
        ans, _ = a.ask(it.question, k=args.k, use_llm=use_llm)
        return {"id": it.id, **answer_to_dict(ans)}

    # 3. the project
    t_run = time.perf_counter()
    results = _run_items(items, ask_project, mode, "project")
    run_s = time.perf_counter() - t_run
    n_errors = sum(1 for r in results if "error" in r)

    # warm-query latency: a second pass over a sample (extractive), else the run's own
    warm: list[float] = []
    if not use_llm:
        m = min(WARM_SAMPLE, len(items))
        picks = sorted({round(i * (len(items) - 1) / max(1, m - 1)) for i in range(m)})
        for it in (items[i] for i in picks):
            try:
                ans, _ = a.ask(it.question, k=args.k, use_llm=False)
                warm.append(float(ans.latency_ms))
            except Exception:  # noqa: BLE001
                pass
        warm_how = f"second pass over {len(warm)} questions"
    else:
        warm = [float(r["latency_ms"]) for r in results if "error" not in r]
        warm_how = f"the run's {len(warm)} answers (after a warm-up query)"
    w50, w95 = percentile(warm, 50), percentile(warm, 95)

    # 4. the baseline
    b_results = None
    b_settings: dict[str, Any] = {}
    if args.baseline:
        from .baseline import DEFAULT_K as B_K
        from .baseline import Baseline

        b = Baseline(embedder, texts, k=B_K, llm_cfg=a.llm_cfg if use_llm else None, log=_err)
        try:
            b_results = _run_items(items, lambda it: {"id": it.id, **b.ask(it.question)}, b.mode, "baseline")
        finally:
            b.close()
        b_lat = [float(r["latency_ms"]) for r in b_results if "error" not in r]
        b_settings = {
            "pipeline": "LangChain quick start: RecursiveCharacterTextSplitter(500, 50) + Chroma similarity_search",
            "mode": b.mode, "k": B_K, "chunks": len(b.chunks), "build_seconds": round(b.build_seconds, 2),
            "errors": sum(1 for r in b_results if "error" in r),
            "latency_p50_ms": percentile(b_lat, 50), "latency_p95_ms": percentile(b_lat, 95),
        }

    # 5. outputs (texts/ holds each doc's stored text, for shared/tools/score.py)
    out = Path(args.out) if args.out else REPO_ROOT / "runs" / f"eval-{started:%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "texts").mkdir(exist_ok=True)
    for name, text in texts.items():
        (out / "texts" / name).write_text(text, encoding="utf-8")
    _write_jsonl(out / "results.jsonl", results)
    if b_results is not None:
        _write_jsonl(out / "baseline_results.jsonl", b_results)
    summary = summarize(items, results, texts)
    b_summary = summarize(items, b_results, texts) if b_results is not None else None
    elapsed = time.perf_counter() - t_start
    settings: dict[str, Any] = {
        "gold": str(gold),
        "corpus": [str(f) for f in folders],
        "mode": mode,
        "k": args.k,
        "embedder": embedder.name,
        "n_items": len(items),
        "n_skipped": n_skipped,
        "limit": args.limit,
        "errors": n_errors,
        "index_seconds": round(index_s, 2),
        "run_seconds": round(run_s, 2),
        "elapsed_seconds": round(elapsed, 2),
        "warm_latency_p50_ms": w50,
        "warm_latency_p95_ms": w95,
        "latency_note": (f"warm query latency ({warm_how}): p50 {_fmt_ms(w50)} ms, p95 {_fmt_ms(w95)} ms; "
                         "latency_p50_ms/latency_p95_ms in the metrics are the scored pass"),
        "weights": svc.settings.record(),
        "started_at": started.isoformat(timespec="seconds"),
    }
    summary["settings"] = settings
    if b_summary is not None:
        b_summary["settings"] = b_settings
        summary["baseline"] = b_summary
    report_settings = {
        "gold": gold.name, "corpus": ", ".join(f.name for f in folders), "mode": mode, "k": args.k,
        "embedder": embedder.name, "items": len(items), "skipped": n_skipped, "elapsed": f"{elapsed:.0f}s",
        "warm latency": f"p50 {_fmt_ms(w50)} ms / p95 {_fmt_ms(w95)} ms",
    }
    if b_summary is not None:
        report_settings["baseline"] = f"{b_settings['mode']} k={b_settings['k']} ({b_settings['chunks']} chunks)"
    write_report(out, summary, items, results, texts, baseline_summary=b_summary, baseline_results=b_results,
                 title=f"RAG evaluation — {gold.name}", settings=report_settings)
    settings["elapsed_seconds"] = round(time.perf_counter() - t_start, 2)
    write_summary_json(out, summary)

    _print_tables(summary, b_summary)
    print(settings["latency_note"])
    if n_errors:
        print(f"{n_errors} item(s) raised an error (see notes in results.jsonl)")
    print(f"elapsed {settings['elapsed_seconds']:.1f}s · wrote {out}/results.jsonl, summary.json, report.md, texts/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
