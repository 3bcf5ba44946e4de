"""``rag bench``: how fast the pipeline is, as one table.

    rag bench [--json PATH] [--skip-summaries] [--quick] [--gold PATH] [--threads N]

(a) index: cold index of the seeds into a fresh temporary data directory (new
    Chroma, new embedder instance, model load included), chunks/s, and the same
    chunks' embed texts through a bare ``SentenceTransformer.encode()`` in the same
    run; the ratio index time / bare encode time (target ≤ 1.3×); then a re-index
    of the unchanged seeds (target < 2 s).
(b) query: warm query latency, default extractive mode, over the gold questions: one
    pass to warm the caches, then a timed second pass; p50/p95 (target p50 ≤ 150 ms).
(c) summaries: if ``rag.summarize.summarize_all`` exists, all seeds cold then cached;
    ``n/a`` otherwise.

``--quick`` indexes only the smallest seed and times 5 questions (for tests).
``--json PATH`` also writes the figures as JSON. The temporary data directory is
removed afterwards; the converted model folder is shared (never rebuilt).
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

__all__ = ["TARGETS", "build_parser", "main", "run_bench", "format_table"]

TARGETS = {
    "index_vs_bare_ratio": 1.3,  # index time (incl. model load) / bare encode time, at most
    "reindex_unchanged_s": 2.0,  # below
    "query_p50_ms": 150.0,  # at most
}
QUICK_QUESTIONS = 5


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag bench", description="Index, query and summary timings as one table.")
    p.add_argument("what", nargs="?", choices=("all", "index", "query", "summaries"), default="all",
                   help="which figures (default all; the index is always built, the others need it)")
    p.add_argument("--json", dest="json_path", default=None, help="also write the figures to this JSON file")
    p.add_argument("--skip-summaries", action="store_true", help="do not time summaries")
    p.add_argument("--quick", action="store_true", help=f"index one seed and time {QUICK_QUESTIONS} questions")
    p.add_argument("--gold", default=None, help="gold file whose questions are timed (default: eval/gold.jsonl)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch intra-op threads for the whole bench (default: torch's own choice)")
    return p


@contextlib.contextmanager
def _temp_home() -> Iterator[Path]:
    """A fresh RAG_HOME for the duration; the converted model folder stays shared."""
    from rag import config

    from rag import tokens

    models = str(config.models_dir())
    tokens.seed_cache()  # pins TIKTOKEN_CACHE_DIR to the real data directory, not the temporary one
    saved = {k: os.environ.get(k) for k in ("RAG_HOME", "RAG_MODELS_DIR")}
    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    os.environ["RAG_HOME"] = str(tmp)
    os.environ["RAG_MODELS_DIR"] = models
    try:
        yield tmp
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(tmp, ignore_errors=True)


def _pct(values: Sequence[float], p: float) -> float | None:
    from .metrics import percentile

    return percentile(values, p)


def _round(v: float | None, nd: int = 3) -> float | None:
    return None if v is None else round(float(v), nd)


# --------------------------------------------------------------------------- parts


def _bench_index(paths: list[Path]) -> tuple[dict[str, Any], Any, list]:
    """Cold index (fresh embedder + store), bare encode of the same chunks, re-index."""
    from rag import chunk as chunking
    from rag import config, load
    from rag.catalog import load_catalog
    from rag.embed import Embedder
    from rag.index import index_paths
    from rag.store import Store

    quiet = lambda m: None  # noqa: E731
    t0 = time.perf_counter()
    emb = Embedder(config.embed_model_name())  # a new instance: the model loads cold here
    store = Store(emb)
    model = emb.model()
    t_load = time.perf_counter() - t0
    res = index_paths(paths, store, log=quiet)
    t_index = time.perf_counter() - t0
    if res.skipped:
        _err("bench: skipped " + "; ".join(f"{f}: {r}" for f, r in res.skipped))

    # the same chunks, embedded by the bare model (no chunking, no store)
    texts: list[str] = []
    docs = []
    for f in load.discover(paths):
        try:
            doc = load.read(f, load_catalog(f.parent))
        except load.LoadError:
            continue
        docs.append(doc)
        texts.extend(c.embed_text() for c in chunking.chunk(doc))
    kw = {"prompt_name": "passage"} if "passage" in (getattr(model, "prompts", {}) or {}) else {}
    t1 = time.perf_counter()
    if texts:
        model.encode(texts, batch_size=32, normalize_embeddings=True, **kw)
    t_bare = time.perf_counter() - t1

    t2 = time.perf_counter()
    res2 = index_paths(paths, store, log=quiet)
    t_reindex = time.perf_counter() - t2

    n = res.chunks_embedded
    ratio = t_index / t_bare if t_bare > 0 else None
    fig = {
        "files": len(res.added) + len(res.changed),
        "chunks": n,
        "model_load_s": _round(t_load),
        "cold_index_s": _round(t_index),
        "chunks_per_s": _round(n / t_index if t_index > 0 else None, 1),
        "bare_encode_s": _round(t_bare),
        "bare_encode_chunks": len(texts),
        "index_vs_bare_ratio": _round(ratio),
        "index_vs_bare_ratio_ok": None if ratio is None else ratio <= TARGETS["index_vs_bare_ratio"],
        "reindex_unchanged_s": _round(t_reindex),
        "reindex_unchanged_ok": t_reindex < TARGETS["reindex_unchanged_s"],
        "reindex_embedded": res2.chunks_embedded,
    }
    return fig, store, docs


def _questions(gold: Path, seeds: Path, docs_indexed: set[str], quick: bool) -> list[str]:
    from .gold import load_gold

    items, _ = load_gold(gold, seeds)
    if quick:
        own = [it for it in items if set(it.doc) and set(it.doc) <= docs_indexed]
        items = (own or items)[:QUICK_QUESTIONS]
    return [it.question for it in items]


def _bench_query(store, questions: list[str]) -> dict[str, Any]:
    from rag.answer import Answerer
    from rag.retrieve import Retriever

    a = Answerer(Retriever(store), None)
    errors = 0
    for q in questions:  # warm-up pass: caches (sentence vectors, jieba) fill here
        try:
            a.ask(q, use_llm=False)
        except Exception:  # noqa: BLE001
            errors += 1
    times: list[float] = []
    for q in questions:
        t0 = time.perf_counter()
        try:
            a.ask(q, use_llm=False)
        except Exception:  # noqa: BLE001
            continue
        times.append((time.perf_counter() - t0) * 1000)
    p50 = _pct(times, 50)
    return {
        "questions": len(questions),
        "timed": len(times),
        "errors": errors,
        "p50_ms": _round(p50, 1),
        "p95_ms": _round(_pct(times, 95), 1),
        "mean_ms": _round(sum(times) / len(times), 1) if times else None,
        "p50_ok": None if p50 is None else p50 <= TARGETS["query_p50_ms"],
    }


def _summarize_kwargs(fn, ctx: dict[str, Any]) -> dict[str, Any] | str:
    """Keyword arguments for ``summarize_all`` from its signature, or why we cannot call it."""
    aliases = {
        "paths": "paths", "files": "paths",
        "seeds": "seeds", "seeds_dir": "seeds", "folder": "seeds", "root": "seeds", "directory": "seeds",
        "docs": "docs", "documents": "docs",
        "reports": "reports",
        "retriever": "retriever", "answerer": "answerer", "store": "store", "embedder": "embedder",
        "llm_cfg": "llm_cfg", "cfg": "llm_cfg", "llm": "llm_cfg",
        "log": "log",
    }
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}
    kw: dict[str, Any] = {}
    for name, p in sig.parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        key = aliases.get(name)
        if key is not None and key in ctx and p.kind != p.POSITIONAL_ONLY:
            kw[name] = ctx[key]
        elif p.default is p.empty:
            return f"n/a (summarize_all needs '{name}')"
    return kw


def _bench_summaries(store, docs: list, seeds: Path, paths: list[Path]) -> dict[str, Any]:
    try:
        from rag import summarize as summ  # written by another developer; may not exist yet
    except ImportError:
        return {"status": "n/a (rag.summarize not available)", "cold_s": None, "cached_s": None}
    fn = getattr(summ, "summarize_all", None)
    if not callable(fn):
        return {"status": "n/a (rag.summarize has no summarize_all)", "cold_s": None, "cached_s": None}
    from rag.answer import Answerer
    from rag.retrieve import Retriever

    retriever = Retriever(store)
    ctx = {
        "paths": paths,
        "seeds": seeds,
        "docs": docs,
        "reports": retriever.reports,
        "retriever": retriever,
        "answerer": Answerer(retriever, None),
        "store": store,
        "embedder": store.embedder,
        "llm_cfg": None,
        "log": lambda m: None,
    }
    kw = _summarize_kwargs(fn, ctx)
    if isinstance(kw, str):
        return {"status": kw, "cold_s": None, "cached_s": None}
    out: dict[str, Any] = {"status": "ok", "reports": None}
    for label in ("cold_s", "cached_s"):
        t0 = time.perf_counter()
        try:
            got = fn(**kw)
            if out["reports"] is None:
                out["reports"] = len(got) if hasattr(got, "__len__") else None
        except Exception as e:  # noqa: BLE001 - the figure says what went wrong
            out["status"] = f"error: {e.__class__.__name__}: {' '.join(str(e).split())[:120]}"
            out[label] = None
            break
        out[label] = _round(time.perf_counter() - t0)
    out.setdefault("cold_s", None)
    out.setdefault("cached_s", None)
    return out


# --------------------------------------------------------------------------- run


def run_bench(*, quick: bool = False, skip_summaries: bool = False, gold: Path | None = None,
              skip_query: bool = False) -> dict[str, Any]:
    """All figures as a dict: ``{"settings", "index", "query", "summaries"}``."""
    from rag import config

    from .run import DEFAULT_GOLD

    seeds = config.seeds_dir()
    gold = gold or DEFAULT_GOLD
    files = sorted(p for p in seeds.iterdir() if p.is_file() and p.suffix.lower() in (".txt", ".md"))
    if quick:
        files = sorted(files, key=lambda p: p.stat().st_size)[:1]
        paths = files
    else:
        paths = [seeds]
    t0 = time.perf_counter()
    with _temp_home():
        idx, store, docs = _bench_index(paths)
        _err(f"bench: indexed {idx['chunks']} chunks in {idx['cold_index_s']}s")
        questions = [] if skip_query else _questions(gold, seeds, {f.name for f in files}, quick)
        query = _bench_query(store, questions)
        _err(f"bench: timed {query['timed']} questions")
        if skip_summaries:
            summaries = {"status": "skipped (--skip-summaries)", "cold_s": None, "cached_s": None}
        else:
            summaries = _bench_summaries(store, docs, seeds, paths)
        embedder = store.embedder.name
    return {
        "settings": {
            "quick": quick,
            "seeds": [f.name for f in files],
            "gold": str(gold),
            "embedder": embedder,
            "cpus": os.cpu_count(),
            "torch_threads": _torch_threads(),
            "elapsed_s": _round(time.perf_counter() - t0, 2),
        },
        "targets": dict(TARGETS),
        "index": idx,
        "query": query,
        "summaries": summaries,
    }


def _torch_threads() -> int | None:
    try:
        import torch

        return torch.get_num_threads()
    except Exception:  # noqa: BLE001
        return None


def _v(v: Any, unit: str = "", nd: int = 2) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{nd}f}{unit}"
    return f"{v}{unit}"


def _ok(flag: bool | None) -> str:
    return "" if flag is None else ("ok" if flag else "MISSED")


def format_table(fig: dict[str, Any]) -> str:
    """The figures as one plain-text table: part, figure, value, target, status."""
    i, q, s = fig["index"], fig["query"], fig["summaries"]
    rows = [
        ("index", "files / chunks", f"{i['files']} / {i['chunks']}", "", ""),
        ("index", "model load", _v(i["model_load_s"], " s"), "", ""),
        ("index", "cold index (incl. model load)", _v(i["cold_index_s"], " s"), "", ""),
        ("index", "chunks/s", _v(i["chunks_per_s"], "", 1), "", ""),
        ("index", "bare encode, same chunks", _v(i["bare_encode_s"], " s"), "", ""),
        ("index", "index / bare encode", _v(i["index_vs_bare_ratio"], "x"),
         f"<= {TARGETS['index_vs_bare_ratio']}x", _ok(i["index_vs_bare_ratio_ok"])),
        ("index", "re-index unchanged", _v(i["reindex_unchanged_s"], " s", 3),
         f"< {TARGETS['reindex_unchanged_s']:g} s", _ok(i["reindex_unchanged_ok"])),
        ("query", f"warm latency p50 ({q['timed']} questions)", _v(q["p50_ms"], " ms", 0),
         f"<= {TARGETS['query_p50_ms']:g} ms", _ok(q["p50_ok"])),
        ("query", "warm latency p95", _v(q["p95_ms"], " ms", 0), "", ""),
    ]
    if s.get("status") == "ok":
        nrep = s.get("reports") or "?"
        rows += [
            ("summaries", f"all {nrep} reports, cold", _v(s["cold_s"], " s"), "", ""),
            ("summaries", f"all {nrep} reports, cached", _v(s["cached_s"], " s", 3), "", ""),
        ]
    else:
        rows += [
            ("summaries", "cold", "n/a", "", s.get("status", "")),
            ("summaries", "cached", "n/a", "", ""),
        ]
    head = ("part", "figure", "value", "target", "status")
    widths = [max(len(str(r[c])) for r in rows + [head]) for c in range(5)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
    out = [line(head), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    from rag import config  # noqa: F401  (offline flags first)

    if args.threads is not None:
        if args.threads < 1:
            _err("rag bench: --threads must be at least 1")
            return 2
        import torch

        torch.set_num_threads(args.threads)
    fig = run_bench(quick=args.quick, skip_summaries=args.skip_summaries or args.what in ("index", "query"),
                    gold=Path(args.gold) if args.gold else None, skip_query=args.what in ("index", "summaries"))
    print(format_table(fig))
    st = fig["settings"]
    print(f"\n{st['embedder']} · {len(st['seeds'])} seed(s) · {st['cpus']} CPUs, torch threads {st['torch_threads']} "
          f"· {st['elapsed_s']} s")
    if args.json_path:
        p = Path(args.json_path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(fig, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
