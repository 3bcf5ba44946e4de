"""Hybrid retrieval inside the reports a route allows: dense (Chroma) + BM25 (bm25s),
fused by reciprocal rank, the asked part of the report (plan or review) preferred, then
re-scored sentence by sentence with the embedder and the question's analysis (a
cross-encoder can be plugged in as ``rescorer``). Weights: ``settings.RetrievalWeights``.

``Retriever.as_langchain()`` gives a LangChain ``BaseRetriever``, so retrieval composes
with LCEL like any other runnable.
"""
from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import Corpus
from .lexicon import lexicon
from .query import Query
from .route import Route
from .settings import RetrievalWeights
from .support import defines, has_term
from .text.numbers import has_figure
from .text.sentences import split_sentences
from .types import Chunk, Span


@dataclass(frozen=True)
class Sentence:
    chunk: Chunk
    key: str  # report key
    start: int  # offsets into the report text
    end: int
    text: str
    score: float
    lexical: float  # share of the question's key terms found in the sentence or its section (0–1)
    dense: float


@dataclass
class Result:
    query: Query
    route: Route
    passages: list[tuple[Chunk, float]] = field(default_factory=list)  # best first
    sentences: list[Sentence] = field(default_factory=list)  # best first

    def spans(self) -> list[Span]:
        return [Span(c.doc, c.report_id, c.section, c.start, c.end, c.text, round(s, 4), c.page) for c, s in self.passages]


class SentenceVectors:
    """Sentence embeddings, computed on demand and cached on disk by text hash."""

    def __init__(self, embedder, home: Path):
        self.embedder = embedder
        self.path = Path(home) / "cache" / f"sentences-{embedder.key}.npz"
        self._vecs: dict[str, object] = {}
        self._dirty = 0
        self._lock = threading.Lock()
        if self.path.exists():
            try:
                import numpy as np

                data = np.load(self.path)
                self._vecs = {k: data[k] for k in data.files}
            except Exception:  # noqa: BLE001 - a broken cache is rebuilt
                self._vecs = {}

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()[:20]

    def get(self, texts: list[str]):
        import numpy as np

        keys = [self._key(t) for t in texts]
        missing = list(dict.fromkeys(t for k, t in zip(keys, texts) if k not in self._vecs))
        if missing:
            vecs = self.embedder.embed_passages(missing, batch_size=64)
            with self._lock:
                for t, v in zip(missing, vecs):
                    self._vecs[self._key(t)] = np.asarray(v, dtype=np.float32)
                self._dirty += len(missing)
            if self._dirty >= 64:
                self.save()
        return np.stack([self._vecs[k] for k in keys]) if keys else np.zeros((0, 1), dtype=np.float32)

    def save(self) -> None:
        import numpy as np

        with self._lock:
            if not self._dirty:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.stem + ".tmp.npz")
            np.savez(tmp, **self._vecs)
            tmp.replace(self.path)
            self._dirty = 0


def _list_before(text: str, name: str, n: int) -> bool:
    """``text`` names ``name`` right after a list of ``n`` items ("A、B、C和D“四大X”")."""
    at = text.find(name)
    while at >= 0:
        before = text[:at].rstrip("“”\"「」『』 ")
        clause = re.split(r"[，,；;。：:]", before)[-1]
        items = [x for x in re.split(r"、|(?<=[\u4e00-\u9fff])和(?=[\u4e00-\u9fff])", clause) if x]
        if len(items) == n:
            return True
        at = text.find(name, at + 1)
    return False


def indicator_names(q: Query) -> list[str]:
    lex = lexicon()
    return [n for i in q.indicators for n in lex.names_of(i)]


class Retriever:
    def __init__(self, corpus: Corpus, store, sparse, settings, rescorer=None,
                 weights: RetrievalWeights | None = None):
        self.corpus = corpus
        self.store = store
        self.sparse = sparse
        self.embedder = store.embedder
        self.w = weights or settings.retrieval
        self.rescorer = rescorer  # optional callable(question, [sentence texts]) -> [scores 0..1]
        self.sentvecs = SentenceVectors(self.embedder, settings.home)
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Pick up what another process indexed: corpus, then the sparse index."""
        with self._lock:
            self.corpus.refresh()
            self.sparse.ensure(self.corpus.entries, self.corpus.version, self._fetch)

    def _fetch(self, ids: list[str]) -> dict[str, str]:
        return self.corpus.search_texts(ids)

    # --- retrieval ---------------------------------------------------------------------
    def retrieve(self, q: Query, route: Route, k: int = 5, qvec=None) -> Result:
        keys = set(route.reports) if route.reports else None
        if route.problem or (keys is not None and not keys):
            return Result(q, route)
        if keys is not None and keys == set(self.corpus.by_key):
            keys = None
        w = self.w
        qvec = qvec if qvec is not None else self.embedder.embed_query(q.search_text or q.text)
        where = None
        if keys is not None:
            where = {"report_key": {"$in": sorted(keys)}} if len(keys) > 1 else {"report_key": next(iter(keys))}
        allowed = self.corpus.chunk_ids(keys) if keys is not None else None
        dense = [(i, s) for i, s in self.store.query(qvec, w.k_dense, where=where, active=set(self.corpus.chunks))]
        terms = list(q.terms)
        self.sparse.ensure(self.corpus.entries, self.corpus.version, self._fetch)
        words = [a for t in terms for a in t.split("|") if a]
        sparse = self.sparse.search(words, w.k_sparse, allowed) if words else []
        fused: dict[str, float] = {}
        for ranked, weight in ((dense, 1.0), (sparse, w.sparse_weight)):
            for rank, (cid, _) in enumerate(ranked):
                if cid in self.corpus.chunks:
                    fused[cid] = fused.get(cid, 0.0) + weight / (w.rrf_k + rank + 1)
        want = {"target": "plan", "result": "review"}.get(route.time, "")
        chunks = {cid: self.corpus.chunk(cid) for cid in fused}
        for cid in fused:
            c = chunks[cid]
            if want and c.section_kind == want:
                fused[cid] *= w.section_match
            elif want and c.section_kind in ("review", "plan"):
                fused[cid] *= w.section_mismatch
        top = sorted(fused.items(), key=lambda kv: -kv[1])
        if not top:
            return Result(q, route)
        norm = top[0][1]
        cand = [(chunks[cid], s / norm) for cid, s in top[: max(w.n_rescore, k)]]
        sentences = self._rescore(q, route, qvec, cand)
        best: dict[str, float] = {}
        for s in sentences:
            best[s.chunk.id] = max(best.get(s.chunk.id, 0.0), s.score)
        mix = w.passage_mix
        ranked = sorted(cand, key=lambda cs: -(mix * cs[1] + (1 - mix) * best.get(cs[0].id, 0.0)))
        rest = [(chunks[cid], s / norm) for cid, s in top[len(cand):]]
        out = [(c, mix * s + (1 - mix) * best.get(c.id, 0.0)) for c, s in ranked] + [(c, mix * s) for c, s in rest]
        return Result(q, route, out[:k], sentences)

    def _rescore(self, q: Query, route: Route, qvec, cand: list[tuple[Chunk, float]]) -> list[Sentence]:
        import numpy as np

        w = self.w
        sents: list[tuple[Chunk, str, int, int, str, float]] = []
        for c, ps in cand:
            key = self.corpus.by_id[c.report_id].key if c.report_id in self.corpus.by_id else ""
            for a, b in split_sentences(c.text):
                t = c.text[a:b]
                if len(t) < 4 or (c.section_path and t.lstrip("#").strip() == c.section_path[-1]):
                    continue
                sents.append((c, key, c.start + a, c.start + b, t, ps))
        if not sents:
            return []
        vecs = self.sentvecs.get([s[4] for s in sents])
        dense = vecs @ np.asarray(qvec, dtype=np.float32)
        extra = self.rescorer(q.text, [s[4] for s in sents]) if self.rescorer is not None else None
        names = indicator_names(q)
        terms = list(q.terms)
        period_words = lexicon().cues["period"]["words"]
        numeric = q.intent in ("figure", "count", "compare") or bool(q.parts)
        prox_terms = names or [a for t in terms for a in t.split("|") if len(a) >= 2]
        prox = re.compile("(?:" + "|".join(re.escape(t) for t in prox_terms) + r").{0,14}?\d") if prox_terms else None
        years = set(q.years) or ({route.year} if route.year else set())
        content = q.content.replace(" ", "")
        from difflib import SequenceMatcher
        dmin, dmax = float(dense.min()), float(dense.max())
        out = []
        for i, (c, key, a, b, t, ps) in enumerate(sents):
            low = t.lower()
            sec = c.section.lower()
            lex = (sum(1 for x in terms if has_term(x, low) or has_term(x, sec)) / len(terms)) if terms else 0.0
            d = (float(dense[i]) - dmin) / (dmax - dmin) if dmax > dmin else 1.0
            score = w.s_dense * d + w.s_lexical * lex + w.s_passage * ps
            flat = t.replace(" ", "")
            if names and any(n in t for n in names):
                score += w.bonus_indicator
            if numeric and has_figure(t):
                score += w.bonus_figure
            sec_flat = c.section.replace(" ", "")
            if years and any(str(y) in flat or str(y) in sec_flat for y in years):
                score += w.bonus_year
            if years:
                other = {int(y) for y in re.findall(r"((?:19|20)\d{2})", sec_flat)} - years
                if other and not any(str(y) in sec_flat for y in years):
                    score -= w.penalty_other_year
            if not q.period:
                # a multi-year figure is not the year's figure, and a five-year plan part does
                # not hold the coming year's targets
                if any(p in flat for p in period_words):
                    score -= w.penalty_period
            if numeric and prox is not None and prox.search(flat):
                score += w.bonus_near
            if q.intent == "list":
                score += 0.03 * min(flat.count("、"), 4)
                if q.list_count and flat.count("、") + len(re.findall(r"[\u4e00-\u9fff]和[\u4e00-\u9fff]", flat)) + 1 == q.list_count:
                    score += w.bonus_list_count
                if q.list_count and any(_list_before(flat, t, q.list_count) for t in q.topic):
                    score += 2 * w.bonus_list_count  # "…和幸福家园“五大建设”": the N items right before the name
            if defines(q, flat):
                score += w.bonus_definition  # "“五减”是指…": the definition itself
            if len(content) >= 4:
                m = SequenceMatcher(None, content, flat, autojunk=False).find_longest_match(0, len(content), 0, len(flat))
                if m.size >= 3:
                    score += w.bonus_phrase * m.size / len(content)
            if extra is not None:
                score = 0.5 * score + 0.5 * float(extra[i])
            out.append(Sentence(c, key, a, b, t, score, lex, float(dense[i])))
        out.sort(key=lambda s: -s.score)
        return out

    def as_langchain(self, k: int = 5, analyze=None):
        """This retriever as a LangChain BaseRetriever (documents carry span metadata)."""
        from langchain_core.documents import Document
        from langchain_core.retrievers import BaseRetriever

        from .query import analyze as default_analyze
        from .route import plan

        outer = self
        analyze = analyze or (lambda text: default_analyze(text, outer.corpus.region_aliases()))

        class ReportRetriever(BaseRetriever):
            def _get_relevant_documents(self, query: str, *, run_manager=None):
                q = analyze(query)
                docs = []
                for route in plan(q, outer.corpus.reports):
                    res = outer.retrieve(q, route, k=k)
                    docs += [
                        Document(page_content=c.text, metadata={"doc": c.doc, "report_id": c.report_id, "section": c.section,
                                                                 "start": c.start, "end": c.end, "score": s, "page": c.page})
                        for c, s in res.passages
                    ]
                return docs

        return ReportRetriever()
