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

This module is the command; the gold cells are read and split in
:mod:`eval.table_cells_gold`, judged and scored in :mod:`eval.table_cells_scoring`, and
the reports indexed without a model by :mod:`eval.fixed_index` (its names re-exported).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from .fixed_index import FixedEmbedder, build_corpus
from .run import corpus_folders
from .table_cells_gold import DEV, TEST, GoldCell, check_cell, half_of, load_cells, split
from .table_cells_scoring import evaluate, same_value, score

TARGETS = {"precision": 0.97, "coverage": 0.90, "cells": 60}

__all__ = ["DEV", "TEST", "TARGETS", "FixedEmbedder", "GoldCell", "half_of", "split", "load_cells",
           "check_cell", "same_value", "evaluate", "score", "main"]


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
