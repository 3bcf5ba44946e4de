"""rag.sparse.SparseIndex: the bm25s index beside the vectors — token files per report written
at index time, matrices built from them and saved with the store version they belong to,
loaded again without re-tokenising, rebuilt when the store moved on or the files are
broken, and a removed report's tokens gone from the files and from search."""
from __future__ import annotations

import json
import shutil

import pytest
from fixtures_core import FIXTURE_REPORTS, MemoryStore, index_into

from rag.corpus import Corpus
from rag.index import remove_reports
from rag.sparse import SparseIndex
from rag.text.tokenize import tokenize, tokens_key

FILES = ("04a_city_2023.txt", "04b_city_2024.txt", "02_county_gbk_cr.txt")  # 苏州 ×2, 安吉 (GBK)


class Fetch:
    """The texts of chunks whose tokens are missing, from the store; records what was asked."""

    def __init__(self, store):
        self.store, self.asked = store, []

    def __call__(self, ids):
        self.asked.append(list(ids))
        return Corpus(self.store).search_texts(list(ids))


@pytest.fixture
def setup(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in FILES:
        shutil.copy(FIXTURE_REPORTS / name, folder / name)
    home = tmp_path / "home"
    store = MemoryStore()
    sparse = SparseIndex(home, "test")
    index_into(store, [folder], home, sparse=sparse)
    entries = store.entries()
    keys = {e["report"]["id"]: k for k, e in entries.items()}
    return store, sparse, home, entries, keys


def built(setup):
    store, sparse, home, entries, keys = setup
    fetch = Fetch(store)
    sparse.build(entries, store.version(), fetch)
    return fetch


def test_token_files_per_report(setup):
    store, sparse, _, entries, keys = setup
    assert sorted(p.stem for p in sparse.tok_dir.glob("*.json")) == sorted(entries)
    for key, e in entries.items():
        toks = json.loads((sparse.tok_dir / f"{key}.json").read_text(encoding="utf-8"))
        assert sorted(toks) == sorted(e["ids"])
    toks = json.loads((sparse.tok_dir / f"{keys['suzhou-2024']}.json").read_text(encoding="utf-8"))
    corpus = Corpus(store)
    (cid,) = [i for i in corpus.chunks if "全年实现地区生产总值2.47万亿元" in corpus.chunk(i).text]
    assert toks[cid] == tokenize(corpus.chunk(cid).section + " " + corpus.chunk(cid).text)
    assert "地区生产总值" in toks[cid] and not {"的", "，", "。", "、"} & set(toks[cid])  # no stop words, no punctuation


def test_build_uses_the_token_files_and_saves_the_version(setup):
    store, sparse, _, entries, _ = setup
    fetch = built(setup)
    assert fetch.asked == []  # nothing re-tokenised
    assert sparse.ids == [i for k in sorted(entries) for i in entries[k]["ids"]]
    assert sparse.row == {i: n for n, i in enumerate(sparse.ids)}
    saved = json.loads((sparse.idx_dir / "ids.json").read_text())
    assert saved == {"version": store.version(), "tokens": tokens_key(), "ids": sparse.ids}


def test_search_ranks_and_filters(setup):
    store, sparse, _, entries, keys = setup
    built(setup)
    got = sparse.search(tokenize("安吉 一般公共预算收入"), 5)
    assert 0 < len(got) <= 5
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True) and all(s > 0 for _, s in got)
    assert got[0][0] in entries[keys["anji-2023"]]["ids"]
    only = set(entries[keys["suzhou-2024"]]["ids"])
    limited = sparse.search(tokenize("地区生产总值 增长"), 50, allowed=only)
    assert limited and {i for i, _ in limited} <= only
    assert sparse.search(tokenize("地区生产总值"), 5, allowed={"not-a-chunk"}) == []
    assert sparse.search([], 5) == []
    assert sparse.search(["词表里没有的词"], 5) == []  # unknown words score nothing, and do not fail


def test_saved_index_is_loaded_not_rebuilt(setup, monkeypatch):
    store, sparse, home, entries, _ = setup
    built(setup)
    terms = tokenize("城镇新增就业 苏州")
    want = sparse.search(terms, 8)
    again = SparseIndex(home, "test")
    assert again.load("another-version") is False and again.bm25 is None
    monkeypatch.setattr(again, "build", lambda *a, **k: pytest.fail("rebuilt although the saved index is current"))
    again.ensure(entries, store.version(), Fetch(store))
    assert again.version == store.version() and again.ids == sparse.ids
    got = again.search(terms, 8)
    assert [i for i, _ in got] == [i for i, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want])


def test_an_older_saved_index_is_rebuilt(setup):
    store, sparse, home, entries, _ = setup
    built(setup)
    later = SparseIndex(home, "test")
    fetch = Fetch(store)
    later.ensure(entries, "v2", fetch)
    assert later.version == "v2" and later.ids == sparse.ids and fetch.asked == []
    assert json.loads((later.idx_dir / "ids.json").read_text())["version"] == "v2"


def test_missing_tokens_are_fetched_for_that_report_only(setup):
    store, sparse, _, entries, keys = setup
    key = keys["suzhou-2023"]
    (sparse.tok_dir / f"{key}.json").unlink()
    fetch = built(setup)
    assert fetch.asked == [entries[key]["ids"]]
    assert (sparse.tok_dir / f"{key}.json").exists()
    assert sparse.search(tokenize("地区生产总值"), 100, allowed=set(entries[key]["ids"]))


@pytest.mark.parametrize("damage", ["ids.json", "matrices"])
def test_a_broken_saved_index_is_rebuilt(setup, damage):
    store, sparse, home, entries, _ = setup
    built(setup)
    if damage == "ids.json":
        (sparse.idx_dir / "ids.json").write_text("{not json")
    else:
        for p in sparse.idx_dir.iterdir():
            if p.name != "ids.json":
                p.write_bytes(b"\0garbage")
    fresh = SparseIndex(home, "test")
    assert fresh.load(store.version()) is False
    fresh.ensure(entries, store.version(), Fetch(store))
    assert fresh.ids == sparse.ids and fresh.search(tokenize("地区生产总值"), 3)


def test_a_removed_report_leaves_files_and_search(setup):
    store, sparse, home, entries, keys = setup
    built(setup)
    anji = keys["anji-2023"]
    removed = set(entries[anji]["ids"])
    assert any(i in removed for i, _ in sparse.search(["安吉"], 10))
    remove_reports(store, [anji], sparse=sparse)
    assert not (sparse.tok_dir / f"{anji}.json").exists()
    entries = store.entries()
    assert anji not in entries
    sparse.build(entries, store.version(), Fetch(store))
    assert not set(sparse.ids) & removed
    assert len(sparse.ids) == sum(len(e["ids"]) for e in entries.values())
    assert set(json.loads((sparse.idx_dir / "ids.json").read_text())["ids"]) == set(sparse.ids)
    assert sparse.search(["安吉"], 10) == []
    reloaded = SparseIndex(home, "test")
    assert reloaded.load(store.version()) and reloaded.search(["安吉"], 10) == []


def test_an_empty_store_has_no_index(setup):
    store, sparse, _, _, _ = setup
    built(setup)
    sparse.build({}, "empty", Fetch(store))
    assert sparse.bm25 is None and sparse.ids == [] and not sparse.idx_dir.exists()
    assert sparse.search(["地区生产总值"], 5) == []


@pytest.mark.slow
def test_the_services_index_is_saved_and_reloads(corpus_services):
    from rag.service import store_name

    svc = corpus_services
    svc.retriever.refresh()
    name = store_name(svc.settings, svc.embedder)
    again = SparseIndex(svc.settings.home, name)
    assert again.load(svc.corpus.version)
    assert set(again.ids) == svc.corpus.chunk_ids() == svc.store.stored_ids()
    sh = svc.corpus.resolve("shanghai-2025").key
    got = again.search(tokenize("地区生产总值 增长"), 5, allowed=svc.corpus.chunk_ids({sh}))
    assert got and all(svc.corpus.chunks[i].key == sh for i, _ in got)


def test_tokens_do_not_depend_on_the_corpus_words_a_process_loaded():
    """A replica that loaded a corpus's region names tokenises as an indexer that had not:
    region names are words for the precise cut only, each added once."""
    import jieba

    from rag.text import tokenize as tk
    from rag.text.tokenize import add_words, words

    text = "江北区委坚持稳中求进，江北区地区生产总值增长7.9%"
    before = tokenize(text)
    total = jieba.dt.total
    new = {"江北区", "宁波市"} - tk._added
    add_words({"江北区", "宁波市"})
    add_words({"江北区", "宁波市"})  # again (every corpus refresh): the dictionary does not drift
    assert tokenize(text) == before
    assert jieba.dt.total == total + len(new) * 200000
    assert jieba.dt.FREQ["江北区"] == 200000 and "江北区" in words("江北区经济发展")


def test_token_files_of_another_tokeniser_are_dropped(setup):
    store, sparse, _, entries, _ = setup
    (sparse.dir / "tokens.key").write_text("old\n")
    fetch = built(setup)
    assert sorted(i for ids in fetch.asked for i in ids) == sorted(i for e in entries.values() for i in e["ids"])
    assert (sparse.dir / "tokens.key").read_text().strip() == tokens_key()
    # and an index saved by another tokeniser is not loaded
    saved = json.loads((sparse.idx_dir / "ids.json").read_text())
    (sparse.idx_dir / "ids.json").write_text(json.dumps({**saved, "tokens": "old"}))
    assert not SparseIndex(sparse.dir.parent.parent, sparse.dir.name).load(store.version())
