"""``rag summarize [REPORT…|--all] [--json] [--out DIR] [--llm] [--no-cache]``"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def add_parser(sub):
    s = sub.add_parser("summarize", help="a structured, cited summary per report")
    s.add_argument("reports", nargs="*", help="report id, file name or path (default: all indexed)")
    s.add_argument("--all", action="store_true", help="every indexed report")
    s.add_argument("--json", action="store_true")
    s.add_argument("--out", help="write <id>.md (and .json) files to this folder")
    s.add_argument("--llm", action="store_true", help="let the configured LLM write the overview (numbers checked)")
    s.add_argument("--no-cache", action="store_true")
    s.set_defaults(func=cmd_summarize)
    return s


def cmd_summarize(args) -> int:
    from ..cli import _err, _services
    from .render import to_markdown
    from .service import summarize

    s = _services()
    if args.llm and s.settings.llm is None:
        _err("--llm needs RAG_LLM_BASE_URL and RAG_LLM_MODEL; summarising extractively")
    refs = args.reports if args.reports and not args.all else [r.key for r in s.corpus.reports]
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    dumped = []
    for ref in refs:
        try:
            summ = summarize(s, ref, use_llm=args.llm and s.settings.llm is not None, use_cache=not args.no_cache)
        except LookupError as e:
            _err(str(e))
            return 2
        if out:
            (out / f"{summ.report.id}.md").write_text(to_markdown(summ), encoding="utf-8")
            (out / f"{summ.report.id}.json").write_text(json.dumps(summ.to_dict(), ensure_ascii=False, indent=2),
                                                        encoding="utf-8")
        if args.json:
            dumped.append(summ.to_dict())
        elif not out:
            print(to_markdown(summ))
    if args.json:
        print(json.dumps(dumped if len(dumped) != 1 else dumped[0], ensure_ascii=False, indent=2))
    if out:
        print(f"wrote {len(refs)} summaries to {out}", file=sys.stderr)
    return 0
