"""Search tokens: jieba's search-mode cut, lower-cased, with the lexicon's indicator names
and the gazetteer's region names as words, question words and punctuation left out."""
from __future__ import annotations

import functools
import os
import re
import tempfile
import threading

_PUNCT = re.compile(r"^[\W_]+$")
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from ..lexicon import lexicon

    stop = lexicon().cues["stop"]
    return frozenset(stop["zh"]) | frozenset(stop["en"])


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba

    from ..lexicon import lexicon

    with _lock:
        jieba.setLogLevel(60)
        cache = os.path.join(tempfile.gettempdir(), f"rag-jieba-{os.getuid() if hasattr(os, 'getuid') else 0}")
        os.makedirs(cache, exist_ok=True)
        jieba.dt.tmp_dir = cache
        words = set()
        for ind in lexicon().indicators:
            words |= {t for t in ind.terms + ind.ask if not t.isascii()}
        for unit in ("个百分点", "左右", "以上", "以内"):
            words.add(unit)
        for w in words:
            jieba.add_word(w, freq=200000)
    return jieba


def add_words(words) -> None:
    """More whole words (a corpus's region names), so they are not cut apart."""
    jb = _jieba()
    with _lock:
        for w in words:
            if w and not w.isascii():
                jb.add_word(w, freq=200000)


def tokenize(text: str) -> list[str]:
    """Search tokens of ``text``."""
    jb = _jieba()
    stop = stop_words()
    out = []
    for t in jb.lcut_for_search(text.lower()):
        t = t.strip()
        if t and t not in stop and not _PUNCT.match(t):
            out.append(t)
    return out


def words(text: str) -> list[str]:
    """Plain jieba words (precise mode), for token-boundary checks."""
    return _jieba().lcut(text)
