"""The sparse (BM25) index: ``bm25s`` matrices saved beside the vectors, so loading it does
not re-tokenise the corpus.

Layout under ``<home>/sparse/<store name>/``: ``tok/<report key>.json`` holds the tokens of
each report's chunks (written when the report is indexed, so an update re-tokenises only
what changed); ``index/`` holds the bm25s matrices and ``ids.json`` the chunk id of each
row, with the store version it was built for. A process that finds the saved index older
than the store (another indexer, another replica) rebuilds it from the token files,
tokenising only reports it has no tokens for.

Tokens do not depend on the process that made them (``tokenize`` never uses a corpus's
region names), so the token files of an indexer and of a replica that rebuilt them from
the store are the same. ``tokens.key`` names the tokeniser they were made with
(:func:`rag.text.tokenize.tokens_key`); when it changes (new code, a changed lexicon) the
token files are dropped and the index is rebuilt.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

from .text.tokenize import tokenize, tokens_key


class SparseIndex:
    def __init__(self, home: Path, name: str):
        self.dir = Path(home) / "sparse" / name
        self.tok_dir = self.dir / "tok"
        self.idx_dir = self.dir / "index"
        self._lock = threading.Lock()
        self.bm25 = None
        self.ids: list[str] = []
        self.row: dict[str, int] = {}
        self.version = ""
        self.load_seconds = 0.0

    # --- tokens per report ------------------------------------------------------------
    def _check_key(self) -> None:
        """Drop token files made by another tokeniser."""
        key_file = self.dir / "tokens.key"
        try:
            if key_file.read_text(encoding="utf-8").strip() == tokens_key():
                return
        except OSError:
            pass
        shutil.rmtree(self.tok_dir, ignore_errors=True)
        self.tok_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / "tokens.key.tmp"
        tmp.write_text(tokens_key() + "\n", encoding="utf-8")
        os.replace(tmp, key_file)

    def write_tokens(self, key: str, chunks: list[tuple[str, str]]) -> None:
        """chunks: (chunk id, text to tokenise)."""
        self.write_token_lists(key, {cid: tokenize(text) for cid, text in chunks})

    def write_token_lists(self, key: str, data: dict[str, list[str]]) -> None:
        """Tokens already made (chunk id → tokens of ``tokenize``), e.g. by a bench reusing them."""
        self._check_key()
        tmp = self.tok_dir / f"{key}.json.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.tok_dir / f"{key}.json")

    def drop_tokens(self, key: str) -> None:
        (self.tok_dir / f"{key}.json").unlink(missing_ok=True)

    def _tokens(self, key: str) -> dict[str, list[str]] | None:
        p = self.tok_dir / f"{key}.json"
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    # --- the index --------------------------------------------------------------------
    def build(self, entries: dict[str, dict], version: str, fetch) -> None:
        """Rebuild the matrices for the reports in ``entries`` (key → manifest record).
        ``fetch(ids)`` returns {chunk id: text} for chunks whose tokens are missing."""
        import bm25s

        self._check_key()
        ids: list[str] = []
        corpus: list[list[str]] = []
        for key, e in sorted(entries.items()):
            want = e.get("ids", [])
            toks = self._tokens(key)
            if toks is None or any(i not in toks for i in want):
                texts = fetch(want)
                self.write_tokens(key, [(i, texts.get(i, "")) for i in want])
                toks = self._tokens(key) or {}
            for i in want:
                ids.append(i)
                corpus.append(toks.get(i) or [""])
        with self._lock:
            if not ids:
                self.bm25, self.ids, self.row, self.version = None, [], {}, version
                shutil.rmtree(self.idx_dir, ignore_errors=True)
                return
            bm = bm25s.BM25()
            bm.index(corpus, show_progress=False)
            tmp = self.dir / "index.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            bm.save(str(tmp), show_progress=False)
            (tmp / "ids.json").write_text(json.dumps({"version": version, "tokens": tokens_key(), "ids": ids}),
                                          encoding="utf-8")
            shutil.rmtree(self.idx_dir, ignore_errors=True)
            os.replace(tmp, self.idx_dir)
            self.bm25, self.ids, self.version = bm, ids, version
            self.row = {i: n for n, i in enumerate(ids)}

    def load(self, version: str) -> bool:
        """Load the saved matrices if they were built for ``version``."""
        import bm25s

        t0 = time.perf_counter()
        meta = self.idx_dir / "ids.json"
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if data.get("version") != version or data.get("tokens") != tokens_key():
            return False
        try:
            bm = bm25s.BM25.load(str(self.idx_dir), mmap=True, show_progress=False, verbosity=0)
        except Exception:  # noqa: BLE001 - a half-written or foreign index: rebuild it
            return False
        with self._lock:
            self.bm25, self.ids, self.version = bm, data["ids"], version
            self.row = {i: n for n, i in enumerate(self.ids)}
        self.load_seconds = time.perf_counter() - t0
        return True

    def ensure(self, entries: dict[str, dict], version: str, fetch) -> None:
        if self.version == version:
            return
        if not self.load(version):
            self.build(entries, version, fetch)

    def search(self, terms: list[str], k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, score) of the best ``k`` chunks for the query terms, among ``allowed``."""
        import numpy as np

        with self._lock:
            bm, ids, row = self.bm25, self.ids, self.row
        if bm is None or not terms:
            return []
        mask = None
        if allowed is not None:
            mask = np.zeros(len(ids), dtype=np.float32)
            for i in allowed:
                r = row.get(i)
                if r is not None:
                    mask[r] = 1.0
            if not mask.any():
                return []
        scores = bm.get_scores(terms, weight_mask=mask) if mask is not None else bm.get_scores(terms)
        n = min(k, len(scores))
        top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top])]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]
