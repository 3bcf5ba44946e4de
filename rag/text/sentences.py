"""Sentences and clauses of Chinese report text, as offsets into the text.

Sentences end at 。！？；!?; (closing quotes and brackets stay with them) and at line
ends, except a line broken in the middle of a sentence (as PDF and web copies have):
a long line ending without punctuation whose next line is not a heading runs on.
Clauses split a sentence further at ，、：, and at "；" inside long enumerations.
"""
from __future__ import annotations

import re

SENT_END = re.compile(r"[。！？；!?;]+[”’」』）)\"]*|\n")
CLAUSE_END = re.compile(r"[，,、：:；;]")
END_PUNCT = "。！？；：:;!?…”」』）)"
_HEAD_START = re.compile(r"\s*(#|\*\*|——|[（(][一二三四五六七八九十\d]|[一二三四五六七八九十]{1,3}、|第[一二三四五六七八九十]+[章部节])")


def _broken_line(text: str, pos: int, nl: int, end: int) -> bool:
    """Is the newline at ``nl`` a break inside a sentence? Yes when the line before is long
    and ends without punctuation, and the next line starts no heading."""
    j = nl
    while j > pos and text[j - 1].isspace():
        j -= 1
    ls = text.rfind("\n", pos, j)
    line = text[(ls + 1 if ls >= 0 else pos): j]
    if len(line.strip()) < 20 or line[-1] in END_PUNCT or line.lstrip().startswith(("#", "**")):
        return False
    return not _HEAD_START.match(text, nl + 1, end)


def _trimmed(text: str, s: int, e: int) -> tuple[int, int] | None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return (s, e) if e > s else None


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (offsets into ``text``) between start and end, whitespace trimmed."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    pos = start
    for m in SENT_END.finditer(text, start, end):
        if m.group(0) == "\n" and _broken_line(text, pos, m.start(), end):
            continue
        if (t := _trimmed(text, pos, m.end())) is not None:
            out.append(t)
        pos = m.end()
    if (t := _trimmed(text, pos, end)) is not None:
        out.append(t)
    return out


def split_clauses(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Clause spans of ``text[start:end]``: cut after ，,、：:；; (the mark stays with its clause)."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    pos = start
    for m in CLAUSE_END.finditer(text, start, end):
        if (t := _trimmed(text, pos, m.end())) is not None:
            out.append(t)
        pos = m.end()
    if (t := _trimmed(text, pos, end)) is not None:
        out.append(t)
    return out


def one_line(s: str) -> str:
    """A sentence for display: markdown emphasis and line breaks inside it removed."""
    s = re.sub(r"\*\*", "", s.strip().lstrip("#").strip())
    return re.sub(r"\s*\n\s*", "", s)


def full_sentence(text: str, a: int, b: int, head_chars: int = 24) -> tuple[int, int]:
    """[a, b) widened to whole 。-sentences ("；" and "，" do not end one), and to the short
    run-in head that opens its line ("更精准措施促进消费。社会消费品零售总额…")."""
    lo = max(text.rfind(c, 0, a) for c in "。！？!?\n") + 1
    ends = [i for i in (text.find(c, max(a, b - 1)) for c in "。！？!?\n") if i >= 0]
    hi = min(ends) + 1 if ends else len(text)
    if text[hi - 1: hi] == "\n":
        hi -= 1
    line = text.rfind("\n", 0, lo) + 1
    head = text[line:lo].strip(" \t\u3000")
    if head and len(head) <= head_chars and head.endswith(("。", "！")) and head.count("。") == 1:
        lo = line
    while lo < hi and text[lo] in " \t\u3000\n":
        lo += 1
    return lo, max(hi, b)
