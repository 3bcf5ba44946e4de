"""The `rag` command. Subcommands import what they need when they run, so that
`rag --help` starts fast."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _out(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _err(msg: str) -> None:
    print(f"rag: {msg}", file=sys.stderr)


# --- index ------------------------------------------------------------------------------
def cmd_index(args) -> int:
    from . import config
    from .embed import get_embedder
    from .index import index_paths
    from .store import Store, StoreError

    paths = [Path(p) for p in args.paths] or [config.seeds_dir()]
    try:
        store = Store(get_embedder())
    except StoreError as e:
        _err(str(e))
        return 2
    bar = None

    def progress(event, **kw):
        nonlocal bar
        if event == "plan" and kw["total"] and not args.quiet:
            from tqdm import tqdm

            bar = tqdm(total=kw["total"], unit="chunk", desc="embedding", file=sys.stderr)
        elif event == "embedded" and bar is not None:
            bar.update(kw["n"])

    log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr))
    try:
        res = index_paths(paths, store, progress=progress, log=log)
    except KeyboardInterrupt:
        _err("interrupted: the previous index is still in place; run `rag index` again to finish")
        return 130
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        _out(res.as_dict())
    else:
        print(
            f"added {len(res.added)}, changed {len(res.changed)}, removed {len(res.removed)}, "
            f"unchanged {len(res.unchanged)}, skipped {len(res.skipped)}; "
            f"embedded {res.chunks_embedded} chunks (kept {res.chunks_kept}, deleted {res.chunks_deleted}) "
            f"in {res.seconds:.1f}s"
        )
        for label, names in (("added", res.added), ("changed", res.changed), ("removed", res.removed)):
            for n in names:
                print(f"  {label}: {n}")
        for f, why in res.skipped:
            print(f"  skipped: {f}: {why}")
        for f, g in res.guessed:
            print(f"  guessed: {f}: {g}")
    return 1 if res.skipped and not (res.added or res.changed or res.unchanged) else 0


# --- chunks -----------------------------------------------------------------------------
def resolve_report(ref: str) -> Path:
    """A report id, a file name in seeds/, or a path → the file's path."""
    from . import config
    from .catalog import load_catalog

    p = Path(ref)
    if p.exists():
        return p
    seeds = config.seeds_dir()
    if (seeds / ref).exists():
        return seeds / ref
    for r in load_catalog(seeds).values():
        if ref in (r.id, Path(r.file).stem):
            return seeds / r.file
    known = sorted(r.id for r in load_catalog(seeds).values())
    raise SystemExit(f"rag: unknown report {ref!r}; known: {', '.join(known)} (or give a file path)")


def cmd_chunks(args) -> int:
    from . import chunk as chunking
    from . import load

    path = resolve_report(args.report)
    try:
        doc = load.read(path)
    except load.LoadError as e:
        _err(f"{path.name}: {e}")
        return 1
    chunks = chunking.chunk(doc)
    if args.json:
        _out(
            [
                {"id": c.id, "section": c.section, "section_kind": c.section_kind, "start": c.start,
                 "end": c.end, "tokens": c.tokens, "text": c.text}
                for c in chunks
            ]
        )
        return 0
    r = doc.report
    print(f"{r.title}  [{r.id}] {r.region} {r.year}  ({path.name}, {doc.encoding}{', guessed' if r.guessed else ''})")
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
def _print_answer(ans, retriever, streamed: bool = False) -> None:
    print()
    if not streamed:
        print(ans.answer)
    for note in ans.notes:
        print(f"  ! {note}")
    if ans.citations:
        print("\n来源 (sources):")
        for c in ans.citations:
            r = retriever.report(c.report_id)
            print(f"  [{c.n}] {r.title if r else c.report_id} · {c.section}")
            print(f"      “{c.quote.strip()}”  ({c.doc} {c.start}-{c.end})")
    elif ans.retrieved:
        print("\n最接近的段落 (nearest passages):")
        for i, s in enumerate(ans.retrieved[:3], 1):
            r = retriever.report(s.report_id)
            print(f"  {i}. {r.title if r else s.report_id} · {s.section}  ({s.doc} {s.start}-{s.end})")
    print(f"\n[{ans.mode}, {ans.latency_ms} ms]")


def cmd_ask(args) -> int:
    from .answer import answer_to_dict
    from .conversation import Conversation
    from .service import IndexMissing, answerer

    try:
        a = answerer()
    except IndexMissing as e:
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
        stream = None if args.json else (lambda d: (streamed.append(d), print(d, end="", flush=True)))
        try:
            ans = conv.ask(question, k=args.k, on_token=stream)
        except ValueError as e:
            _err(str(e))
            return 2
        if args.json:
            _out(answer_to_dict(ans))
        else:
            same = "".join(streamed).strip() == ans.answer.strip()
            if streamed and not same:  # the LLM's reply was replaced (guard, fallback)
                print("\n\n→ " + ans.answer)
            _print_answer(ans, a.retriever, streamed=bool(streamed))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Questions, answers with citations and summaries over government work reports.")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("index", help="index seeds/ or the given files/folders (incremental)")
    s.add_argument("paths", nargs="*")
    s.add_argument("--json", action="store_true")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("chunks", help="show how a report is cut into sections and chunks")
    s.add_argument("report", help="report id, seed file name or path")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_chunks)

    s = sub.add_parser("ask", help="answer a question with citations (no question: interactive)")
    s.add_argument("question", nargs="*")
    s.add_argument("--report", help="only this report (id)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--k", type=int, default=5, help="passages to retrieve")
    s.add_argument("--extractive", action="store_true", help="ignore a configured LLM")
    s.set_defaults(func=cmd_ask)

    try:  # the summariser registers its own subcommand
        from .summarize import add_parser as add_summarize
    except ImportError:
        add_summarize = None
    if add_summarize is not None:
        add_summarize(sub)

    # eval and bench live in the eval/ package (app and eval apart); they parse their own flags
    for name, help_ in (("eval", "run the gold Q&A benchmark (rag eval --help)"), ("bench", "print index/query/summary timings (rag bench --help)")):
        s = sub.add_parser(name, help=help_, add_help=False)
        s.add_argument("rest", nargs=argparse.REMAINDER)
        s.set_defaults(func=None)
    return p


def main(argv: list[str] | None = None) -> int:
    from . import config  # noqa: F401  (sets the offline flags first)

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("eval", "bench"):
        import importlib

        module = importlib.import_module("eval.run" if argv[0] == "eval" else "eval.bench")
        return module.main(argv[1:]) or 0
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
