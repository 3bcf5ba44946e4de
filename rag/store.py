"""The vector store: Chroma, and only here.

A persistent client in the data directory by default; `RAG_CHROMA_URL` (e.g.
http://127.0.0.1:8000) switches to a Chroma server started with `chroma run`.

Two collections per embedding model: ``chunks-<model>`` holds the chunks with their
vectors and metadata, ``manifest-<model>`` one record per indexed file (content hash,
the ids of its chunks, where it came from). The manifest is the truth about what is
indexed: a chunk is visible only if its file's manifest entry lists it, and a file's
entry is rewritten only after its new chunks are stored. So an index run that is
interrupted (Ctrl-C, crash) leaves the previous index usable; the stray chunks it may
have written are invisible and cleaned up by the next run.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from urllib.parse import urlparse

from . import config
from .types import Chunk, Report


class StoreError(Exception):
    pass


def _ef_class():
    from chromadb.api.types import EmbeddingFunction

    class ProjectEmbedding(EmbeddingFunction):
        """Our own embedder, so Chroma never falls back to its downloading default."""

        def __init__(self, embedder=None):
            self.embedder = embedder

        def __call__(self, input):
            if self.embedder is None:
                return [[1.0] for _ in input]
            return self.embedder.embed_passages(list(input))

        def embed_query(self, input):
            if self.embedder is None:
                return [[1.0] for _ in input]
            return self.embedder.embed_queries(list(input))

        @staticmethod
        def name() -> str:
            return "rag-project"

        def get_config(self):
            return {"model": getattr(self.embedder, "name", "none")}

        @staticmethod
        def build_from_config(config):
            return ProjectEmbedding(None)

        def is_legacy(self) -> bool:
            return False

        def default_space(self):
            return "cosine"

    return ProjectEmbedding


def make_client(url: str | None = None):
    import chromadb
    from chromadb.config import Settings

    url = config.chroma_url() if url is None else url
    settings = Settings(anonymized_telemetry=False)
    if url:
        u = urlparse(url if "://" in url else f"http://{url}")
        return chromadb.HttpClient(
            host=u.hostname or "127.0.0.1", port=u.port or 8000, ssl=u.scheme == "https", settings=settings
        )
    path = config.home() / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def chunk_metadata(c: Chunk, r: Report, ord_: int) -> dict:
    return {
        "report_id": r.id,
        "doc": c.doc,
        "title": r.title,
        "region": r.region,
        "year": r.year,
        "review_years": ",".join(map(str, r.review_years)),
        "plan_years": ",".join(map(str, r.plan_years)),
        "report_kind": r.kind,
        "section": c.section,
        "section_kind": c.section_kind,
        "start": c.start,
        "end": c.end,
        "ord": ord_,
        "tokens": c.tokens,
        "hash": c.hash,
    }


class Store:
    def __init__(self, embedder, client=None):
        self.embedder = embedder
        try:
            self.client = client or make_client()
            ef = _ef_class()
            space = {"hnsw:space": "cosine"}
            self.chunks = self.client.get_or_create_collection(
                f"chunks-{embedder.key}", embedding_function=ef(embedder), metadata=space
            )
            self.manifest = self.client.get_or_create_collection(
                f"manifest-{embedder.key}", embedding_function=ef(None)
            )
        except Exception as e:  # chroma raises many kinds; one clear line for the user
            where = config.chroma_url() or str(config.home() / "chroma")
            raise StoreError(f"cannot open the Chroma store at {where}: {e}") from e
        self._batch = getattr(self.client, "get_max_batch_size", lambda: 1000)() or 1000

    # --- manifest -------------------------------------------------------------------
    def entries(self) -> dict[str, dict]:
        got = self.manifest.get(include=["documents"])
        return {i: json.loads(d) for i, d in zip(got["ids"], got["documents"])}

    def set_entry(self, doc: str, entry: dict) -> None:
        self.manifest.upsert(ids=[doc], documents=[json.dumps(entry, ensure_ascii=False)], embeddings=[[1.0]])

    def delete_entry(self, doc: str) -> None:
        self.manifest.delete(ids=[doc])

    def active_ids(self) -> set[str]:
        return {i for e in self.entries().values() for i in e.get("ids", [])}

    # --- chunks ---------------------------------------------------------------------
    def stored_ids(self, where: dict | None = None) -> set[str]:
        return set(self.chunks.get(where=where, include=[])["ids"])

    def add(self, ids: list[str], texts: list[str], vectors: list[list[float]], metas: list[dict]) -> None:
        for i in range(0, len(ids), self._batch):
            s = slice(i, i + self._batch)
            self.chunks.upsert(ids=ids[s], documents=texts[s], embeddings=vectors[s], metadatas=metas[s])

    def update_metadata(self, ids: list[str], metas: list[dict]) -> None:
        for i in range(0, len(ids), self._batch):
            self.chunks.update(ids=ids[i : i + self._batch], metadatas=metas[i : i + self._batch])

    def delete(self, ids: list[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), self._batch):
            self.chunks.delete(ids=ids[i : i + self._batch])

    def active_chunks(self) -> list[tuple[str, dict, str]]:
        """(id, metadata, text) of every visible chunk, in report order."""
        active = self.active_ids()
        if not active:
            return []
        got = self.chunks.get(include=["documents", "metadatas"])
        rows = [
            (i, m, d)
            for i, m, d in zip(got["ids"], got["metadatas"], got["documents"])
            if i in active
        ]
        rows.sort(key=lambda r: (r[1]["doc"], r[1]["ord"]))
        return rows

    def query(self, vector: list[float], k: int, where: dict | None = None, active: set[str] | None = None):
        """Nearest visible chunks: [(id, similarity, metadata, text)], best first."""
        active = self.active_ids() if active is None else active
        n = min(max(k * 2, k + 8), max(1, self.chunks.count()))
        res = self.chunks.query(
            query_embeddings=[vector], n_results=n, where=where, include=["documents", "metadatas", "distances"]
        )
        out = []
        for i, d, m, t in zip(res["ids"][0], res["distances"][0], res["metadatas"][0], res["documents"][0]):
            if i in active:
                out.append((i, 1.0 - float(d), m, t))
        return out[:k]


def report_to_dict(r: Report) -> dict:
    return asdict(r)
