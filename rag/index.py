"""Incremental indexing: discover → load → structure/chunk → embed what changed → store,
one report at a time (each report embeds while the next is read and the one before is stored).

Each report is committed on its own (chunks, text, then its manifest record), so an
interrupted run keeps every report it finished and the next run resumes. Unchanged files
embed nothing; a changed file re-embeds only chunks whose content is new; a file gone from
a folder given here (or now a symlink out of it) is removed. A bad file is skipped with a
one-line reason and whatever was indexed for it before is kept. Reports are keyed by the
hash of their resolved path, so two ``report.txt`` in two folders never collide.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import chunk as chunking
from . import load
from .catalog import CatalogError
from .catalog import load as load_catalog
from .facts import extract_figures
from .lexicon import version as lexicon_version
from .store import Store, chunk_metadata
from .structure import sections
from .types import Report


@dataclass
class IndexResult:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    guessed: list[tuple[str, str]] = field(default_factory=list)  # (file, what was found)
    chunks_embedded: int = 0
    chunks_kept: int = 0
    chunks_deleted: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["skipped"] = [{"file": f, "reason": r} for f, r in self.skipped]
        d["guessed"] = [{"file": f, "found": g} for f, g in self.guessed]
        d["seconds"] = round(self.seconds, 3)
        d["embed_seconds"] = round(self.embed_seconds, 3)
        return d


_PIPELINE = ("load.py", "meta.py", "structure.py", "chunk.py", "facts.py", "catalog.py", "gazetteer.py",
             "text/numbers.py", "text/sentences.py", "formats/__init__.py", "formats/plain.py", "formats/docx.py",
             "formats/pdf.py", "formats/html.py", "formats/html_lines.py", "lexicon/__init__.py")


def pipeline_version() -> str:
    """A fingerprint of the code that reads reports: a new version re-reads every report
    (re-embedding only chunks whose text or section changed)."""
    import hashlib

    here = Path(__file__).resolve().parent
    h = hashlib.sha1()
    for name in _PIPELINE:
        p = here / name
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:10]


def settings_key(chunk_settings: chunking.ChunkSettings) -> str:
    return f"{chunk_settings.key()};lexicon={lexicon_version()};code={pipeline_version()}"


def report_to_dict(r: Report) -> dict:
    d = asdict(r)
    return json.loads(json.dumps(d, ensure_ascii=False))


def report_from_dict(d: dict) -> Report:
    d = dict(d)
    for k in ("review_years", "plan_years"):
        d[k] = tuple(int(y) for y in d.get(k, ()))
    d["aliases"] = tuple(d.get("aliases", ()))
    d["sources"] = tuple(tuple(x) for x in d.get("sources", ()))
    known = set(Report.__dataclass_fields__)
    return Report(**{k: v for k, v in d.items() if k in known})


def _found_line(r: Report) -> str:
    parts = [f"region={r.region or '?'} ({r.source('region') or '?'})", f"level={r.level or '?'}",
             f"year={r.year or '?'} ({r.source('year') or '?'})"]
    return " ".join(parts)


def _unique_id(r: Report, taken: dict[str, str]) -> Report:
    """Human ids are unique in the index: a second report with the same id gets a suffix."""
    from dataclasses import replace

    rid = r.id
    owner = taken.get(rid)
    if owner is None or owner == r.key:
        taken[rid] = r.key
        return r
    rid = f"{r.id}-{r.key[:4]}"
    taken[rid] = r.key
    return replace(r, id=rid)


def index_paths(paths: list[Path], store: Store, settings, *, sparse=None, progress=None, log=print,
                chunk_settings: chunking.ChunkSettings = chunking.ChunkSettings()) -> IndexResult:
    """Index the given files and folders. ``progress(event, **kw)`` receives "plan"
    (total files), "file" (name), "embedded" (n chunks) and "done"."""
    t0 = time.perf_counter()
    res = IndexResult()
    entries = store.entries()
    found, skipped = load.discover(paths)
    for f, why in skipped:
        res.skipped.append((f, why))
        log(f"skipped {f}: {why}")
    roots = {str(Path(p).resolve()) for p in paths if Path(p).is_dir()}
    catalogs: dict[Path, dict] = {}
    skey = settings_key(chunk_settings)
    taken = {e["report"]["id"]: k for k, e in entries.items() if e.get("report")}
    by_sha = {e.get("sha256"): k for k, e in entries.items()}
    seen_keys: set[str] = set()
    found_paths = {str(f.path.absolute()) for f in found}
    if progress:
        progress("plan", total=len(found))

    with _Lane(store.embedder, progress, lambda job: _finish(store, job, skey, res, sparse)) as lane:
        for f in found:
            name = str(f.path)
            try:
                if f.root not in catalogs:
                    try:
                        catalogs[f.root] = load_catalog(f.root)
                    except CatalogError as e:
                        log(f"warning: {e}; the catalog is ignored")
                        catalogs[f.root] = {}
                doc = load.read(f.path, f.root, catalogs[f.root], settings.max_file_mb)
            except load.LoadError as e:
                res.skipped.append((name, str(e)))
                log(f"skipped {name}: {e}")
                if "outside the reports folder" in str(e):
                    _drop_path(store, entries, str(f.path.absolute()), res, sparse, log)
                continue
            r = _unique_id(doc.report, taken)
            if r is not doc.report:
                from dataclasses import replace

                doc = replace(doc, report=r)
            if progress:
                progress("file", name=f.path.name)
            seen_keys.add(r.key)
            old = entries.get(r.key)
            dup = by_sha.get(doc.sha256)
            if dup and dup != r.key and dup in entries and Path(entries[dup].get("path", "")).exists():
                res.skipped.append((name, f"same content as {entries[dup].get('found_path') or entries[dup].get('path')} (already indexed)"))
                log(f"skipped {name}: same content as an indexed file")
                continue
            if r.guessed:
                res.guessed.append((name, _found_line(r)))
            if old and old.get("sha256") == doc.sha256 and old.get("settings") == skey and old.get("report") == report_to_dict(r):
                res.unchanged.append(name)
                continue
            chunks = chunking.chunk(doc, chunk_settings)
            if not chunks:
                res.skipped.append((name, "no indexable text after page furniture"))
                log(f"skipped {name}: no indexable text after page furniture")
                continue
            by_sha[doc.sha256] = r.key
            # this report embeds while the one before it is stored and the next one is read
            lane.put(_Job(doc, chunks, old, f, name, store, lane))
    res.embed_seconds = lane.seconds

    # reports indexed from a folder given here whose file is gone
    for key, e in list(entries.items()):
        fp = e.get("found_path") or e.get("path", "")
        if e.get("root") in roots and key not in seen_keys and fp not in found_paths:
            _remove(store, key, e, res, sparse)
            log(f"removed {fp}: no longer in {e.get('root')}")

    # strays from an interrupted run: stored chunks no manifest record lists
    active = store.active_ids()
    strays = store.stored_ids() - active
    if strays:
        store.delete(sorted(strays))
    res.seconds = time.perf_counter() - t0
    if progress:
        progress("done")
    return res


class _Job:
    """One report on its way into the store: its new chunks embedding on the lane."""

    def __init__(self, doc, chunks, old, found, name, store: Store, lane: "_Lane"):
        r = doc.report
        self.doc, self.chunks, self.old, self.found, self.name = doc, chunks, old, found, name
        stored = store.stored_ids({"report_key": r.key}) if old else set()
        metas = [chunk_metadata(c, r, i) for i, c in enumerate(chunks)]
        self.new = [(c, m) for c, m in zip(chunks, metas) if c.id not in stored]
        self.kept = [(c, m) for c, m in zip(chunks, metas) if c.id in stored]
        self.embedding = lane.embed([c.embed_text() for c, _ in self.new]) if self.new else None  # a Future
        self.vectors: list[list[float]] = []


class _Lane:
    """Embeds one report in the background while the indexer reads the next and stores the
    one before, so the CPUs that embed never wait on parsing or on the store. Reports are
    stored in the order they were read, each once its vectors are back; progress events are
    sent from the indexer's own thread."""

    def __init__(self, embedder, progress, finish):
        from concurrent.futures import ThreadPoolExecutor

        self.embedder, self.progress, self.finish = embedder, progress, finish
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="index-embed")
        self.waiting: _Job | None = None
        self.done: list[int] = []  # batch sizes embedded, not yet reported
        self.seconds = 0.0

    def embed(self, texts: list[str]):
        def run():
            t = time.perf_counter()
            try:
                return self.embedder.embed_passages(texts, progress=self.done.append)
            finally:
                self.seconds += time.perf_counter() - t

        return self.pool.submit(run)

    def put(self, job: _Job) -> None:
        """Queue ``job`` (its embedding has started); store the one queued before it."""
        if self.waiting:
            self._finish(self.waiting)
        self.waiting = job

    def _finish(self, job: _Job) -> None:
        from concurrent.futures import TimeoutError as Pending

        while job.embedding is not None:
            try:
                job.vectors = job.embedding.result(timeout=0.25)
                break
            except Pending:
                self._report()
        self._report()
        self.finish(job)

    def _report(self) -> None:
        while self.done:
            n = self.done.pop(0)
            if self.progress:
                self.progress("embedded", n=n)

    def __enter__(self):
        return self

    def __exit__(self, kind, *_):
        try:
            if kind is None and self.waiting:
                self._finish(self.waiting)
        finally:
            self.waiting = None
            self.pool.shutdown(wait=False, cancel_futures=True)


def _finish(store: Store, job: _Job, skey: str, res: IndexResult, sparse) -> None:
    """Store one report: its new chunks with their vectors, the kept chunks' metadata, its
    text, then its manifest record (the record last: until then the report is not visible)."""
    doc, chunks, old, r = job.doc, job.chunks, job.old, job.doc.report
    if job.new:
        store.add([c.id for c, _ in job.new], job.vectors, [m for _, m in job.new])
    if job.kept:
        store.update_metadata([c.id for c, _ in job.kept], [m for _, m in job.kept])
    store.set_text(r.key, doc.text)
    secs = sections(doc)
    figures = extract_figures(doc, secs)
    pages = sorted((m.start, m.level) for m in doc.marks if m.kind == "page")
    ids = [c.id for c in chunks]
    sec_index = {}
    for n, s in enumerate(secs):
        sec_index.setdefault(s.path, []).append(n)

    def sec_of(c) -> int:
        cand = sec_index.get(c.section_path, [0])
        return next((n for n in cand if secs[n].start <= c.start < secs[n].end), cand[0])

    store.set_entry(r.key, {
        "sha256": doc.sha256,
        "path": doc.path,
        "found_path": str(job.found.path.absolute()),
        "root": str(job.found.root),
        "file": r.file,
        "format": doc.format,
        "encoding": doc.encoding,
        "ids": ids,
        "chunks": [[c.id, c.start, c.end, sec_of(c), c.page] for c in chunks],
        "settings": skey,
        "report": report_to_dict(r),
        "sections": [[list(s.path), s.start, s.end, s.body_start, s.kind, s.level] for s in secs],
        "keep": [list(k) for k in doc.keep],
        "pages": [list(p) for p in pages],
        "figures": [asdict(x) for x in figures],
        "indexed_at": time.time(),
    })
    gone = set(old.get("ids", [])) - set(ids) if old else set()
    if gone:
        store.delete(sorted(gone))
    if sparse is not None:
        sparse.write_tokens(r.key, [(c.id, c.section + " " + c.text) for c in chunks])
    res.chunks_embedded += len(job.new)
    res.chunks_kept += len(job.kept)
    res.chunks_deleted += len(gone)
    (res.changed if old else res.added).append(job.name)


def _remove(store: Store, key: str, e: dict, res: IndexResult, sparse) -> None:
    store.delete_entry(key)
    store.delete(e.get("ids", []))
    if sparse is not None:
        sparse.drop_tokens(key)
    res.removed.append(e.get("found_path") or e.get("path") or key)
    res.chunks_deleted += len(e.get("ids", []))


def _drop_path(store: Store, entries: dict, found_path: str, res: IndexResult, sparse, log) -> None:
    for key, e in list(entries.items()):
        if e.get("found_path") == found_path:
            _remove(store, key, e, res, sparse)
            log(f"removed {found_path}: it now points outside the reports folder")


def remove_reports(store: Store, keys: list[str], sparse=None) -> IndexResult:
    """``rag remove``: drop reports (by key) from the index."""
    res = IndexResult()
    entries = store.entries()
    for k in keys:
        if k in entries:
            _remove(store, k, entries[k], res, sparse)
    return res
