"""Search tokens: jieba's search-mode cut, lower-cased, with the lexicon's indicator names
as words, question words and punctuation left out.

Two dictionaries:

* :func:`tokenize` (the BM25 tokens of chunks and the key terms of questions) cuts with
  jieba's dictionary and the lexicon's words only — never with a corpus's region names.
  A text's tokens are thus the same in every process, whatever it indexed or loaded
  before: the token files an indexer writes equal the ones a replica rebuilds from the
  store, and a report indexed before a new region arrived needs no re-tokenising.
  :func:`tokens_key` names that dictionary (the sparse index is rebuilt when it changes).
* :func:`words` (precise cut, for token-boundary checks in questions and region names)
  also knows the corpus's region names, added by :func:`add_words`, each once.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
import threading

_PUNCT = re.compile(r"^[\W_]+$")
_lock = threading.Lock()
_added: set[str] = set()  # words add_words gave the precise-cut dictionary
TOKENS_VERSION = 2  # bump when tokenize() cuts differently (every sparse index is rebuilt)


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from ..lexicon import lexicon

    stop = lexicon().cues["stop"]
    return frozenset(stop["zh"]) | frozenset(stop["en"])


@functools.lru_cache(maxsize=1)
def _static_words() -> tuple[str, ...]:
    """The words every dictionary adds to jieba's own: the lexicon's indicator names, units."""
    from ..lexicon import lexicon

    words = set()
    for ind in lexicon().indicators:
        words |= {t for t in ind.terms + ind.ask if not t.isascii()}
    for unit in ("个百分点", "左右", "以上", "以内"):
        words.add(unit)
    return tuple(sorted(words))


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba

    with _lock:
        jieba.setLogLevel(60)
        cache = os.path.join(tempfile.gettempdir(), f"rag-jieba-{os.getuid() if hasattr(os, 'getuid') else 0}")
        os.makedirs(cache, exist_ok=True)
        jieba.dt.tmp_dir = cache
        for w in _static_words():
            jieba.add_word(w, freq=200000)
    return jieba


@functools.lru_cache(maxsize=1)
def _search_cutter():
    """tokenize()'s jieba: a copy of the dictionary as it is before any corpus word is added
    (the word table is copied, not loaded again)."""
    jb = _jieba()
    with _lock:
        tk = jb.Tokenizer()
        tk.tmp_dir = jb.dt.tmp_dir
        assert not _added, "the search dictionary is copied before any corpus word is added"
        tk.FREQ = dict(jb.dt.FREQ)
        tk.total = jb.dt.total
        tk.initialized = True
    return tk


@functools.lru_cache(maxsize=1)
def tokens_key() -> str:
    """Names what :func:`tokenize` cuts with (this code's version, jieba's, the lexicon's words)."""
    import jieba

    blob = "\n".join([str(TOKENS_VERSION), getattr(jieba, "__version__", ""), *_static_words()])
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:12]


def add_words(words) -> None:
    """More whole words for :func:`words` (a corpus's region names), so they are not cut
    apart. Each is added once (adding a word again would raise jieba's total count and
    shift other cuts); :func:`tokenize` never sees them."""
    jb = _jieba()
    _search_cutter()  # copied before the first corpus word
    with _lock:
        for w in sorted({w for w in words if w and not w.isascii()} - _added - set(_static_words())):
            jb.add_word(w, freq=200000)
            _added.add(w)


def tokenize(text: str) -> list[str]:
    """Search tokens of ``text``."""
    jb = _search_cutter()
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
