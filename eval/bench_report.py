"""The ``rag bench`` report: the figures of :func:`eval.bench.run_bench` as tidy text, one
section a block, one figure a line."""
from __future__ import annotations

from typing import Any

from .bench_pipeline import TABLE_TARGET_MS


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
        for a in i.get("against", []):
            t = a["total"]
            line(f"{a['backend']}: {t['reports']} reports, {t['chunks']} chunks",
                 f"{_n(t['seconds'], ' s')} · {_n(t['chunks_per_s'])} chunks/s · the configured backend is "
                 f"{_n(a['speedup'], '×', 2)} as fast")
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
        out += ["", f"(e) embedder throughput ({e['sentences']} sentences, {e.get('chunks', 0)} chunks, "
                    f"{e['threads']} thread(s))"]
        for r in e["backends"]:
            label = f"{r['backend']}{' (configured)' if r.get('configured') else ''}"
            if r["status"] == "ok":
                line(label, f"{_n(r['sentences_per_s'], '', 1)} sentences/s · {_n(r.get('chunks_per_s'), '', 1)} "
                     f"chunks/s (indexing) · load {_n(r.get('load_s'), ' s')}")
            else:
                line(label, r["status"])
        for c in e.get("comparisons", []):
            line(f"{c['b']} vs {c['a']}", f"{_n(c['speedup_b_over_a'], 'x')} speed on sentences, "
                 f"{_n(c.get('chunk_speedup_b_over_a'), 'x')} on chunks · mean cosine "
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
        out += ["", f"(g) scale: synthetic corpora, {sc['queries']} queries, k={sc['k']}; "
                    f"{sc.get('vectors', 'random unit vectors')} ({sc['dim']} dims)"]
        if sc.get("real_chunks"):
            out.append(f"  from {sc['real_chunks']} real chunks; BM25 tokenising {_n(sc.get('tokenize_per_s'), '', 0)} chunks/s "
                       "(one CPU), not counted below")
        head = f"  {'chunks':>8}  {'add':>8}  {'add/s':>8}  {'query p50 / p95':>19}  {'one report p50 / p95':>21}  {'RSS (Δ)':>17}"
        out.append(head)
        for r in sc["sizes"]:
            q, f = r["query"], r["query_one_report"]
            out.append(f"  {r['chunks']:>8}  {_n(r['add_s'], ' s', 1):>8}  {_n(r['add_per_s'], '', 0):>8}  "
                       f"{_ms(q['p50_ms']) + ' / ' + _ms(q['p95_ms']):>19}  {_ms(f['p50_ms']) + ' / ' + _ms(f['p95_ms']):>21}  "
                       f"{_n(r['rss_mb'], ' MB', 0) + ' (' + _n(r['rss_delta_mb'], '', 0) + ')':>17}")
        if any("bm25_build_s" in r for r in sc["sizes"]):
            out.append(f"  {'chunks':>8}  {'BM25 build':>10}  {'BM25 load':>9}  {'BM25 query p50 / p95':>21}  "
                       f"{'cold open':>12}  {'disk':>8}")
            for r in sc["sizes"]:
                b = r.get("bm25_query") or {}
                out.append(f"  {r['chunks']:>8}  {_n(r.get('bm25_build_s'), ' s', 2):>10}  {_n(r.get('bm25_load_s'), ' s', 3):>9}  "
                           f"{_ms(b.get('p50_ms')) + ' / ' + _ms(b.get('p95_ms')):>21}  {_n(r.get('reopen_s'), ' s', 2):>12}  "
                           f"{_n(r.get('disk_mb'), ' MB', 0):>8}")
    mem = st.get("memory", {})
    out += ["", f"elapsed {_n(st.get('elapsed_s'), ' s', 1)} · RSS {_n(mem.get('rss_mb'), ' MB', 0)} "
                f"(peak {_n(mem.get('peak_mb'), ' MB', 0)})"]
    return "\n".join(out)
