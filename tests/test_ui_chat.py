"""rag.ui_chat over a loader handed in (not the app's): errors as one message in the chat
and the sources panel, the API's gr.Error, a new chat. The streaming itself is tested
through the app in tests/test_app.py."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from rag import ui_chat


def _failing(err):
    def get(require_index=True):
        raise err

    return SimpleNamespace(get=get)


def test_chat_and_ask_errors_over_any_loader():
    import gradio as gr

    *_, (box, history, sources, conv, explain) = ui_chat.chat(
        _failing(LookupError("还没有建立索引")), "问题", [], None, "", True)
    assert [m["role"] for m in history] == ["user", "assistant"] and "还没有建立索引" in history[-1]["content"]
    assert "还没有建立索引" in sources and conv is None and explain == ""
    with pytest.raises(gr.Error, match="RuntimeError: broken"):
        ui_chat.ask(_failing(RuntimeError("broken")), "问题")


def test_new_chat_and_explain_without_a_question():
    turns = [1, 2]
    conv = SimpleNamespace(turns=turns, reset=turns.clear, last_query=None)
    assert ui_chat.new_chat(conv) == ([], "", conv, "") and turns == []
    assert ui_chat.new_chat(None) == ([], "", None, "")
    assert ui_chat.explain(conv, True) == "" and ui_chat.explain(None, True) == ""
    off = ui_chat.toggle_explain(False, conv)
    assert off.visible is False and off.value == ""
