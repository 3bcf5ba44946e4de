"""Shared fixtures. Tests run offline: no hub, the packaged embedder, real Chroma."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# converted model folder shared by every test run (built once, ~seconds)
os.environ.setdefault("RAG_MODELS_DIR", str(ROOT / ".rag" / "models"))
for var in ("RAG_LLM_BASE_URL", "RAG_LLM_MODEL", "RAG_LLM_API_KEY", "RAG_OLLAMA_HOST", "RAG_CHROMA_URL", "RAG_EMBED_MODEL"):
    os.environ.pop(var, None)


@pytest.fixture(autouse=True)
def _home(tmp_path_factory, monkeypatch):
    """Every test gets its own data directory (Chroma, caches)."""
    home = tmp_path_factory.mktemp("rag-home")
    monkeypatch.setenv("RAG_HOME", str(home))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(home / "tiktoken"))
    yield home


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A private copy of seeds/ (with its catalog) that a test may change."""
    dst = tmp_path / "seeds"
    shutil.copytree(SEEDS, dst)
    return dst


@pytest.fixture(scope="session")
def embedder():
    from rag.embed import get_embedder

    e = get_embedder("")
    e.model()  # build/convert once per session
    return e


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, embedder):
    """The five seeds indexed once into a persistent Chroma for the whole session."""
    import chromadb
    from chromadb.config import Settings

    from rag.index import index_paths
    from rag.store import Store

    path = tmp_path_factory.mktemp("seed-chroma")
    client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
    store = Store(embedder, client=client)
    res = index_paths([SEEDS], store, log=lambda m: None)
    assert not res.skipped, res.skipped
    return store
