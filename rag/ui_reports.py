"""Formatting for the app's Reports tab: the catalog table and choices, a report's header
and section outline, uploads (safe file names, size limits, what was indexed or refused)
and metadata corrections (years typed by a user). Pure functions, no Gradio; report text
and user-typed names go through :func:`rag.ui_format.esc`, as everywhere in the UI.
"""
from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from .types import Report, Section
from .ui_format import SOURCE_LABELS, esc, level_label


# --- reports tab --------------------------------------------------------------------------
CATALOG_HEADERS = ["地区 region", "级别 level", "年份 year", "标题 title", "ID", "格式 format",
                   "来源 from (region / year)", "文件 file"]
CATALOG_ID_COL = CATALOG_HEADERS.index("ID")


def source_label(source: str) -> str:
    return SOURCE_LABELS.get(source or "", source or "?")


def level_source(r: Report) -> str:
    """Where the level came from: the catalog when it says so, else with the region."""
    return r.source("level") or r.source("region")


def _sorted(reports: Iterable[Report]) -> list[Report]:
    return sorted(reports, key=lambda r: (r.region, r.year, r.id))


def catalog_rows(reports: Iterable[Report], formats: Mapping[str, str] | None = None) -> list[list]:
    """Rows of the catalog table, by region then year. ``formats``: report key → format."""
    formats = formats or {}
    return [
        [r.region or "?", level_label(r.level), r.year or "?", r.title, r.id, formats.get(r.key, ""),
         f"{r.source('region') or '?'} / {r.source('year') or '?'}", r.file]
        for r in _sorted(reports)
    ]


def report_choices(reports: Iterable[Report], all_label: str | None = None) -> list[tuple[str, str]]:
    """(label, report key) pairs for a dropdown; ``all_label`` adds ("…", "") first."""
    out = [(all_label, "")] if all_label else []
    out += [(f"{r.title} [{r.id}]", r.key) for r in _sorted(reports)]
    return out


def report_header_html(r: Report, fmt: str = "") -> str:
    bits = [f"{r.region or '?'} · {r.year or '?'}年 · {level_label(r.level)}"]
    if r.parent:
        bits.append(f"属 {r.parent}")
    if r.speaker:
        bits.append(r.speaker)
    if r.review_years:
        bits.append("回顾 review " + "、".join(map(str, r.review_years)))
    if r.plan_years:
        bits.append("计划 plan " + "、".join(map(str, r.plan_years)))
    src = (f"地区来自 region from {source_label(r.source('region'))} · 级别来自 level from {source_label(level_source(r))}"
           f" · 年份来自 year from {source_label(r.source('year'))}")
    guessed = ' <span class="rag-guessed">推测 guessed</span>' if r.guessed else ""
    extra = f" · {esc(fmt)}" if fmt else ""
    return (
        f'<div class="rag-report"><div class="rag-report-title">{esc(r.title)}</div>'
        f'<div class="rag-meta">{esc(" · ".join(bits))} · <code>{esc(r.id)}</code> · <code>{esc(r.file)}</code>{extra}</div>'
        f'<div class="rag-meta rag-sources-of">{esc(src)}{guessed}</div></div>'
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


# --- upload -------------------------------------------------------------------------------
_UNSAFE = re.compile(r"[^\w.()（）\[\]【】+\-]+")
MAX_NAME_BYTES = 180  # of UTF-8: file systems allow 255
_RESERVED = re.compile(r"^(readme|license|licence|changelog|copying|notice|catalog)(\.|$)", re.I)


def safe_upload_name(name: str, suffixes: Iterable[str]) -> str:
    """A file name safe to write into the uploads folder: the last path component only
    (no ``..``, no folders, either slash), NFKC-normalised, every character outside
    letters, digits, CJK and ``._-+()[]`` replaced by ``_``, no leading dot, at most
    180 bytes, and never a name the folder scan would pass over (README, catalog).
    Raises ValueError (one line) for a type ``suffixes`` does not accept."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", str(name or "")))[-1]
    base = "".join(ch for ch in base if ch.isprintable())
    stem, suffix = os.path.splitext(base)
    suffix = suffix.lower()
    accepted = {s.lower() for s in suffixes}
    if suffix not in accepted:
        raise ValueError(f"unsupported file type ({suffix or 'no suffix'}); accepted: {' '.join(sorted(accepted))}")
    stem = _UNSAFE.sub("_", stem).strip(" ._")
    stem = re.sub(r"_{2,}", "_", stem).strip("_") or "upload"
    stem = re.sub(r"\.{2,}", ".", stem)
    if _RESERVED.match(stem):
        stem = "upload-" + stem
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + suffix


def size_problem(size_bytes: int, max_mb: float) -> str:
    """One line when a file cannot be taken for its size, else ''."""
    if size_bytes <= 0:
        return "empty file"
    if size_bytes > max_mb * 1024 * 1024:
        return f"file is {size_bytes / 1024 / 1024:.1f} MB, over the {max_mb:g} MB limit (RAG_MAX_FILE_MB)"
    return ""


def upload_result_html(done: Sequence[tuple[str, str, Report | None]], refused: Sequence[tuple[str, str]],
                       seconds: float = 0.0) -> str:
    """What an upload did: each indexed report with its detected region, level and year
    and where each came from; each rejected or skipped file with its one-line reason.

    ``done``: (uploaded name, status added|changed|unchanged, report) — the name it is
    stored under (sanitised) is the report's ``file``, shown when it differs;
    ``refused``: (uploaded name, reason)."""
    out = ['<div class="rag-upload">']
    status_label = {"added": "新增 added", "changed": "已更新 updated", "unchanged": "已在索引中 already indexed"}
    if done:
        out.append(f'<div class="rag-h">已索引 indexed ({len(done)})'
                   + (f" · {seconds:.1f} s" if seconds else "") + "</div><ul class=\"rag-up-ok\">")
        for name, status, r in done:
            if r is None:
                out.append(f'<li><code>{esc(name)}</code> · {esc(status_label.get(status, status))}</li>')
                continue
            stored = f' → <code class="rag-up-stored">{esc(r.file)}</code>' if r.file and r.file != name else ""
            out.append(
                f'<li class="rag-up-report" data-key="{esc(r.key)}"><code>{esc(name)}</code>{stored} · '
                f'{esc(status_label.get(status, status))} · <span class="rag-title">{esc(r.title)}</span> '
                f'<code>{esc(r.id)}</code><br>'
                f'地区 region: <strong class="rag-up-region">{esc(r.region or "?")}</strong> ({esc(source_label(r.source("region")))})'
                f' · 级别 level: <strong class="rag-up-level">{esc(level_label(r.level))}</strong> ({esc(source_label(level_source(r)))})'
                f' · 年份 year: <strong class="rag-up-year">{esc(r.year or "?")}</strong> ({esc(source_label(r.source("year")))})'
                + (' <span class="rag-guessed">推测 guessed — 可在下方更正 (correct it below)</span>' if r.guessed else "")
                + "</li>"
            )
        out.append("</ul>")
    if refused:
        out.append(f'<div class="rag-h">未索引 not indexed ({len(refused)})</div><ul class="rag-up-refused">')
        for name, why in refused:
            out.append(f'<li class="rag-warn"><code>{esc(name)}</code>: {esc(" ".join(str(why).split()))}</li>')
        out.append("</ul>")
    if not done and not refused:
        out.append('<div class="rag-note">ℹ️ 没有文件 (no files)</div>')
    out.append("</div>")
    return "".join(out)


# --- correcting a report's metadata ---------------------------------------------------------
_YEAR_RANGE = re.compile(r"^((?:19|20)\d\d)\s*[-–—~～至到]\s*((?:19|20)\d\d)$")


def parse_year(value) -> int | None:
    """A year field: '' / None / 0 → None; 1900–2100 → the year; anything else: ValueError."""
    if value in (None, ""):
        return None
    s = unicodedata.normalize("NFKC", str(value)).strip().removesuffix("年")
    if not s:
        return None
    try:
        y = int(float(s))
    except ValueError:
        raise ValueError(f"year {value!r} is not a year (e.g. 2024)") from None
    if y == 0:
        return None
    if not 1900 <= y <= 2100:
        raise ValueError(f"year {y} is out of range (1900–2100)")
    return y


def parse_years(text) -> tuple[int, ...]:
    """'2023, 2024' / '2023、2024' / '2021-2025' (a range) → (2023, 2024) …; '' → ().
    Raises ValueError (one line) for anything that is not a year."""
    s = unicodedata.normalize("NFKC", str(text or "")).strip()
    if not s:
        return ()
    out: list[int] = []
    for part in re.split(r"[,，、;；\s]+", s):
        if not part:
            continue
        m = _YEAR_RANGE.match(part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if b < a or b - a > 20:
                raise ValueError(f"year range {part!r} is not a range of years")
            out.extend(range(a, b + 1))
            continue
        y = parse_year(part)
        if y is None:
            raise ValueError(f"{part!r} is not a year")
        out.append(y)
    return tuple(sorted(set(out)))


def years_text(years: Iterable[int]) -> str:
    return ", ".join(str(y) for y in years)


def correction_fields(r: Report, region: str, level: str, year, review: str, plan: str) -> dict:
    """The catalog fields a correction form changes: only what differs from the report
    as indexed; a field emptied becomes None (the catalog entry is dropped and the value
    is read from the text again). Raises ValueError for a bad year."""
    region = " ".join(str(region or "").split())
    level = str(level or "").strip()
    y = parse_year(year)
    rv, pl = parse_years(review), parse_years(plan)
    fields: dict = {}
    if region != (r.region or ""):
        fields["region"] = region or None
    if level != (r.level or ""):
        fields["level"] = level or None
    if (y or 0) != (r.year or 0):
        fields["year"] = y
    if rv != tuple(r.review_years):
        fields["review_years"] = list(rv) if rv else None
    if pl != tuple(r.plan_years):
        fields["plan_years"] = list(pl) if pl else None
    return fields
