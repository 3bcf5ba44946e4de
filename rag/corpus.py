"""The corpus: what is indexed — reports, their stored texts, sections, chunks, pages and
figures — read from the store's manifest. The app, the CLI, retrieval and answering ask
it; ``resolve`` is the one way a report reference (id, file name, path, region) becomes a
report. It refreshes itself when the store changed (another process indexed).
"""
from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from .gazetteer import gazetteer
from .index import report_from_dict
from .types import Chunk, Figure, Report, Section

TEXT_CACHE = 64  # report texts kept in memory


class UnknownReport(LookupError):
    """A report reference that names no indexed report; the message lists what is indexed."""


@dataclass(frozen=True)
class ChunkRef:
    id: str
    key: str  # report key
    start: int
    end: int
    section: int  # index into the report's sections
    page: int
    ord: int


class Corpus:
    def __init__(self, store):
        self.store = store
        self._lock = threading.RLock()
        self._texts: OrderedDict[str, str] = OrderedDict()
        self.version = ""
        self.entries: dict[str, dict] = {}
        self.reports: list[Report] = []
        self.by_key: dict[str, Report] = {}
        self.by_id: dict[str, Report] = {}
        self.chunks: dict[str, ChunkRef] = {}
        self._sections: dict[str, list[Section]] = {}
        self._pages: dict[str, tuple[list[int], list[int]]] = {}
        self._aliases: dict[str, tuple[str, ...]] = {}
        self.refresh()

    # --- loading ------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        """Reload if the store changed; True when something was reloaded."""
        version = self.store.version()
        if version == self.version and not force:
            return False
        entries = self.store.entries()
        reports, chunks, sections, pages = [], {}, {}, {}
        for key, e in entries.items():
            r = report_from_dict(e["report"])
            reports.append(r)
            secs = [Section(tuple(p), s, en, b, k, lv) for p, s, en, b, k, lv in e.get("sections", [])]
            sections[key] = secs
            starts = [s.start for s in secs]
            pg = e.get("pages", [])
            pages[key] = ([p[0] for p in pg], [p[1] for p in pg])
            for n, c in enumerate(e.get("chunks", [])):
                cid, s, en, sec, page = c
                chunks[cid] = ChunkRef(cid, key, s, en, sec, page, n)
            if not e.get("chunks") and e.get("ids"):  # records from before chunk offsets were kept
                for n, cid in enumerate(e["ids"]):
                    chunks[cid] = ChunkRef(cid, key, 0, 0, max(0, bisect.bisect_right(starts, 0) - 1), 0, n)
        reports.sort(key=lambda r: (r.region, r.year, r.file))
        with self._lock:
            self.version, self.entries, self.reports = version, entries, reports
            self.by_key = {r.key: r for r in reports}
            self.by_id = {r.id: r for r in reports}
            self.chunks, self._sections, self._pages = chunks, sections, pages
            self._texts.clear()
            self._aliases = self._region_aliases()
        from .text.tokenize import add_words

        add_words({a for a in self._aliases if len(a) >= 2})
        return True

    def _region_aliases(self) -> dict[str, tuple[str, ...]]:
        g = gazetteer()
        out: dict[str, list[str]] = {}
        for r in self.reports:
            if not r.region_key:
                continue
            reg = g.get(r.region_key)
            names = {r.region} | set(r.aliases)
            if reg is not None:
                names |= {reg.name} | ({reg.short} if reg.short and len(reg.short) >= 2 else set())
            for n in list(names):
                m = re.fullmatch(r"([A-Za-z]+)(市|省|区|县)", n or "")
                if m:  # a masked name ("XX市") as an English question writes it ("XX City")
                    names.add(f"{m.group(1)} {dict(zip('市省区县', ('City', 'Province', 'District', 'County')))[m.group(2)]}")
            for n in names:
                if n:
                    out.setdefault(n, []).append(r.region_key)
        return {a: tuple(dict.fromkeys(k)) for a, k in out.items()}

    # --- questions ask these ---------------------------------------------------------------
    def region_aliases(self) -> dict[str, tuple[str, ...]]:
        return self._aliases

    def __len__(self) -> int:
        return len(self.reports)

    def report(self, key_or_id: str) -> Report | None:
        return self.by_key.get(key_or_id) or self.by_id.get(key_or_id)

    def text(self, key: str) -> str:
        with self._lock:
            if key in self._texts:
                self._texts.move_to_end(key)
                return self._texts[key]
        got = self.store.texts_of([key]).get(key, "")
        with self._lock:
            self._texts[key] = got
            while len(self._texts) > TEXT_CACHE:
                self._texts.popitem(last=False)
        return got

    def sections(self, key: str) -> list[Section]:
        return self._sections.get(key, [])

    def section_at(self, key: str, pos: int) -> Section | None:
        best = None
        for s in self.sections(key):
            if s.start <= pos < s.end and (best is None or s.start >= best.start):
                best = s
        return best

    def page_at(self, key: str, pos: int) -> int:
        starts, numbers = self._pages.get(key, ([], []))
        i = bisect.bisect_right(starts, pos) - 1
        return numbers[i] if i >= 0 else 0

    def keep(self, key: str) -> list[tuple[int, int]]:
        return [tuple(k) for k in self.entries.get(key, {}).get("keep", [])]

    def figures(self, key: str) -> list[Figure]:
        return [Figure(**f) for f in self.entries.get(key, {}).get("figures", [])]

    def chunk(self, cid: str) -> Chunk | None:
        ref = self.chunks.get(cid)
        if ref is None:
            return None
        r = self.by_key[ref.key]
        secs = self.sections(ref.key)
        sec = secs[ref.section] if 0 <= ref.section < len(secs) else None
        text = self.text(ref.key)[ref.start: ref.end]
        return Chunk(cid, r.id, r.file, sec.path if sec else (), sec.kind if sec else "other", ref.start, ref.end, text,
                     0, "", ref.ord, ref.page)

    def search_texts(self, ids: list[str]) -> dict[str, str]:
        """What the sparse index tokenises for each chunk (section path and text, as the
        indexer gives it), for chunks whose tokens another process wrote or none did."""
        out = {}
        for cid in ids:
            c = self.chunk(cid)
            if c is not None:
                out[cid] = c.section + " " + c.text
        return out

    def chunk_ids(self, keys: set[str] | None = None) -> set[str]:
        if keys is None:
            return set(self.chunks)
        return {c.id for c in self.chunks.values() if c.key in keys}

    def path(self, key: str) -> Path | None:
        p = self.entries.get(key, {}).get("found_path") or self.entries.get(key, {}).get("path")
        return Path(p) if p else None

    # --- references -------------------------------------------------------------------------
    def resolve(self, ref: str) -> Report:
        """A report id, key, file name, path, or "region year" → the indexed report."""
        ref = (ref or "").strip()
        if not ref:
            raise UnknownReport("no report given")
        r = self.report(ref)
        if r:
            return r
        for r in self.reports:
            if ref in (r.file, Path(r.file).stem):
                return r
        p = Path(ref)
        if p.exists():
            real = str(p.resolve())
            for r in self.reports:
                if r.path == real:
                    return r
        years = [int(y) for y in re.findall(r"(?:19|20)\d{2}", ref)]
        name = re.sub(r"(?:19|20)\d{2}\s*年?|[\s_\-]+", "", ref)  # "苏州 2024", "慈溪2021年"

        def names(r: Report) -> tuple[str, ...]:
            place = gazetteer().get(r.region_key) if r.region_key else None
            return tuple(n for n in (r.region, place.short if place else "") if n)

        matches = [r for r in self.reports if r.region and (ref.startswith(r.region) or (name and name in names(r)))]
        if years:
            matches = [r for r in matches if r.year in years]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(sorted(r.id for r in self.reports)[:30])
        raise UnknownReport(f"unknown report {ref!r}; indexed: {known or 'none'} (run `rag reports` to list them)")
