"""eval.ui, the app's Eval tab: the newest run's report and chart, and a run of eval.run
shown when it ends (or why it did not)."""
from __future__ import annotations

import os
from pathlib import Path

from eval import ui as eval_ui


def test_latest_eval_picks_newest_run(tmp_path):
    md, img = eval_ui.latest_eval(tmp_path, tmp_path.parent)
    assert "还没有评测结果" in md and img is None
    for i, name in enumerate(["eval-a", "eval-b"]):
        d = tmp_path / name
        d.mkdir()
        (d / "report.md").write_text(f"# run {name}\n![chart](metrics.png)\n", encoding="utf-8")
        os.utime(d / "report.md", (1000 + i, 1000 + i))
    (tmp_path / "eval-b" / "metrics.png").write_bytes(b"\x89PNG")
    md, img = eval_ui.latest_eval(tmp_path, tmp_path.parent)
    assert "run eval-b" in md and "metrics.png)" not in md and img.endswith("eval-b/metrics.png")
    assert f"`{tmp_path.name}/eval-b/report.md`" in md  # shown relative to the root


def test_run_eval_writes_a_run_and_shows_it(tmp_path, monkeypatch):
    import eval.run

    outs, seen = [], []

    def fake_main(argv):
        out = Path(argv[argv.index("--out") + 1])
        outs.append(out)
        out.mkdir(parents=True)
        (out / "report.md").write_text("# the new run\n", encoding="utf-8")
        return 0

    monkeypatch.setattr(eval.run, "main", fake_main)
    status, image, md = eval_ui.run_eval(tmp_path, tmp_path, lambda *a, **k: seen.append(k.get("desc")))
    assert status.startswith("✅ 评测完成") and "the new run" in md and image.visible is False
    assert outs[0].parent == tmp_path and outs[0].name.startswith("eval-") and seen

    monkeypatch.setattr(eval.run, "main", lambda argv: 2)
    assert "exit code 2" in eval_ui.run_eval(tmp_path, tmp_path, lambda *a, **k: None)[0]

    def boom(argv):
        raise RuntimeError("no gold")

    monkeypatch.setattr(eval.run, "main", boom)
    assert "评测失败" in eval_ui.run_eval(tmp_path, tmp_path, lambda *a, **k: None)[0]
