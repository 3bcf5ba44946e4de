"""The web app's Reports tab, writing side: uploaded files copied into ``<home>/uploads/``
(names sanitised, sizes checked, never overwriting another file) and indexed, and a
report's corrected region / level / years written into its folder's ``catalog.toml``
and re-indexed. Only the files concerned are indexed, one run at a time (``lock``), so
nothing indexed before can be lost.

``loader`` is the app's loader of the shared services (see :mod:`rag.ui_status`);
``status`` gives the page's status line after the index changed.
"""
from __future__ import annotations

import os
import threading
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from . import catalog
from . import ui_format as fmt
from . import ui_reports as rfmt
from . import ui_status as st
from .formats import SUFFIXES
from .index import index_paths
from .ui_report_view import lists

UPLOADS = "uploads"  # under settings.home


def indexed_report(svc, path: Path):
    """The indexed report of a file (by the path it was found at)."""
    want = str(Path(path).absolute())
    for key, e in svc.corpus.entries.items():
        if e.get("found_path") == want or e.get("path") == str(Path(path).resolve()):
            return svc.corpus.report(key)
    return None


def place(src: Path, folder: Path, name: str) -> tuple[Path, bool]:
    """Copy ``src`` into ``folder`` as ``name`` (atomically); a different file already
    there keeps its name and this one gets "-2", "-3" …. Returns (path, created)."""
    stem, suffix = os.path.splitext(name)
    data = src.read_bytes()
    for n in range(1, 1000):
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        if target.resolve().parent != folder.resolve():  # never outside the uploads folder
            raise ValueError("bad file name")
        if target.exists():
            if target.is_file() and target.read_bytes() == data:
                return target, False  # the same file again
            continue
        tmp = folder / f".{uuid.uuid4().hex}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, target)
        return target, True
    raise ValueError("too many files with this name")


def upload(loader, files, progress, *, lock: threading.Lock, status: Callable[[], str]):
    """Uploaded files → ``<home>/uploads/`` (names sanitised, sizes checked) → indexed
    (with a progress bar) → listed: each report with its detected region, level and year
    and where each came from; each rejected or skipped file with its reason. Only the new
    files are indexed, so nothing indexed before can be lost.
    Returns (result html, catalog rows, report picker, chat filter, status, file box)."""
    files = [f for f in (files or []) if f]
    keep = (gr.skip(), gr.skip(), gr.skip())
    if not files:
        return rfmt.upload_result_html([], []), *keep, gr.skip(), gr.skip()
    try:
        svc = loader.get(require_index=False)
    except Exception as e:
        return fmt.error_html(st.message(e)), *keep, gr.skip(), None
    folder = Path(svc.settings.home) / UPLOADS
    refused: list[tuple[str, str]] = []
    placed: list[tuple[str, Path, bool]] = []  # (shown name, path in uploads, created now)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return fmt.error_html(f"cannot create {folder}: {st.message(e)}"), *keep, gr.skip(), None
    for f in files:
        src = Path(getattr(f, "name", f))
        shown = src.name
        try:
            name = rfmt.safe_upload_name(shown, SUFFIXES)
            why = rfmt.size_problem(src.stat().st_size, svc.settings.max_file_mb)
            if why:
                raise ValueError(why)
            path, created = place(src, folder, name)
            placed.append((shown, path, created))
        except (ValueError, OSError) as e:
            refused.append((shown, st.message(e)))

    done: list[tuple[str, str, object]] = []
    seconds = 0.0
    if placed:
        total = len(placed)
        state = {"i": 0, "chunks": 0}

        def on_progress(event, **kw):
            if event == "plan":
                progress(0.0, desc=f"索引 indexing {kw.get('total', total)} file(s)…")
            elif event == "file":
                state["i"] += 1
                progress(min(state["i"] - 0.5, total) / total, desc=f"索引 indexing {kw.get('name', '')}")
            elif event == "embedded":
                state["chunks"] += int(kw.get("n", 0))
                progress(min(state["i"], total) / total * 0.999, desc=f"向量化 embedding · {state['chunks']} chunks")
            elif event == "done":
                progress(1.0, desc="完成 done")

        log: list[str] = []
        try:
            with lock:
                res = index_paths([p for _, p, _ in placed], svc.store, svc.settings, sparse=svc.sparse,
                                  progress=on_progress, log=log.append)
                svc.retriever.refresh()
        except Exception as e:
            if not st.expected(e):
                traceback.print_exc()
            for _, p, created in placed:
                if created and indexed_report(svc, p) is None:
                    p.unlink(missing_ok=True)
            refused += [(shown, f"not indexed: {st.message(e)}") for shown, _, _ in placed]
            return rfmt.upload_result_html([], refused), *lists(svc), status(), None
        seconds = res.seconds
        skipped = {str(Path(f).absolute()): why for f, why in res.skipped}
        got = {str(Path(f).absolute()): s for s, names in (("added", res.added), ("changed", res.changed),
                                                           ("unchanged", res.unchanged)) for f in names}
        for shown, p, created in placed:
            k = str(p.absolute())
            if k in skipped:
                refused.append((shown, skipped[k]))
                if created:
                    p.unlink(missing_ok=True)  # a file that did not index does not stay in uploads/
                continue
            done.append((shown, got.get(k, "unchanged"), indexed_report(svc, p)))
    return rfmt.upload_result_html(done, refused, seconds), *lists(svc), status(), None


def save_correction(loader, ref: str | None, region: str, level: str, year: str, review: str, plan: str,
                    progress, *, lock: threading.Lock, status: Callable[[], str]):
    """Writes the corrected fields into the catalog of the report's own folder
    (``catalog.toml``) and re-indexes that folder.
    Returns (message html, catalog rows, report picker, chat filter, status)."""
    keep = (gr.skip(), gr.skip(), gr.skip(), gr.skip())
    if not ref:
        return fmt.error_html("请先选择一份报告 (choose a report first)"), *keep
    try:
        svc = loader.get(require_index=False)
        r = svc.corpus.report(ref)
        if r is None:
            raise LookupError(f"未知报告 (unknown report): {ref}")
        fields = rfmt.correction_fields(r, region, level, year, review, plan)
        if not fields:
            return fmt.ok_html("没有改动 (nothing changed)"), *keep
        entry = svc.corpus.entries.get(r.key, {})
        root = Path(entry.get("root") or "")
        found = Path(entry.get("found_path") or entry.get("path") or r.path or r.file)
        if not entry.get("root") or not root.is_dir():
            raise ValueError(f"the report's folder {root} is gone; cannot write its catalog")
        progress(0.1, desc="写入目录 writing catalog.toml")
        with lock:
            path = catalog.update(root, found.name, fields)
            progress(0.3, desc="重新索引 re-indexing")
            res = index_paths([root], svc.store, svc.settings, sparse=svc.sparse, log=lambda m: None)
            svc.retriever.refresh()
    except Exception as e:
        if not st.expected(e):
            traceback.print_exc()
        return fmt.error_html(f"未保存 (not saved): {st.message(e)}"), *keep
    r2 = svc.corpus.report(r.key)
    why = next((w for f, w in res.skipped if Path(f).name == found.name), "")
    if r2 is None or why:
        return fmt.error_html(f"已写入 {path}，但重新索引失败 (saved, but re-indexing failed): {why or 'report missing'}"), \
            *lists(svc, r.key), status()
    changed = ", ".join(f"{k} = {v if v is not None else '（从正文推测 from the text）'}" for k, v in fields.items())
    msg = (f"已保存 saved ({changed}) → {path}; 已重新索引 re-indexed: {r2.region or '?'} · "
           f"{fmt.level_label(r2.level)} · {r2.year or '?'}年 [{r2.id}]")
    return fmt.ok_html(msg), *lists(svc, r.key), status()
