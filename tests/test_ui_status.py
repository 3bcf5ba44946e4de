"""rag.ui_status: exceptions as one line for the user, and the page's status line over any
loader (loading, nothing indexed, an error, ready with its warnings)."""
from __future__ import annotations

import threading
from types import SimpleNamespace

from rag import ui_status as st
from rag.service import IndexMissing


def test_messages_are_one_line_and_name_unexpected_errors():
    assert st.message(ValueError("问题为空\n (empty question)")) == "问题为空 (empty question)"
    assert st.message(KeyError("gdp")) == "unknown 'gdp'"
    assert st.message(RuntimeError("boom")) == "RuntimeError: boom"
    assert st.message(FileNotFoundError("no such file: x")) == "FileNotFoundError: no such file: x"
    assert st.message(RuntimeError()) == "RuntimeError: RuntimeError"
    assert st.expected(st.AnswerTimeout("late")) and st.expected(IndexMissing("none")) and st.expected(OSError())
    assert not st.expected(RuntimeError("bug")) and not st.expected(TypeError())


class _Loader:
    def __init__(self, svc=None, fail=None, done=True, error=None):
        self.svc, self.fail, self.error = svc, fail, error
        self.done = threading.Event()
        if done:
            self.done.set()

    def get(self, require_index=True):
        if self.fail:
            raise self.fail
        return self.svc


def test_status_line_loading_missing_error_and_ready():
    assert st.status_markdown(_Loader(done=False)).startswith("⏳")
    md = st.status_markdown(_Loader(fail=IndexMissing("还没有建立索引 (no reports are indexed)")), ["bad <b>x</b>"])
    assert md.startswith("⚠️ 还没有建立索引") and "Reports" in md and "⚠️ bad &lt;b&gt;x&lt;/b&gt;" in md
    assert st.status_markdown(_Loader(fail=RuntimeError("store gone"))).startswith("⚠️ RuntimeError: store gone")
    svc = SimpleNamespace(corpus=SimpleNamespace(reports=[1, 2], chunks={"a": 0}),
                          answerer=SimpleNamespace(mode="extractive"))
    md = st.status_markdown(_Loader(svc, error="embedding model: missing"))
    assert md.startswith("✅ 已就绪") and "2 份报告" in md and "1 个段落" in md and "抽取式" in md
    assert "⚠️ embedding model: missing" in md
