"""``rag bench`` sections (a)–(d) on the indexed services: index throughput, extractive
query latency, summaries and the comparison table (see :mod:`eval.bench`)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Sequence

from .bench_common import REPO_ROOT, _err, _lat, _r, _settings, _short, _temp_dir, pct

TABLE_TARGET_MS = 200.0


def _index_targets(paths: Sequence[Path], quick: bool) -> list[Path]:
    if not quick:
        return [Path(p) for p in paths]
    seeds = REPO_ROOT / "seeds"
    files = sorted((p for p in seeds.iterdir() if p.is_file() and p.suffix in (".txt", ".md")),
                   key=lambda p: p.stat().st_size)
    return files[:1]


def bench_index(svc, targets: list[Path]) -> dict[str, Any]:
    """(a) Each target indexed in turn into the (empty) store, then all again unchanged."""
    from rag.index import index_paths

    t0 = time.perf_counter()
    svc.embedder.model() if hasattr(svc.embedder, "model") else None
    load_s = time.perf_counter() - t0
    rows = []
    for p in targets:
        res = index_paths([p], svc.store, svc.settings, sparse=svc.sparse, log=lambda m: None)
        n_rep = len(res.added) + len(res.changed)
        rows.append({
            "path": str(p), "name": p.name, "reports": n_rep, "chunks": res.chunks_embedded,
            "seconds": _r(res.seconds, 2), "embed_seconds": _r(res.embed_seconds, 2),
            "chunks_per_s": _r(res.chunks_embedded / res.seconds if res.seconds else None, 2),
            "reports_per_s": _r(n_rep / res.seconds if res.seconds else None, 3),
            "skipped": len(res.skipped),
        })
        _err(f"bench: indexed {p.name}: {n_rep} reports, {res.chunks_embedded} chunks in {res.seconds:.1f}s")
    t1 = time.perf_counter()
    svc.retriever.refresh()  # corpus and sparse index
    refresh_s = time.perf_counter() - t1
    again = index_paths(list(targets), svc.store, svc.settings, sparse=svc.sparse, log=lambda m: None)
    tot_s = sum(r["seconds"] or 0 for r in rows)
    tot_c = sum(r["chunks"] for r in rows)
    tot_r = sum(r["reports"] for r in rows)
    return {
        "model_load_s": _r(load_s, 2),
        "folders": rows,
        "total": {"reports": tot_r, "chunks": tot_c, "seconds": _r(tot_s, 2),
                  "chunks_per_s": _r(tot_c / tot_s if tot_s else None, 2),
                  "reports_per_s": _r(tot_r / tot_s if tot_s else None, 3)},
        "sparse_build_s": _r(refresh_s, 2),
        "reindex_unchanged_s": _r(again.seconds, 2),
        "reindex_embedded": again.chunks_embedded,
    }


def bench_index_with(backend: str, targets: list[Path], threads: int | None, ref: dict[str, Any]) -> dict[str, Any]:
    """(a) again with another embedder backend, in a data directory of its own; ``ref`` is
    the configured backend's run, whose chunks/s is compared with this one's."""
    from dataclasses import replace

    from rag.service import build

    with _temp_dir("rag-bench-") as home:
        s = _settings(home, threads)
        svc = build(replace(s, embed=replace(s.embed, backend=backend)))
        got = bench_index(svc, targets)
        del svc
    mine, theirs = ref["total"]["chunks_per_s"], got["total"]["chunks_per_s"]
    return {"backend": backend, "model_load_s": got["model_load_s"], "total": got["total"],
            "speedup": _r(mine / theirs, 2) if mine and theirs else None}


def _gold_questions(golds: Sequence[Path], files: set[str], n: int) -> list[str]:
    """``n`` questions spread evenly over the gold items whose docs are all indexed
    (topped up with other items' questions when too few are)."""
    own, other = [], []
    for g in golds:
        try:
            lines = Path(g).read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
                continue
            docs = obj.get("doc") if isinstance(obj.get("doc"), list) else [obj.get("doc")]
            (own if docs and set(docs) <= files else other).append(obj["question"])
    pool = own if len(own) >= n else own + other[: n - len(own)]
    if len(pool) <= n:
        return pool
    return [pool[round(i * (len(pool) - 1) / max(1, n - 1))] for i in range(n)]


def bench_query(svc, questions: list[str]) -> dict[str, Any]:
    """(b) Extractive latency: the first ask of each question, then a repeat."""
    a = svc.answerer
    try:  # jieba's dictionary and the query encoder load here, not in the figures
        a.ask("2020年地区生产总值是多少?", use_llm=False)
    except Exception:  # noqa: BLE001
        pass
    first, repeat, refused, errors = [], [], 0, []
    for q in questions:
        t0 = time.perf_counter()
        try:
            ans, _ = a.ask(q, use_llm=False)
        except Exception as e:  # noqa: BLE001 - the figure says so
            errors.append(_short(e))
            continue
        first.append((time.perf_counter() - t0) * 1000)
        refused += ans.refused
    for q in questions:
        t0 = time.perf_counter()
        try:
            a.ask(q, use_llm=False)
        except Exception:  # noqa: BLE001
            continue
        repeat.append((time.perf_counter() - t0) * 1000)
    return {"questions": len(questions), "first": _lat(first), "repeat": _lat(repeat), "refused": refused,
            "errors": errors[:5], "n_errors": len(errors)}


def bench_summary(svc) -> dict[str, Any]:
    """(c) One summary per report, cold then cached."""
    try:
        from rag.summary import summarize
    except ImportError as e:
        return {"status": f"unavailable: {_short(e)}"}
    cold, cached, errors = [], [], []
    for r in svc.corpus.reports:
        t0 = time.perf_counter()
        try:
            summarize(svc, r.key, use_llm=False, use_cache=False)
        except Exception as e:  # noqa: BLE001
            errors.append(f"{r.id}: {_short(e)}")
            continue
        cold.append((time.perf_counter() - t0) * 1000)
        t1 = time.perf_counter()
        summarize(svc, r.key, use_llm=False, use_cache=True)
        cached.append((time.perf_counter() - t1) * 1000)
    return {"status": "ok", "reports": len(cold), "cold": _lat(cold), "cached": _lat(cached),
            "total_cold_s": _r(sum(cold) / 1000, 2), "errors": errors[:5]}


def bench_table(svc, repeats: int = 5) -> dict[str, Any]:
    """(d) The comparison table: one indicator over every report (targets and results)."""
    from rag.lexicon import lexicon
    from rag.table import cells, rows_for

    corpus = svc.corpus
    core = lexicon().table_core
    t0 = time.perf_counter()
    cells(corpus, [lexicon().economy], "target")  # the first call: the lexicon loads here, unless indexing loaded it
    first_ms = (time.perf_counter() - t0) * 1000
    per: dict[str, float] = {}
    for ind in core:
        for kind in ("target", "result"):
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                cells(corpus, [ind], kind)
                times.append((time.perf_counter() - t0) * 1000)
            per[f"{ind}/{kind}"] = pct(times, 50) or 0.0
    rows_ms = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        rows_for(corpus, list(core), "target")
        rows_ms.append((time.perf_counter() - t0) * 1000)
    worst = max(per.values()) if per else None
    return {
        "reports": len(corpus.reports),
        "first_call_ms": _r(first_ms, 2),
        "per_indicator_ms": {k: _r(v, 2) for k, v in per.items()},
        "one_indicator_p50_ms": _r(pct(list(per.values()), 50), 2),
        "one_indicator_max_ms": _r(worst, 2),
        "rows_for_core_ms": _r(pct(rows_ms, 50), 2),
        "target_ms": TABLE_TARGET_MS,
        "within_target": None if worst is None else worst < TABLE_TARGET_MS,
    }
