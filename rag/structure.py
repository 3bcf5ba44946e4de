"""The sections of a report: heads, their levels, and whether a part reviews or plans.

Heads are found from what the format marks (DOCX heading styles and bold runs, HTML
h1–h6) and from the numbering styles of Chinese official documents in
``lexicon/headings.toml`` (一、 > （一） > 1. > （1）, 第一章/第一部分, markdown ``#``,
bold run-in heads, unnumbered review heads, short head lines). A numbered style has a
fixed rank; an unnumbered style (a bold line, a markdown head, a short line) ranks just
below the numbered head it follows; run-in heads rank lowest. The review/plan kind of a
part comes from the words and years of its top head.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .lexicon import lexicon, pattern
from .types import Document, Section

_MD = re.compile(r"^#{1,6}\s*")
_BOLD_MD = re.compile(r"^\*\*(.+?)\*\*")
_PAGE_REF = re.compile(r"\s*[（(]\s*P\d+\s*[)）]\s*")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_YEAR = re.compile(r"((?:19|20)\d{2})")
RUNIN_RANK = 3.5


@dataclass(frozen=True)
class _Head:
    rank: float
    label: str
    start: int  # offset of the heading line
    body_start: int  # after the heading line (== the line start for a run-in head)


@functools.lru_cache(maxsize=1)
def _rules():
    h = lexicon().headings
    numbering = [(re.compile(n["pattern"]), float(n["level"]), n["name"]) for n in h["numbering"]]
    not_heads = re.compile("|".join(h.get("not_heads", ())) or r"(?!)")
    return numbering, re.compile(h["unnumbered"]["review"]), h["parts"], h["limits"], not_heads


def clean_label(label: str) -> str:
    label = label.strip().strip("*").strip()
    label = _PAGE_REF.sub("", label)
    # "政 府 工 作 报 告" → "政府工作报告": letter spacing goes; a space between words stays
    if re.fullmatch(r"(?:[\u4e00-\u9fff][ \u3000]+)+[\u4e00-\u9fff]", label):
        label = re.sub(r"[ \u3000]+", "", label)
    label = re.sub(r"\s+", " ", label)
    return label.rstrip("。:：;；,， ")


def _first_clause(s: str, cap: int) -> str:
    m = re.search(r"[。！？；]", s)
    head = s[: m.start()] if m else s
    if len(head) > cap:
        c = re.search(r"[，,、：:]", head)
        head = head[: c.start()] if c and c.start() >= 4 else head[:cap]
    return head


def _lines(doc: Document):
    """(start, end, stripped text, content start) of each line inside the content spans."""
    for ks, ke in doc.keep:
        pos = ks
        for line in doc.text[ks:ke].splitlines(keepends=True):
            bare = line.rstrip("\r\n")
            lead = len(bare) - len(bare.lstrip(" \t\u3000\u00a0"))
            yield pos, pos + len(bare), bare.strip(" \t\u3000\u00a0"), pos + lead
            pos += len(line)


def _marks(doc: Document):
    """Format marks by kind: heading and bold spans."""
    heads, bold = [], []
    for m in doc.marks or ():
        if m.kind == "heading":
            heads.append(m)
        elif m.kind == "bold":
            bold.append(m)
    return heads, bold


def _bold_cover(bold, s: int, e: int) -> tuple[float, int]:
    """Share of the line's non-space characters that are bold, and where a leading bold
    run ends (s if the line does not start bold)."""
    covered = 0
    lead_end = s
    for m in bold:
        if m.end <= s or m.start >= e:
            continue
        covered += min(e, m.end) - max(s, m.start)
        if m.start <= lead_end + 1 and m.end > lead_end:
            lead_end = min(e, m.end)
    return covered / max(1, e - s), lead_end


def _heads(doc: Document) -> list[_Head]:
    numbering, unnumbered, parts, limits, not_heads = _rules()
    max_head, max_short = int(limits["max_head_chars"]), int(limits["max_short_head"])
    fmt_heads, bold = _marks(doc)
    lines = list(_lines(doc))
    heads: list[_Head] = []
    last_numbered = 0.0  # rank of the most recent numbered head
    title_done = False
    prev_text = ""
    prev_head = False
    in_glossary = False
    for i, (ls, le, s, cs) in enumerate(lines):
        if not s:
            continue
        nxt = next((t for _, _, t, _ in lines[i + 1:] if t), "")
        md = _MD.match(s)
        plain = _MD.sub("", s).strip()
        plain_nb = plain.strip("*").strip()
        head: _Head | None = None
        num = next(((rank, name) for rx, rank, name in numbering if rx.match(plain_nb)), None)
        share, lead_end = _bold_cover(bold, cs, le)
        fmt_head = next((m for m in fmt_heads if m.start <= cs < m.end or cs <= m.start < le), None)
        sentence_end = "。" in plain_nb.rstrip("。")
        if not_heads.match(plain_nb):
            prev_head, prev_text = False, s
            continue
        if not title_done:
            title_done = True
            if len(plain_nb) <= max_head and not plain_nb.endswith("。"):
                heads.append(_Head(0, clean_label(plain_nb), ls, le))
                prev_head, prev_text = True, s
                continue
        if md and plain_nb in parts["appendix"]:
            head = _Head(1, plain_nb, ls, le)
            in_glossary = True
        elif num is not None and num[0] <= 2:
            if len(plain_nb) <= max_head and not sentence_end:
                head = _Head(num[0], clean_label(plain_nb), ls, le)
            else:  # "（一）加快…。正文…": the head runs into its paragraph
                head = _Head(num[0], clean_label(_first_clause(plain_nb, max_head)), ls, cs)
            last_numbered, in_glossary = num[0], False
        elif fmt_head is not None and len(plain_nb) <= max_head * 2:
            rank = float(num[0]) if num else (last_numbered + 0.5 if last_numbered else 1.0)
            head = _Head(rank, clean_label(plain_nb), ls, le)
        elif (md or share >= 0.9) and len(plain_nb) <= max_head and not sentence_end and _CJK.search(plain_nb):
            rank = float(num[0]) if num else (last_numbered + 0.5 if last_numbered else 1.0)
            head = _Head(rank, clean_label(plain_nb), ls, le)
        elif num is not None and len(plain_nb) <= max_head and not sentence_end and heads:
            head = _Head(num[0], clean_label(plain_nb), ls, le)
        elif (m := _BOLD_MD.match(_MD.sub("", s))) and heads:
            head = _Head(RUNIN_RANK, clean_label(m.group(1)), ls, cs)
        elif lead_end > cs + 1 and share < 0.9 and heads and lead_end - cs <= max_head + 2:
            head = _Head(RUNIN_RANK, clean_label(doc.text[cs:lead_end]), ls, cs)
        elif (
            len(plain_nb) <= max_short + 4
            and not re.search(r"[，,。；;！？]", plain_nb)
            and any(w in plain_nb for w in parts["review_strong"] + parts["review"] + parts["plan"])
            and last_numbered <= 1
            and len(nxt) > len(plain_nb)
        ):  # an unnumbered part head: "2024年工作回顾", "2025年工作安排"
            head = _Head(1.0, clean_label(plain_nb), ls, le)
            last_numbered = 1.0
        elif last_numbered and unnumbered.match(plain_nb) and len(plain_nb) <= max_head and not sentence_end:
            head = _Head(last_numbered + 0.5, clean_label(plain_nb), ls, le)
        elif in_glossary and re.match(r"^[\d]+[.．、]|^[①-⑳]", plain_nb):
            head = _Head(RUNIN_RANK, clean_label(_first_clause(plain_nb, 24)), ls, cs)
        elif last_numbered and plain_nb.startswith("——") and len(plain_nb) > 6:
            head = _Head(RUNIN_RANK, clean_label(_first_clause(plain_nb[2:], 24)), ls, cs)
        elif (
            last_numbered
            and len(plain_nb) <= max_short
            and _CJK.search(plain_nb)
            and not re.search(r"[\d,，：:]", plain_nb)
            and (prev_text[-1:] in "。！？；：:;!?…”」』）)" or prev_head)
            and len(nxt) > len(plain_nb)
            and not any(rx.match(nxt) for rx, rank, _ in numbering if rank <= 2)
        ):
            head = _Head(last_numbered + 0.5, clean_label(plain_nb), ls, le)
        elif (
            last_numbered >= 2
            and len(plain_nb) >= 60
            and (lead := re.match(r"[^。！？；]{4,30}?。", plain_nb))
            and not re.search(r"\d", lead.group(0))
            and lead.group(0).count("，") <= 1
            and not pattern("not_run_in", "text").match(plain_nb)
        ):  # a paragraph led by a short head sentence: "加强和改进民族工作。…"
            head = _Head(RUNIN_RANK, clean_label(lead.group(0)), ls, cs)
        elif last_numbered and re.fullmatch(r"-{3,}|\*{3,}|_{3,}", plain_nb) and nxt:
            head = _Head(1, "（文末）", ls, le)
            last_numbered = 1
        if head is not None and head.label:
            heads.append(head)
        prev_head = head is not None
        prev_text = s
    return heads


def part_kind(label: str, year: int, current: str) -> str:
    """"review" | "plan" | "other" for a top-level head: its years first ("2021年主要工作安排"
    in a 2021 report plans), then words that only a review uses (回顾, 成就), then plan
    words (目标, 任务, 安排), then weaker review words (主要工作)."""
    parts = _rules()[2]
    if any(w in label for w in parts["appendix"]):
        return "other"
    years = [int(y) for y in _YEAR.findall(label)]
    if year and years:
        if all(y < year for y in years):
            return "review"
        if all(y >= year for y in years):
            return "plan"
    if any(w in label for w in parts["review_strong"]):
        return "review"
    if any(w in label for w in parts["plan"]):
        return "plan"
    if any(w in label for w in parts["review"]):
        return "review"
    return current if current in ("plan", "review") else "other"


def sections(doc: Document) -> list[Section]:
    """Every section of the document, in order, with its heading path, kind and level."""
    heads = _heads(doc)
    ranks = sorted({h.rank for h in heads if h.rank > 0})
    level_of = {r: i + 1 for i, r in enumerate(ranks)}
    content_end = doc.keep[-1][1] if doc.keep else len(doc.text)
    first = doc.keep[0][0] if doc.keep else 0
    article = doc.report.kind == "article"
    top_kind = "review" if article else "other"
    out: list[Section] = []
    if not heads or heads[0].start > first:
        end = heads[0].start if heads else content_end
        if doc.text[first:end].strip():
            out.append(Section(("（正文）",), first, end, first, top_kind, 1))
    stack: list[_Head] = []
    for i, h in enumerate(heads):
        end = heads[i + 1].start if i + 1 < len(heads) else content_end
        if h.rank == 0:
            stack = []
            out.append(Section((h.label,), h.start, end, h.body_start, top_kind, 0))
            continue
        while stack and stack[-1].rank >= h.rank:
            stack.pop()
        stack.append(h)
        if len(stack) == 1:
            top_kind = "review" if article else part_kind(h.label, doc.report.year, top_kind)
        out.append(Section(tuple(x.label for x in stack), h.start, end, h.body_start, top_kind, level_of[h.rank]))
    return out


def subtree_end(secs: list[Section], i: int) -> int:
    """Where section ``i`` ends with all its subsections (``Section.end`` is where its own
    text ends, at its first subsection)."""
    depth = len(secs[i].path)
    for s in secs[i + 1:]:
        if len(s.path) <= depth or s.path[:depth] != secs[i].path:
            return s.start
    return secs[-1].end if secs else 0


def children(secs: list[Section], i: int) -> list[Section]:
    """The direct subsections of section ``i``."""
    depth, end = len(secs[i].path), subtree_end(secs, i)
    return [s for s in secs[i + 1:] if s.start < end and len(s.path) == depth + 1 and s.path[:depth] == secs[i].path]
