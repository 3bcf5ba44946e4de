"""Markdown for people. Report text is data: every piece of it is escaped, so a report
holding ``<script>`` or ``<img onerror=…>`` stays text in any Markdown or HTML viewer."""
from __future__ import annotations

import html
import re

from .model import Summary, SummaryLine

_MD = re.compile(r"([\\`*_{}\[\]()#+!|~>])")


def esc(text: str) -> str:
    """Report text for Markdown: HTML-escaped, Markdown specials backslashed, one line."""
    return _MD.sub(r"\\\1", html.escape(" ".join(str(text).split()), quote=True))


def _line(x: SummaryLine, bullet: bool) -> str:
    marks = "".join(f"[{c.n}]" for c in x.citations)
    text = f"{esc(x.text)} {marks}".rstrip()
    if x.flagged:
        text = f"⚠ {text}（{esc(x.flagged)}）"
    return f"- {text}" if bullet else text


def to_markdown(s: Summary) -> str:
    r = s.report
    out = [f"# {esc(r.title)} · 摘要", ""]
    meta = [f"{esc(r.id)}（{esc(r.file)}）"] + [esc(x) for x in (r.region, f"{r.year}年" if r.year else "", r.speaker) if x]
    out.append("- 报告：" + " · ".join(meta))
    out.append(f"- 模式：{esc(s.mode)}" + (" · 缓存命中" if s.cached else ""))
    out += ["", "## 概述", ""]
    out += [_line(x, False) for x in s.overview] or ["（无内容）"]
    for title, rows in ((f"{s.results_year}年主要数据" if s.results_year else "主要数据", s.results),
                        (f"{s.targets_year}年主要目标" if s.targets_year else "主要目标", s.targets)):
        if rows:
            out += ["", f"## {title}", "", "| 指标 | 数值 | 出处 |", "| --- | --- | --- |"]
            out += [f"| {esc(x.indicator)} | {esc(x.text)} | [{x.citation.n}] |" for x in rows]
    for title, lines in (("工作回顾", s.review), ("主要任务", s.tasks)):
        if lines:
            out += ["", f"## {title}", ""] + [_line(x, True) for x in lines]
    if s.notes:
        out += ["", "## 说明", ""] + [f"- {esc(n)}" for n in s.notes]
    cites = s.citations()
    if cites:
        out += ["", "## 出处", ""]
        for c in cites:
            q = " ".join(c.quote.split())
            q = q if len(q) <= 90 else q[:88] + "…"
            page = f" p.{c.page}" if c.page else ""
            out.append(f"[{c.n}] {esc(c.doc)} {c.start}–{c.end}{page} · {esc(c.section)}：“{esc(q)}”  ")
    return "\n".join(out).rstrip() + "\n"
