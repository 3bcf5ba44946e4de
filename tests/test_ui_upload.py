"""rag.ui_upload: files placed into the uploads folder without overwriting anything, and
indexed under the lock the caller hands in; the page's status comes from the caller."""
from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from rag import ui_upload


def test_place_never_overwrites_another_file(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    assert ui_upload.place(a, folder, "r.txt") == (folder / "r.txt", True)
    assert ui_upload.place(a, folder, "r.txt") == (folder / "r.txt", False)  # the same file again
    assert ui_upload.place(b, folder, "r.txt") == (folder / "r-2.txt", True)
    assert (folder / "r.txt").read_bytes() == b"one" and (folder / "r-2.txt").read_bytes() == b"two"
    assert sorted(p.name for p in folder.iterdir()) == ["r-2.txt", "r.txt"]  # no temporary files left
    with pytest.raises(ValueError, match="bad file name"):
        ui_upload.place(a, folder, "../r.txt")


class _Corpus:
    def __init__(self):
        self.reports, self.entries = [], {}

    def report(self, ref):
        return next((r for r in self.reports if ref in (r.key, r.id)), None)


def test_upload_indexes_under_the_callers_lock_and_shows_its_status(tmp_path, monkeypatch):
    from rag.index import IndexResult
    from rag.types import Report

    corpus = _Corpus()
    svc = SimpleNamespace(settings=SimpleNamespace(home=tmp_path, max_file_mb=1.0), corpus=corpus, store=object(),
                          sparse=object(), retriever=SimpleNamespace(refresh=lambda: None))
    loader = SimpleNamespace(get=lambda require_index=True: svc)
    lock = threading.Lock()
    held = []

    def index(paths, store, settings, *, sparse=None, progress=None, log=print):
        held.append(lock.locked())
        p = Path(paths[0])
        r = Report("anji-2024", p.name, "安吉县2024年政府工作报告", "安吉县", "county", 2024, key="k-anji")
        corpus.reports.append(r)
        corpus.entries[r.key] = {"found_path": str(p.absolute()), "format": "text"}
        return IndexResult(added=[str(p)], seconds=0.1)

    monkeypatch.setattr(ui_upload, "index_paths", index)
    src = tmp_path / "安吉.txt"
    src.write_text("安吉县2024年政府工作报告", encoding="utf-8")
    html, rows, pick, chat_filter, status, box = ui_upload.upload(
        SimpleNamespace(get=loader.get), [str(src)], lambda *a, **k: None, lock=lock, status=lambda: "STATUS")
    assert held == [True] and not lock.locked()
    assert status == "STATUS" and box is None
    assert "anji-2024" in html and rows[0][4] == "anji-2024"
    assert (tmp_path / ui_upload.UPLOADS / "安吉.txt").read_text(encoding="utf-8").startswith("安吉县")
    assert ("安吉县2024年政府工作报告 [anji-2024]", "k-anji") in pick.choices
