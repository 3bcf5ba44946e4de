"""The gold cells of ``rag table-eval`` (see :mod:`eval.table_cells`): their files, the
dev/test split by id parity, the check of one cell and the loader.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

GOLD_DIR = Path(__file__).resolve().parent / "gold"
DEV = GOLD_DIR / "table-cells-dev.jsonl"
TEST = GOLD_DIR / "table-cells-test.jsonl"
REQUIRED = ("id", "doc", "region", "indicator", "measure", "kind", "year", "value", "unit", "text", "stated")
MEASURES = ("growth", "level", "rate", "qualitative")
KINDS = ("target", "result")

__all__ = ["DEV", "TEST", "GoldCell", "half_of", "split", "check_cell", "load_cells"]


def half_of(cell_id: str) -> str:
    """``dev`` for an odd id number (``cell-001``), ``test`` for an even one."""
    digits = "".join(ch for ch in cell_id.rsplit("-", 1)[-1] if ch.isdigit())
    if not digits:
        raise ValueError(f"cell id {cell_id!r} has no number")
    return "dev" if int(digits) % 2 else "test"


def split(rows: Iterable[dict]) -> tuple[list[dict], list[dict]]:
    """(dev, test) by :func:`half_of`, keeping the order."""
    dev, test = [], []
    for r in rows:
        (dev if half_of(r["id"]) == "dev" else test).append(r)
    return dev, test


def check_cell(obj: Any) -> list[str]:
    """Problems of one gold cell (empty list when it is well formed)."""
    if not isinstance(obj, dict):
        return ["not a JSON object"]
    probs = [f"missing field {f!r}" for f in REQUIRED if f not in obj]
    if probs:
        return probs
    if not isinstance(obj["id"], str) or not obj["id"].strip():
        probs.append("bad id")
    if obj["measure"] not in MEASURES:
        probs.append(f"bad measure {obj['measure']!r}")
    if obj["kind"] not in KINDS:
        probs.append(f"bad kind {obj['kind']!r}")
    if not isinstance(obj["year"], int) or not 1949 <= obj["year"] <= 2100:
        probs.append(f"bad year {obj['year']!r}")
    if not isinstance(obj["stated"], bool):
        probs.append("stated is not a bool")
    numeric = obj["stated"] is True and obj["measure"] != "qualitative"
    if numeric and not isinstance(obj["value"], (int, float)):
        probs.append("a stated figure needs a numeric value")
    if not numeric and obj["value"] is not None:
        probs.append("an unstated or qualitative cell has value null")
    if obj["stated"] is True and not (isinstance(obj.get("evidence"), str) and obj["evidence"].strip()):
        probs.append("a stated cell needs its evidence sentence")
    return probs


@dataclass(frozen=True)
class GoldCell:
    id: str
    doc: str
    region: str
    indicator: str  # the lexicon's Chinese name, or a term of it
    measure: str
    kind: str
    year: int
    value: float | None
    unit: str
    text: str
    stated: bool
    evidence: str = ""
    scope: str = ""
    qualifier: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> "GoldCell":
        return cls(d["id"], d["doc"], d["region"], d["indicator"], d["measure"], d["kind"], int(d["year"]),
                   d["value"], d.get("unit") or "", d.get("text") or "", bool(d["stated"]), d.get("evidence") or "",
                   d.get("scope") or "", d.get("qualifier") or "")

    @property
    def key(self) -> tuple:
        return (self.doc, self.indicator, self.kind, self.year, self.measure)


def load_cells(path: str | Path) -> list[GoldCell]:
    """The cells of a gold file; a malformed line raises ValueError naming it."""
    out = []
    p = Path(path)
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{p.name}:{n}: broken JSON ({e.msg})") from None
        probs = check_cell(obj)
        if probs:
            raise ValueError(f"{p.name}:{n}: " + "; ".join(probs))
        out.append(GoldCell.from_dict(obj))
    return out
