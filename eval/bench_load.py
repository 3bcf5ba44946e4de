"""``rag bench`` section (f), ``--load N``: simulated users asking at once against one set
of services, optionally through the fake slow LLM server (:mod:`eval.bench_fake_llm`)
while a probe times extractive answers (see :mod:`eval.bench`)."""
from __future__ import annotations

import threading
import time
from typing import Any

from .bench_common import _lat, _r, _short
from .bench_fake_llm import _FakeLLM


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
