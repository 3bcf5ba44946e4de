"""Incremental indexing: load → chunk → embed only what changed → store.

Unchanged files embed nothing; a changed file re-embeds only chunks whose content hash
is new (kept chunks just get their new offsets); a removed file's chunks are deleted.
A bad file is skipped with a one-line reason and whatever was indexed for it before is
kept, so nothing already indexed is lost.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import chunk as chunking
from . import load
from .catalog import load_catalog
from .store import Store, chunk_metadata, report_to_dict


@dataclass
class IndexResult:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    guessed: list[tuple[str, str]] = field(default_factory=list)  # (file, what was guessed)
    chunks_embedded: int = 0
    chunks_kept: int = 0
    chunks_deleted: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
            "guessed": [{"file": f, "guess": g} for f, g in self.guessed],
            "chunks_embedded": self.chunks_embedded,
            "chunks_kept": self.chunks_kept,
            "chunks_deleted": self.chunks_deleted,
            "seconds": round(self.seconds, 3),
        }


def _settings_key() -> str:
    return f"v{chunking.VERSION},budget={chunking.BUDGET},overlap={chunking.OVERLAP},min={chunking.MIN_TOKENS}"


def index_paths(paths: list[Path], store: Store, progress=None, log=print) -> IndexResult:
    """Index the given files and folders. A folder given here is mirrored: files that
    were indexed from it and are gone now are removed from the index.
    `progress(event, **kw)` receives "plan" (total chunks to embed) and "embedded" (n)."""
    t0 = time.perf_counter()
    res = IndexResult()
    entries = store.entries()
    files = load.discover(paths)
    folders = {str(Path(p).resolve()) for p in paths if Path(p).is_dir()}
    catalogs: dict[Path, dict] = {}
    settings = _settings_key()

    # 1. load and chunk everything first (cheap), so the embedding work is known up front
    work = []  # (doc, chunks, entry or None)
    for f in files:
        name = f.name
        try:
            if not f.exists():
                raise load.LoadError("no such file")
            cat = catalogs.setdefault(f.parent, load_catalog(f.parent))
            doc = load.read(f, cat)
        except load.LoadError as e:
            res.skipped.append((name, str(e)))
            log(f"skipped {name}: {e}")
            continue
        except OSError as e:
            res.skipped.append((name, f"cannot read: {e}"))
            log(f"skipped {name}: cannot read: {e}")
            continue
        if doc.report.guessed:
            g = f"region={doc.report.region or '?'} year={doc.report.year or '?'} (guessed from the text; add it to catalog.toml)"
            res.guessed.append((name, g))
        old = entries.get(name)
        same_report = old and old.get("report") == json.loads(json.dumps(report_to_dict(doc.report)))
        if same_report and old.get("sha256") == doc.sha256 and old.get("settings") == settings:
            res.unchanged.append(name)
            continue
        chunks = chunking.chunk(doc)
        if not chunks:
            res.skipped.append((name, "no indexable text after boilerplate"))
            log(f"skipped {name}: no indexable text after boilerplate")
            continue
        work.append((doc, chunks, old))

    # 2. embed only chunks whose id is not already stored
    stored = store.stored_ids() if work else set()
    to_embed = [c for _, chunks, _ in work for c in chunks if c.id not in stored]
    if progress:
        progress("plan", total=len(to_embed))
    vectors = {}
    if to_embed:
        texts = [c.embed_text() for c in to_embed]
        vecs = store.embedder.embed_passages(texts, progress=(lambda n: progress("embedded", n=n)) if progress else None)
        vectors = {c.id: v for c, v in zip(to_embed, vecs)}

    # 3. per file: add new chunks, refresh kept ones, switch the manifest, delete the old
    for doc, chunks, old in work:
        name = doc.report.file
        metas = [chunk_metadata(c, doc.report, i) for i, c in enumerate(chunks)]
        new = [(c, m) for c, m in zip(chunks, metas) if c.id in vectors]
        kept = [(c, m) for c, m in zip(chunks, metas) if c.id not in vectors]
        if new:
            store.add([c.id for c, _ in new], [c.text for c, _ in new], [vectors[c.id] for c, _ in new], [m for _, m in new])
        if kept:
            store.update_metadata([c.id for c, _ in kept], [m for _, m in kept])
        ids = [c.id for c in chunks]
        store.set_entry(
            name,
            {
                "sha256": doc.sha256,
                "path": str(Path(doc.path).resolve()),
                "ids": ids,
                "settings": settings,
                "report": report_to_dict(doc.report),
                "encoding": doc.encoding,
            },
        )
        gone = set(old.get("ids", [])) - set(ids) if old else set()
        if gone:
            store.delete(sorted(gone))
        res.chunks_embedded += len(new)
        res.chunks_kept += len(kept)
        res.chunks_deleted += len(gone)
        (res.changed if old else res.added).append(name)

    # 4. files indexed from a mirrored folder that are gone now
    present = {f.name for f in files}
    for name, e in entries.items():
        src = Path(e.get("path", ""))
        if str(src.parent) in folders and name not in present and not src.exists():
            store.delete_entry(name)
            store.delete(e.get("ids", []))
            res.removed.append(name)
            res.chunks_deleted += len(e.get("ids", []))

    # 5. strays from an interrupted run: stored chunks no manifest entry lists
    active = store.active_ids()
    strays = store.stored_ids() - active
    if strays:
        store.delete(sorted(strays))
    res.seconds = time.perf_counter() - t0
    return res
