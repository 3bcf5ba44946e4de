"""Indexing into real Chroma with the real packaged embedder: incremental counts,
interruption, bad inputs, and a real `chroma run` server."""
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.index import index_paths
from rag.store import Store, make_client

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SMALL = ["003_887212d0c28f9641.txt", "004_6b77bdb4c9c02796.txt"]
pytestmark = pytest.mark.slow


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "reports"
    d.mkdir()
    for name in SMALL:
        shutil.copy(SEEDS / name, d / name)
    shutil.copy(SEEDS / "catalog.toml", d / "catalog.toml")
    return d


def _quiet(_):
    pass


def test_incremental_reindex(folder, embedder):
    store = Store(embedder)  # persistent client in this test's RAG_HOME
    first = index_paths([folder], store, log=_quiet)
    assert sorted(first.added) == SMALL and first.chunks_embedded > 20
    n_chunks = len(store.active_ids())

    again = index_paths([folder], store, log=_quiet)
    assert again.chunks_embedded == 0 and sorted(again.unchanged) == SMALL and not again.added

    # change one paragraph in the middle of one file: only its chunks re-embed
    p = folder / SMALL[1]
    text = p.read_text(encoding="utf-8")
    p.write_text(text.replace("同比增长9.7%", "同比增长9.8%", 1), encoding="utf-8")
    changed = index_paths([folder], store, log=_quiet)
    assert changed.changed == [SMALL[1]]
    assert 1 <= changed.chunks_embedded <= 3 and changed.chunks_kept > 10
    assert len(store.active_ids()) == n_chunks
    hits = store.query(embedder.embed_query("江北2018年地区生产总值增长"), 3)
    assert any("9.8%" in t for _, _, _, t in hits)

    # a new persistent client on the same folder sees the same index
    reopened = Store(embedder, client=make_client())
    assert reopened.active_ids() == store.active_ids()

    # remove a file: its chunks go
    (folder / SMALL[0]).unlink()
    removed = index_paths([folder], store, log=_quiet)
    assert removed.removed == [SMALL[0]] and removed.chunks_deleted > 0
    assert all(m["doc"] == SMALL[1] for _, m, _ in store.active_chunks())


def test_interrupted_index_leaves_previous_index(folder, embedder, monkeypatch):
    store = Store(embedder)
    index_paths([folder], store, log=_quiet)
    before = store.entries()
    p = folder / SMALL[0]
    p.write_text(p.read_text(encoding="utf-8").replace("一、2022年工作回顾", "一、2022年工作回顾(修订)"), encoding="utf-8")

    real = store.set_entry

    def crash(doc, entry):
        raise KeyboardInterrupt  # Ctrl-C after the new chunks were written, before the switch

    monkeypatch.setattr(store, "set_entry", crash)
    with pytest.raises(KeyboardInterrupt):
        index_paths([folder], store, log=_quiet)
    assert store.entries() == before  # the manifest still describes the old index
    visible = {m["doc"] for _, m, _ in store.active_chunks()}
    assert visible == set(SMALL)
    assert len(store.stored_ids()) > len(store.active_ids())  # strays exist but are invisible
    monkeypatch.setattr(store, "set_entry", real)
    done = index_paths([folder], store, log=_quiet)
    assert done.changed == [SMALL[0]]
    assert store.stored_ids() == store.active_ids()  # strays cleaned


def test_bad_inputs_do_not_stop_the_batch(folder, embedder, monkeypatch):
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "latin1.txt").write_bytes("caf\xe9 cr\xe8me ".encode("latin-1") * 100)
    (folder / "报告 with spaces.md").write_text("# 测试区2021年政府工作报告\n\n一、2020年工作回顾\n\n全年实现地区生产总值100亿元，增长5%。\n", encoding="utf-8")
    monkeypatch.setenv("RAG_MAX_FILE_MB", "1")
    with (folder / "huge.txt").open("w", encoding="utf-8") as f:
        f.write("地区生产总值增长。" * 200_000)
    store = Store(embedder)
    res = index_paths([folder], store, log=_quiet)
    reasons = dict(res.skipped)
    assert set(reasons) == {"empty.txt", "binary.txt", "latin1.txt", "huge.txt"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["binary.txt"]
    assert "decode" in reasons["latin1.txt"] and "MB" in reasons["huge.txt"]
    assert "报告 with spaces.md" in res.added and len(res.added) == 3
    assert any(f == "报告 with spaces.md" for f, _ in res.guessed)

    # a file that turns bad later keeps what was indexed for it
    good = folder / SMALL[0]
    good.write_bytes(b"\x00\x01binary now")
    res2 = index_paths([folder], store, log=_quiet)
    assert SMALL[0] in dict(res2.skipped)
    assert any(m["doc"] == SMALL[0] for _, m, _ in store.active_chunks())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_chroma_server_round_trip(tmp_path, folder, embedder, monkeypatch):
    chroma = Path(sys.executable).with_name("chroma")
    assert chroma.exists(), "the chroma CLI comes with the chromadb package"
    port = _free_port()
    log = (tmp_path / "chroma.log").open("w")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("chroma run did not start: " + (tmp_path / "chroma.log").read_text())
        monkeypatch.setenv("RAG_CHROMA_URL", f"http://127.0.0.1:{port}")
        store = Store(embedder)
        assert type(store.client).__name__ != "PersistentClient"
        res = index_paths([folder], store, log=_quiet)
        assert sorted(res.added) == SMALL
        hits = store.query(embedder.embed_query("宁波舟山港集装箱吞吐量"), 3)
        assert hits and any("集装箱" in t for _, _, _, t in hits)
        assert index_paths([folder], store, log=_quiet).chunks_embedded == 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_dead_chroma_server_is_a_clear_error(monkeypatch, embedder):
    from rag.store import StoreError

    monkeypatch.setenv("RAG_CHROMA_URL", f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(StoreError, match="cannot open the Chroma store"):
        Store(embedder)
