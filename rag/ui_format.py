"""Formatting for the web app: pure functions from answers and report text to HTML or
Markdown. No Gradio here, no retrieval: the app calls these and shows the result.

Report text is data, never markup: it may hold HTML, scripts or "instructions"
(忽略以上指令…). Every piece of report text goes through :func:`esc` (HTML) or
:func:`md_text` (Markdown), and only this module's own tags are emitted around it.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from .types import Answer, Report, Section

CONTEXT_RADIUS = 600  # characters shown either side of a cited span
HL = "hl"  # class of the highlighted cited span
FIG = "fig"  # class of a highlighted figure

# A figure: a number (half- or full-width, with separators/decimals) and the unit that
# gives it meaning. Years ("2020年", "2019—2020") are not figures.
_DIGIT = r"[0-9０-９]"
FIGURE = re.compile(
    rf"(?<![0-9０-９.．])(?:{_DIGIT}+(?:[,，]{_DIGIT}{{3}})*(?:[.．]{_DIGIT}+)?)"
    r"(?:\s?(?:个百分点|百分点|%|％|‰|倍|万亿元|亿元|万元|亿|万|千|元|吨|公里|千米|平方公里|平方米|公顷|亩|家|个|项|人|户|所|套|辆|次|座|条|件))?"
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_MARKER = re.compile(r"\\\[(\d{1,2})\\\]")


def esc(text: str) -> str:
    """HTML-escape text (quotes too), so report text can never become markup."""
    return html.escape(text or "", quote=True)


def figures(text: str) -> list[tuple[int, int]]:
    """Offsets of the figures in ``text`` (years left out)."""
    out = []
    for m in FIGURE.finditer(text or ""):
        if _YEAR.match(m.group(0)):
            continue  # a year ("2020年", "2019—2020"), not a figure
        out.append((m.start(), m.end()))
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


# --- Markdown (chat messages) -------------------------------------------------------------
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


# --- the panel under an answer ------------------------------------------------------------
def _title(reports: dict[str, Report], report_id: str) -> str:
    r = reports.get(report_id)
    return r.title if r else report_id


def _note_html(note: str, warn: bool) -> str:
    cls = "rag-warn" if warn else "rag-note"
    icon = "⚠️" if warn else "ℹ️"
    return f'<div class="{cls}">{icon} {esc(note)}</div>'


def mode_label(mode: str) -> str:
    """'extractive' → '抽取式 (extractive, no LLM)'; 'llm:…' → 'LLM: …'."""
    if mode == "extractive":
        return "抽取式 (extractive, no LLM)"
    if mode.startswith("llm:"):
        return "LLM: " + mode[4:]
    return mode


def _is_guard_note(note: str) -> bool:
    return "number guard" in note or "数字核对" in note


def sources_html(
    answer: Answer,
    reports: dict[str, Report],
    texts: dict[str, str],
    radius: int = CONTEXT_RADIUS,
) -> str:
    """Everything under an answer: mode and time, warnings (number guard, fallbacks),
    a plain refusal banner, then the sources — each ``[n] title · section`` with the
    quoted sentence (figures marked); clicking one opens the passage in its context
    with the cited span highlighted. A refusal lists the nearest passages instead.

    ``reports``: report id → Report; ``texts``: doc file name → the report's full text.
    """
    out = ['<div class="rag-sources">']
    out.append(
        f'<div class="rag-meta">模式 mode: <strong>{esc(mode_label(answer.mode))}</strong>'
        f" · {int(answer.latency_ms)} ms</div>"
    )
    guard_noted = False
    for note in answer.notes:
        warn = _is_guard_note(note) or "LLM" in note
        guard_noted |= _is_guard_note(note)
        out.append(_note_html(note, warn))
    if not answer.guard_ok and not guard_noted:
        out.append(_note_html("数字核对未通过 (number guard): 答案中的数字未在引文中找到", True))
    rejected = (answer.extra or {}).get("llm_answer")
    if rejected:
        out.append(
            '<details class="rag-rejected"><summary>LLM 的原回答（未采用 rejected）</summary>'
            f'<div class="rag-ctx">{esc(str(rejected))}</div></details>'
        )
    if answer.refused:
        out.append(
            '<div class="rag-refused">🚫 报告中没有找到答案 (not answered from the reports)。'
            "下面是最接近的段落，供参考 (nearest passages below)。</div>"
        )
    items: list[tuple[str, str, str, str, int, int, str]] = []  # label, report id, section, doc, start, end, quote
    if answer.citations:
        out.append('<div class="rag-h">来源 (sources) — 点击查看原文 (click to open the passage)</div>')
        for c in answer.citations:
            items.append((f"[{c.n}]", c.report_id, c.section, c.doc, c.start, c.end, c.quote))
    elif answer.retrieved:
        out.append('<div class="rag-h">最接近的段落 (nearest passages) — 点击查看原文</div>')
        for i, s in enumerate(answer.retrieved, 1):
            items.append((f"{i}.", s.report_id, s.section, s.doc, s.start, s.end, s.text))
    for i, (label, rid, section, doc, start, end, quote) in enumerate(items, 1):
        full = texts.get(doc)
        if full is not None and 0 <= start <= end <= len(full):
            passage = passage_html(full, start, end, radius, heading=f"{section} · {doc} {start}–{end}")
            quote = full[start:end]
        else:
            passage = (
                f'<div class="rag-passage"><div class="rag-ctx-head">{esc(doc)}</div>'
                f'<div class="rag-ctx"><mark class="{HL}">{highlight_figures(quote)}</mark></div></div>'
            )
        q = " ".join(quote.split())
        if len(q) > 160:
            q = q[:160] + "…"
        out.append(
            f'<details class="rag-src" data-n="{i}"><summary>'
            f'<span class="rag-n">{esc(label)}</span> '
            f'<span class="rag-title">{esc(_title(reports, rid))}</span>'
            f'<span class="rag-sec"> · {esc(section or "（正文）")}</span>'
            f'<div class="rag-quote">“{highlight_figures(q)}”</div>'
            f"</summary>{passage}</details>"
        )
    out.append("</div>")
    return "".join(out)


def error_html(message: str) -> str:
    return f'<div class="rag-sources"><div class="rag-warn">⚠️ {esc(message)}</div></div>'


# --- reports tab --------------------------------------------------------------------------
CATALOG_HEADERS = ["地区 region", "年份 year", "标题 title", "ID", "文件 file"]


def catalog_rows(reports: Iterable[Report]) -> list[list]:
    """Rows of the catalog table, by region then year."""
    return [
        [r.region, r.year, r.title, r.id, r.file]
        for r in sorted(reports, key=lambda r: (r.region, r.year, r.id))
    ]


def report_choices(reports: Iterable[Report], all_label: str | None = None) -> list[tuple[str, str]]:
    """(label, report id) pairs for a dropdown; ``all_label`` adds ("…", "") first."""
    out = [(all_label, "")] if all_label else []
    out += [(f"{r.title} [{r.id}]", r.id) for r in sorted(reports, key=lambda r: (r.region, r.year, r.id))]
    return out


def report_header_html(r: Report) -> str:
    bits = [f"{r.region} · {r.year}年 · {r.level}"]
    if r.speaker:
        bits.append(r.speaker)
    if r.review_years:
        bits.append("回顾 review " + "、".join(map(str, r.review_years)))
    if r.plan_years:
        bits.append("计划 plan " + "、".join(map(str, r.plan_years)))
    if r.guessed:
        bits.append("地区/年份为推测 (guessed)")
    return (
        f'<div class="rag-report"><div class="rag-report-title">{esc(r.title)}</div>'
        f'<div class="rag-meta">{esc(" · ".join(bits))} · <code>{esc(r.id)}</code> · <code>{esc(r.file)}</code></div></div>'
    )


def outline_html(sections: Sequence[Section], text: str | None = None, max_chars: int = 4000) -> str:
    """The section outline: one entry per heading path, indented by depth. With the
    report ``text``, each entry opens to show that section's own text (escaped)."""
    if not sections:
        return '<div class="rag-outline"><i>（没有识别出章节 no sections found）</i></div>'
    out = ['<div class="rag-outline">']
    for s in sections:
        depth = max(0, len(s.path) - 1)
        label = esc(s.path[-1] if s.path else "（正文）")
        kind = {"review": "回顾", "plan": "计划"}.get(s.kind, "")
        tag = f' <span class="rag-kind rag-kind-{esc(s.kind)}">{kind}</span>' if kind else ""
        style = f' style="margin-left:{min(depth, 6) * 1.1:.1f}em"'
        if text is None:
            out.append(f'<div class="rag-ol-item"{style}>{label}{tag}</div>')
            continue
        body = text[s.start:s.end].strip()
        if len(body) > max_chars:
            body = body[:max_chars] + "…"
        out.append(
            f'<details class="rag-ol-item"{style}><summary>{label}{tag}</summary>'
            f'<div class="rag-ctx">{esc(body)}</div></details>'
        )
    out.append("</div>")
    return "".join(out)


# --- eval tab -----------------------------------------------------------------------------
_LOCAL_IMAGE = re.compile(r"!\[[^\]]*\]\((?!https?:|data:)[^)]*\)")


def strip_local_images(markdown: str) -> str:
    """Drop Markdown images with relative paths (the chart is shown on its own)."""
    return _LOCAL_IMAGE.sub("", markdown or "")
