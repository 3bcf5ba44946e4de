"""Chunking: find the sections of a report, then cut each section into chunks.

Two steps, each a plain function:

* ``sections(doc)`` reads the heading structure. Government work reports number their
  heads (``一、`` > ``（一）``/``(一)`` > run-in heads) but the markup varies from file to
  file: markdown ``#`` marks of any depth, spaced titles ("政 府 工 作 报 告"), bold
  run-in heads (``**加强主体培育。**…``), unnumbered heads ("一年来,我们推动…"),
  "——" lead paragraphs, short head lines ("提升内外交通能级。"), glossary entries
  (名词解释) and, in news articles, short title lines. The level comes from the
  numbering, never from the count of ``#``.
* ``chunk(doc)`` splits each section at sentence ends (。！？；) under a token budget,
  with a small overlap, merging a short tail into its neighbour within the section.
  No chunk crosses a section, and every chunk's ``text == doc.text[start:end]``.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from . import tokens
from .types import Chunk, Document, Section

VERSION = 2  # bump when sections or chunks would come out differently (forces a re-chunk)
BUDGET = 300  # cl100k tokens per chunk
OVERLAP = 40  # tokens of trailing sentences repeated at the start of the next chunk
MIN_TOKENS = 60  # a tail shorter than this merges into the previous chunk

_NUM = "一二三四五六七八九十"
_MD = re.compile(r"^#{1,6}\s*")
_L1 = re.compile(rf"^[{_NUM}]{{1,3}}、")
_L2 = re.compile(rf"^[（(][{_NUM}]{{1,3}}[）)]")
_BOLD = re.compile(r"^\*\*(.+?)\*\*")
_PAGE = re.compile(r"\s*[（(]\s*P\d+\s*[)）]\s*")
_UNNUMBERED = re.compile(r"^(一年来|这五年|五年来)[,，]")
_END_PUNCT = "。！？；：:;!?…”」』）)"
_SENT_END = re.compile(r"[。！？；!?;]+[”’」』）)\"]*|\n")
_CLAUSE_END = re.compile(r"[，,、：:]")


@dataclass(frozen=True)
class _Head:
    level: int
    label: str
    start: int  # offset of the heading line
    body_start: int  # offset after the heading line (== start for run-in heads)
    kind: str = ""  # "glossary" for glossary entries


def _clean(label: str) -> str:
    label = label.strip().strip("*").strip()
    label = _PAGE.sub("", label)
    # "政 府 工 作 报 告" → "政府工作报告": drop spaces between single CJK characters
    label = re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", label)
    label = re.sub(r"\s+", " ", label)
    return label.rstrip("。:：;；,， ")


def _first_clause(s: str, cap: int = 30) -> str:
    m = re.search(r"[。！？；]", s)
    head = s[: m.start()] if m else s
    if len(head) > cap:
        c = _CLAUSE_END.search(head)
        head = head[: c.start()] if c and c.start() >= 4 else head[:cap]
    return head


def _lines(doc: Document):
    """(start, end, stripped text, content start) of each line inside the content spans."""
    for ks, ke in doc.keep:
        pos = ks
        for line in doc.text[ks:ke].splitlines(keepends=True):
            bare = line.rstrip("\r\n")
            lead = len(bare) - len(bare.lstrip(" \t\u3000"))
            yield pos, pos + len(bare), bare.strip(" \t\u3000"), pos + lead
            pos += len(line)


def _heads(doc: Document) -> list[_Head]:
    lines = list(_lines(doc))
    heads: list[_Head] = []
    seen_l1 = False
    in_glossary = False
    title_done = False
    blank_run = 0
    prev_text = ""
    prev_head = False
    article = doc.report.kind == "article"
    for i, (ls, le, s, cs) in enumerate(lines):
        if not s:
            blank_run += 1
            continue
        nxt = next((t for _, _, t, _ in lines[i + 1 :] if t), "")
        md = _MD.match(s)
        bare = _MD.sub("", s).strip()
        plain = bare.strip("*").strip()
        head: _Head | None = None
        if not title_done:
            title_done = True
            if len(plain) <= 40 and not plain.endswith("。"):
                head = _Head(0, _clean(plain), ls, le)
        elif md and plain in ("附件", "名词解释"):
            level = 2 if (plain == "名词解释" and heads and heads[-1].label == "附件") else 1
            head = _Head(level, plain, ls, le)
            in_glossary = plain == "名词解释" or in_glossary
        elif _L1.match(plain) and len(plain) <= 40:
            head = _Head(1, _clean(plain), ls, le)
            seen_l1, in_glossary = True, False
        elif _L2.match(plain):
            standalone = len(plain) <= 40 and "。" not in plain.rstrip("。")
            label = _clean(plain) if standalone else _clean(_first_clause(plain, 40))
            head = _Head(2, label, ls, le if standalone else cs)
        elif seen_l1 and _UNNUMBERED.match(plain) and len(plain) <= 40 and "。" not in plain.rstrip("。"):
            head = _Head(2, _clean(plain), ls, le)
        elif (m := _BOLD.match(bare)) and (seen_l1 or in_glossary):
            label = _clean(m.group(1))
            head = _Head(3, label, ls, cs, "glossary" if in_glossary else "")
        elif md and seen_l1:
            head = _Head(2, _clean(plain), ls, le)
        elif seen_l1 and plain.startswith("——") and len(plain) > 6:
            head = _Head(3, _clean(_first_clause(plain[2:], 24)), ls, cs)
        elif (
            seen_l1
            and not article
            and len(plain) <= 16
            and re.search(r"[\u4e00-\u9fff]", plain)
            and not re.search(r"[\d,，]", plain)
            and (prev_text[-1:] in _END_PUNCT or prev_head)
            and len(nxt) > len(plain)
            and not _L1.match(nxt)
            and not _L2.match(nxt)
            and not plain.endswith((":", "："))
        ):
            head = _Head(3, _clean(plain), ls, le)
        elif (
            article
            and blank_run == 1
            and len(plain) <= 14
            and not re.search(r"[，,。、：:；;！？\s]", plain)
            and len(nxt) > 20
        ):
            head = _Head(1, _clean(plain), ls, le)
            seen_l1 = True
        elif seen_l1 and re.fullmatch(r"-{3,}|\*{3,}|_{3,}", plain) and len(nxt) > 0:
            head = _Head(1, "（文末）", ls, le)
            in_glossary = False
        if head is not None:
            heads.append(head)
        prev_head = head is not None
        prev_text = s
        blank_run = 0
    return heads


def _kind(label: str, year: int, current: str) -> str:
    if label in ("附件", "名词解释"):
        return "other"
    years = [int(y) for y in re.findall(r"(20\d{2})", label)]
    if re.search(r"回顾|成就|主要工作和|工作总结|成效", label) or any(y < year for y in years):
        return "review"
    if re.search(r"目标|任务|安排|要求|计划|打算|展望", label) or any(y >= year for y in years if year):
        return "plan"
    return current if current in ("plan", "review") else "other"


def sections(doc: Document) -> list[Section]:
    """Every section of the document, in order, with its heading path and kind."""
    heads = _heads(doc)
    content_end = doc.keep[-1][1] if doc.keep else len(doc.text)
    out: list[Section] = []
    stack: list[_Head] = []
    top_kind = "other"
    if doc.report.kind == "article":
        top_kind = "review"
    first = doc.keep[0][0] if doc.keep else 0
    if not heads or heads[0].start > first:
        # text before the first heading: its own section
        end = heads[0].start if heads else content_end
        if doc.text[first:end].strip():
            out.append(Section(("（正文）",), first, end, first, top_kind))
    for i, h in enumerate(heads):
        end = heads[i + 1].start if i + 1 < len(heads) else content_end
        if h.level == 0:
            stack = [h]
            label_path: tuple[str, ...] = (h.label,)
            out.append(Section(label_path, h.start, end, h.body_start, top_kind))
            continue
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        if h.level == 1:
            top_kind = "review" if doc.report.kind == "article" else _kind(h.label, doc.report.year, top_kind)
        path = tuple(x.label for x in stack if x.level > 0)
        out.append(Section(path, h.start, end, h.body_start, top_kind))
    return out


_HEAD_START = re.compile(rf"\s*(#|\*\*|——|[（(][{_NUM}]|[{_NUM}]{{1,3}}、)")


def _broken_line(text: str, pos: int, nl: int, end: int) -> bool:
    """Is the newline at `nl` a line break inside a sentence (as PDF copies have)? Yes when
    the line before is long and ends without punctuation, and the next is no heading."""
    j = nl
    while j > pos and text[j - 1].isspace():  # skip blank lines back to the text
        j -= 1
    ls = text.rfind("\n", pos, j)
    line = text[(ls + 1 if ls >= 0 else pos) : j]
    if len(line.strip()) < 20 or line[-1] in _END_PUNCT or line.lstrip().startswith(("#", "**")):
        return False
    return not _HEAD_START.match(text, nl + 1, end)


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (offsets into `text`) between start and end, whitespace trimmed.
    Sentences end at 。！？； and at line ends, but for lines broken mid-sentence."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    pos = start
    for m in _SENT_END.finditer(text, start, end):
        if m.group(0) == "\n" and _broken_line(text, pos, m.start(), end):
            continue
        _add_trimmed(text, pos, m.end(), out)
        pos = m.end()
    _add_trimmed(text, pos, end, out)
    return out


def _add_trimmed(text: str, s: int, e: int, out: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append((s, e))


def _split_long(text: str, s: int, e: int, budget: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at clause marks, then by characters."""
    pieces: list[tuple[int, int]] = []
    pos = s
    for m in _CLAUSE_END.finditer(text, s, e):
        pieces.append((pos, m.end()))
        pos = m.end()
    if pos < e:
        pieces.append((pos, e))
    out: list[tuple[int, int]] = []
    cur_s, cur_e, cur_t = pieces[0][0], pieces[0][0], 0
    for ps, pe in pieces:
        t = tokens.count(text[ps:pe])
        if t > budget:  # a clause alone too long: fixed-size character windows
            if cur_e > cur_s:
                out.append((cur_s, cur_e))
            step = max(20, budget // 2)
            out.extend((x, min(x + step, pe)) for x in range(ps, pe, step))
            cur_s, cur_e, cur_t = pe, pe, 0
            continue
        if cur_t + t > budget and cur_e > cur_s:
            out.append((cur_s, cur_e))
            cur_s, cur_t = ps, 0
        cur_e, cur_t = pe, cur_t + t
    if cur_e > cur_s:
        out.append((cur_s, cur_e))
    return out


def _pack(text: str, units: list[tuple[int, int]], budget: int, overlap: int, min_tokens: int):
    """Greedy packing of sentence units into (start, end) windows under the budget."""
    sized = []
    for s, e in units:
        t = tokens.count(text[s:e])
        if t > budget:
            sized.extend((a, b, tokens.count(text[a:b])) for a, b in _split_long(text, s, e, budget))
        else:
            sized.append((s, e, t))
    windows: list[list[tuple[int, int, int]]] = []
    cur: list[tuple[int, int, int]] = []
    cur_t = 0
    for u in sized:
        if cur and cur_t + u[2] > budget:
            windows.append(cur)
            tail: list[tuple[int, int, int]] = []
            tt = 0
            for v in reversed(cur):  # overlap: the last short sentence(s)
                if tt + v[2] > overlap or len(tail) == len(cur) - 1:
                    break
                tail.insert(0, v)
                tt += v[2]
            cur, cur_t = tail, tt
        cur.append(u)
        cur_t += u[2]
    if cur:
        fresh = sum(v[2] for v in cur if not windows or v[0] >= windows[-1][-1][1])
        if windows and fresh < min_tokens and sum(v[2] for v in windows[-1]) + fresh <= budget * 1.25:
            last_end = windows[-1][-1][1]
            windows[-1] = windows[-1] + [v for v in cur if v[0] >= last_end]
        elif not windows or fresh > 0:
            windows.append(cur)
    return [(w[0][0], w[-1][1]) for w in windows]


def chunk(
    doc: Document, budget: int = BUDGET, overlap: int = OVERLAP, min_tokens: int = MIN_TOKENS
) -> list[Chunk]:
    """The chunks of a document, in order."""
    text = doc.text
    out: list[Chunk] = []
    seen: dict[str, int] = {}
    for sec in sections(doc):
        # one run of sentence units per content span: no chunk bridges boilerplate
        runs = [split_sentences(text, max(sec.start, ks), min(sec.end, ke)) for ks, ke in doc.keep]
        runs = [r for r in runs if r]
        # a section that is only its heading line gives no chunk (its path lives on in children)
        if not runs or (sec.body_start > sec.start and all(e <= sec.body_start for r in runs for _, e in r)):
            continue
        windows = [w for r in runs for w in _pack(text, r, budget, overlap, min_tokens)]
        for s, e in windows:
            piece = text[s:e]
            h = hashlib.sha1((" > ".join(sec.path) + "\x00" + piece).encode()).hexdigest()
            n = seen.get(h, 0)
            seen[h] = n + 1
            cid = f"{doc.report.id}:{h[:12]}" + (f"-{n + 1}" if n else "")
            out.append(
                Chunk(
                    id=cid,
                    report_id=doc.report.id,
                    doc=doc.report.file,
                    section_path=sec.path,
                    section_kind=sec.kind,
                    start=s,
                    end=e,
                    text=piece,
                    tokens=tokens.count(piece),
                    hash=h,
                )
            )
    return out
