"""Formatting for the web app: pure functions from answers, reports, figures and report
text to HTML or Markdown — escaping, highlighted figures and cited spans, the panel
under an answer, the question's reading, labels. No Gradio here, no retrieval, no files:
the app calls these and shows the result. The Reports tab's own formatting is in
:mod:`rag.ui_reports`, the Compare tab's in :mod:`rag.ui_figures`.

Report text is data, never markup: it may hold HTML, scripts or "instructions"
(忽略以上指令…). Every piece of report text (and every file name a user uploads) goes
through :func:`esc` (HTML) or :func:`md_text` (Markdown), and only this module's own
tags are emitted around it. Figures are found by the project's one number parser
(:func:`rag.text.numbers.spans`).
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping

from .text.numbers import spans as _figure_spans
from .types import Answer, Report

CONTEXT_RADIUS = 600  # characters shown either side of a cited span
HL = "hl"  # class of the highlighted cited span
FIG = "fig"  # class of a highlighted figure

_MARKER = re.compile(r"\\\[(\d{1,2})\\\]")

LEVEL_LABELS = {"national": "国家 national", "province": "省级 province", "prefecture": "地级 prefecture",
                "county": "县级 county"}
LEVEL_CHOICES = ("national", "province", "prefecture", "county")
SOURCE_LABELS = {"catalog": "目录 catalog", "text": "正文 text", "file name": "文件名 file name",
                 "default": "默认 default"}
TIME_LABELS = {"target": "目标 target", "result": "实际 result"}


def esc(text) -> str:
    """HTML-escape text (quotes too), so report text can never become markup."""
    return html.escape("" if text is None else str(text), quote=True)


def figures(text: str) -> list[tuple[int, int]]:
    """Offsets of the figures in ``text`` (years left out), from the project's number parser."""
    out: list[tuple[int, int]] = []
    pos = 0
    n = len(text or "")
    for a, b in _figure_spans(text or ""):
        a, b = max(a, pos), min(b, n)
        if a < b:  # never overlapping, never outside the text
            out.append((a, b))
            pos = b
    return out


def highlight_figures(text: str) -> str:
    """Escaped ``text`` with each figure wrapped in ``<mark class="fig">``."""
    text = text or ""
    parts, pos = [], 0
    for a, b in figures(text):
        parts.append(esc(text[pos:a]))
        parts.append(f'<mark class="{FIG}">{esc(text[a:b])}</mark>')
        pos = b
    parts.append(esc(text[pos:]))
    return "".join(parts)


def highlight_span(text: str, start: int, end: int, cls: str = HL, figures_inside: bool = True) -> str:
    """Escaped ``text`` with ``text[start:end]`` (offsets into ``text``) wrapped in one
    ``<mark class="hl">``; figures inside the span are marked too."""
    text = text or ""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    inner = highlight_figures(text[start:end]) if figures_inside else esc(text[start:end])
    return f'{esc(text[:start])}<mark class="{cls}">{inner}</mark>{esc(text[end:])}'


def context_bounds(text: str, start: int, end: int, radius: int = CONTEXT_RADIUS) -> tuple[int, int]:
    """The window of ``text`` shown around ``[start, end)``: about ``radius`` characters
    either side, widened or narrowed to a line break when one is near (paragraphs
    are not cut mid-line where avoidable). Always contains the span."""
    n = len(text)
    start = max(0, min(start, n))
    end = max(start, min(end, n))
    a = max(0, start - radius)
    b = min(n, end + radius)
    if a > 0:
        nl = text.find("\n", a, start)  # first paragraph start inside the window
        if nl != -1 and nl - a < radius // 2:
            a = nl + 1
    if b < n:
        nl = text.rfind("\n", end, b)  # last paragraph end inside the window
        if nl != -1 and b - nl < radius // 2:
            b = nl
    while a < start and text[a].isspace():
        a += 1
    while b > end and text[b - 1].isspace():
        b -= 1
    return a, b


def passage_html(text: str, start: int, end: int, radius: int = CONTEXT_RADIUS, heading: str = "") -> str:
    """The cited passage in its context: the report text around ``[start, end)`` with
    the span highlighted (``mark.hl``) and its figures marked; escaped throughout."""
    a, b = context_bounds(text, start, end, radius)
    body = highlight_span(text[a:b], start - a, end - a)
    pre = "…" if a > 0 else ""
    post = "…" if b < len(text) else ""
    head = f'<div class="rag-ctx-head">{esc(heading)}</div>' if heading else ""
    return f'<div class="rag-passage">{head}<div class="rag-ctx">{pre}{body}{post}</div></div>'


def where(report_title: str, section: str, page: int = 0) -> str:
    """"title · section · p. N" (the page only for PDF pages)."""
    bits = [b for b in (report_title, section or "（正文）") if b]
    if page:
        bits.append(f"p. {page}")
    return " · ".join(bits)


# --- Markdown (chat messages, status line) -------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~<>$])")


def md_text(text: str) -> str:
    """Text that a Markdown renderer shows as is: HTML escaped, Markdown syntax
    backslash-escaped (no links, images, emphasis, headings, lists or math)."""
    s = html.escape(text or "", quote=False)
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = re.sub(r"(?m)^(\s*)(\d+)\.", r"\1\2\\.", s)  # "1." would start a list
    s = re.sub(r"(?m)^(\s*)-", r"\1\\-", s)
    s = re.sub(r"(?m)^(\s*)=", r"\1\\=", s)
    return s


def answer_markdown(text: str) -> str:
    """An answer for the chat window: escaped, with the [n] markers in bold."""
    return _MARKER.sub(r"**\\[\1\\]**", md_text(text))


def problems_markdown(problems: Iterable[str]) -> str:
    """``settings.problems`` as warning lines (one per problem), escaped."""
    return "\n\n".join(f"⚠️ {md_text(' '.join(str(p).split()))}" for p in problems if str(p).strip())


# --- the panel under an answer ------------------------------------------------------------
def _title(reports: Mapping[str, Report], report_id: str) -> str:
    r = reports.get(report_id)
    return r.title if r else report_id


def _note_html(note: str, warn: bool) -> str:
    cls = "rag-warn" if warn else "rag-note"
    icon = "⚠️" if warn else "ℹ️"
    return f'<div class="{cls}">{icon} {esc(note)}</div>'


def mode_label(mode: str) -> str:
    """'extractive' → '抽取式 (extractive, no LLM)'; 'table' → '指标表 (table)'; 'llm:…' → 'LLM: …'."""
    mode = mode or ""
    if mode == "extractive":
        return "抽取式 (extractive, no LLM)"
    if mode == "table":
        return "指标表 (figures table, no LLM)"
    if mode.startswith("llm:"):
        return "LLM: " + mode[4:]
    return mode


def _is_guard_note(note: str) -> bool:
    return "number guard" in note or "数字核对" in note


def _is_warning(note: str) -> bool:
    return _is_guard_note(note) or "LLM" in note or "超时" in note or "timed out" in note


def sources_html(
    answer: Answer,
    reports: Mapping[str, Report],
    texts: Mapping[str, str],
    radius: int = CONTEXT_RADIUS,
) -> str:
    """Everything under an answer: mode and time, warnings (number guard, LLM
    fallbacks), a plain refusal banner, then the sources — each ``[n] title · section
    (· p. N)`` with the quoted sentence (figures marked); clicking one opens the passage
    in its context with the cited span highlighted. A refusal lists the nearest
    passages instead.

    ``reports``: report id → Report; ``texts``: report id → the report's stored text
    (the citations' offsets index it).
    """
    out = ['<div class="rag-sources">']
    out.append(
        f'<div class="rag-meta">模式 mode: <strong>{esc(mode_label(answer.mode))}</strong>'
        f" · {int(answer.latency_ms)} ms</div>"
    )
    guard_noted = False
    for note in answer.notes:
        guard_noted |= _is_guard_note(note)
        out.append(_note_html(note, _is_warning(note)))
    if not answer.guard_ok and not guard_noted:
        out.append(_note_html("数字核对未通过 (number guard): 答案中的数字未在引文中找到", True))
    rejected = (answer.extra or {}).get("llm_answer")
    if rejected:
        out.append(
            '<details class="rag-rejected"><summary>LLM 的原回答（未采用 rejected）</summary>'
            f'<div class="rag-ctx">{esc(str(rejected))}</div></details>'
        )
    if answer.refused:
        nearest = "下面是最接近的段落，供参考 (nearest passages below)。" if answer.retrieved and not answer.citations else ""
        out.append(f'<div class="rag-refused">🚫 报告中没有找到答案 (not answered from the reports)。{nearest}</div>')
    items: list[tuple[str, str, str, int, int, str, int, str]] = []  # label, rid, section, start, end, quote, page, doc
    if answer.citations:
        out.append('<div class="rag-h">来源 (sources) — 点击查看原文 (click to open the passage)</div>')
        for c in answer.citations:
            items.append((f"[{c.n}]", c.report_id, c.section, c.start, c.end, c.quote, c.page, c.doc))
    elif answer.retrieved:
        out.append('<div class="rag-h">最接近的段落 (nearest passages) — 点击查看原文</div>')
        for i, s in enumerate(answer.retrieved, 1):
            items.append((f"{i}.", s.report_id, s.section, s.start, s.end, s.text, s.page, s.doc))
    for i, (label, rid, section, start, end, quote, page, doc) in enumerate(items, 1):
        full = texts.get(rid)
        title = _title(reports, rid)
        if full is not None and 0 <= start <= end <= len(full):
            passage = passage_html(full, start, end, radius, heading=f"{where(title, section, page)} · {start}–{end}")
            quote = full[start:end]
        else:
            passage = (
                f'<div class="rag-passage"><div class="rag-ctx-head">{esc(doc)}</div>'
                f'<div class="rag-ctx"><mark class="{HL}">{highlight_figures(quote)}</mark></div></div>'
            )
        q = " ".join((quote or "").split())
        if len(q) > 160:
            q = q[:160] + "…"
        page_tag = f'<span class="rag-page"> · p. {int(page)}</span>' if page else ""
        out.append(
            f'<details class="rag-src" data-n="{i}"><summary>'
            f'<span class="rag-n">{esc(label)}</span> '
            f'<span class="rag-title">{esc(title)}</span>'
            f'<span class="rag-sec"> · {esc(section or "（正文）")}</span>{page_tag}'
            f'<div class="rag-quote">“{highlight_figures(q)}”</div>'
            f"</summary>{passage}</details>"
        )
    out.append("</div>")
    return "".join(out)


def error_html(message: str) -> str:
    return f'<div class="rag-sources"><div class="rag-warn">⚠️ {esc(message)}</div></div>'


def ok_html(message: str) -> str:
    return f'<div class="rag-sources"><div class="rag-note">✅ {esc(message)}</div></div>'


# --- how the question was understood ------------------------------------------------------
def _join(values) -> str:
    return "、".join(str(v) for v in values if str(v) != "")


def explain_html(d: Mapping | None) -> str:
    """``conv.last_query.explain()`` as a small table: intent, indicators (with the measure
    asked), regions, years, target or result, and what else the reading found. Escaped."""
    if not d:
        return ""
    rows: list[tuple[str, str]] = [("意图 intent", str(d.get("intent") or "other"))]
    t = d.get("time") or ""
    rows.append(("时间 time", TIME_LABELS.get(t, t) or "（未指明 not stated）"))
    parts = []
    for p in d.get("parts") or ():
        name = p.get("indicator") or p.get("label") or ""
        if not name:
            continue
        extra = [x for x in (p.get("measure"), f"“{p['label']}”" if p.get("label") and p.get("label") != name else "")
                 if x]
        parts.append(name + (f" ({', '.join(extra)})" if extra else ""))
    rows.append(("指标 indicators", "、".join(parts) or "（无 none）"))
    names = list(d.get("region_names") or ())
    keys = list(d.get("regions") or ())
    regions = _join(names) or _join(k.split("/")[-1] for k in keys)
    if keys:
        regions += f" [{_join(keys)}]"
    rows.append(("地区 regions", regions or "（无 none）"))
    rows.append(("年份 years", _join(d.get("years") or ()) or "（无 none）"))
    optional = (
        ("报告年份 report year", d.get("report_year") or ""),
        ("相对年份 relative year", d.get("relative") or ""),
        ("范围 scopes", _join(d.get("scopes") or ())),
        ("多年数字 multi-year", "是 yes" if d.get("period") else ""),
        ("列表项数 list count", d.get("list_count") or ""),
        ("未知地名 unknown places", _join(d.get("unknown_places") or ())),
        ("关键词 key terms", _join(d.get("terms") or ())),
        ("主题 topic", _join(d.get("topic") or ())),
        ("追问 follow-up of", d.get("resolved_from") or ""),
        ("英文问题 English", "是 yes" if d.get("english") else ""),
        ("说明 note", d.get("note") or ""),
    )
    rows += [(k, str(v)) for k, v in optional if v not in ("", None, 0)]
    body = "".join(f'<tr><th>{esc(k)}</th><td data-field="{esc(k.split()[-1])}">{esc(v)}</td></tr>' for k, v in rows)
    return (
        '<div class="rag-explain"><div class="rag-h">问题理解 (how the question was understood)</div>'
        f'<table class="rag-explain-table">{body}</table></div>'
    )


# --- labels ------------------------------------------------------------------------------
def level_label(level: str) -> str:
    return LEVEL_LABELS.get(level or "", level or "?")


# --- eval tab -----------------------------------------------------------------------------
_LOCAL_IMAGE = re.compile(r"!\[[^\]]*\]\((?!https?:|data:)[^)]*\)")


def strip_local_images(markdown: str) -> str:
    """Drop Markdown images with relative paths (the chart is shown on its own)."""
    return _LOCAL_IMAGE.sub("", markdown or "")
