"""Indexing into real Chroma with the real packaged embedder: incremental counts, a report
committed at a time, reports keyed so names never collide, symlinks confined, removal,
rebuild, a corrupt store, and a real `chroma run` server."""
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from rag.index import index_paths, remove_reports
from rag.store import Store, StoreError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SMALL = ["003_887212d0c28f9641.txt", "004_6b77bdb4c9c02796.txt"]
pytestmark = pytest.mark.slow


def _quiet(_):
    pass


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "reports"
    d.mkdir()
    for name in SMALL:
        shutil.copy(SEEDS / name, d / name)
    shutil.copy(SEEDS / "catalog.toml", d / "catalog.toml")
    return d


def _files(store) -> set[str]:
    return {e["file"] for e in store.entries().values()}


def test_incremental_reindex(folder, embedder, settings):
    store = Store(embedder, settings)
    first = index_paths([folder], store, settings, log=_quiet)
    assert sorted(Path(p).name for p in first.added) == SMALL and first.chunks_embedded > 20
    n_chunks = len(store.active_ids())

    again = index_paths([folder], store, settings, log=_quiet)
    assert again.chunks_embedded == 0 and len(again.unchanged) == 2 and not again.added

    # change one sentence: only its chunks re-embed
    p = folder / SMALL[1]
    p.write_text(p.read_text(encoding="utf-8").replace("同比增长9.7%", "同比增长9.8%", 1), encoding="utf-8")
    changed = index_paths([folder], store, settings, log=_quiet)
    assert [Path(x).name for x in changed.changed] == [SMALL[1]]
    assert 1 <= changed.chunks_embedded <= 3 and changed.chunks_kept > 10
    assert len(store.active_ids()) == n_chunks
    key = next(k for k, e in store.entries().items() if e["file"] == SMALL[1])
    assert "9.8%" in store.texts_of([key])[key]

    # remove a file: its report goes, and so do its text and chunks
    (folder / SMALL[0]).unlink()
    removed = index_paths([folder], store, settings, log=_quiet)
    assert [Path(x).name for x in removed.removed] == [SMALL[0]] and removed.chunks_deleted > 0
    assert _files(store) == {SMALL[1]}
    assert store.stored_ids() == store.active_ids()


def test_each_report_is_committed_on_its_own(folder, embedder, settings, monkeypatch):
    """Killed while embedding the second report: the first stays indexed, the rerun resumes."""
    store = Store(embedder, settings)
    real = store.embedder.embed_passages
    calls = {"n": 0}

    def dying(texts, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(texts, **kw)

    monkeypatch.setattr(store.embedder, "embed_passages", dying)
    with pytest.raises(KeyboardInterrupt):
        index_paths([folder], store, settings, log=_quiet)
    assert len(_files(store)) == 1  # the first report was finished and kept
    monkeypatch.setattr(store.embedder, "embed_passages", real)
    rest = index_paths([folder], store, settings, log=_quiet)
    assert len(rest.added) == 1 and len(rest.unchanged) == 1
    assert _files(store) == set(SMALL)


def test_interrupted_switch_leaves_previous_index(folder, embedder, settings, monkeypatch):
    store = Store(embedder, settings)
    index_paths([folder], store, settings, log=_quiet)
    before = store.entries()
    p = folder / SMALL[0]
    p.write_text(p.read_text(encoding="utf-8").replace("一、2022年工作回顾", "一、2022年工作回顾(修订)"), encoding="utf-8")

    def crash(key, entry):
        raise KeyboardInterrupt  # after the new chunks were written, before the switch

    real = store.set_entry
    monkeypatch.setattr(store, "set_entry", crash)
    with pytest.raises(KeyboardInterrupt):
        index_paths([folder], store, settings, log=_quiet)
    assert store.entries() == before  # the manifest still describes the old index
    assert len(store.stored_ids()) > len(store.active_ids())  # strays exist, invisible
    monkeypatch.setattr(store, "set_entry", real)
    done = index_paths([folder], store, settings, log=_quiet)
    assert len(done.changed) == 1 and store.stored_ids() == store.active_ids()


def test_same_file_name_in_two_folders(tmp_path, embedder, settings):
    a, b = tmp_path / "A", tmp_path / "B"
    a.mkdir(), b.mkdir()
    shutil.copy(SEEDS / SMALL[0], a / "report.txt")
    shutil.copy(SEEDS / SMALL[1], b / "report.txt")
    store = Store(embedder, settings)
    index_paths([a], store, settings, log=_quiet)
    res = index_paths([b], store, settings, log=_quiet)
    assert len(res.added) == 1 and not res.removed and not res.changed
    entries = store.entries()
    assert len(entries) == 2 and {e["root"] for e in entries.values()} == {str(a.resolve()), str(b.resolve())}
    assert len({e["report"]["id"] for e in entries.values()}) == 2  # ids made unique


def test_symlink_out_of_the_folder_is_not_read(tmp_path, folder, embedder, settings):
    secret = tmp_path / "secret.txt"
    secret.write_text("机密：地区生产总值增长99%。" * 50, encoding="utf-8")
    os.symlink(secret, folder / "p.txt")
    os.symlink(tmp_path / "nowhere.txt", folder / "dangling.txt")
    store = Store(embedder, settings)
    res = index_paths([folder], store, settings, log=_quiet)
    reasons = {Path(f).name: r for f, r in res.skipped}
    assert "outside the reports folder" in reasons["p.txt"]
    assert "dangling" in reasons["dangling.txt"]
    assert all("机密" not in t for t in store.texts_of(list(store.entries())).values())
    assert str(secret) not in {e["path"] for e in store.entries().values()}


def test_remove_and_rebuild(folder, embedder, settings):
    store = Store(embedder, settings)
    index_paths([folder], store, settings, log=_quiet)
    key = next(k for k, e in store.entries().items() if e["file"] == SMALL[0])
    res = remove_reports(store, [key])
    assert len(res.removed) == 1 and _files(store) == {SMALL[1]}
    store.wipe()
    assert store.entries() == {} and not store.stored_ids()


def test_bad_inputs_do_not_stop_the_batch(folder, embedder, settings):
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "notes.xlsx").write_bytes(b"PK\x03\x04 not really")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 broken zip")
    (folder / "报告 with spaces.md").write_text("# 测试区2021年政府工作报告\n\n一、2020年工作回顾\n\n全年实现地区生产总值100亿元，增长5%。\n",
                                             encoding="utf-8")
    with (folder / "huge.txt").open("w", encoding="utf-8") as f:
        f.write("地区生产总值增长。" * 200_000)
    small = replace(settings, max_file_mb=1.0)
    store = Store(embedder, small)
    res = index_paths([folder], store, small, log=_quiet)
    reasons = {Path(f).name: r for f, r in res.skipped}
    assert set(reasons) == {"empty.txt", "binary.txt", "huge.txt", "notes.xlsx", "broken.docx"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["binary.txt"]
    assert "MB" in reasons["huge.txt"] and "unsupported" in reasons["notes.xlsx"] and "DOCX" in reasons["broken.docx"]
    assert any(Path(f).name == "报告 with spaces.md" for f in res.added)

    # a file that turns bad later keeps what was indexed for it
    (folder / SMALL[0]).write_bytes(b"\x00\x01binary now")
    res2 = index_paths([folder], store, small, log=_quiet)
    assert SMALL[0] in {Path(f).name for f, _ in res2.skipped}
    assert SMALL[0] in _files(store)


def test_corrupt_store_is_a_clear_error(tmp_path, embedder, settings):
    home = tmp_path / "home"
    s = replace(settings, home=home)
    Store(embedder, s)
    db = home / "chroma" / "chroma.sqlite3"
    assert db.exists()
    db.write_bytes(os.urandom(4096) * 4)
    with pytest.raises(StoreError) as err:
        store = Store(embedder, s)
        store.entries()
    assert "rag index --rebuild" in str(err.value) and "\n" not in str(err.value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_chroma_server_round_trip(tmp_path, folder, embedder, settings):
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
        remote = replace(settings, chroma_url=f"http://127.0.0.1:{port}")
        store = Store(embedder, remote)
        assert type(store.client).__name__ != "PersistentClient"
        res = index_paths([folder], store, remote, log=_quiet)
        assert len(res.added) == 2
        hits = store.query(embedder.embed_query("宁波舟山港集装箱吞吐量"), 3)
        assert hits
        assert index_paths([folder], store, remote, log=_quiet).chunks_embedded == 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_dead_chroma_server_is_a_clear_error(embedder, settings):
    with pytest.raises(StoreError, match="cannot open the Chroma store"):
        Store(embedder, replace(settings, chroma_url=f"http://127.0.0.1:{_free_port()}"))
