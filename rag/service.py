"""Wiring: the embedder, the store, the retriever and the answerer, loaded once per
process and shared (CLI, app, eval, bench)."""
from __future__ import annotations

import threading

_lock = threading.Lock()
_answerer = None


class IndexMissing(RuntimeError):
    pass


def answerer(require_index: bool = True):
    """The process-wide Answerer (models load on first use)."""
    global _answerer
    with _lock:
        if _answerer is None:
            from .answer import Answerer
            from .embed import get_embedder
            from .llm import config_from_env
            from .retrieve import Retriever
            from .store import Store

            store = Store(get_embedder())
            _answerer = Answerer(Retriever(store), config_from_env())
    if require_index and not _answerer.retriever.passages:
        _answerer.retriever.refresh()  # an index built since (by `rag index` elsewhere)
    if require_index and not _answerer.retriever.passages:
        raise IndexMissing("还没有建立索引 (no reports are indexed): run `rag index` (or `make run`) first")
    return _answerer


def reset() -> None:
    global _answerer
    with _lock:
        _answerer = None
