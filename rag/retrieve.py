"""Hybrid retrieval: dense (Chroma) + BM25 over jieba tokens, fused by reciprocal
rank, filtered and boosted by the question analysis, then re-scored sentence by
sentence with the embedder (a cross-encoder can be plugged in as `rescorer`).

`Retriever.as_langchain()` gives a LangChain `BaseRetriever`, so retrieval composes
with LCEL like any other runnable.
"""
from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from . import config
from .chunk import split_sentences
from .query import INDICATORS, Query
from .types import Report, Span

RRF_K = 60
_STOP = set(
    "的 了 是 在 和 与 及 或 年 多少 什么 哪些 哪个 哪家 哪 怎么 如何 几 吗 呢 了吗 请问 报告 政府 工作 提到 提出 "
    "中 对 为 将 把 被 有 个 其中 包括 内容 方面 情况 主要 概括 简述 总结 是否 是不是 有没有 有何 进展 分别 各 各是 "
    "多少个 多少人 多少元 多少家 时 时候 期间 要 能 可以 指 指哪 哪五个 哪三个 哪两个 五个 三个 两个 口径 目标是 "
    "the a an of in on for to and or what which how is was were did does do much many by with from at its it".split()
)
_PUNCT = re.compile(r"^[\W_]+$")
_NUM = re.compile(r"\d")


@dataclass(frozen=True)
class Passage:
    """A chunk as retrieval sees it."""

    id: str
    report_id: str
    doc: str
    section: str
    section_kind: str
    start: int
    end: int
    text: str
    ord: int


@dataclass(frozen=True)
class Sentence:
    passage: Passage
    start: int  # offsets into the report text
    end: int
    text: str
    score: float
    lexical: float  # share of the question's key terms found in the sentence (0–1)
    dense: float


@dataclass
class Result:
    query: Query
    passages: list[tuple[Passage, float]] = field(default_factory=list)  # best first
    sentences: list[Sentence] = field(default_factory=list)  # best first

    def spans(self) -> list[Span]:
        return [
            Span(p.doc, p.report_id, p.section, p.start, p.end, p.text, round(s, 4)) for p, s in self.passages
        ]


_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba():
    global _jieba_ready
    import jieba

    with _jieba_lock:
        if not _jieba_ready:
            jieba.setLogLevel(60)
            cache = config.home() / "cache"
            cache.mkdir(parents=True, exist_ok=True)
            jieba.dt.tmp_dir = str(cache)
            for names in INDICATORS.values():
                for n in names:
                    if not n.isascii():
                        jieba.add_word(n, freq=200000)
            for w in ("海曙区", "江北区", "慈溪市", "宁波市", "海曙", "江北", "慈溪", "宁波", "个百分点", "左右", "以上"):
                jieba.add_word(w, freq=200000)
            _jieba_ready = True
    return jieba


def tokenize(text: str) -> list[str]:
    """Search tokens: jieba's search-mode cut, lower-cased, stop words and punctuation out."""
    jb = _jieba()
    text = text.lower()
    out = []
    for t in jb.lcut_for_search(text):
        t = t.strip()
        if not t or t in _STOP or _PUNCT.match(t):
            continue
        out.append(t)
    return out


def key_terms(q: Query) -> list[str]:
    """The terms a supporting sentence should contain. Years and region names are left
    out: the report filter already holds them, and sentences rarely repeat them."""
    from .catalog import REGION_ALIASES

    regionish = {a for aliases in REGION_ALIASES.values() for a in aliases} | set(q.regions)
    regionish |= {r[:-1] for r in q.regions}
    out = []
    for t in tokenize(q.search_text):
        if t in regionish or t.isdigit():  # years and bare numbers
            continue
        if q.english and t.isascii():  # English words never occur in the reports
            continue
        out.append(t)
    return list(dict.fromkeys(out))


class SentenceVectors:
    """Sentence embeddings, computed on demand and cached on disk by text hash."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.path = config.home() / "cache" / f"sentences-{embedder.key}.npz"
        self._vecs: dict[str, object] = {}
        self._dirty = 0
        self._lock = threading.Lock()
        if self.path.exists():
            try:
                import numpy as np

                data = np.load(self.path)
                self._vecs = {k: data[k] for k in data.files}
            except Exception:
                self._vecs = {}

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()[:20]

    def get(self, texts: list[str]):
        import numpy as np

        keys = [self._key(t) for t in texts]
        missing = [t for k, t in zip(keys, texts) if k not in self._vecs]
        if missing:
            uniq = list(dict.fromkeys(missing))
            vecs = self.embedder.embed_passages(uniq, batch_size=64)
            with self._lock:
                for t, v in zip(uniq, vecs):
                    self._vecs[self._key(t)] = np.asarray(v, dtype=np.float32)
                self._dirty += len(uniq)
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


class Retriever:
    def __init__(self, store, rescorer=None, k_dense: int = 30, k_bm25: int = 30, n_rescore: int = 12,
                 bm25_weight: float = 1.5):
        self.store = store
        self.embedder = store.embedder
        self.rescorer = rescorer  # optional callable(question, [sentence texts]) -> [scores 0..1]
        self.k_dense, self.k_bm25, self.n_rescore = k_dense, k_bm25, n_rescore
        self.bm25_weight = bm25_weight
        self.sentvecs = SentenceVectors(self.embedder)
        self._lock = threading.Lock()
        self.refresh()

    # --- corpus --------------------------------------------------------------------
    def refresh(self) -> None:
        """(Re)load the visible chunks and rebuild BM25; call after indexing."""
        from rank_bm25 import BM25Okapi

        entries = self.store.entries()
        active = {i for e in entries.values() for i in e.get("ids", [])}
        rows = self.store.active_chunks()
        passages = [
            Passage(i, m["report_id"], m["doc"], m["section"], m["section_kind"], m["start"], m["end"], t, m["ord"])
            for i, m, t in rows
        ]
        reports = []
        for e in entries.values():
            r = dict(e["report"])
            r["review_years"] = tuple(r.get("review_years", ()))
            r["plan_years"] = tuple(r.get("plan_years", ()))
            reports.append(Report(**r))
        tokens = [tokenize(p.section + " " + p.text) for p in passages]
        with self._lock:
            self.active = active
            self.passages = passages
            self.by_id = {p.id: p for p in passages}
            self.reports = sorted(reports, key=lambda r: r.file)
            self.paths = {e["report"]["id"]: Path(e["path"]) for e in entries.values() if e.get("path")}
            self.texts = {}
            for e in entries.values():
                try:
                    self.texts[e["report"]["file"]] = Path(e["path"]).read_bytes().decode(
                        "utf-8-sig" if e.get("encoding") == "utf-8-sig" else (e.get("encoding") or "utf-8")
                    )
                except (OSError, UnicodeDecodeError, LookupError):
                    pass
            self.bm25 = BM25Okapi(tokens) if tokens else None

    def report(self, report_id: str) -> Report | None:
        return next((r for r in self.reports if r.id == report_id), None)

    def path(self, report_id: str) -> Path | None:
        """Where the indexed report's file is."""
        return self.paths.get(report_id)

    # --- retrieval -----------------------------------------------------------------
    def _dense(self, qvec, ids: tuple[str, ...]):
        where = None
        if len(ids) == 1:
            where = {"report_id": ids[0]}
        elif ids:
            where = {"report_id": {"$in": list(ids)}}
        hits = self.store.query(qvec, self.k_dense, where=where, active=self.active)
        return [(i, s) for i, s, _, _ in hits if i in self.by_id]

    def _bm25(self, terms: list[str], ids: tuple[str, ...]):
        if not self.bm25 or not terms:
            return []
        scores = self.bm25.get_scores(terms)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        out = []
        for i in order:
            if scores[i] <= 0:
                break
            p = self.passages[i]
            if ids and p.report_id not in ids:
                continue
            out.append((p.id, float(scores[i])))
            if len(out) >= self.k_bm25:
                break
        return out

    def retrieve(self, q: Query, k: int = 5) -> Result:
        ids = q.report_ids
        qvec = self.embedder.embed_query(q.search_text or q.text)
        dense = self._dense(qvec, ids)
        terms = key_terms(q)
        sparse = self._bm25(terms, ids)
        fused: dict[str, float] = {}
        for ranked, weight in ((dense, 1.0), (sparse, self.bm25_weight)):
            for rank, (pid, _) in enumerate(ranked):
                fused[pid] = fused.get(pid, 0.0) + weight / (RRF_K + rank + 1)
        want = q.section_kind
        for pid in fused:
            p = self.by_id[pid]
            if want and p.section_kind == want:
                fused[pid] *= 1.25
            elif want and p.section_kind in ("review", "plan"):
                fused[pid] *= 0.8
            if q.intent == "define" and p.section_kind == "other":
                fused[pid] *= 1.3
        top = sorted(fused.items(), key=lambda kv: -kv[1])
        top_norm = top[0][1] if top else 1.0
        cand = [(self.by_id[pid], s / top_norm) for pid, s in top[: max(self.n_rescore, k)]]
        sentences = self._rescore(q, qvec, terms, cand)
        # a passage's final score: its fused score lifted by its best sentence
        best: dict[str, float] = {}
        for s in sentences:
            best[s.passage.id] = max(best.get(s.passage.id, 0.0), s.score)
        ranked = sorted(cand, key=lambda ps: -(0.4 * ps[1] + 0.6 * best.get(ps[0].id, 0.0)))
        rest = [(self.by_id[pid], s / top_norm) for pid, s in top[len(cand) :]]
        out = [(p, 0.4 * s + 0.6 * best.get(p.id, 0.0)) for p, s in ranked] + [(p, 0.4 * s) for p, s in rest]
        return Result(q, out[:k], sentences)

    def _rescore(self, q: Query, qvec, terms: list[str], cand: list[tuple[Passage, float]]) -> list[Sentence]:
        import numpy as np

        sents: list[tuple[Passage, int, int, str, float]] = []
        for p, ps in cand:
            for a, b in split_sentences(p.text):
                t = p.text[a:b]
                if len(t) < 4 or t.lstrip("#").strip() == p.section.split(" > ")[-1]:
                    continue
                sents.append((p, p.start + a, p.start + b, t, ps))
        if not sents:
            return []
        vecs = self.sentvecs.get([s[3] for s in sents])
        dense = vecs @ np.asarray(qvec, dtype=np.float32)
        if self.rescorer is not None:
            extra = self.rescorer(q.text, [s[3] for s in sents])
        else:
            extra = None
        ind_names = [n for i in q.indicators for n in INDICATORS[i] if not n.isascii()]
        low_q = q.text.lower()
        numeric = bool(re.search(r"多少|几|增长|目标|比重|率|how much|how many|rate|growth|target|%|percent", low_q))
        listy = bool(re.search(r"哪些|哪几|哪[一二三四五六七八九十两\d]+|包括|which|list|what are", low_q))
        period_q = bool(re.search(r"五年|十三五|十四五|累计|年均|five-year|cumulative|average annual", low_q))
        prox_terms = ind_names or [t for t in terms if len(t) >= 2]
        prox = re.compile("(?:" + "|".join(re.escape(t) for t in prox_terms) + r").{0,14}?\d") if prox_terms else None
        out = []
        dmin, dmax = float(dense.min()), float(dense.max())
        for i, (p, a, b, t, ps) in enumerate(sents):
            low = t.lower()
            lex = (sum(1 for w in terms if w in low or w in p.section.lower()) / len(terms)) if terms else 0.0
            d = (float(dense[i]) - dmin) / (dmax - dmin) if dmax > dmin else 1.0
            score = 0.35 * d + 0.35 * lex + 0.15 * ps
            if ind_names and any(n in t for n in ind_names):
                score += 0.15
            if numeric and _NUM.search(t):
                score += 0.05
            flat = t.replace(" ", "")
            if q.years and any(str(y) in flat or str(y) in p.section.replace(" ", "") for y in q.years):
                score += 0.08
            if q.years:
                other_years = {int(y) for y in re.findall(r"(20\d{2})", p.section)} - set(q.years)
                if other_years and not any(str(y) in p.section for y in q.years):
                    score -= 0.08
            if not period_q:
                # a multi-year figure ("五年前的1.5倍", "累计") is not the year's figure, and a
                # five-year plan section does not hold the coming year's targets
                if re.search(r"五年|十三五|十四五|累计|年均", flat):
                    score -= 0.2
                top_head = p.section.split(" > ")[0]
                if re.search(r"五年|十三五|十四五", top_head) and not re.search(r"20\d{2}", top_head):
                    score -= 0.1
            if numeric and prox is not None and prox.search(flat):
                score += 0.08
            if listy:
                score += 0.03 * min(flat.count("、"), 4)
            if extra is not None:
                score = 0.5 * score + 0.5 * float(extra[i])
            out.append(Sentence(p, a, b, t, score, lex, float(dense[i])))
        out.sort(key=lambda s: -s.score)
        return out

    def as_langchain(self, k: int = 5, reports_filter: str | None = None):
        """This retriever as a LangChain BaseRetriever (documents carry span metadata)."""
        from langchain_core.documents import Document
        from langchain_core.retrievers import BaseRetriever

        from .query import analyze, with_report

        outer = self

        class ReportRetriever(BaseRetriever):
            def _get_relevant_documents(self, query: str, *, run_manager=None):
                q = analyze(query, outer.reports)
                if reports_filter:
                    q = with_report(q, reports_filter)
                res = outer.retrieve(q, k=k)
                return [
                    Document(
                        page_content=p.text,
                        metadata={"doc": p.doc, "report_id": p.report_id, "section": p.section,
                                  "start": p.start, "end": p.end, "score": s},
                    )
                    for p, s in res.passages
                ]

        return ReportRetriever()


