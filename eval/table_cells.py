"""``rag table-eval``: the comparison table (:func:`rag.table.cells`) against gold cells.

    rag table-eval [--half dev|test|both] [--json PATH] [--corpus DIR ...]

Gold cells (``eval/gold/table-cells-dev.jsonl`` and ``-test.jsonl``) say, for one
report, one indicator, one kind (target | result) and one year, what the report states:
``value`` + ``unit`` (``5.0`` ``%``, ``60`` ``万人``), ``measure`` (growth | level | rate |
qualitative), ``stated`` (``false``: the report does not give it) and, where a report
gives several, ``scope`` (全市 / 市级).

The halves are split by id parity (:func:`half_of`: odd → dev, even → test), once, from
the original 271-cell file; tests check the files still follow the rule. Cells of one
sentence fall into both halves, so the test half is unseen cells, not unseen reports.
Tune ``rag/`` on dev; the misses are listed for dev only.

The reports the gold cells name are indexed into a temporary data directory with a
fixed-vector stand-in embedder: figures are read at index time from the text (``facts``),
never from the vectors, so the table is the one a real index gives, without loading a
model. For every gold cell the table is asked for that report, indicator, kind, year
and measure (a qualitative gold cell asks the indicator's default column, which admits
a qualitative statement), and:

* ``filled``: the table shows a figure for the cell (for a cell with a scope sibling,
  a figure of that scope; ``全市``/``全省`` is the unscoped figure);
* ``correct``: filled, and the value matches within the unit (``60`` ``万人`` is
  ``600000`` ``人``; a qualitative gold cell wants a qualitative figure);
* ``precision`` = correct / filled, over every gold cell, so a figure shown for a
  ``stated: false`` cell counts against it;
* ``coverage`` = filled / stated, over the cells the report states.

Figures the table shows that no gold cell asks about are not judged.
Target (issue): precision ≥ 0.97 and coverage ≥ 0.9, on ≥ 60 cells per half.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from .run import corpus_folders

GOLD_DIR = Path(__file__).resolve().parent / "gold"
DEV = GOLD_DIR / "table-cells-dev.jsonl"
TEST = GOLD_DIR / "table-cells-test.jsonl"
TARGETS = {"precision": 0.97, "coverage": 0.90, "cells": 60}
REQUIRED = ("id", "doc", "region", "indicator", "measure", "kind", "year", "value", "unit", "text", "stated")
MEASURES = ("growth", "level", "rate", "qualitative")
KINDS = ("target", "result")

__all__ = ["DEV", "TEST", "TARGETS", "FixedEmbedder", "GoldCell", "half_of", "split", "load_cells",
           "check_cell", "same_value", "evaluate", "score", "main"]


# --------------------------------------------------------------------------- gold


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


# --------------------------------------------------------------------------- matching


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s or "").strip()


def base_unit(unit: str) -> tuple[float, str]:
    """(scale, base unit): ``万人`` → (1e4, ``人``), ``万亿元`` → (1e12, ``元``), ``％`` → (1, ``%``)."""
    from rag.lexicon import lexicon

    lex = lexicon()
    u = _nfkc(unit)
    if u in lex.units or u == "%":
        return 1.0, u
    for word in sorted(lex.scales, key=len, reverse=True):
        if u.startswith(word) and len(u) > len(word):
            return float(lex.scales[word]), u[len(word):]
    return 1.0, u


def same_value(gold: GoldCell, fig) -> bool:
    """The table's figure states the gold value, within the unit. Figures' values come
    scaled (``880亿斤`` is ``8.8e10`` ``斤``); gold values are as written with their unit."""
    if gold.measure == "qualitative":
        return fig.measure == "qualitative"
    if fig.measure == "qualitative" or fig.value is None or gold.value is None:
        return False
    scale, unit = base_unit(gold.unit)
    if unit != _nfkc(fig.unit):
        return False
    return math.isclose(float(fig.value), float(gold.value) * scale, rel_tol=1e-6, abs_tol=1e-9)


def _norm_scope(s: str) -> str:
    s = _nfkc(s)
    return "" if s.startswith("全") else s


def indicator_id(name: str) -> str | None:
    from rag.lexicon import lexicon

    lex = lexicon()
    for i in lex.indicators:
        if name == i.name:
            return i.id
    for i in lex.indicators:
        if name in i.terms:
            return i.id
    hits = lex.asked(name.lower())
    return hits[0].indicator if hits and len(hits[0].term) == len(name) else None


@dataclass
class Outcome:
    cell: GoldCell
    filled: bool = False
    correct: bool = False
    got: str = ""  # the table's figure as written, "" when none
    why: str = ""  # for a miss: what went wrong


def evaluate(corpus, gold: Sequence[GoldCell]) -> list[Outcome]:
    """One :class:`Outcome` per gold cell: what the table shows for it."""
    from rag.lexicon import lexicon
    from rag.table import cells

    lex = lexicon()
    by_file: dict[str, list] = {}
    for r in corpus.reports:
        by_file.setdefault(r.file, []).append(r)
    siblings: dict[tuple, list[GoldCell]] = {}
    for g in gold:
        siblings.setdefault(g.key, []).append(g)
    memo: dict[tuple, Any] = {}
    out = []
    for g in gold:
        o = Outcome(g)
        out.append(o)
        reports = by_file.get(g.doc, [])
        ind = indicator_id(g.indicator)
        if not reports:
            o.why = "report not indexed"
            continue
        if ind is None:
            o.why = f"indicator {g.indicator!r} not in the lexicon"
            continue
        r = reports[0]
        measure = lex.by_id[ind].default if g.measure == "qualitative" else g.measure
        k = (r.key, ind, g.kind, g.year, measure)
        if k not in memo:
            got = [c for c in cells(corpus, [ind], g.kind, g.year, measure=measure) if c.report.key == r.key]
            memo[k] = got[0].figure if got else None
        fig = memo[k]
        if fig is None:
            o.why = "not in the table" if g.stated else ""
            continue
        sibs = [s for s in siblings[g.key] if s is not g]
        if sibs:
            fs = _norm_scope(fig.scope)
            mine = fs == _norm_scope(g.scope)
            owner = any(fs == _norm_scope(s.scope) for s in sibs)
            # a figure of a scope no gold cell names is charged to the first cell of the key
            if not mine and (owner or siblings[g.key][0] is not g):
                o.why = "the table shows another scope" if g.stated else ""
                continue
        o.filled = True
        o.got = fig.text + (f" [{fig.scope}]" if fig.scope else "")
        o.correct = g.stated and same_value(g, fig)
        if not o.correct:
            o.why = "stated as not given, the table shows a figure" if not g.stated else "wrong value"
    return out


def score(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    cells_ = len(outcomes)
    stated = sum(o.cell.stated for o in outcomes)
    filled = sum(o.filled for o in outcomes)
    filled_stated = sum(o.filled and o.cell.stated for o in outcomes)
    correct = sum(o.correct for o in outcomes)
    return {
        "cells": cells_,
        "stated": stated,
        "filled": filled,
        "correct": correct,
        "precision": round(correct / filled, 4) if filled else None,
        "coverage": round(filled_stated / stated, 4) if stated else None,
        "accuracy": round(correct / stated, 4) if stated else None,
    }


# --------------------------------------------------------------------------- index


class FixedEmbedder:
    """Stands in for the embedder where no vector is ever searched: the same unit
    vector for every text. Its ``key`` names collections of their own."""

    name = "fixed vector (no model)"

    def __init__(self, key: str = "fixedvec", dim: int = 8):
        self.key = key
        self.dim = dim

    def _vec(self) -> list[float]:
        return [1.0] + [0.0] * (self.dim - 1)

    def embed_passages(self, texts, batch_size=None, progress=None):
        if progress:
            progress(len(texts))
        return [self._vec() for _ in texts]

    def embed_queries(self, texts):
        return [self._vec() for _ in texts]

    def embed_query(self, text):
        return self._vec()


def build_corpus(folders: list[Path], home: Path, log=lambda m: None):
    """Index ``folders`` into ``home`` with :class:`FixedEmbedder`; the corpus and the result."""
    from dataclasses import replace

    from rag.corpus import Corpus
    from rag.index import index_paths
    from rag.settings import Settings
    from rag.store import Store

    settings = replace(Settings.from_env(), home=home, chroma_url="", collection="tablecells", llm=None)
    store = Store(FixedEmbedder(), settings)
    res = index_paths(folders, store, settings, log=log)
    return Corpus(store), res


# --------------------------------------------------------------------------- CLI


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _line(name: str, s: dict) -> str:
    ok_p = s["precision"] is not None and s["precision"] >= TARGETS["precision"]
    ok_c = s["coverage"] is not None and s["coverage"] >= TARGETS["coverage"]
    ok_n = s["cells"] >= TARGETS["cells"]
    verdict = "meets target" if ok_p and ok_c and ok_n else "below target"
    return (f"{name:<5} cells {s['cells']:>3} (stated {s['stated']:>3})  filled {s['filled']:>3}  correct {s['correct']:>3}  "
            f"precision {_fmt(s['precision'])}  coverage {_fmt(s['coverage'])}  accuracy {_fmt(s['accuracy'])}  "
            f"[{verdict}]")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag table-eval",
                                description="Score the comparison table (rag.table) on gold cells, per half.")
    p.add_argument("--half", choices=("dev", "test", "both"), default="both")
    p.add_argument("--dev", default=str(DEV), help="dev gold cells (JSONL)")
    p.add_argument("--test", default=str(TEST), help="test gold cells (JSONL)")
    p.add_argument("--corpus", action="append", default=None,
                   help="folder of reports (repeatable); default: seeds/ and the corpus/ folders holding the docs")
    p.add_argument("--json", dest="json_path", default=None, help="also write the figures (and dev misses) here")
    return p


def run(halves: dict[str, Path], corpus_dirs: Sequence[str] | None = None, report: Sequence[str] | None = None,
        log=lambda m: None) -> dict[str, Any]:
    """Figures per half: ``{"halves": {name: score}, "misses": {"dev": [...]}, ...}``.

    Every half is evaluated together (a scope sibling may sit in the other half);
    ``report`` names the halves whose figures are returned (default: all)."""
    golds = {name: load_cells(p) for name, p in halves.items()}
    ids = [c.id for g in golds.values() for c in g]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"cell ids in more than one place: {', '.join(dup[:10])}")
    folders, missing = corpus_folders(list(halves.values()), corpus_dirs)
    for d in missing:
        log(f"table-eval: doc {d!r} is in none of the corpus folders; its cells count as not filled")
    home = Path(tempfile.mkdtemp(prefix="rag-table-eval-"))
    try:
        t0 = time.perf_counter()
        corpus, res = build_corpus(folders, home, log=lambda m: log(f"index: {m}"))
        index_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        every = evaluate(corpus, [c for g in golds.values() for c in g])
        eval_s = time.perf_counter() - t1
    finally:
        shutil.rmtree(home, ignore_errors=True)
    which = {c.id: name for name, g in golds.items() for c in g}
    outcomes = {name: [o for o in every if which[o.cell.id] == name] for name in (report or list(golds))}
    out: dict[str, Any] = {
        "targets": dict(TARGETS),
        "halves": {name: score(o) for name, o in outcomes.items()},
        "reports": len(res.added) + len(res.changed) + len(res.unchanged),
        "folders": [str(f) for f in folders],
        "index_seconds": round(index_s, 2),
        "table_seconds": round(eval_s, 3),
        "table_cells": len(every),  # one table lookup per gold cell, both halves
    }
    if "dev" in outcomes:
        out["misses"] = {"dev": [
            {"id": o.cell.id, "region": o.cell.region, "indicator": o.cell.indicator, "kind": o.cell.kind,
             "year": o.cell.year, "gold": (o.cell.text or "(qualitative)") if o.cell.stated else "(not stated)",
             "scope": o.cell.scope, "table": o.got, "why": o.why}
            for o in outcomes["dev"] if (o.cell.stated and not o.correct) or (not o.cell.stated and o.filled)]}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    from rag import settings as _offline  # noqa: F401  (offline flags first)

    halves = {"dev": Path(args.dev), "test": Path(args.test)}
    for name, p in halves.items():
        if not p.is_file():
            print(f"rag table-eval: no {name} gold file {p}", file=sys.stderr)
            return 2
    report = list(halves) if args.half == "both" else [args.half]
    try:
        fig = run(halves, args.corpus, report, log=lambda m: print(m, file=sys.stderr))
    except ValueError as e:
        print(f"rag table-eval: {e}", file=sys.stderr)
        return 2
    n_cells = fig["table_cells"]
    print(f"comparison table vs gold cells ({fig['reports']} reports indexed in {fig['index_seconds']:.1f}s "
          f"without a model; table lookups {fig['table_seconds'] * 1000:.0f} ms for {n_cells} cells, "
          f"{fig['table_seconds'] * 1000 / max(1, n_cells):.1f} ms each)")
    print(f"target: precision >= {TARGETS['precision']}, coverage >= {TARGETS['coverage']}, "
          f">= {TARGETS['cells']} cells per half")
    for name, s in fig["halves"].items():
        print(_line(name, s))
    misses = fig.get("misses", {}).get("dev", [])
    if misses:
        print(f"\ndev misses ({len(misses)}):")
        for m in misses:
            scope = f" ({m['scope']})" if m["scope"] else ""
            print(f"  {m['id']}  {m['region']} {m['year']} {m['kind']} {m['indicator']}{scope}: gold {m['gold']} · "
                  f"table {m['table'] or '—'} · {m['why']}")
    if args.json_path:
        p = Path(args.json_path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(fig, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
