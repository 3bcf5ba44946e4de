"""``rag bench`` section (g), ``--scale``: cost curves on synthetic corpora built from the
real reports. Each size's chunks are the real chunks of ``seeds/`` and ``corpus/*/``,
recombined under other region names and years (so token statistics stay real); their
vectors are random unit vectors (2 cores cannot embed 100k chunks in a bench — said so in
the output). Per size: store add throughput, warm query p50/p95 (all reports and one
report), BM25 build, BM25 load in a fresh process-like object, BM25 search p50, reopening
the store, BM25 and answering one query in a new process, resident memory and disk (see
:mod:`eval.bench`)."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .bench_common import _err, _lat, _r, _settings, _temp_dir, rss_mb

SCALE_DIM = 384  # multilingual-e5-small
CHUNKS_PER_REPORT = 150  # synthetic reports in the scale store


def _real_chunks(limit: int = 4000) -> list[tuple[str, str, list[str]]]:
    """(region of the source report, chunk text, its BM25 tokens) of the real reports."""
    from rag import load
    from rag.chunk import chunk
    from rag.settings import REPO_ROOT
    from rag.text.tokenize import tokenize

    roots = [REPO_ROOT / "seeds", *sorted(p for p in (REPO_ROOT / "corpus").glob("*") if p.is_dir())]
    found, _ = load.discover([r for r in roots if r.is_dir()])
    out = []
    for f in found:
        try:
            doc = load.read(f.path, f.root)
        except load.LoadError:
            continue
        for c in chunk(doc):
            text = c.section + " " + c.text
            out.append((doc.report.region, text, tokenize(text)))
    return out[:limit]


def _names(n: int) -> list[str]:
    """n region names from the gazetteer (county level first), for the synthetic reports."""
    from rag.gazetteer import gazetteer

    g = gazetteer()
    regions = sorted({r.name for r in g.regions.values() if r.level == "county"}) or ["某县"]
    return [regions[i % len(regions)] for i in range(n)]


def _disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _tokenize_rate(real) -> float | None:
    from rag.text.tokenize import tokenize

    sample = [t for _, t, _ in real[:300]]
    t0 = time.perf_counter()
    for t in sample:
        tokenize(t)
    dt = time.perf_counter() - t0
    return len(sample) / dt if dt else None


_COLD_OPEN = """
import json, sys, time
from pathlib import Path
from eval.bench_common import _settings
from eval.fixed_index import FixedEmbedder
from rag.sparse import SparseIndex
from rag.store import Store
home, name, dim, vec = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
t = time.perf_counter()
store = Store(FixedEmbedder(key="synthetic", dim=dim), _settings(home, None, collection=name))
store.query(vec, 30)
SparseIndex(home, name).load("v1")
print(time.perf_counter() - t)
"""


def _cold_open(home: Path, name: str, vec: list[float]) -> float | None:
    """Seconds a new process takes to open the store, answer one query and load the BM25
    index (imports not counted): the part of an app's start that grows with the corpus."""
    import json
    import subprocess
    import sys

    from rag.settings import REPO_ROOT

    r = subprocess.run([sys.executable, "-c", _COLD_OPEN, str(home), name, str(SCALE_DIM), json.dumps(vec)],
                       capture_output=True, text=True, cwd=REPO_ROOT, timeout=600)
    try:
        return float(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def bench_scale(sizes: list[int], queries: int, log=_err) -> dict[str, Any]:
    """(g) Synthetic corpora of real chunk text with random unit vectors."""
    import numpy as np

    from rag.sparse import SparseIndex
    from rag.store import Store

    from .fixed_index import FixedEmbedder

    real = _real_chunks()
    if not real:
        raise RuntimeError("no reports under seeds/ or corpus/ to build the synthetic corpus from")
    rows = []
    rng = np.random.default_rng(7)
    for n in sizes:
        with _temp_dir("rag-bench-scale-") as home:
            before = rss_mb()
            settings = _settings(home, None, collection=f"scale{n}")
            store = Store(FixedEmbedder(key="synthetic", dim=SCALE_DIM), settings)
            n_rep = max(1, n // CHUNKS_PER_REPORT)
            names = _names(n_rep)
            sparse = SparseIndex(home, f"scale{n}")
            t0 = time.perf_counter()
            tokens: dict[str, dict[str, list[str]]] = {}
            step = 5000
            for s in range(0, n, step):
                m = min(step, n - s)
                v = rng.standard_normal((m, SCALE_DIM), dtype=np.float32)
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                ids, metas = [], []
                for i in range(s, s + m):
                    rep = i % n_rep
                    _, text, toks = real[(i * 7919) % len(real)]
                    name, year = names[rep], 2015 + rep % 11
                    ids.append(f"c{i:07d}")
                    tokens.setdefault(f"r{rep:05d}", {})[ids[-1]] = [name, str(year)] + toks
                    metas.append({"report_key": f"r{rep:05d}", "report_id": f"r{rep:05d}", "doc": f"r{rep:05d}.txt",
                                  "region": name, "year": year, "section": "", "section_kind": "other", "start": 0,
                                  "end": len(text), "ord": i // n_rep, "page": 0, "tokens": len(toks), "hash": f"{i:x}"})
                store.add(ids, v, metas)
            add_s = time.perf_counter() - t0
            for key, toks in tokens.items():
                sparse.write_token_lists(key, toks)
            entries = {key: {"ids": list(toks)} for key, toks in tokens.items()}
            t1 = time.perf_counter()
            sparse.build(entries, "v1", fetch=lambda ids: {})
            bm25_build_s = time.perf_counter() - t1
            fresh = SparseIndex(home, f"scale{n}")
            loaded = fresh.load("v1")
            after = rss_mb()
            qv = rng.standard_normal((queries, SCALE_DIM), dtype=np.float32)
            qv /= np.linalg.norm(qv, axis=1, keepdims=True)
            plain, filtered, bm = [], [], []
            for i, q in enumerate(qv):
                t2 = time.perf_counter()
                store.query(q.tolist(), 30)
                plain.append((time.perf_counter() - t2) * 1000)
                t3 = time.perf_counter()
                store.query(q.tolist(), 30, where={"report_key": f"r{i % n_rep:05d}"})
                filtered.append((time.perf_counter() - t3) * 1000)
                terms = real[(i * 31) % len(real)][2][:8]
                t4 = time.perf_counter()
                fresh.search(terms, 30)
                bm.append((time.perf_counter() - t4) * 1000)
            count = store.chunks.count()
            del store
            reopen_s = _cold_open(home, f"scale{n}", qv[0].tolist())
            rows.append({"chunks": n, "stored": count, "reports": n_rep, "add_s": _r(add_s, 2),
                         "add_per_s": _r(n / add_s if add_s else None, 0), "query": _lat(plain),
                         "query_one_report": _lat(filtered), "bm25_build_s": _r(bm25_build_s, 2),
                         "bm25_load_s": _r(fresh.load_seconds, 3) if loaded else None, "bm25_query": _lat(bm),
                         "reopen_s": _r(reopen_s, 2), "disk_mb": _r(_disk_mb(home), 0),
                         "rss_mb": after["rss_mb"], "rss_delta_mb": _r((after["rss_mb"] or 0) - (before["rss_mb"] or 0), 1),
                         "peak_mb": rss_mb()["peak_mb"]})
            log(f"bench: scale {n}: add {add_s:.1f}s, query p50 {rows[-1]['query']['p50_ms']} ms, "
                f"bm25 build {bm25_build_s:.1f}s")
    return {"dim": SCALE_DIM, "queries": queries, "k": 30, "sizes": rows, "real_chunks": len(real),
            "tokenize_per_s": _r(_tokenize_rate(real), 0), "cpus": os.cpu_count(),
            "vectors": "random unit vectors (no embedding); text and BM25 tokens are real chunks recombined "
                       "under other region names and years"}
