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
    share spent embedding); then a re-index of the unchanged folders.
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
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

__all__ = ["SECTIONS", "TABLE_TARGET_MS", "build_parser", "main", "run_bench", "format_report",
           "fake_llm_server", "rss_mb", "pct"]

REPO_ROOT = Path(__file__).resolve().parent.parent
GOLD_DIR = Path(__file__).resolve().parent / "gold"
DEFAULT_PATHS = (REPO_ROOT / "seeds", REPO_ROOT / "corpus" / "reports-2025")
DEFAULT_GOLD = (GOLD_DIR / "seeds-dev.jsonl", GOLD_DIR / "provinces-dev.jsonl")
SECTIONS = ("index", "query", "summary", "table", "embed", "load", "scale")
DEFAULT_SECTIONS = ("index", "query", "summary", "table", "embed")
TABLE_TARGET_MS = 200.0
QUICK = {"questions": 5, "sentences": 64}
SCALE_DIM = 384  # multilingual-e5-small
CHUNKS_PER_REPORT = 150  # synthetic reports in the scale store


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pct(values: Sequence[float], p: float) -> float | None:
    """The eval's percentile (:func:`eval.metrics.percentile`, as shared/tools/score.py),
    ``None`` for no values."""
    from .metrics import percentile

    return percentile(values, p)


def _r(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(float(v), nd)


def _lat(ms: Sequence[float]) -> dict[str, Any]:
    return {"n": len(ms), "p50_ms": _r(pct(ms, 50)), "p95_ms": _r(pct(ms, 95)), "max_ms": _r(max(ms) if ms else None)}


def rss_mb() -> dict[str, float | None]:
    """This process's resident memory now and at its peak (MB), from /proc."""
    out: dict[str, float | None] = {"rss_mb": None, "peak_mb": None}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
            elif line.startswith("VmHWM:"):
                out["peak_mb"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return out


def _short(e: BaseException) -> str:
    msg = " ".join(str(e).split())[:200]
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


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


# --------------------------------------------------------------------------- services


def _settings(home: Path, threads: int | None, collection: str = "bench"):
    from rag.settings import Settings

    s = Settings.from_env()
    embed = replace(s.embed, threads=threads) if threads else s.embed
    # models_dir stays where it was: the converted model folder is shared, never rebuilt
    return replace(s, home=home, collection=collection, embed=embed, llm=None, chroma_url="")


@contextmanager
def _temp_dir(prefix: str) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


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
    from rag.table import CORE, cells, rows_for

    corpus = svc.corpus
    t0 = time.perf_counter()
    cells(corpus, ["gdp"], "target")  # the first call: the lexicon loads here, unless indexing loaded it
    first_ms = (time.perf_counter() - t0) * 1000
    per: dict[str, float] = {}
    for ind in CORE:
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
        rows_for(corpus, list(CORE), "target")
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


def _sentences(corpus, n: int) -> list[str]:
    from rag.text.sentences import split_sentences

    pool = []
    for r in corpus.reports:
        text = corpus.text(r.key)
        pool += [s for a, b in split_sentences(text) if 8 <= len(s := " ".join(text[a:b].split())) <= 400]
    if len(pool) <= n:
        return pool
    return [pool[round(i * (len(pool) - 1) / max(1, n - 1))] for i in range(n)]


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
    """(e) sentences/s per backend; the mean cosine between backends' vectors."""
    sents = _sentences(svc.corpus, n)
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
            row.update({"status": "ok", "sentences": len(sents), "seconds": _r(secs, 2),
                        "sentences_per_s": _r(len(sents) / secs if secs else None, 1), "name": emb.name})
            vecs[b] = got
        except Exception as e:  # noqa: BLE001 - a backend that cannot load is a figure, not a crash
            row["status"] = f"unavailable: {_short(e)}"
        rows.append(row)
    out: dict[str, Any] = {"sentences": len(sents), "backends": rows, "threads": svc.settings.embed.threads}
    ok = [r for r in rows if r["status"] == "ok"]
    comps = []
    for b in ok[1:]:
        a = ok[0]
        va, vb = vecs[a["backend"]], vecs[b["backend"]]
        cos = [sum(x * y for x, y in zip(p, q)) for p, q in zip(va, vb)]  # both normalised
        comps.append({"a": a["backend"], "b": b["backend"],
                      "speedup_b_over_a": _r(b["sentences_per_s"] / a["sentences_per_s"], 2)
                      if a.get("sentences_per_s") and b.get("sentences_per_s") else None,
                      "mean_cosine": round(sum(cos) / len(cos), 5) if cos else None,
                      "min_cosine": round(min(cos), 5) if cos else None})
    out["comparisons"] = comps
    return out


# --------------------------------------------------------------------------- (f) load


class _FakeLLM:
    """A slow OpenAI-compatible chat server on 127.0.0.1: every streamed reply takes
    ``delay`` seconds, sent as ``TOKENS`` SSE chunks at even intervals."""

    TOKENS = 10
    REPLY = "根据所给段落，答案见引用 [1]。"

    def __init__(self, delay: float):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        owner = self
        self.delay = max(0.0, float(delay))
        self.requests = 0
        self.cut_off = 0  # replies the client stopped reading (its deadline)
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _json(self, code: int, obj: dict) -> None:
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "fake-slow", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                try:
                    req = json.loads(self.rfile.read(n) or b"{}")
                except ValueError:
                    req = {}
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                with owner._lock:
                    owner.requests += 1
                model = req.get("model", "fake-slow")
                pieces = owner._pieces()
                step = owner.delay / len(pieces)
                if not req.get("stream"):
                    time.sleep(owner.delay)
                    self._json(200, {"id": "fake", "object": "chat.completion", "created": int(time.time()),
                                     "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": owner.REPLY}}]})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                try:
                    for i, piece in enumerate(pieces):
                        time.sleep(step)
                        delta = {"content": piece} if i else {"role": "assistant", "content": piece}
                        self._event({"id": "fake", "object": "chat.completion.chunk", "created": int(time.time()),
                                     "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                    self._event({"id": "fake", "object": "chat.completion.chunk", "created": int(time.time()),
                                 "model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    with owner._lock:
                        owner.cut_off += 1

            def _event(self, obj: dict) -> None:
                self.wfile.write(b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="fake-llm")

    def _pieces(self) -> list[str]:
        k = max(1, len(self.REPLY) // self.TOKENS)
        return [self.REPLY[i: i + k] for i in range(0, len(self.REPLY), k)]

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "_FakeLLM":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def fake_llm_server(delay: float) -> Iterator[_FakeLLM]:
    """``with fake_llm_server(2.0) as srv: srv.base_url`` — stopped on exit."""
    srv = _FakeLLM(delay).start()
    try:
        yield srv
    finally:
        srv.stop()


def _deadline(cfg, settings) -> float:
    try:
        from rag.llm_answer import budget

        return float(budget(cfg, settings)[0])
    except (ImportError, AttributeError, TypeError):
        return float(cfg.timeout)


def _timed_answerer(svc, cfg, local: threading.local):
    """An Answerer whose extractive step records its own time (per thread), so the LLM
    part of an answer is its latency minus that."""
    from rag.answer import Answerer

    class Timed(Answerer):
        def extractive(self, *a, **kw):
            t0 = time.perf_counter()
            try:
                return super().extractive(*a, **kw)
            finally:
                local.extractive_ms = (time.perf_counter() - t0) * 1000

    return Timed(svc.corpus, svc.retriever, svc.settings, cfg)


def bench_load(svc, questions: list[str], users: int, per_user: int, llm_delay: float | None,
               llm_timeout: float | None) -> dict[str, Any]:
    """(f) ``users`` threads ask ``per_user`` questions each against the shared services."""
    if not questions:
        return {"status": "unavailable: no questions"}
    out: dict[str, Any] = {"users": users, "per_user": per_user, "mode": "extractive"}
    # warm: each question once, alone (per-report sentence vectors are computed at first
    # use and cached); the load figures are then the steady state, the warm-up shown apart
    t0 = time.perf_counter()
    for q in dict.fromkeys(questions[: users * per_user]):
        try:
            svc.answerer.ask(q, use_llm=False)
        except Exception:  # noqa: BLE001
            pass
    out["warmup_s"] = _r(time.perf_counter() - t0, 1)
    srv = None
    answerer = svc.answerer
    use_llm = False
    deadline = None
    local = threading.local()
    if llm_delay is not None:
        from rag.llm import LLMConfig

        srv = _FakeLLM(llm_delay).start()
        timeout = llm_timeout if llm_timeout is not None else max(0.1, llm_delay / 2)
        cfg = LLMConfig(base_url=srv.base_url, model="fake-slow", timeout=timeout)
        answerer = _timed_answerer(svc, cfg, local)
        use_llm = True
        deadline = _deadline(cfg, svc.settings)
        out.update({"mode": "llm (fake server)", "llm_delay_s": llm_delay, "llm_timeout_s": timeout,
                    "deadline_s": deadline})
        try:  # the LLM client's imports and first connection, not in the figures
            answerer.ask(questions[0], use_llm=True)
        except Exception:  # noqa: BLE001
            pass
    lat: list[float] = []
    llm_part: list[float] = []
    modes: dict[str, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    stop_probe = threading.Event()
    probe: list[float] = []

    def user(i: int) -> None:
        for j in range(per_user):
            q = questions[(i * per_user + j) % len(questions)]
            local.extractive_ms = None
            t0 = time.perf_counter()
            try:
                svc.retriever.refresh()  # what the app does per question
                ans, _ = answerer.ask(q, use_llm=use_llm)
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(_short(e))
                continue
            ms = (time.perf_counter() - t0) * 1000
            kind = ("llm" if ans.mode.startswith("llm") else ans.mode) if not ans.refused else "refused"
            if use_llm and not ans.refused and not ans.mode.startswith("llm"):
                kind = "fell back (extractive)"
            with lock:
                lat.append(ms)
                modes[kind] = modes.get(kind, 0) + 1
                if use_llm and not ans.refused and local.extractive_ms is not None:
                    llm_part.append(ms - local.extractive_ms)

    def prober() -> None:  # one extractive question now and then while the users wait
        k = 0
        while not stop_probe.is_set():
            q = questions[k % len(questions)]
            k += 1
            t0 = time.perf_counter()
            try:
                svc.answerer.ask(q, use_llm=False)
                probe.append((time.perf_counter() - t0) * 1000)
            except Exception:  # noqa: BLE001
                pass
            stop_probe.wait(0.25)

    threads = [threading.Thread(target=user, args=(i,), name=f"user-{i}") for i in range(users)]
    pt = threading.Thread(target=prober, name="probe", daemon=True) if use_llm else None
    t0 = time.perf_counter()
    try:
        if pt:
            pt.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop_probe.set()
        if pt:
            pt.join(timeout=60)
        if srv is not None:
            out["llm_requests"] = srv.requests
            srv.stop()
            out["llm_replies_cut_off"] = srv.cut_off
    wall = time.perf_counter() - t0
    out.update({"status": "ok", "asked": users * per_user, "answered": len(lat), "seconds": _r(wall, 2),
                "throughput_qps": _r(len(lat) / wall if wall else None, 2), "latency": _lat(lat), "modes": modes,
                "errors": errors[:5], "n_errors": len(errors)})
    if use_llm:
        out["probe"] = _lat(probe)
        out["llm_part"] = _lat(llm_part)
        worst = (max(llm_part) / 1000) if llm_part else None
        # the deadline is checked as each streamed piece arrives: allow one piece's gap and teardown
        slack = llm_delay / _FakeLLM.TOKENS + 0.5
        out["deadline_held"] = None if worst is None else worst <= deadline + slack
        out["deadline_rule"] = f"LLM part of an answer <= deadline + {slack:.2f} s"
    return out


# --------------------------------------------------------------------------- (g) scale


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


# --------------------------------------------------------------------------- run


def run_bench(args, sections: list[str], log=_err) -> dict[str, Any]:
    """Every requested section's figures as one dict."""
    from rag import settings as _offline  # noqa: F401  (offline flags first)

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


# --------------------------------------------------------------------------- report


def _ms(v: float | None) -> str:
    return "n/a" if v is None else (f"{v:.0f} ms" if v >= 10 else f"{v:.1f} ms")


def _trio(lat: dict) -> str:
    return f"{_ms(lat.get('p50_ms'))} / {_ms(lat.get('p95_ms'))} / {_ms(lat.get('max_ms'))}"


def _n(v: Any, unit: str = "", nd: int = 2) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{nd}f}{unit}"
    return f"{v}{unit}"


def format_report(fig: dict[str, Any]) -> str:
    """The figures as tidy text, one section a block, one figure a line."""
    st = fig["settings"]
    out = [f"rag bench · {st.get('cpus')} CPUs · embedder {st.get('embedder', 'not loaded')}"
           f"{' · threads ' + str(st['embed_threads']) if st.get('embed_threads') else ''}"
           f"{' · quick' if st.get('quick') else ''}"]
    w = 48

    def line(label: str, value: str) -> None:
        out.append(f"  {label:<{w}} {value}")

    if "index" in fig:
        i = fig["index"]
        out += ["", "(a) index throughput (real embedder, temporary data directory)"]
        line("model load", _n(i["model_load_s"], " s"))
        for r in i["folders"]:
            line(f"{r['name']}: {r['reports']} reports, {r['chunks']} chunks",
                 f"{_n(r['seconds'], ' s')} · {_n(r['chunks_per_s'])} chunks/s · {_n(r['reports_per_s'], '', 3)} reports/s"
                 f" · embedding {_n(r['embed_seconds'], ' s')}")
        t = i["total"]
        line(f"all: {t['reports']} reports, {t['chunks']} chunks",
             f"{_n(t['seconds'], ' s')} · {_n(t['chunks_per_s'])} chunks/s · {_n(t['reports_per_s'], '', 3)} reports/s")
        line("sparse index build", _n(i["sparse_build_s"], " s"))
        line("re-index unchanged", f"{_n(i['reindex_unchanged_s'], ' s')} ({i['reindex_embedded']} chunks embedded)")
    if "query" in fig:
        q = fig["query"]
        out += ["", f"(b) query latency, extractive ({q['questions']} gold questions)"]
        line("first ask p50 / p95 / max", _trio(q["first"]))
        line("repeat p50 / p95 / max", _trio(q["repeat"]))
        line("refused / errors", f"{q['refused']} / {q['n_errors']}")
    if "summary" in fig:
        s = fig["summary"]
        out += ["", "(c) summary time per report"]
        if s.get("status") == "ok":
            line(f"cold p50 / p95 / max ({s['reports']} reports)", _trio(s["cold"]))
            line("cached p50 / p95 / max", _trio(s["cached"]))
            line("all reports, cold", _n(s["total_cold_s"], " s"))
        else:
            line("summaries", s.get("status", "n/a"))
    if "table" in fig:
        t = fig["table"]
        ok = "" if t["within_target"] is None else ("within target" if t["within_target"] else "OVER target")
        out += ["", f"(d) comparison table (rag.table over {t['reports']} reports)"]
        line("one indicator, all reports: p50 / max", f"{_ms(t['one_indicator_p50_ms'])} / "
             f"{_ms(t['one_indicator_max_ms'])} (target < {TABLE_TARGET_MS:g} ms: {ok})")
        line("rows_for, five core indicators", _ms(t["rows_for_core_ms"]))
        if t.get("first_call_ms") is not None:
            line("first call (not in the p50)", _ms(t["first_call_ms"]))
    if "embed" in fig:
        e = fig["embed"]
        out += ["", f"(e) embedder throughput ({e['sentences']} sentences, {e['threads']} thread(s))"]
        for r in e["backends"]:
            label = f"{r['backend']}{' (configured)' if r.get('configured') else ''}"
            if r["status"] == "ok":
                line(label, f"{_n(r['sentences_per_s'], '', 1)} sentences/s · load {_n(r.get('load_s'), ' s')}")
            else:
                line(label, r["status"])
        for c in e.get("comparisons", []):
            line(f"{c['b']} vs {c['a']}", f"{_n(c['speedup_b_over_a'], 'x')} speed · mean cosine "
                 f"{_n(c['mean_cosine'], '', 5)} (min {_n(c['min_cosine'], '', 5)})")
    if "load" in fig:
        ld = fig["load"]
        out += ["", f"(f) load: {ld.get('users')} concurrent users × {ld.get('per_user')} questions, {ld.get('mode')}"]
        if ld.get("status") != "ok":
            line("load", ld.get("status", "n/a"))
        else:
            line("warm-up (each question once, alone)", _n(ld.get("warmup_s"), " s"))
            line("throughput", f"{_n(ld['throughput_qps'])} questions/s ({ld['answered']} in {_n(ld['seconds'], ' s')})")
            line("latency p50 / p95 / max", _trio(ld["latency"]))
            line("answers by mode", ", ".join(f"{k} {v}" for k, v in sorted(ld["modes"].items())) or "none")
            if ld["n_errors"]:
                line("errors", f"{ld['n_errors']} (first: {ld['errors'][0]})")
            if "probe" in ld:
                line("fake LLM: reply time / deadline", f"{_n(ld['llm_delay_s'], ' s')} / {_n(ld['deadline_s'], ' s')}"
                     f" ({ld.get('llm_requests', 0)} requests, {ld.get('llm_replies_cut_off', 0)} cut off)")
                held = ld["deadline_held"]
                line("LLM part p50 / p95 / max", _trio(ld["llm_part"]))
                line("deadline", f"{'held' if held else ('EXCEEDED' if held is not None else 'n/a')} "
                     f"({ld['deadline_rule']})")
                line("responsiveness: extractive probe p50 / p95", f"{_ms(ld['probe']['p50_ms'])} / "
                     f"{_ms(ld['probe']['p95_ms'])} ({ld['probe']['n']} asks during the load)")
    if "scale" in fig:
        sc = fig["scale"]
        out += ["", f"(g) scale: synthetic store, random unit vectors ({sc['dim']} dims), {sc['queries']} queries, k={sc['k']}"]
        head = f"  {'chunks':>8}  {'add':>8}  {'add/s':>8}  {'query p50 / p95':>19}  {'one report p50 / p95':>21}  {'RSS (Δ)':>17}"
        out.append(head)
        for r in sc["sizes"]:
            q, f = r["query"], r["query_one_report"]
            out.append(f"  {r['chunks']:>8}  {_n(r['add_s'], ' s', 1):>8}  {_n(r['add_per_s'], '', 0):>8}  "
                       f"{_ms(q['p50_ms']) + ' / ' + _ms(q['p95_ms']):>19}  {_ms(f['p50_ms']) + ' / ' + _ms(f['p95_ms']):>21}  "
                       f"{_n(r['rss_mb'], ' MB', 0) + ' (' + _n(r['rss_delta_mb'], '', 0) + ')':>17}")
    mem = st.get("memory", {})
    out += ["", f"elapsed {_n(st.get('elapsed_s'), ' s', 1)} · RSS {_n(mem.get('rss_mb'), ' MB', 0)} "
                f"(peak {_n(mem.get('peak_mb'), ' MB', 0)})"]
    return "\n".join(out)


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
    bad = [b for b in _csv(args.backends) if b not in ("torch", "onnx", "onnx-int8", "remote")]
    if bad:
        _err(f"rag bench: unknown backend(s) {', '.join(bad)}; use torch, onnx, onnx-int8 or remote")
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
