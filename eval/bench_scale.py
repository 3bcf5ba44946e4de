"""``rag bench`` section (g), ``--scale``: synthetic stores of random unit vectors (no
embedding) through the project's ``Store``: add time, query latency and memory per size
(see :mod:`eval.bench`)."""
from __future__ import annotations

import time
from typing import Any

from .bench_common import _err, _lat, _r, _settings, _temp_dir, rss_mb

SCALE_DIM = 384  # multilingual-e5-small
CHUNKS_PER_REPORT = 150  # synthetic reports in the scale store


def bench_scale(sizes: list[int], queries: int, log=_err) -> dict[str, Any]:
    """(g) Synthetic stores of random unit vectors through the project's Store."""
    import numpy as np

    from rag.store import Store

    from .table_cells import FixedEmbedder

    rows = []
    rng = np.random.default_rng(7)
    for n in sizes:
        with _temp_dir("rag-bench-scale-") as home:
            before = rss_mb()
            settings = _settings(home, None, collection=f"scale{n}")
            store = Store(FixedEmbedder(key="synthetic", dim=SCALE_DIM), settings)
            n_rep = max(1, n // CHUNKS_PER_REPORT)
            t0 = time.perf_counter()
            step = 5000
            for s in range(0, n, step):
                m = min(step, n - s)
                v = rng.standard_normal((m, SCALE_DIM), dtype=np.float32)
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                ids = [f"c{i:07d}" for i in range(s, s + m)]
                metas = [{"report_key": f"r{i % n_rep:05d}", "report_id": f"r{i % n_rep:05d}", "doc": f"r{i % n_rep:05d}.txt",
                          "region": "", "year": 2025, "section": "", "section_kind": "other", "start": 0, "end": 100,
                          "ord": i // n_rep, "page": 0, "tokens": 100, "hash": f"{i:x}"} for i in range(s, s + m)]
                store.add(ids, [f"synthetic chunk {i}" for i in range(s, s + m)], v, metas)
            add_s = time.perf_counter() - t0
            after = rss_mb()
            qv = rng.standard_normal((queries, SCALE_DIM), dtype=np.float32)
            qv /= np.linalg.norm(qv, axis=1, keepdims=True)
            plain, filtered = [], []
            for i, q in enumerate(qv):
                t1 = time.perf_counter()
                store.query(q.tolist(), 30)
                plain.append((time.perf_counter() - t1) * 1000)
                t2 = time.perf_counter()
                store.query(q.tolist(), 30, where={"report_key": f"r{i % n_rep:05d}"})
                filtered.append((time.perf_counter() - t2) * 1000)
            count = store.chunks.count()
            rows.append({"chunks": n, "stored": count, "reports": n_rep, "add_s": _r(add_s, 2),
                         "add_per_s": _r(n / add_s if add_s else None, 0), "query": _lat(plain),
                         "query_one_report": _lat(filtered), "rss_mb": after["rss_mb"],
                         "rss_delta_mb": _r((after["rss_mb"] or 0) - (before["rss_mb"] or 0), 1),
                         "peak_mb": rss_mb()["peak_mb"]})
            log(f"bench: scale {n}: add {add_s:.1f}s, query p50 {rows[-1]['query']['p50_ms']} ms")
            del store
    return {"dim": SCALE_DIM, "queries": queries, "k": 30, "sizes": rows}
