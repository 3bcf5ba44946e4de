"""rag.index's pipeline: a report embeds on a lane of its own while the next is read and the one
before is stored; reports are still stored one at a time, in the order read, each only once its
vectors are back; progress events come from the indexer's thread; a failure while embedding
one report keeps every report stored before it. (Real Chroma and the real embedder:
test_store_index.py.)"""
from __future__ import annotations

import threading
import time

import pytest
from fixtures_core import FIXTURE_REPORTS, FakeEmbedder, MemoryStore, settings_for

from rag.index import index_paths


class SlowEmbedder(FakeEmbedder):
    """Fake vectors that take a while, reporting progress per call; fails on call ``fail_on``."""

    def __init__(self, fail_on: int = 0):
        super().__init__()
        self.threads: set[str] = set()
        self.fail_on = fail_on

    def embed_passages(self, texts, progress=None):
        self.threads.add(threading.current_thread().name)
        time.sleep(0.05)
        if self.calls + 1 == self.fail_on:
            self.calls += 1
            raise RuntimeError("embedder died")
        out = super().embed_passages(texts)
        if progress:
            progress(len(texts))
        return out


class LoggingStore(MemoryStore):
    def __init__(self, embedder, log):
        super().__init__(embedder)
        self.log = log

    def set_entry(self, key, entry):
        self.log.append(("stored", entry["file"]))
        super().set_entry(key, entry)


def _run(tmp_path, embedder):
    log: list[tuple[str, str]] = []
    off_thread: list[str] = []
    store = LoggingStore(embedder, log)

    def progress(event, **kw):
        if threading.current_thread() is not threading.main_thread():
            off_thread.append(event)
        if event == "file":
            log.append(("read", kw["name"]))
        elif event == "embedded":
            log.append(("embedded", str(kw["n"])))

    res = index_paths([FIXTURE_REPORTS], store, settings_for(tmp_path), progress=progress, log=lambda m: None)
    return res, store, log, off_thread


def test_reports_embed_on_their_own_lane_and_are_stored_in_order(tmp_path):
    emb = SlowEmbedder()
    res, store, log, off_thread = _run(tmp_path, emb)
    read = [n for e, n in log if e == "read"]
    stored = [n for e, n in log if e == "stored"]
    assert len(stored) == len(res.added) >= 4 and stored == [n for n in read if n in stored]
    assert emb.threads == {"index-embed_0"} and not off_thread  # progress only from the indexer's thread
    assert sum(int(n) for e, n in log if e == "embedded") == res.chunks_embedded > 0
    # pipelined: the second report is read before the first is stored
    assert log.index(("read", read[1])) < log.index(("stored", stored[0]))
    assert store.stored_ids() == store.active_ids() and res.embed_seconds > 0


def test_a_failure_while_embedding_keeps_the_reports_stored_before_it(tmp_path):
    store = LoggingStore(SlowEmbedder(fail_on=3), [])
    with pytest.raises(RuntimeError, match="embedder died"):
        index_paths([FIXTURE_REPORTS], store, settings_for(tmp_path), log=lambda m: None)
    entries = store.entries()
    assert len(entries) == 2  # the two reports whose vectors came back; none after the failure
    assert store.stored_ids() == store.active_ids()
