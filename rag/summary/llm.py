"""An LLM-written overview over the extractive summary's cited lines (prompts/summary_reduce.md).
Each sentence must cite [n]; a sentence whose figures are not in the spans it cites is
flagged, and any failure of the endpoint keeps the extractive overview with a note."""
from __future__ import annotations

import re
from dataclasses import replace

from .. import guard
from .model import Summary, SummaryLine

OUT_TOKENS = 320
_MARK = re.compile(r"\[(\d{1,3})\]")


def _prompt(prompts_dir) -> tuple[str, str]:
    raw = (prompts_dir / "summary_reduce.md").read_text(encoding="utf-8")
    raw = re.sub(r"^<!--.*?-->\s*", "", raw, flags=re.S)
    system, _, user = raw.partition("=== user ===")
    return system.strip(), user.strip()


def with_llm_overview(s: Summary, cfg, prompts_dir) -> Summary:
    from ..llm import LLMError, complete, describe

    cites = {c.n: c for c in s.citations()}
    if not cites:
        return s
    sources = "\n".join(f"[{n}] {' '.join(c.quote.split())[:300]}" for n, c in sorted(cites.items()))
    r = s.report
    system, user = _prompt(prompts_dir)
    meta = " ".join(x for x in (r.region, f"{r.year}年", r.speaker) if x)
    user = user.replace("{title}", r.title).replace("{meta}", meta).replace("{sources}", sources)
    try:
        text = complete(cfg, [("system", system), ("user", user)], max_tokens=OUT_TOKENS)
    except LLMError as e:
        return replace(s, notes=s.notes + (f"LLM 不可用，概述为抽取式 ({e})",))
    lines = []
    for sent in re.split(r"(?<=[。！？])", text):
        sent = sent.strip()
        if not sent:
            continue
        ns = [int(n) for n in _MARK.findall(sent) if int(n) in cites]
        if not ns:
            continue
        quotes = [cites[n].quote for n in ns]
        g = guard.check(_MARK.sub(" ", sent), quotes)
        lines.append(SummaryLine(_MARK.sub("", sent).strip(), tuple(cites[n] for n in dict.fromkeys(ns)),
                                 "" if g.ok else g.message()))
    if not lines:
        return replace(s, notes=s.notes + ("LLM 的概述没有引用 [n]，保留抽取式概述",))
    return replace(s, overview=tuple(lines), mode=describe(cfg))
