"""The ``rag`` command. Subcommands import what they need when they run, so ``rag --help``
starts fast. ``rag eval`` and ``rag bench`` are plugins (entry points in the group
``rag.commands``, provided by the ``eval`` package): ``rag`` itself never imports ``eval``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _out(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _err(msg: str) -> None:
    print(f"rag: {msg}", file=sys.stderr)


def _settings():
    from .settings import current

    s = current()
    for p in s.problems:
        _err(f"warning: {p}")
    return s


def _services(require_index: bool = True):
    from .service import IndexMissing, services
    from .store import StoreError

    try:
        return services(require_index)
    except (IndexMissing, StoreError) as e:
        _err(str(e))
        raise SystemExit(2) from None


# --- index / remove -----------------------------------------------------------------------
def cmd_index(args) -> int:
    from .embed import get_embedder
    from .index import index_paths
    from .service import store_name
    from .sparse import SparseIndex
    from .store import Store, StoreError

    settings = _settings()
    paths = [Path(p) for p in args.paths] or [settings.seeds]
    embedder = get_embedder(settings)
    try:
        if args.rebuild:
            _rebuild(settings, embedder)
        store = Store(embedder, settings)
    except StoreError as e:
        _err(str(e))
        return 2
    sparse = SparseIndex(settings.home, store_name(settings, embedder))
    bar = None

    def progress(event, **kw):
        nonlocal bar
        if event == "plan" and kw["total"] and not args.quiet and not args.json:
            from tqdm import tqdm

            bar = tqdm(total=kw["total"], unit="file", desc="indexing", file=sys.stderr)
        elif event == "file" and bar is not None:
            bar.update(1)

    log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr))
    try:
        res = index_paths(paths, store, settings, sparse=sparse, progress=progress, log=log)
        from .corpus import Corpus

        corpus = Corpus(store)
        sparse.build(corpus.entries, corpus.version, corpus.search_texts)
    except KeyboardInterrupt:
        _err("interrupted: every report finished so far is indexed; run `rag index` again to finish")
        return 130
    except StoreError as e:
        _err(str(e))
        return 2
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        _out(res.as_dict())
    else:
        print(f"added {len(res.added)}, changed {len(res.changed)}, removed {len(res.removed)}, "
              f"unchanged {len(res.unchanged)}, skipped {len(res.skipped)}; embedded {res.chunks_embedded} chunks "
              f"(kept {res.chunks_kept}, deleted {res.chunks_deleted}) in {res.seconds:.1f}s")
        for label, names in (("added", res.added), ("changed", res.changed), ("removed", res.removed)):
            for n in names:
                print(f"  {label}: {n}")
        for f, why in res.skipped:
            print(f"  skipped: {f}: {why}")
        for f, g in res.guessed:
            print(f"  found: {f}: {g}")
    return 1 if res.skipped and not (res.added or res.changed or res.unchanged) else 0


def _rebuild(settings, embedder) -> None:
    """Drop the index; a local store that cannot even be opened is moved aside."""
    import shutil
    import time

    from .store import Store, StoreError

    try:
        Store(embedder, settings).wipe()
    except StoreError:
        if settings.chroma_url:
            raise
        broken = settings.home / "chroma"
        if broken.exists():
            aside = settings.home / f"chroma.broken-{int(time.time())}"
            shutil.move(str(broken), str(aside))
            _err(f"the store could not be opened; moved it to {aside}")
    shutil.rmtree(settings.home / "sparse", ignore_errors=True)


def cmd_remove(args) -> int:
    from .index import remove_reports

    s = _services()
    keys = []
    for ref in args.reports:
        try:
            keys.append(s.corpus.resolve(ref).key)
        except LookupError as e:
            _err(str(e))
            return 2
    res = remove_reports(s.store, keys, s.sparse)
    for r in res.removed:
        print(f"removed: {r}")
    return 0


# --- reports / chunks ---------------------------------------------------------------------
def cmd_reports(args) -> int:
    s = _services(require_index=False)
    rows = []
    for r in s.corpus.reports:
        rows.append({"id": r.id, "file": r.file, "region": r.region, "level": r.level, "region_kind": r.region_kind,
                     "parent": r.parent, "year": r.year, "review_years": list(r.review_years),
                     "plan_years": list(r.plan_years), "speaker": r.speaker, "meeting": r.meeting, "kind": r.kind,
                     "title": r.title, "format": s.corpus.entries[r.key].get("format", ""),
                     "path": s.corpus.entries[r.key].get("found_path", r.path), "sources": dict(r.sources)})
    if args.json:
        _out(rows)
        return 0
    if not rows:
        print("no reports are indexed: run `rag index [FOLDER]`")
        return 0
    for x in rows:
        src = x["sources"]
        print(f"{x['id']:<24} {x['region'] or '?':<12} {x['level'] or '?':<10} {x['year'] or '?'}  "
              f"review {','.join(map(str, x['review_years'])) or '-'} plan {','.join(map(str, x['plan_years'])) or '-'}  "
              f"[{x['format']}] {x['file']}")
        print(f"{'':<24} region from {src.get('region', '?')}, year from {src.get('year', '?')}"
              f"{'; speaker ' + x['speaker'] if x['speaker'] else ''}")
    return 0


def cmd_chunks(args) -> int:
    from . import load
    from .chunk import chunk

    path = Path(args.report)
    if not path.exists():
        s = _services()
        try:
            r = s.corpus.resolve(args.report)
        except LookupError as e:
            _err(str(e))
            return 2
        path = s.corpus.path(r.key)
    try:
        doc = load.read(path, path.parent)
    except load.LoadError as e:
        _err(f"{path.name}: {e}")
        return 1
    chunks = chunk(doc)
    if args.json:
        _out([{"id": c.id, "section": c.section, "section_kind": c.section_kind, "start": c.start, "end": c.end,
               "page": c.page, "tokens": c.tokens, "text": c.text} for c in chunks])
        return 0
    r = doc.report
    print(f"{r.title}  [{r.id}] {r.region} {r.year}  ({path.name}, {doc.format}{', ' + doc.encoding if doc.encoding else ''})")
    print(f"{len(chunks)} chunks, {sum(c.tokens for c in chunks)} tokens")
    last = None
    for c in chunks:
        if c.section != last:
            print(f"\n§ {c.section}  [{c.section_kind}]")
            last = c.section
        preview = c.text.replace("\n", " ")
        print(f"  {c.id}  {c.start}-{c.end}  {c.tokens} tok  {preview[:60]}{'…' if len(preview) > 60 else ''}")
    return 0


# --- ask -------------------------------------------------------------------------------
def _print_answer(ans, corpus, streamed: bool = False) -> None:
    print()
    if not streamed:
        print(ans.answer)
    for note in ans.notes:
        print(f"  ! {note}")
    if ans.citations:
        print("\n来源 (sources):")
        for c in ans.citations:
            r = corpus.report(c.report_id)
            page = f" p.{c.page}" if c.page else ""
            print(f"  [{c.n}] {r.title if r else c.report_id} · {c.section}{page}")
            print(f"      “{c.quote.strip()}”  ({c.doc} {c.start}-{c.end})")
    elif ans.retrieved:
        print("\n最接近的段落 (nearest passages):")
        for i, s in enumerate(ans.retrieved[:3], 1):
            r = corpus.report(s.report_id)
            print(f"  {i}. {r.title if r else s.report_id} · {s.section}  ({s.doc} {s.start}-{s.end})")
    print(f"\n[{ans.mode}, {ans.latency_ms} ms]")


def _explain(q) -> None:
    e = q.explain()
    print("理解 (how the question was read):", file=sys.stderr)
    for k in ("intent", "time", "parts", "regions", "years", "relative", "terms", "topic", "unknown_places"):
        if e.get(k):
            print(f"  {k}: {e[k]}", file=sys.stderr)


def cmd_ask(args) -> int:
    from .answer import answer_to_dict
    from .conversation import Conversation

    if args.k < 1 or args.k > 50:
        _err("--k must be between 1 and 50")
        return 2
    s = _services()
    a = s.answerer
    if args.report:
        try:
            s.corpus.resolve(args.report)
        except LookupError as e:
            _err(str(e))
            return 2
    if args.extractive:
        a.llm_cfg = None
    conv = Conversation(a, report=args.report)
    questions = list(args.question)
    if not questions:  # interactive: one question a line, follow-ups understood
        print("输入问题，空行退出 (empty line quits)", file=sys.stderr)
        questions = iter(lambda: input("? ").strip(), "")
    for question in questions:
        streamed = []
        def stream(d, streamed=streamed):
            if getattr(d, "retract", False):  # the LLM's reply failed after some of it was shown
                print("\n（以上内容作废 withdrawn — the checked answer follows）\n", flush=True)
                return
            streamed.append(d)
            print(d, end="", flush=True)

        try:
            ans = conv.ask(question, k=args.k, on_token=None if args.json else stream)
        except ValueError as e:
            _err(str(e))
            return 2
        if args.explain:
            _explain(conv.last_query)
        if args.json:
            _out(answer_to_dict(ans))
        else:
            _print_answer(ans, s.corpus, streamed=bool(streamed))
    return 0


# --- table --------------------------------------------------------------------------------
def cmd_table(args) -> int:
    from .lexicon import lexicon
    from .table import rows_for, to_csv

    s = _services()
    lex = lexicon()
    inds = []
    for name in args.indicator or []:
        hit = lex.asked(name.lower())
        if not hit:
            _err(f"unknown indicator {name!r}; known: {', '.join(i.name for i in lex.indicators[:20])} …")
            return 2
        inds.append(hit[0].indicator)
    regions = None
    if args.region:
        from .query import analyze

        regions = set(analyze(" ".join(args.region), s.corpus.region_aliases()).regions)
    if args.kind == "vs":
        from .table import vs_rows

        rows = vs_rows(s.corpus, inds or list(lex.table_core), args.year or 0, regions)
    else:
        rows = rows_for(s.corpus, inds or list(lex.table_core), args.kind, args.year or 0, regions)
    if args.csv:
        print(to_csv(rows), end="")
    elif args.json:
        _out(rows)
    else:
        for row in rows:
            cells = "  ".join(f"{k}={v}" for k, v in row.items() if not k.endswith("source") and k not in ("file", "report"))
            print(cells)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Questions, answers with citations, summaries and comparisons "
                                                        "over government work reports.")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("index", help="index seeds/ or the given files/folders (incremental)")
    s.add_argument("paths", nargs="*")
    s.add_argument("--json", action="store_true")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--rebuild", action="store_true", help="drop the index first and rebuild it (repairs a broken store)")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("remove", help="remove reports from the index")
    s.add_argument("reports", nargs="+", help="report id, file name or path")
    s.set_defaults(func=cmd_remove)

    s = sub.add_parser("reports", help="list the indexed reports: region, level, year, and where each came from")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_reports)

    s = sub.add_parser("chunks", help="show how a report is cut into sections and chunks")
    s.add_argument("report", help="report id, file name or path")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_chunks)

    s = sub.add_parser("ask", help="answer a question with citations (no question: interactive)")
    s.add_argument("question", nargs="*")
    s.add_argument("--report", help="only this report (id, file name or path)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--k", type=int, default=5, help="passages to retrieve (1-50)")
    s.add_argument("--extractive", action="store_true", help="ignore a configured LLM")
    s.add_argument("--explain", action="store_true", help="show how the question was understood")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("table", help="indicator table over every indexed report (targets or results), cited")
    s.add_argument("--indicator", action="append", help="indicator name (repeatable); default: the core five")
    s.add_argument("--region", action="append", help="region name (repeatable)")
    s.add_argument("--year", type=int)
    s.add_argument("--kind", choices=("target", "result", "vs"), default="target",
                   help="vs: each year's target beside the result the next report gives, and met/missed")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--csv", action="store_true")
    g.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_table)

    from .summary.cli import add_parser as add_summarize

    add_summarize(sub)
    for name, help_ in _plugins().items():
        s = sub.add_parser(name, help=help_, add_help=False)
        s.add_argument("rest", nargs=argparse.REMAINDER)
        s.set_defaults(func=None)
    return p


def _plugins() -> dict[str, str]:
    """Subcommands other packages provide (entry points, group ``rag.commands``)."""
    from importlib.metadata import entry_points

    return {ep.name: f"({ep.value.split(':')[0]}) — see rag {ep.name} --help" for ep in entry_points(group="rag.commands")}


def main(argv: list[str] | None = None) -> int:
    from . import settings  # noqa: F401  (sets the offline flags first)

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in _plugins():
        from importlib.metadata import entry_points

        ep = next(e for e in entry_points(group="rag.commands") if e.name == argv[0])
        return ep.load()(argv[1:]) or 0
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
