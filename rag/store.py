"""The store: Chroma, and only here.

A persistent client in the data directory by default; ``RAG_CHROMA_URL`` (e.g.
http://127.0.0.1:8000) uses a Chroma server started with ``chroma run``, so that several
app replicas and indexers share one store.

Three collections per embedding model:

* ``chunks-<model>``: the chunks' vectors and metadata (report, section, offsets);
* ``texts-<model>``: the text stored for each report (citations are offsets into it),
  compressed;
* ``manifest-<model>``: one record per report (keyed by its stable ``key``): the file,
  its hash, the report's metadata, its sections, pages and figures, and the ids of its
  chunks.

The manifest is the truth about what is indexed: a chunk is visible only if its report's
record lists it, and a record is rewritten only after its chunks and text are stored. An
index run that is interrupted leaves the previous index usable; strays are cleaned up by
the next run. Every Chroma failure (a server that is down, a corrupt database, a broken
record) becomes one :class:`StoreError` line with what to do about it.
"""
from __future__ import annotations

import base64
import contextlib
import json
import zlib
import uuid
from urllib.parse import urlparse


class StoreError(Exception):
    """The store cannot be used; ``str(e)`` is one line with the way out."""


VERSION_ID = "__version__"  # the manifest record that changes with every other
REPAIR = "run `rag index --rebuild` to rebuild the index from the report files"


@contextlib.contextmanager
def guard(what: str, where: str = ""):
    """Turn anything Chroma raises (including Rust panics, which are BaseExceptions) into
    a StoreError; Ctrl-C and exit pass through."""
    try:
        yield
    except StoreError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except json.JSONDecodeError as e:
        raise StoreError(f"{what}: a manifest record is corrupt ({e.msg}); {REPAIR}") from None
    except BaseException as e:  # noqa: BLE001 - chromadb raises panics and many kinds
        msg = " ".join(str(e).split())[:200] or type(e).__name__
        down = any(w in msg.lower() for w in ("connect", "refused", "timed out", "timeout", "unreachable"))
        hint = ("is the Chroma server that RAG_CHROMA_URL names running? Start it (scripts/chroma-server.sh) "
                "or unset RAG_CHROMA_URL to use the local store") if down else REPAIR
        raise StoreError(f"{what}{' at ' + where if where else ''}: {msg}; {hint}") from None


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


def make_client(settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    url = settings.chroma_url
    cs = ChromaSettings(anonymized_telemetry=False)
    if url:
        u = urlparse(url if "://" in url else f"http://{url}")
        return chromadb.HttpClient(host=u.hostname or "127.0.0.1", port=u.port or 8000, ssl=u.scheme == "https",
                                   settings=cs)
    path = settings.home / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=cs)


def chunk_metadata(c, r, ord_: int) -> dict:
    return {
        "report_key": r.key,
        "report_id": r.id,
        "doc": c.doc,
        "region": r.region,
        "year": r.year,
        "section": c.section,
        "section_kind": c.section_kind,
        "start": c.start,
        "end": c.end,
        "ord": ord_,
        "page": c.page,
        "tokens": c.tokens,
        "hash": c.hash,
    }


class Store:
    def __init__(self, embedder, settings, client=None):
        self.embedder = embedder
        self.where = settings.chroma_url or str(settings.home / "chroma")
        with guard("cannot open the Chroma store", self.where):
            self.client = client or make_client(settings)
            ef = _ef_class()
            base = f"{settings.collection}-{embedder.key}" if settings.collection != "reports" else embedder.key
            self.chunks = self.client.get_or_create_collection(
                f"chunks-{base}", embedding_function=ef(embedder), metadata={"hnsw:space": "cosine"})
            self.manifest = self.client.get_or_create_collection(f"manifest-{base}", embedding_function=ef(None))
            self.texts = self.client.get_or_create_collection(f"texts-{base}", embedding_function=ef(None))
            self._batch = getattr(self.client, "get_max_batch_size", lambda: 1000)() or 1000

    # --- manifest -------------------------------------------------------------------
    def entries(self) -> dict[str, dict]:
        """report key → manifest record."""
        with guard("cannot read the index manifest", self.where):
            got = self.manifest.get(include=["documents"])
            return {i: json.loads(d) for i, d in zip(got["ids"], got["documents"]) if i != VERSION_ID}

    def version(self) -> str:
        """Changes whenever a record changes (one small read: cheap to poll per question)."""
        with guard("cannot read the index manifest", self.where):
            got = self.manifest.get(ids=[VERSION_ID], include=["documents"])
        return got["documents"][0] if got["ids"] else "empty"

    def _bump(self) -> None:
        self.manifest.upsert(ids=[VERSION_ID], documents=[uuid.uuid4().hex[:16]], embeddings=[[1.0]])

    def set_entry(self, key: str, entry: dict) -> None:
        with guard("cannot write the index manifest", self.where):
            # ASCII escapes: Chroma's full-text index of documents is several times slower on
            # Chinese text, and nothing searches the manifest by its words
            self.manifest.upsert(ids=[key], documents=[json.dumps(entry)], embeddings=[[1.0]])
            self._bump()

    def delete_entry(self, key: str) -> None:
        with guard("cannot write the index manifest", self.where):
            self.manifest.delete(ids=[key])
            self.texts.delete(ids=[key])
            self._bump()

    def active_ids(self, entries: dict | None = None) -> set[str]:
        return {i for e in (entries if entries is not None else self.entries()).values() for i in e.get("ids", [])}

    # --- texts ------------------------------------------------------------------------
    def set_text(self, key: str, text: str) -> None:
        """The text is kept compressed in the record's metadata, not as its document: Chroma
        full-text indexes every document, which for a whole report costs more than all the
        rest of storing it, and nothing searches these texts by their words."""
        packed = base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")
        with guard("cannot store a report text", self.where):
            self.texts.upsert(ids=[key], documents=[""], metadatas=[{"zlib": packed}], embeddings=[[1.0]])

    def texts_of(self, keys: list[str]) -> dict[str, str]:
        if not keys:
            return {}
        with guard("cannot read report texts", self.where):
            got = self.texts.get(ids=list(keys), include=["documents", "metadatas"])
            return {i: zlib.decompress(base64.b64decode(m["zlib"])).decode("utf-8") if m and "zlib" in m else d
                    for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}

    # --- chunks -----------------------------------------------------------------------
    def stored_ids(self, where: dict | None = None) -> set[str]:
        with guard("cannot read the chunk index", self.where):
            return set(self.chunks.get(where=where, include=[])["ids"])

    def add(self, ids: list[str], vectors: list[list[float]], metas: list[dict]) -> None:
        """Chunks are stored as vectors and metadata, without their text as a document: the
        text is the report's between the offsets in the metadata (one copy, in ``texts``),
        and Chroma's full-text index of documents, which nothing here searches, would double
        the time the store takes to write them."""
        with guard("cannot write chunks", self.where):
            for i in range(0, len(ids), self._batch):
                s = slice(i, i + self._batch)
                self.chunks.upsert(ids=ids[s], embeddings=vectors[s], metadatas=metas[s])

    def update_metadata(self, ids: list[str], metas: list[dict]) -> None:
        with guard("cannot write chunks", self.where):
            for i in range(0, len(ids), self._batch):
                self.chunks.update(ids=ids[i: i + self._batch], metadatas=metas[i: i + self._batch])

    def delete(self, ids) -> None:
        ids = list(ids)
        with guard("cannot delete chunks", self.where):
            for i in range(0, len(ids), self._batch):
                self.chunks.delete(ids=ids[i: i + self._batch])

    def query(self, vector: list[float], k: int, where: dict | None = None, active: set[str] | None = None):
        """Nearest visible chunks: [(id, similarity)], best first."""
        with guard("cannot search the index", self.where):
            total = self.chunks.count()
            if not total:
                return []
            n = min(max(k * 2, k + 8), total)
            res = self.chunks.query(query_embeddings=[vector], n_results=n, where=where, include=["distances"])
        out = []
        for i, d in zip(res["ids"][0], res["distances"][0]):
            if active is None or i in active:
                out.append((i, 1.0 - float(d)))
        return out[:k]

    def wipe(self) -> None:
        """Drop everything this store holds (``rag index --rebuild``)."""
        with guard("cannot clear the index", self.where):
            for col in (self.chunks, self.manifest, self.texts):
                name, ef, meta = col.name, col._embedding_function, col.metadata
                self.client.delete_collection(name)
                fresh = self.client.get_or_create_collection(name, embedding_function=ef, metadata=meta)
                if col is self.chunks:
                    self.chunks = fresh
                elif col is self.manifest:
                    self.manifest = fresh
                else:
                    self.texts = fresh
