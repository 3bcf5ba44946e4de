"""The inputs of the eval metrics: ``results.jsonl`` lines, read and matched to gold items
by id, the seed texts their spans point into, and small accessors the metrics share.

``results`` may be a list of result dicts or a ``{id: result}`` mapping; with a list,
the last result for an id wins, as in the shared scorer. ``texts`` is a ``{file name:
text}`` mapping (see :func:`eval.gold.load_texts`); a seeds directory path is accepted
too and read lazily. See :mod:`eval.metrics` for the result format.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterable, Sequence

from .gold import GoldItem, read_seed

__all__ = ["Result", "Results", "load_results", "index_results"]

Result = Mapping[str, Any]
Results = Sequence[Result] | Mapping[str, Result]


class _LazyTexts(Mapping):
    """``{file name: text}`` read from a seeds directory on first use."""

    def __init__(self, seeds_dir: str | os.PathLike) -> None:
        self._dir = seeds_dir

    def __getitem__(self, name: str) -> str:
        try:
            return read_seed(self._dir, name)
        except (FileNotFoundError, UnicodeDecodeError, OSError):
            raise KeyError(name) from None

    def __iter__(self):
        return iter(sorted(p.name for p in Path(self._dir).glob("*.txt")))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _texts(texts: Mapping[str, str] | str | os.PathLike) -> Mapping[str, str]:
    if isinstance(texts, (str, os.PathLike)):
        return _LazyTexts(texts)
    return texts


def load_results(path: str | os.PathLike) -> list[dict]:
    """Read a ``results.jsonl`` file (blank and broken lines are skipped)."""
    out: list[dict] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def index_results(results: Results | None) -> dict[str, Result]:
    """``{id: result}``; with a list, the last result for an id wins (as in the shared
    scorer, which reads results.jsonl into a dict line by line)."""
    if results is None:
        return {}
    if isinstance(results, Mapping):
        return dict(results)
    out: dict[str, Result] = {}
    for r in results:
        if isinstance(r, Mapping) and isinstance(r.get("id"), str):
            out[r["id"]] = r
    return out


def _pairs_for(items: Iterable[GoldItem], results: Results | None):
    idx = index_results(results)
    return [(it, idx.get(it.id)) for it in items]


def _refused(result: Result | None) -> bool:
    return result is not None and bool(result.get("refused"))


def _spans(result: Result | None, key: str) -> list[Mapping]:
    if result is None:
        return []
    v = result.get(key)
    if not isinstance(v, list):
        return []
    return [s for s in v if isinstance(s, Mapping)]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
