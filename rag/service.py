"""Wiring: settings → embedder → store → sparse index → corpus → retriever → answerer,
built once per process and shared (CLI, app, eval, bench)."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from .settings import Settings, current

_lock = threading.Lock()
_services: "Services | None" = None


class IndexMissing(RuntimeError):
    pass


@dataclass
class Services:
    settings: Settings
    embedder: object
    store: object
    sparse: object
    corpus: object
    retriever: object
    answerer: object


def store_name(settings: Settings, embedder) -> str:
    return f"{settings.collection}-{embedder.key}"


def build(settings: Settings | None = None) -> Services:
    from .answer import Answerer
    from .corpus import Corpus
    from .embed import get_embedder
    from .retrieve import Retriever
    from .sparse import SparseIndex
    from .store import Store

    settings = settings or current()
    embedder = get_embedder(settings)
    store = Store(embedder, settings)
    sparse = SparseIndex(settings.home, store_name(settings, embedder))
    corpus = Corpus(store)
    retriever = Retriever(corpus, store, sparse, settings)
    answerer = Answerer(corpus, retriever, settings, settings.llm)
    return Services(settings, embedder, store, sparse, corpus, retriever, answerer)


def services(require_index: bool = True) -> Services:
    """The process-wide services (models load on first use); refreshed when another
    process changed the index."""
    global _services
    with _lock:
        if _services is None:
            _services = build()
    s = _services
    s.retriever.refresh()
    if require_index and not s.corpus.reports:
        raise IndexMissing("还没有建立索引 (no reports are indexed): run `rag index` (or `make run`) first")
    return s


def answerer(require_index: bool = True):
    return services(require_index).answerer


def reset() -> None:
    global _services
    with _lock:
        _services = None
