"""The runtime of the ONNX Runtime backends (``RAG_EMBED_BACKEND=onnx`` / ``onnx-int8``).

:func:`load_onnx` returns an :class:`OnnxEncoder`, a stand-in for a
``SentenceTransformer`` with the two things :class:`rag.embed.Embedder` uses:
``.encode(texts, batch_size=, normalize_embeddings=, prompt_name=)`` and ``.prompts``.
It runs the file :mod:`rag.onnx_export` made in the model folder (exported and checked
on first use) with ``onnxruntime`` and the folder's own tokenizer; prompts, pooling and
normalisation follow the folder's ``modules.json`` (Transformer → Pooling → optional
Normalize; anything else, e.g. a Dense layer, is refused with an
:class:`~rag.embed.EmbedError`).

Threads: ``threads`` sets ONNX Runtime's intra-op thread pool (inter-op is 1,
sequential execution). onnxruntime, numpy and transformers are imported when used.
"""
from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

from .embed import EmbedError

__all__ = ["OnnxEncoder", "load_onnx"]


# --------------------------------------------------------------------------- folder config


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _pipeline(folder: Path) -> dict:
    """What the sentence-transformers folder asks for: max length, pooling, normalise, prompts."""
    modules = _read_json(folder / "modules.json")
    if not isinstance(modules, list) or not modules:
        raise EmbedError(f"{folder} is not a sentence-transformers folder (no modules.json); "
                         "the onnx backends need a local folder — use RAG_EMBED_BACKEND=torch")
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        raise EmbedError(f"the onnx backends support Transformer → Pooling [→ Normalize] models, "
                         f"not {' → '.join(kinds)}; use RAG_EMBED_BACKEND=torch")
    pool_path = folder / (modules[1].get("path") or "1_Pooling") / "config.json"
    pool = _read_json(pool_path) or {}
    modes = [m for m in ("cls_token", "max_tokens", "mean_tokens", "mean_sqrt_len_tokens")
             if pool.get(f"pooling_mode_{m}")]
    unsupported = [k for k in ("pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken") if pool.get(k)]
    if not modes or unsupported or pool.get("include_prompt") is False:
        raise EmbedError(f"the onnx backends do not support the pooling in {pool_path}; use RAG_EMBED_BACKEND=torch")
    sbert = _read_json(folder / "sentence_bert_config.json") or {}
    st_conf = _read_json(folder / "config_sentence_transformers.json") or {}
    return {
        "max_seq_length": sbert.get("max_seq_length"),
        "do_lower_case": bool(sbert.get("do_lower_case")),
        "pooling": modes,
        "normalize": "Normalize" in kinds,
        "prompts": dict(st_conf.get("prompts") or {}),
        "default_prompt_name": st_conf.get("default_prompt_name"),
    }


def _tokenizer(folder: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


# --------------------------------------------------------------------------- run


class OnnxEncoder:
    """Enough of a SentenceTransformer for the embedder: ``encode`` and ``prompts``."""

    def __init__(self, folder: str | os.PathLike, path: str | os.PathLike, threads: int = 1, conf: dict | None = None):
        import onnxruntime as ort

        self.folder = Path(folder)
        self.path = Path(path)
        self.threads = max(1, int(threads))
        conf = conf or _pipeline(self.folder)
        self.prompts: dict[str, str] = conf["prompts"]
        self.default_prompt_name = conf["default_prompt_name"]
        self.pooling: list[str] = conf["pooling"]
        self.normalize = conf["normalize"]
        self.do_lower_case = conf["do_lower_case"]
        self.tokenizer = _tokenizer(self.folder)
        # as sentence-transformers: the folder's max_seq_length, capped by the tokenizer's limit
        limits = [x for x in (conf["max_seq_length"], getattr(self.tokenizer, "model_max_length", None))
                  if isinstance(x, int) and 0 < x < 10**6]
        self.max_seq_length = min(limits) if limits else 512
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.path), sess_options=so, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def get_sentence_embedding_dimension(self) -> int:
        return int(self.encode(["x"]).shape[1])

    def _batch(self, texts: list[str]):
        import numpy as np

        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="np")
        feed = {}
        for name in self.input_names:
            arr = enc.get(name)
            if arr is None and name == "token_type_ids":
                arr = np.zeros_like(enc["input_ids"])
            feed[name] = np.asarray(arr, dtype=np.int64)
        hidden = self.session.run(None, feed)[0].astype(np.float32)
        mask = feed["attention_mask"][..., None].astype(np.float32)
        parts = []
        for mode in self.pooling:
            if mode == "cls_token":
                parts.append(hidden[:, 0])
            elif mode == "max_tokens":
                parts.append(np.where(mask > 0, hidden, -1e9).max(1))
            else:
                summed = (hidden * mask).sum(1)
                count = np.clip(mask.sum(1), 1e-9, None)
                parts.append(summed / (count if mode == "mean_tokens" else np.sqrt(count)))
        vec = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        if self.normalize:
            vec = vec / np.clip(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12, None)
        return vec

    def encode(self, sentences, batch_size: int = 32, normalize_embeddings: bool = False, prompt_name: str | None = None,
               prompt: str | None = None, convert_to_numpy: bool = True, show_progress_bar=None, **_ignored):
        import numpy as np

        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        if prompt is None:
            name = prompt_name if prompt_name is not None else self.default_prompt_name
            if name is not None:
                if name not in self.prompts:
                    raise ValueError(f"prompt name {name!r} not in {sorted(self.prompts)}")
                prompt = self.prompts[name]
        if prompt:
            texts = [prompt + t for t in texts]
        if self.do_lower_case:
            texts = [t.lower() for t in texts]
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # little padding per batch
        out = [None] * len(texts)
        step = max(1, int(batch_size))
        for b in range(0, len(order), step):
            idx = order[b: b + step]
            for i, v in zip(idx, self._batch([texts[i] for i in idx])):
                out[i] = v
        arr = np.stack(out).astype(np.float32)
        if normalize_embeddings:
            arr = arr / np.clip(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12, None)
        return arr[0] if single else arr


def load_onnx(folder: str, quantized: bool, threads: int) -> OnnxEncoder:
    """An encoder for ``folder`` through ONNX Runtime (exported into ``<folder>/onnx`` on first use)."""
    if not Path(folder).is_dir():
        raise EmbedError(f"the onnx backends need a local model folder, not {folder!r}; "
                         "set RAG_EMBED_MODEL to a folder or use RAG_EMBED_BACKEND=torch")
    try:
        importlib.import_module("onnxruntime")  # installed and importable, before any export
    except ImportError:
        raise EmbedError("onnxruntime is not installed; pip install onnxruntime onnx, "
                         "or use RAG_EMBED_BACKEND=torch") from None
    from .onnx_export import ensure_export  # the export checks its file with this module's encoder

    path = ensure_export(folder, quantized, threads)
    try:
        return OnnxEncoder(folder, path, threads)
    except EmbedError:
        raise
    except Exception as e:  # noqa: BLE001
        msg = " ".join(str(e).split())[:200] or type(e).__name__
        raise EmbedError(f"cannot load {path} ({msg}); delete {path.parent} to export again, "
                         "or use RAG_EMBED_BACKEND=torch") from None
