"""rag.compose_lists: enumerated items after a sentence, announced lists, item counts —
on a fixture text of another region written with other numbering (一是/（一）/1.)."""
from __future__ import annotations

from rag.compose_lists import announced_end, announces, items_after, lists_about

TEXT = (
    "五、2026年重点工作\n"
    "今年要重点抓好以下几个方面。\n"
    "一是做强特色产业。培育三个产业集群。二是扩大有效投资。新开工项目200个。"
    "三是深化改革开放。推进口岸建设。\n"
    "六、加强政府自身建设\n"
    "一是坚持依法行政。\n"
)


def _at(s: str) -> tuple[int, int]:
    a = TEXT.index(s)
    return a, a + len(s)


def test_items_after_stop_at_the_next_part():
    a, b = _at("今年要重点抓好以下几个方面。")
    items = items_after(TEXT, b)
    assert [TEXT[x:y] for x, y in items] == ["一是做强特色产业。", "二是扩大有效投资。", "三是深化改革开放。"]


def test_an_announcing_sentence_runs_on_through_its_items():
    a, b = _at("今年要重点抓好以下几个方面。")
    assert announces(TEXT[a:b])
    end = announced_end(TEXT, a, b, enum_only=True)
    assert TEXT[a:end].startswith("今年要") and "一是做强特色产业。" in TEXT[a:end]
    assert not announces("新开工项目200个。")


def test_lists_about_counts_items_in_the_sentence_or_after_it():
    a, b = _at("今年要重点抓好以下几个方面。")
    assert lists_about(TEXT, a, b, 3)
    assert not lists_about(TEXT, a, b, 6)
    s = "培育新材料、新能源和生物医药产业。"
    assert lists_about(s, 0, len(s), 3)
