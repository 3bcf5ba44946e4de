"""The baseline: the RAG a user gets from LangChain's quick start.

Same seeds, same embedder, same process as the project, nothing else of the project:

* ``RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50,
  add_start_index=True)`` over each seed's raw text (decoded UTF-8, so the start
  offsets are exact; ``end = start + len(page_content)``);
* a plain ``langchain_chroma.Chroma`` vector store on an in-memory (ephemeral) Chroma
  client, embedding through :class:`RagEmbeddings` (a LangChain ``Embeddings`` adapter
  over rag's embedder);
* ``similarity_search`` top ``k`` (4) — no filters, no re-ranking, no refusal;
* extractive mode: the "answer" is the top chunk's text (what a quick start without an
  LLM hands back); llm mode: the LLM answers with the quick start's "stuff" prompt.

Citations are the retrieved chunks. Results are dicts in the eval contract's format
(the same keys as :func:`rag.answer.answer_to_dict`).
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Any, Callable, Iterable, Sequence

from langchain_core.embeddings import Embeddings

__all__ = [
    "CHUNK_SIZE",
    "CHUNK_OVERLAP",
    "DEFAULT_K",
    "STUFF_PROMPT",
    "BaselineChunk",
    "RagEmbeddings",
    "split_text",
    "split_seeds",
    "Baseline",
]

CHUNK_SIZE = 500
CHUNK_OVERLAP = 50
DEFAULT_K = 4
# The quick start's RAG prompt (hub "rlm/rag-prompt"), context "stuffed" in.
STUFF_PROMPT = (
    "You are an assistant for question-answering tasks. Use the following pieces of "
    "retrieved context to answer the question. If you don't know the answer, just say "
    "that you don't know. Use three sentences maximum and keep the answer concise.\n"
    "Question: {question} \n"
    "Context: {context} \n"
    "Answer:"
)


@dataclass(frozen=True)
class BaselineChunk:
    doc: str  # seed file name
    start: int
    end: int
    text: str  # == seed text[start:end]


class RagEmbeddings(Embeddings):
    """A LangChain ``Embeddings`` over rag's embedder: ``embed_documents`` →
    ``embed_passages``, ``embed_query`` → ``embed_query`` (so e5's passage/query
    prompts apply exactly as in the project)."""

    def __init__(self, embedder):
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text)


def _splitter(chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True
    )


def split_text(
    text: str, doc: str, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP
) -> list[BaselineChunk]:
    """The quick start's chunks of one text, with exact offsets.

    ``start`` is the splitter's ``start_index``; should it ever not point at the
    chunk (the splitter finds it with ``str.find``), the chunk is looked up again
    from the previous chunk's start, so ``text[start:end] == chunk`` always holds.
    """
    docs = _splitter(chunk_size, chunk_overlap).create_documents([text])
    out: list[BaselineChunk] = []
    prev = 0
    for d in docs:
        piece = d.page_content
        start = d.metadata.get("start_index", -1)
        if not isinstance(start, int) or start < 0 or text[start : start + len(piece)] != piece:
            start = text.find(piece, prev)
            if start < 0:
                start = text.find(piece)
            if start < 0:  # cannot happen for the recursive splitter; never cite a wrong span
                continue
        out.append(BaselineChunk(doc, start, start + len(piece), piece))
        prev = start
    return out


def _texts(source) -> dict[str, str]:
    """{doc name: text}: a mapping as given (the texts the project stored, DOCX/PDF
    included), or every .txt/.md file of a folder read as UTF-8."""
    if isinstance(source, Mapping):
        return dict(source)
    files = sorted(p for p in Path(source).iterdir() if p.is_file() and p.suffix.lower() in (".txt", ".md"))
    return {f.name: f.read_bytes().decode("utf-8") for f in files}


def split_seeds(source, names: Iterable[str] | None = None) -> list[BaselineChunk]:
    """Chunks of every text (or of ``names``)."""
    texts = _texts(source)
    out: list[BaselineChunk] = []
    for name in (names if names is not None else sorted(texts)):
        out.extend(split_text(texts[name], name))
    return out


class Baseline:
    """The quick-start pipeline over the seeds, built once.

    ``Baseline(embedder, seeds_dir)`` splits and embeds every seed into a fresh
    ephemeral Chroma collection; ``ask(question)`` returns a result dict.
    """

    def __init__(
        self,
        embedder,
        seeds_dir,
        *,
        k: int = DEFAULT_K,
        llm_cfg=None,
        names: Sequence[str] | None = None,
        log: Callable[[str], None] | None = None,
    ):
        import chromadb
        from chromadb.config import Settings
        from langchain_chroma import Chroma
        from langchain_core.documents import Document

        self.k = k
        self.llm_cfg = llm_cfg
        t0 = time.perf_counter()
        self.chunks = split_seeds(seeds_dir, names)
        ids: dict[str, str] = {}
        # Ephemeral clients share one in-memory system per process: a fresh collection
        # name keeps two Baselines (or two runs) apart.
        self.client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
        self.collection_name = f"baseline-{uuid.uuid4().hex[:12]}"
        self.vectorstore = Chroma(
            collection_name=self.collection_name,
            embedding_function=RagEmbeddings(embedder),
            client=self.client,
        )
        docs = [
            Document(
                page_content=c.text,
                metadata={"doc": c.doc, "report_id": ids.get(c.doc, ""), "start": c.start, "end": c.end},
            )
            for c in self.chunks
        ]
        if docs:
            self.vectorstore.add_documents(docs, ids=[f"{c.doc}:{c.start}" for c in self.chunks])
        self.build_seconds = time.perf_counter() - t0
        if log:
            log(f"baseline: {len(self.chunks)} chunks from {len({c.doc for c in self.chunks})} seeds "
                f"embedded in {self.build_seconds:.1f}s")

    @property
    def mode(self) -> str:
        if self.llm_cfg is None:
            return "baseline:extractive"
        from rag.llm import describe

        return "baseline:" + describe(self.llm_cfg)

    def close(self) -> None:
        try:
            self.client.delete_collection(self.collection_name)
        except Exception:  # noqa: BLE001
            pass

    def search(self, question: str, k: int | None = None):
        """``[(Document, distance)]``, best first (what ``similarity_search`` returns,
        with Chroma's distance kept for the ``score`` field)."""
        return self.vectorstore.similarity_search_with_score(question, k=k or self.k)

    def ask(self, question: str, k: int | None = None) -> dict[str, Any]:
        t0 = time.perf_counter()
        notes: list[str] = []
        hits = self.search(question, k)
        spans = []
        for doc, dist in hits:
            m = doc.metadata
            spans.append(
                {
                    "doc": m.get("doc", ""),
                    "report_id": m.get("report_id", ""),
                    "section": "",
                    "start": int(m.get("start", 0)),
                    "end": int(m.get("end", 0)),
                    # squared L2 between unit vectors → cosine similarity
                    "score": round(1.0 - float(dist) / 2.0, 4),
                    "_text": doc.page_content,
                }
            )
        if self.llm_cfg is None:
            answer = spans[0]["_text"] if spans else ""
        else:
            from rag.llm import LLMError, complete

            context = "\n\n".join(s["_text"] for s in spans)
            prompt = STUFF_PROMPT.format(question=question, context=context)
            try:
                answer = complete(self.llm_cfg, [("user", prompt)])
            except LLMError as e:
                answer = ""
                notes.append(f"LLM error: {e}")
        citations = [
            {
                "n": i,
                "doc": s["doc"],
                "report_id": s["report_id"],
                "section": "",
                "start": s["start"],
                "end": s["end"],
                "quote": s["_text"],
            }
            for i, s in enumerate(spans, 1)
        ]
        retrieved = [{k2: v for k2, v in s.items() if k2 != "_text"} for s in spans]
        return {
            "question": question,
            "answer": answer,
            "refused": False,
            "citations": citations,
            "retrieved": retrieved,
            "latency_ms": int((time.perf_counter() - t0) * 1000),
            "mode": self.mode,
            "guard_ok": True,
            "notes": notes,
        }
