"""Helpers for the core-library tests (query, route, facts, table, chunk, corpus, sparse).

The fast tier needs an *indexed* corpus without the real embedder or Chroma: ``MemoryStore``
implements the part of ``rag.store.Store`` that ``rag.index.index_paths`` writes and
``rag.corpus.Corpus`` reads, over plain dicts (records round-trip through JSON, as they do
in Chroma). Reports go through the real pipeline (load → meta → structure → chunk →
facts → manifest record); only the vectors are fake.

``core()`` indexes the five seeds, the ten provincial DOCX and the fixture reports once per
process and is shared by every test module that imports it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
PROVINCES = ROOT / "corpus" / "reports-2025"
FIXTURE_REPORTS = Path(__file__).resolve().parent / "fixtures" / "reports"

# ids of the indexed reports, as the catalog (seeds) or the text (the rest) gives them
SEED_IDS = {"jiangbei-2020", "cixi-2021", "haishu-2020", "ningbo-2023", "jiangbei-2018-article"}
PROVINCE_IDS = {"shanghai-2025", "tianjin-2025", "chongqing-2025", "liaoning-2025", "jilin-2025", "heilongjiang-2025",
                "anhui-2025", "neimenggu-2025", "xizang-2025", "ningxia-2025"}
FIXTURE_IDS = {"zhuzhou-2024", "anji-2023", "quanguo-2024", "suzhou-2023", "suzhou-2024", "xihu-2024"}

# region keys (gazetteer) of the places the tests ask about
JIANGBEI = "浙江省/宁波市/江北区"  # Ningbo's district (a namesake of 重庆市/江北区)
HAISHU = "浙江省/宁波市/海曙区"
CIXI = "浙江省/宁波市/慈溪市"
NINGBO = "浙江省/宁波市"
SUZHOU = "江苏省/苏州市"
ANJI = "浙江省/湖州市/安吉县"
XIHU = "浙江省/杭州市/西湖区"


class FakeEmbedder:
    """Deterministic 8-dimensional vectors from a hash: enough for the store's bookkeeping."""

    key = "fake8"
    name = "fake (tests)"

    def __init__(self):
        self.calls = 0

    def embed_passages(self, texts, progress=None):
        self.calls += 1
        return [[b / 255 for b in hashlib.sha1(t.encode()).digest()[:8]] for t in texts]

    def embed_queries(self, texts):
        return self.embed_passages(texts)


class MemoryStore:
    """``rag.store.Store`` without Chroma: the manifest, texts and chunks in dicts."""

    def __init__(self, embedder=None):
        self.embedder = embedder or FakeEmbedder()
        self._entries: dict[str, str] = {}  # key -> JSON (as Chroma stores it)
        self._texts: dict[str, str] = {}
        self._chunks: dict[str, dict] = {}  # id -> metadata
        self._version = "empty"

    def _bump(self):
        self._version = uuid.uuid4().hex[:16]

    # manifest
    def entries(self) -> dict[str, dict]:
        return {k: json.loads(v) for k, v in self._entries.items()}

    def version(self) -> str:
        return self._version

    def set_entry(self, key, entry):
        self._entries[key] = json.dumps(entry, ensure_ascii=False)
        self._bump()

    def delete_entry(self, key):
        self._entries.pop(key, None)
        self._texts.pop(key, None)
        self._bump()

    def active_ids(self, entries=None):
        return {i for e in (entries if entries is not None else self.entries()).values() for i in e.get("ids", [])}

    # texts
    def set_text(self, key, text):
        self._texts[key] = text

    def texts_of(self, keys):
        return {k: self._texts[k] for k in keys if k in self._texts}

    # chunks
    def stored_ids(self, where=None):
        if not where:
            return set(self._chunks)
        return {i for i, m in self._chunks.items() if all(m.get(k) == v for k, v in where.items())}

    def add(self, ids, vectors, metas):
        for i, m in zip(ids, metas):
            self._chunks[i] = dict(m)

    def update_metadata(self, ids, metas):
        for i, m in zip(ids, metas):
            self._chunks[i] = dict(m)

    def delete(self, ids):
        for i in ids:
            self._chunks.pop(i, None)


def settings_for(home: Path):
    from rag.settings import Settings

    return replace(Settings.from_env(), home=Path(home))


def index_into(store, folders, home: Path, sparse=None):
    from rag.index import index_paths

    res = index_paths([Path(f) for f in folders], store, settings_for(home), sparse=sparse, log=lambda m: None)
    assert res.added or res.unchanged or res.changed, res.skipped
    return res


@functools.lru_cache(maxsize=1)
def core() -> SimpleNamespace:
    """Seeds + ten provincial DOCX + fixture reports, indexed once per process (no sparse)."""
    from rag.corpus import Corpus

    home = Path(tempfile.mkdtemp(prefix="rag-core-"))
    store = MemoryStore()
    res = index_into(store, [SEEDS, PROVINCES, FIXTURE_REPORTS], home)
    corpus = Corpus(store)
    return SimpleNamespace(store=store, corpus=corpus, result=res, home=home,
                           by_id={r.id: r for r in corpus.reports})


def report(id: str, region: str = "", year: int = 2024, review=(), plan=(), region_key: str = "", kind: str = "report",
           level: str = "county", key: str = ""):
    """A Report for routing tests that do not need a text."""
    from rag.types import Report

    return Report(id=id, file=f"{id}.txt", title=id, region=region, level=level, year=year, review_years=tuple(review),
                  plan_years=tuple(plan), kind=kind, region_key=region_key, key=key or f"k-{id}")


def build_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A text PDF with one list of paragraphs per page and a "- N -" footer (skips when fpdf2
    or a CJK font is missing)."""
    import shutil
    import subprocess

    import pytest

    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (test-only) is not installed")
    if shutil.which("fc-list") is None:
        pytest.skip("no fc-list to find a CJK font")
    out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout
    fonts = [f for f in sorted({ln.split(":")[0].strip() for ln in out.splitlines()})
             if f.lower().endswith((".ttf", ".otf", ".ttc", ".otc"))]
    if not fonts:
        pytest.skip("no CJK font found by `fc-list :lang=zh`")
    fonts.sort(key=lambda f: ("Regular" not in f, "Sans" not in f, f))
    font, index = fonts[0], 0
    if font.lower().endswith((".ttc", ".otc")):
        from fontTools.ttLib import TTCollection

        names = [face["name"].getDebugName(1) or "" for face in TTCollection(font).fonts]
        index = next((i for i, n in enumerate(names) if n.endswith(" SC")), 0)

    class Doc(fpdf.FPDF):
        def footer(self):
            self.set_y(-15)
            self.set_font("cjk", size=9)
            self.cell(0, 10, f"- {self.page_no()} -", align="C")

    pdf = Doc()
    pdf.add_font("cjk", "", font, collection_font_number=index)
    for paras in pages:
        pdf.add_page()
        pdf.set_font("cjk", size=12)
        for para in paras:
            pdf.multi_cell(0, 8, para, new_x="LMARGIN", new_y="NEXT")
    path.write_bytes(bytes(pdf.output()))
    return path
