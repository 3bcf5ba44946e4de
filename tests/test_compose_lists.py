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


def test_parallel_run_in_heads_after_a_sentence():
    from rag.compose_lists import parallel_heads

    text = ("做好今年工作，必须坚持党的全面领导。坚持改革创新。破除体制机制障碍，激发市场活力。"
            "坚持开放合作、互利共赢。深度融入区域协同发展。坚持人民至上。办好民生实事12件。\n"
            "今年重点抓好以下工作。坚持项目为王。")
    start = text.index("坚持改革创新")
    got = [text[a:b] for a, b in parallel_heads(text, start, len(text))]
    assert got == ["坚持改革创新。", "坚持开放合作、互利共赢。", "坚持人民至上。"]  # not past the paragraph
    assert parallel_heads("坚持改革创新。破除障碍，激发活力。坚持人民至上。办好实事。", 0, 40) == []  # two are not a list


def test_parallel_heads_as_first_clauses_and_as_paragraph_openings():
    from rag.compose_lists import parallel_heads

    # long sentences opening alike: each head is its first clause
    text = ("建设“两城一区”是主线。聚焦打造科创名城，建设实验室体系，培育高新技术企业500家。"
            "聚焦打造制造强城，实施产业链提升行动，推动传统产业改造升级。聚焦打造开放新区，拓展国际航线，扩大跨境电商规模。")
    got = [text[a:b] for a, b in parallel_heads(text, text.index("。") + 1, len(text))]
    assert got == ["聚焦打造科创名城", "聚焦打造制造强城", "聚焦打造开放新区"]
    # the paragraphs after a sentence open alike ("这三年，…。"), with a detail line between
    text = ("过去三年极不平凡。\n这三年，产业基础更加坚实。工业增加值年均增长7%。\n"
            "这三年，城乡面貌明显改善。\n新建道路120公里。\n这三年，群众生活持续改善。居民收入年均增长6%。\n"
            "二、今后一年的工作\n这一年，重点抓好三件事。")
    got = [text[a:b] for a, b in parallel_heads(text, text.index("。") + 1, len(text))]
    assert got == ["这三年，产业基础更加坚实。", "这三年，城乡面貌明显改善。", "这三年，群众生活持续改善。"]
    # not when the paragraph right after opens otherwise, nor when every head is one lead
    assert parallel_heads("总体看。\n另起一段。\n这三年，甲。\n这三年，乙。\n这三年，丙。", 4, 60) == []
    assert parallel_heads("总体看。这三年，工业增长7%。这三年，农业增长3%。这三年，服务业增长6%。", 0, 60) == []


def test_a_colon_and_a_first_item_ending_in_a_semicolon_announce_a_list():
    from rag.compose_lists import announced_end, announces

    text = "办好10件民生实事，包括：改造老旧小区120万平方米；新建口袋公园30个；新增托位2000个。另外，做好其他工作。"
    first = text.index("；") + 1
    assert announces(text[:first])
    end = announced_end(text, 0, first)
    assert "新增托位2000个" in text[:end] and "另外" not in text[:end]
    assert not announces("城镇新增就业1.2万人；")
