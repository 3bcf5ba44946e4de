"""The cue-matching primitives of question analysis: whether a question holds any of a
list of cue words (Chinese anywhere, English on word boundaries) or matches a data pattern.
The words and patterns themselves are data (``lexicon/cues.toml``)."""
from __future__ import annotations

import functools
import re

from .lexicon import lexicon, pattern

YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
CJK = re.compile(r"[\u4e00-\u9fff]")


def years_in(q: str) -> list[int]:
    """The years a question names, in order: four digits not followed by a unit ("超2000亿元"
    is an amount), and two-digit years where no duration word is around them ("株洲19年")."""
    out = [int(m.group(1)) for m in YEAR.finditer(q) if not pattern("not_year_next").match(q, m.end())]
    out += [2000 + int(m.group(1)) for m in pattern("short_year").finditer(q) if int(m.group(1)) < 50]
    return out


def has(low: str, words, prefix: bool = False) -> bool:
    """``low`` holds one of ``words``: a Chinese word anywhere, an English word on word
    boundaries (plural -s/-es allowed), or with ``prefix`` on a word start ("achiev" is
    achieve, achieved, achieving)."""
    tail = "" if prefix else r"(?:s|es)?(?![a-z])"
    for w in words:
        if w.isascii() and w[:1].isalpha():
            if re.search(rf"(?<![a-z]){re.escape(w)}{tail}", low):
                return True
        elif w in low:
            return True
    return False


def match(low: str, patterns) -> bool:
    return any(re.search(p, low) for p in patterns)


@functools.lru_cache(maxsize=1)
def cues() -> dict:
    return lexicon().cues


def said(low: str, name: str) -> bool:
    """``low`` matches the ``[patterns]`` entry ``name`` of ``cues.toml``."""
    return pattern(name).search(low) is not None


def cue_words(*groups: str) -> set[str]:
    """Every Chinese cue word of the named ``cues.toml`` groups (question words, never content)."""
    out: set[str] = set()
    for group in groups:
        for v in cues()[group].values():
            if isinstance(v, list):
                out |= {w for w in v if not w.isascii()}
    return out
