"""What every ``rag bench`` section shares: figures rounded and latencies as percentiles,
the process's memory, one-line error reasons, and the bench's own settings and temporary
data directories (see :mod:`eval.bench`)."""
from __future__ import annotations

import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent


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
