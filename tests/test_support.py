"""Whether a sentence supports an answer (rag.support): here, a definition answering a
"what is X" question, in the body and in a glossary entry."""
from __future__ import annotations

from rag.query import analyze
from rag.route import Route
from rag.settings import AnswerWeights
from rag.support import defines, supports, words_clause

Q = analyze("某县“三改一拆”行动中的“三改一拆”具体指什么?")


def test_a_definition_supports_a_what_is_question_however_few_words_it_repeats():
    for sentence in ("“三改一拆”是指旧住宅区、旧厂区、城中村改造和拆除违法建筑。",
                     "**三改一拆（P12）：**是指旧住宅区、旧厂区、城中村改造和拆除违法建筑。",
                     "三改一拆(第5页): 旧住宅区、旧厂区、城中村改造和拆除违法建筑。"):
        assert Q.intent == "define" and defines(Q, sentence), sentence
        assert supports(Q, None, Route(), sentence, "附件 > 名词解释", "other", None, AnswerWeights())


def test_a_mention_is_not_a_definition():
    assert not defines(Q, "深入推进“三改一拆”行动，完成改造面积120万平方米。")
    assert not defines(analyze("某县2024年GDP增长多少?"), "“三改一拆”是指旧住宅区改造。")


def test_a_targets_stretch_goal_stays_with_it():
    from rag.query import analyze
    from rag.support import clause_for

    part = analyze("青海2025年GDP增长目标是多少？").parts[0]
    assert clause_for(part, "地区生产总值增长6%以上、力争达到7%，城乡居民收入增长6%。") == "地区生产总值增长6%以上、力争达到7%"
    assert clause_for(part, "全省生产总值增长5.5%左右，争取更好结果；一般公共预算收入增长3%。") == "生产总值增长5.5%左右，争取更好结果"
    # another indicator's figure after it is not a stretch goal
    assert clause_for(part, "地区生产总值增长6%左右，力争固定资产投资增长8%。") == "地区生产总值增长6%左右"


def test_the_regions_other_scope_right_after_stays_with_the_figure_when_no_scope_is_asked():
    from rag.support import clause_for

    part = analyze("余姚2022年财政收入计划增长多少？").parts[0]
    said = "一般公共预算收入全市增长5.8%、市级增长6%，规上工业增加值增长7%。"
    assert clause_for(part, said) == "一般公共预算收入全市增长5.8%、市级增长6%"
    assert clause_for(part, said, "市级").endswith("市级增长6%")
    # another indicator's figure after it is not another scope
    assert clause_for(part, "一般公共预算收入增长5.8%、规上工业增加值增长7%。") == "一般公共预算收入增长5.8%"


def test_free_words_are_stated_by_the_figure_right_after_them():
    s = "组织技能培训3万人以上，实现农村劳动力转移就业60万人以上，城镇新增就业6万人以上。"
    assert words_clause("农村劳动力转移就业", s) == "农村劳动力转移就业60万人以上"
    assert words_clause("农村劳动力转移", s) == ""  # the words must be followed by the figure
    assert words_clause("创业担保贷款", s) == ""
    assert words_clause("技能培训", "技能培训人次、城镇新增就业6万人") == ""  # another indicator between
