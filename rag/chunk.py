"""Chunking: cut each section (``structure.sections``) into chunks at sentence ends under
a token budget, with a small overlap, merging a short tail into its neighbour. No chunk
crosses a section or a stretch of page furniture, and every chunk's
``text == doc.text[start:end]``.
"""
from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass

from . import tokens
from .structure import sections
from .text.sentences import CLAUSE_END as _CLAUSE_END
from .text.sentences import split_sentences
from .types import Chunk, Document

VERSION = 3  # bump when sections or chunks would come out differently (forces a re-chunk)


@dataclass(frozen=True)
class ChunkSettings:
    """How reports are cut. Recorded in the index: a change re-chunks every report."""

    budget: int = 300  # cl100k tokens per chunk
    overlap: int = 40  # tokens of trailing sentences repeated at the start of the next chunk
    min_tokens: int = 60  # a tail shorter than this merges into the previous chunk

    def key(self) -> str:
        return f"v{VERSION},budget={self.budget},overlap={self.overlap},min={self.min_tokens}"


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
        # the window's own token count (the text between sentences counts too)
        if cur and (cur_t + u[2] > budget or tokens.count(text[cur[0][0]: u[1]]) > budget):
            windows.append(cur)
            tail: list[tuple[int, int, int]] = []
            tt = 0
            for v in reversed(cur):  # overlap: the last short sentence(s)
                if tt + v[2] > overlap or len(tail) == len(cur) - 1:
                    break
                tail.insert(0, v)
                tt += v[2]
            if tail and tokens.count(text[tail[0][0]: u[1]]) > budget:
                tail, tt = [], 0  # no room for the overlap before this sentence
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


def _pages(doc: Document):
    starts = sorted((m.start, m.level) for m in (doc.marks or ()) if m.kind == "page")
    return [s for s, _ in starts], [p for _, p in starts]


def chunk(doc: Document, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    """The chunks of a document, in order."""
    budget, overlap, min_tokens = settings.budget, settings.overlap, settings.min_tokens
    text = doc.text
    starts, numbers = _pages(doc)
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
            cid = f"{doc.report.key or doc.report.id}:{h[:12]}" + (f"-{n + 1}" if n else "")
            pi = bisect.bisect_right(starts, s) - 1
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
                    ord=len(out),
                    page=numbers[pi] if pi >= 0 else 0,
                )
            )
    return out
