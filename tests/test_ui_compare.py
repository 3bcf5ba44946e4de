"""rag.ui_compare: the CSV written for download, the chart, and the handlers' messages
over a loader handed in."""
from __future__ import annotations

import os
import time
from types import SimpleNamespace

from rag import ui_compare
from rag.ui_figures import COMPARE_HEADERS


def test_csv_file_is_fresh_with_a_bom_and_old_ones_go(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "compare-target-2020.csv").write_text("x", encoding="utf-8")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    path = ui_compare.csv_file("region,level\n海曙区,county\n", "target", 0, folder=tmp_path)
    assert path.endswith("compare-target-own-year.csv") and path.startswith(str(tmp_path))
    raw = open(path, "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf") and "海曙区".encode() in raw
    assert not old.exists()
    assert ui_compare.csv_file("", "result", 2020, folder=tmp_path) is None


def test_chart_of_no_panels_is_none_and_a_panel_draws_bars():
    assert ui_compare.compare_chart([]) is None
    fig = ui_compare.compare_chart([{"indicator": "地区生产总值", "unit": "%", "labels": ["海曙区 2020", "江北区 2020"],
                                     "target": [6.5, None], "result": [6.1, 7.0]}])
    assert sorted(p.get_height() for ax in fig.axes for p in ax.patches) == [6.1, 6.5, 7.0]


def test_compare_errors_are_one_line_and_an_empty_table():
    def fail(require_index=True):
        raise LookupError("还没有建立索引 (no reports are indexed)")

    msg, table, refs, chart, csv_btn, passage = ui_compare.compare(SimpleNamespace(get=fail), ["gdp"], "target", "")
    assert "还没有建立索引" in msg and "LookupError" not in msg
    assert list(table.columns) == COMPARE_HEADERS and table.empty and refs == [] and chart is None
    assert "not a year" in ui_compare.compare(SimpleNamespace(get=fail), ["gdp"], "target", "soon")[0]
    # a click on a label column does nothing; on a cell without a figure, a message
    refs = [[None, None, None, None]]
    assert "没有数字" in ui_compare.compare_pick(SimpleNamespace(get=fail), SimpleNamespace(index=[0, 3]), refs)
    out = ui_compare.compare_pick(SimpleNamespace(get=fail), SimpleNamespace(index=[0, 0]), refs)
    assert not isinstance(out, str)  # gr.skip()
    ref = {"key": "k", "start": 0, "end": 2}
    assert "还没有建立索引" in ui_compare.compare_pick(SimpleNamespace(get=fail), SimpleNamespace(index=[0, 3]), [[None] * 3 + [ref]])
