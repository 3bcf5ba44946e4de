"""Export of the embedder's model folder to ONNX, for the ONNX Runtime backends
(``RAG_EMBED_BACKEND=onnx`` / ``onnx-int8``; run by :mod:`rag.onnx_encoder`, whose
:func:`~rag.onnx_encoder.load_onnx` calls :func:`ensure_export` on first use).

Why not sentence-transformers' own ``backend="onnx"``: it goes through
``optimum-onnx``, whose releases pin ``transformers<4.58`` while the project runs
transformers 5, so installing it would downgrade transformers, tokenizers and
huggingface-hub under the torch backend. Instead the model folder is exported here
with ``torch.onnx`` (the TorchScript exporter; no ``onnxscript`` needed) and run with
``onnxruntime`` and the folder's own tokenizer (:class:`~rag.onnx_encoder.OnnxEncoder`).

The export happens once, into the model folder itself:

* ``<folder>/onnx/model.onnx`` — fp32, the transformer only (``input_ids``,
  ``attention_mask`` [, ``token_type_ids``] → ``last_hidden_state``). The padding mask
  is turned into the additive 4-D mask in the wrapper so that nothing shape-dependent
  is traced (transformers' own mask helpers bake the example's shape into a trace).
* ``<folder>/onnx/model_qint8.onnx`` — the same graph with ONNX Runtime's dynamic int8
  quantisation (weights int8 with per-channel scales, activations quantised on the fly;
  the word embedding table is quantised too, which is what shrinks the file 4×). int8
  is an approximation: see :data:`QUANT` for what was measured.

Each file is written in a temporary folder beside it, checked against the torch model
(fp32: cosine ≥ :data:`MIN_COSINE_FP32` on a few probe texts; int8: ≥
:data:`MIN_COSINE_INT8`) and then renamed into place together with a
``<file>.json`` record of what it was made from (weights' size and mtime, exporter
version). A later load whose record still matches reuses the file; an interrupted export
leaves nothing behind, and two processes exporting at once each install a whole file.

Threads: ``threads`` sets torch's threads during the one-off export (and ONNX Runtime's
intra-op pool in the check).

``python -m rag.onnx_export [FOLDER] [--threads N] [--bench]`` exports (if needed) and,
with ``--bench``, measures throughput and agreement with the torch backend on the chunks
of seeds/ and corpus/.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from .embed import EmbedError
from .onnx_encoder import OnnxEncoder, _pipeline, _read_json, _tokenizer, load_onnx

EXPORT_VERSION = 1  # bump to re-export every folder (a change to the graph or its inputs)
OPSET = 17
ONNX_DIR = "onnx"
FP32_NAME = "model.onnx"
INT8_NAME = "model_qint8.onnx"
MIN_COSINE_FP32 = 0.9999
MIN_COSINE_INT8 = 0.98  # a floor only: measured min 0.9945 / mean 0.9972 over the corpus chunks
PROBE_TEXTS = (
    "passage: 2019年实现地区生产总值639.6亿元,增长7.9%,增速实现全市“四连冠”。",
    "query: 海曙区2020年GDP增长目标",
    "passage: The quick brown fox jumps over the lazy dog.  ",
    "passage: 名词解释：五减是指减租、减息、减税、减费、减支。" * 12,
)
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "config.json")
_export_lock = threading.RLock()


# --------------------------------------------------------------------------- export records


def _source_fingerprint(folder: Path) -> dict:
    """The files an export is made from (size and mtime; the converter replaces the whole
    folder when it rebuilds, and a changed checkpoint changes its size or mtime)."""
    out = {}
    for name in _WEIGHT_FILES:
        p = folder / name
        if p.is_file():
            st = p.stat()
            out[name] = [st.st_size, st.st_mtime_ns]
    return out


def _record(folder: Path, quantized: bool) -> dict:
    rec = {"export_version": EXPORT_VERSION, "quantized": quantized, "source": _source_fingerprint(folder)}
    if quantized:
        rec["quantization"] = {"method": "onnxruntime dynamic", **QUANT}
    return rec


def onnx_path(folder: str | os.PathLike, quantized: bool) -> Path:
    return Path(folder) / ONNX_DIR / (INT8_NAME if quantized else FP32_NAME)


def is_exported(folder: str | os.PathLike, quantized: bool) -> bool:
    """True if ``<folder>/onnx`` holds a finished export of the folder's current weights."""
    folder = Path(folder)
    path = onnx_path(folder, quantized)
    rec = _read_json(path.with_name(path.name + ".json"))
    if not isinstance(rec, dict) or not path.is_file():
        return False
    want = _record(folder, quantized)
    return all(rec.get(k) == v for k, v in want.items()) and rec.get("bytes") == path.stat().st_size


# --------------------------------------------------------------------------- export


def _torch_reference(folder: Path, texts: list[str]):
    """Pooled vectors of ``texts`` (prompts already applied) by the torch model itself."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    return np.asarray(st.encode(texts, batch_size=8, normalize_embeddings=True, convert_to_numpy=True))


def _export_fp32(folder: Path, out: Path, threads: int) -> list[str]:
    import torch
    from transformers import AutoModel

    tok = _tokenizer(folder)
    sample = tok(["passage: 2019年实现地区生产总值639.6亿元", "query: GDP"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    if names[:2] != ["input_ids", "attention_mask"]:
        raise EmbedError(f"the tokenizer of {folder} gives {sorted(sample)}; the onnx backends need input_ids "
                         "and attention_mask — use RAG_EMBED_BACKEND=torch")
    model = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager").eval()

    class Wrapper(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            # additive 4-D mask built here: transformers passes a 4-D mask through untouched,
            # so no shape of the example input is baked into the trace
            ext = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
            kw = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
            return self.m(input_ids=input_ids, attention_mask=ext, **kw).last_hidden_state

    old_threads = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    try:
        import warnings

        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
            torch.onnx.export(
                Wrapper(model), tuple(sample[n] for n in names), str(out),
                dynamo=False, input_names=names, output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
                opset_version=OPSET, do_constant_folding=True,
            )
    finally:
        torch.set_num_threads(old_threads)
    return names


# per-channel weight scales: on this model's chunks, mean cosine to torch 0.9972 (per-tensor:
# 0.9876) and top-5 neighbours 78% the same (67%) at the same speed and size
QUANT = {"weight_type": "QInt8", "per_channel": True, "reduce_range": False}


def _quantize(src: Path, out: Path) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs a "run pre-processing first" hint on the root logger
    try:
        quantize_dynamic(str(src), str(out), weight_type=getattr(QuantType, QUANT["weight_type"]),
                         per_channel=QUANT["per_channel"], reduce_range=QUANT["reduce_range"])
    finally:
        root.setLevel(level)


def _check(folder: Path, path: Path, quantized: bool, threads: int) -> float:
    """Min cosine between the new file and the torch model on the probe texts; raises if too low."""
    import numpy as np

    conf = _pipeline(folder)
    enc = OnnxEncoder(folder, path, threads, conf)
    got = enc.encode(list(PROBE_TEXTS), normalize_embeddings=True)
    ref = _torch_reference(folder, list(PROBE_TEXTS))
    cos = float(np.min((got * ref).sum(1)))
    floor = MIN_COSINE_INT8 if quantized else MIN_COSINE_FP32
    if not cos >= floor:
        raise EmbedError(f"the onnx export of {folder} does not match the torch model (min cosine {cos:.4f} < "
                         f"{floor}); use RAG_EMBED_BACKEND=torch")
    return cos


def ensure_export(folder: str | os.PathLike, quantized: bool = False, threads: int = 1) -> Path:
    """The ONNX file for ``folder`` (exported and checked now if missing or stale)."""
    folder = Path(folder).absolute()
    path = onnx_path(folder, quantized)
    with _export_lock:
        if is_exported(folder, quantized):
            return path
        _pipeline(folder)  # refuse unsupported folders before any heavy work
        if quantized:
            src = ensure_export(folder, False, threads)
        t0 = time.perf_counter()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.stem}.tmp-", dir=path.parent))
        except OSError as e:
            raise EmbedError(f"cannot write the onnx export into {path.parent} ({e.strerror or e}); "
                             "make the model folder writable or use RAG_EMBED_BACKEND=torch") from None
        try:
            out = tmp / path.name
            rec = _record(folder, quantized)
            if quantized:
                _quantize(src, out)
            else:
                rec["inputs"] = _export_fp32(folder, out, threads)
            rec["seconds_export"] = round(time.perf_counter() - t0, 2)
            rec["min_cosine_vs_torch"] = round(_check(folder, out, quantized, threads), 6)
            rec["bytes"] = out.stat().st_size
            rec["made_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            (tmp / "record.json").write_text(json.dumps(rec, indent=2) + "\n", encoding="utf-8")
            os.replace(out, path)
            os.replace(tmp / "record.json", path.with_name(path.name + ".json"))
        except EmbedError:
            raise
        except Exception as e:  # noqa: BLE001 - torch/onnx raise many kinds
            msg = " ".join(str(e).split())[:200] or type(e).__name__
            raise EmbedError(f"exporting {folder} to onnx failed ({msg}); use RAG_EMBED_BACKEND=torch") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return path


# --------------------------------------------------------------------------- cli


def _bench(folder: Path, threads: int, batch: int, limit: int) -> None:
    """Throughput and agreement with torch on the chunks of seeds/ and corpus/*/ (what the
    indexer embeds), each backend in turn in this process."""
    import numpy as np

    from . import load
    from .chunk import chunk
    from .settings import REPO_ROOT

    roots = [REPO_ROOT / "seeds", *sorted(p for p in (REPO_ROOT / "corpus").glob("*") if p.is_dir())]
    found, _ = load.discover([r for r in roots if r.is_dir()])
    texts = []
    for f in found:
        try:
            texts += [c.embed_text() for c in chunk(load.read(f.path, f.root))]
        except load.LoadError:
            continue
    texts = texts[:: max(1, len(texts) // limit)][:limit] if limit and len(texts) > limit else texts
    vecs = {}
    for backend in ("torch", "onnx", "onnx-int8"):
        if backend == "torch":
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(threads)
            model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        else:
            model = load_onnx(str(folder), backend == "onnx-int8", threads)
        model.encode(texts[:batch], batch_size=batch, normalize_embeddings=True, prompt_name="passage")
        t, c = time.perf_counter(), time.process_time()
        vecs[backend] = np.asarray(model.encode(texts, batch_size=batch, normalize_embeddings=True,
                                                prompt_name="passage"))
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        line = f"{backend:9s} threads={threads} batch={batch}: {len(texts) / wall:6.1f} passages/s ({len(texts) / cpu:.1f} per CPU-s)"
        if backend != "torch":
            cos = (vecs[backend] * vecs["torch"]).sum(1)
            line += f"; cosine vs torch min {cos.min():.4f} mean {cos.mean():.4f}"
        print(line + f"  [load average {os.getloadavg()[0]:.1f}]", flush=True)
        del model


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    from .settings import Settings

    ap = argparse.ArgumentParser(prog="python -m rag.onnx_export",
                                 description="Export a sentence-transformers folder to ONNX (fp32 and int8).")
    ap.add_argument("folder", nargs="?", default=None, help="model folder (default: the packaged model's)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bench", action="store_true", help="then compare torch, onnx and onnx-int8 on the corpus chunks")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--limit", type=int, default=320, help="chunks to embed in --bench (spread over all reports)")
    args = ap.parse_args(argv)
    settings = Settings.from_env()
    if args.folder:
        folder = Path(args.folder)
    else:
        from .convert import build_model_folder
        from .embed import default_model_dir

        folder = build_model_folder(default_model_dir(settings.models_dir))
    try:
        for quantized in (False, True):
            path = ensure_export(folder, quantized, args.threads)
            rec = _read_json(path.with_name(path.name + ".json")) or {}
            print(f"{path}  {path.stat().st_size / 1e6:.0f} MB  min cosine vs torch {rec.get('min_cosine_vs_torch')}")
        if args.bench:
            _bench(Path(folder), args.threads, args.batch, args.limit)
    except EmbedError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
