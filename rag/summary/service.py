"""Summaries of indexed reports: resolved through the corpus, cached under
``<home>/summaries`` by the report's content hash and the settings (mode, model,
``model.VERSION``, the lexicon)."""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import replace

from ..lexicon import version as lexicon_version
from .extractive import extractive
from .llm import with_llm_overview
from .model import VERSION, Summary


def _cache_path(home, r, mode: str) -> "os.PathLike":
    key = hashlib.sha1(f"{r.key}|{mode}|{VERSION}|{lexicon_version()}".encode()).hexdigest()[:20]
    return home / "summaries" / f"{r.id}-{key}.json"


def summarize(services, ref: str, *, use_llm: bool = False, use_cache: bool = True) -> Summary:
    """The summary of one indexed report (id, file name, path, "region year")."""
    corpus = services.corpus
    r = corpus.resolve(ref)
    cfg = services.settings.llm if use_llm else None
    mode = f"llm:{cfg.model}" if cfg else "extractive"
    sha = corpus.entries.get(r.key, {}).get("sha256", "")
    path = _cache_path(services.settings.home, r, mode)
    if use_cache and path.exists():
        try:
            s = Summary.from_dict(json.loads(path.read_text(encoding="utf-8")), cached=True)
            if s.sha256 == sha:
                return s
        except (ValueError, KeyError, TypeError):
            pass
    t0 = time.perf_counter()
    s = extractive(corpus, r)
    if cfg is not None:
        s = with_llm_overview(s, cfg, services.settings.prompts)
    s = replace(s, seconds=time.perf_counter() - t0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(s.to_dict(), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return s


def summarize_all(services, **kw) -> list[Summary]:
    return [summarize(services, r.key, **kw) for r in services.corpus.reports]
