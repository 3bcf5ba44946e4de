"""Shared fixtures. Tests run offline: no hub, the packaged embedder, real Chroma."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
PROVINCES = ROOT / "corpus" / "reports-2025"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# converted model folder shared by every test run (built once, ~seconds)
os.environ.setdefault("RAG_MODELS_DIR", str(ROOT / ".rag" / "models"))
for var in ("RAG_LLM_BASE_URL", "RAG_LLM_MODEL", "RAG_LLM_API_KEY", "RAG_OLLAMA_HOST", "RAG_CHROMA_URL", "RAG_EMBED_MODEL",
            "RAG_EMBED_BASE_URL", "RAG_EMBED_BACKEND", "RAG_COLLECTION", "RAG_LLM_TIMEOUT"):
    os.environ.pop(var, None)


@pytest.fixture(autouse=True)
def _home(tmp_path_factory, monkeypatch):
    """Every test gets its own data directory (Chroma, caches) and fresh settings."""
    from rag import settings

    home = tmp_path_factory.mktemp("rag-home")
    monkeypatch.setenv("RAG_HOME", str(home))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(home / "tiktoken"))
    settings.reset()
    yield home
    settings.reset()


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A private copy of seeds/ (with its catalog) that a test may change."""
    dst = tmp_path / "seeds"
    shutil.copytree(SEEDS, dst)
    return dst


@pytest.fixture
def settings():
    from rag.settings import current

    return current()


@pytest.fixture(scope="session")
def embedder():
    from rag.embed import get_embedder
    from rag.settings import Settings

    e = get_embedder(Settings.from_env())
    e.model()  # build/convert once per session
    return e


def _indexed(home: Path, folders: list[Path]):
    """Services over ``folders`` indexed into their own data directory ``home``."""
    from dataclasses import replace

    from rag.index import index_paths
    from rag.service import build
    from rag.settings import Settings

    s = replace(Settings.from_env(), home=home)
    svc = build(s)
    res = index_paths(folders, svc.store, s, sparse=svc.sparse, log=lambda m: None)
    assert res.added, res.skipped
    svc.retriever.refresh()
    return svc


@pytest.fixture(scope="session")
def seed_services(tmp_path_factory, embedder):
    """The five seeds indexed once for the whole session (real Chroma, real embedder)."""
    return _indexed(tmp_path_factory.mktemp("seed-home"), [SEEDS])


@pytest.fixture(scope="session")
def corpus_services(tmp_path_factory, embedder):
    """The seeds and the ten provincial DOCX reports, indexed once for the session."""
    return _indexed(tmp_path_factory.mktemp("corpus-home"), [SEEDS, PROVINCES])
