"""``rag bench`` section (e): the embedder's throughput per backend on sentences of the
indexed reports (what a question's evidence search embeds) and on their chunks (what the
indexer embeds: index throughput), and how close the backends' vectors are (see
:mod:`eval.bench`)."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from .bench_common import _r, _short


def _sentences(corpus, n: int) -> list[str]:
    from rag.text.sentences import split_sentences

    pool = []
    for r in corpus.reports:
        text = corpus.text(r.key)
        pool += [s for a, b in split_sentences(text) if 8 <= len(s := " ".join(text[a:b].split())) <= 400]
    if len(pool) <= n:
        return pool
    return [pool[round(i * (len(pool) - 1) / max(1, n - 1))] for i in range(n)]


def _passages(corpus, n: int) -> list[str]:
    """``n`` chunks spread over the indexed reports, as the indexer embeds them."""
    ids = sorted(corpus.chunks, key=lambda c: (corpus.chunks[c].key, corpus.chunks[c].ord))
    if len(ids) > n:
        ids = [ids[round(i * (len(ids) - 1) / max(1, n - 1))] for i in range(n)]
    return [c.embed_text() for cid in ids if (c := corpus.chunk(cid)) is not None]


def _embedder_for(settings, backend: str, current):
    """The configured embedder for its own backend, else a local one for ``backend``."""
    from rag.embed import Embedder

    configured = "remote" if settings.embed.base_url else settings.embed.backend
    if backend == configured:
        return current
    if backend == "remote":
        raise RuntimeError("no RAG_EMBED_BASE_URL is set")
    return Embedder(replace(settings.embed, backend=backend, base_url=""), settings.models_dir)


def bench_embed(svc, backends: list[str], n: int) -> dict[str, Any]:
    """(e) sentences/s and chunks/s per backend; the mean cosine between backends' vectors."""
    sents = _sentences(svc.corpus, n)
    chunks = _passages(svc.corpus, max(8, n // 2))
    configured = "remote" if svc.settings.embed.base_url else svc.settings.embed.backend
    backends = backends or [configured]
    rows, vecs = [], {}
    for b in backends:
        row: dict[str, Any] = {"backend": b, "configured": b == configured}
        try:
            emb = _embedder_for(svc.settings, b, svc.embedder)
            t0 = time.perf_counter()
            emb.embed_passages(sents[:2])  # model load (an ONNX export, the first time) and warm-up
            row["load_s"] = _r(time.perf_counter() - t0, 2)
            t1 = time.perf_counter()
            got = emb.embed_passages(sents)
            secs = time.perf_counter() - t1
            t2 = time.perf_counter()
            got += emb.embed_passages(chunks)
            csecs = time.perf_counter() - t2
            row.update({"status": "ok", "sentences": len(sents), "seconds": _r(secs, 2),
                        "sentences_per_s": _r(len(sents) / secs if secs else None, 1),
                        "chunks": len(chunks), "chunks_per_s": _r(len(chunks) / csecs if csecs and chunks else None, 1),
                        "name": emb.name})
            vecs[b] = got
        except Exception as e:  # noqa: BLE001 - a backend that cannot load is a figure, not a crash
            row["status"] = f"unavailable: {_short(e)}"
        rows.append(row)
    out: dict[str, Any] = {"sentences": len(sents), "chunks": len(chunks), "backends": rows, "threads": svc.settings.embed.threads}
    ok = [r for r in rows if r["status"] == "ok"]
    comps = []
    for b in ok[1:]:
        a = ok[0]
        va, vb = vecs[a["backend"]], vecs[b["backend"]]
        cos = [sum(x * y for x, y in zip(p, q)) for p, q in zip(va, vb)]  # both normalised
        comps.append({"a": a["backend"], "b": b["backend"],
                      "speedup_b_over_a": _r(b["sentences_per_s"] / a["sentences_per_s"], 2)
                      if a.get("sentences_per_s") and b.get("sentences_per_s") else None,
                      "chunk_speedup_b_over_a": _r(b["chunks_per_s"] / a["chunks_per_s"], 2)
                      if a.get("chunks_per_s") and b.get("chunks_per_s") else None,
                      "mean_cosine": round(sum(cos) / len(cos), 5) if cos else None,
                      "min_cosine": round(min(cos), 5) if cos else None})
    out["comparisons"] = comps
    return out
