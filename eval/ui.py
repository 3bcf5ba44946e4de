"""The web app's Eval tab: the newest ``runs/*/report.md`` with its chart, and a button that
runs :mod:`eval.run` into ``runs/eval-<time>/`` and then shows it. Lives in ``eval/``
because it runs the eval (``rag`` never imports ``eval``); gradio and ``rag`` are
imported when a handler runs, so ``import eval`` stays light.

``runs`` is the folder of the runs; ``root`` the checkout, to show a run's path short.
"""
from __future__ import annotations

import time
import traceback
from datetime import datetime
from pathlib import Path


def latest_eval(runs: Path, root: Path):
    """(markdown, image path or None) of the newest runs/*/report.md."""
    from rag.ui_format import strip_local_images

    reports = sorted(runs.glob("*/report.md"), key=lambda p: p.stat().st_mtime) if runs.is_dir() else []
    if not reports:
        return "还没有评测结果 (no eval run yet): 点击“运行评测”按钮 (press “Run the eval”).", None
    p = reports[-1]
    md = strip_local_images(p.read_text(encoding="utf-8", errors="replace"))
    img = p.parent / "metrics.png"
    head = f"**{p.parent.name}** · `{p.relative_to(root) if p.is_relative_to(root) else p}`\n\n"
    return head + md, (str(img) if img.exists() else None)


def eval_view(runs: Path, root: Path, prefix: str = ""):
    """(status, image update, report markdown) for the eval tab: the newest report."""
    import gradio as gr

    md, img = latest_eval(runs, root)
    return prefix, gr.Image(value=img, visible=img is not None), md


def run_eval(runs: Path, root: Path, progress):
    """Runs `eval.run` (the whole eval lives there) into runs/eval-<time>/, then shows it."""
    from rag.ui_format import md_text
    from rag.ui_status import message

    out = runs / ("eval-" + datetime.now().strftime("%Y%m%d-%H%M%S"))
    progress(0, desc="评测运行中… (running the eval)")
    try:
        from .run import main as eval_main
    except ImportError as e:
        return eval_view(runs, root, f"⚠️ 评测模块不可用 (eval.run is missing): {md_text(str(e))}")
    t0 = time.time()
    try:
        code = eval_main(["--out", str(out)])
    except SystemExit as e:
        code = e.code
    except Exception as e:
        traceback.print_exc()
        return eval_view(runs, root, f"⚠️ 评测失败 (the eval failed): {md_text(message(e))}")
    took = f"评测完成 (eval finished) in {time.time() - t0:.0f} s"
    if code not in (0, None):
        took = f"⚠️ 评测未完成 (the eval stopped, exit code {code}; see the server log)"
    return eval_view(runs, root, ("✅ " if code in (0, None) else "") + took)
