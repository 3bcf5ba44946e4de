"""An index without an embedding model: :class:`FixedEmbedder` (the same vector for
every text) and :func:`build_corpus`, for evaluations and benchmarks that never search
by vector (``rag table-eval``, ``rag bench --scale``). ``rag`` is imported lazily.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["FixedEmbedder", "build_corpus"]


class FixedEmbedder:
    """Stands in for the embedder where no vector is ever searched: the same unit
    vector for every text. Its ``key`` names collections of their own."""

    name = "fixed vector (no model)"

    def __init__(self, key: str = "fixedvec", dim: int = 8):
        self.key = key
        self.dim = dim

    def _vec(self) -> list[float]:
        return [1.0] + [0.0] * (self.dim - 1)

    def embed_passages(self, texts, batch_size=None, progress=None):
        if progress:
            progress(len(texts))
        return [self._vec() for _ in texts]

    def embed_queries(self, texts):
        return [self._vec() for _ in texts]

    def embed_query(self, text):
        return self._vec()


def build_corpus(folders: list[Path], home: Path, log=lambda m: None):
    """Index ``folders`` into ``home`` with :class:`FixedEmbedder`; the corpus and the result."""
    from dataclasses import replace

    from rag.corpus import Corpus
    from rag.index import index_paths
    from rag.settings import Settings
    from rag.store import Store

    settings = replace(Settings.from_env(), home=home, chroma_url="", collection="tablecells", llm=None)
    store = Store(FixedEmbedder(), settings)
    res = index_paths(folders, store, settings, log=log)
    return Corpus(store), res
