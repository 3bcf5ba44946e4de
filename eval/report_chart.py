"""The eval report's chart, ``metrics.png``: the main rate metrics overall, then answer
accuracy and hit@5 per type, the baseline's bars beside the project's.

matplotlib is imported lazily, inside :func:`write_chart`, and only the Agg canvas is
used (``matplotlib.figure.Figure``, never ``pyplot``), so no global backend is set and
nothing here needs a display.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .metrics import RATE_KEYS
from .report_format import DEFAULT_TITLE, _ordered_types

__all__ = ["CHART_KEYS", "write_chart", "find_cjk_font"]

# Metrics shown in the chart (rates in [0, 1]; latency is in the tables only).
CHART_KEYS: tuple[str, ...] = RATE_KEYS
_CJK_NAME_HINTS = (
    "Noto Sans CJK",
    "Noto Serif CJK",
    "Noto Sans SC",
    "Noto Sans TC",
    "Source Han Sans",
    "Source Han Serif",
    "WenQuanYi",
    "Droid Sans Fallback",
    "AR PL",
    "SimHei",
    "Microsoft YaHei",
    "PingFang",
    "Heiti",
    "Sarasa",
)


def find_cjk_font() -> str | None:
    """Name of a font matplotlib can use for Chinese, or ``None``.

    Looks in matplotlib's font list first; if none is there (e.g. fonts installed
    after matplotlib built its cache), asks ``fc-list :lang=zh`` for font files and
    registers them with matplotlib.
    """
    from matplotlib import font_manager

    def known() -> str | None:
        for f in font_manager.fontManager.ttflist:
            if any(h.lower() in f.name.lower() for h in _CJK_NAME_HINTS):
                return f.name
        return None

    name = known()
    if name:
        return name
    fc = shutil.which("fc-list")
    if not fc:
        return None
    try:
        out = subprocess.run(
            [fc, ":lang=zh", "file"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        path = line.split(":")[0].strip()
        if path and os.path.isfile(path):
            try:
                font_manager.fontManager.addfont(path)
            except Exception:  # noqa: BLE001 - a font matplotlib cannot read
                continue
    name = known()
    if name:
        return name
    # Any font just added from fc-list output counts, whatever its name.
    for line in out.splitlines():
        path = line.split(":")[0].strip()
        for f in font_manager.fontManager.ttflist:
            if f.fname == path:
                return f.name
    return None


def _ascii(s: str, fallback: str) -> str:
    t = "".join(ch for ch in s if ord(ch) < 128).strip()
    return t or fallback


def write_chart(
    path: str | os.PathLike,
    summary: Mapping[str, Any],
    baseline_summary: Mapping[str, Any] | None = None,
    title: str = DEFAULT_TITLE,
    labels: tuple[str, str] = ("project", "baseline"),
) -> Path:
    """Bar chart PNG: the main rate metrics overall, then answer accuracy and hit@5
    per type; the baseline's bars beside the project's when given. Metrics that do
    not apply are drawn as ``n/a``. Chinese text is kept only if a CJK font is found,
    otherwise labels are made ASCII."""
    fm_log = logging.getLogger("matplotlib.font_manager")
    old_level = fm_log.level
    fm_log.setLevel(logging.ERROR)  # "findfont: ... now using 500" is noise for .ttc fonts
    try:
        return _draw_chart(Path(path), summary, baseline_summary, title, labels)
    finally:
        fm_log.setLevel(old_level)


def _draw_chart(
    out: Path,
    summary: Mapping[str, Any],
    baseline_summary: Mapping[str, Any] | None,
    title: str,
    labels: tuple[str, str],
) -> Path:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = find_cjk_font()
    if font is None:
        title = _ascii(title, DEFAULT_TITLE)
        labels = (_ascii(labels[0], "project"), _ascii(labels[1], "baseline"))
    types = _ordered_types(summary, baseline_summary)
    runs: list[tuple[str, Mapping[str, Any]]] = [(labels[0], summary)]
    if baseline_summary is not None:
        runs.append((labels[1], baseline_summary))

    panels: list[tuple[str, list[str], list[list[float | None]]]] = []
    panels.append(
        (
            "overall",
            list(CHART_KEYS),
            [[(s.get("overall") or {}).get(k) for k in CHART_KEYS] for _, s in runs],
        )
    )
    for key in ("answer_accuracy", "hit@5"):
        panels.append(
            (
                f"{key} by type",
                [t if font else _ascii(t, "?") for t in types],
                [[((s.get("by_type") or {}).get(t) or {}).get(key) for t in types] for _, s in runs],
            )
        )
    panels = [p for p in panels if p[1]]

    rc = {"font.size": 9}
    if font:
        rc["font.sans-serif"] = [font, "DejaVu Sans"]
        rc["font.family"] = "sans-serif"
        rc["axes.unicode_minus"] = False
    colors = ["#2b6cb0", "#c05621"]
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(11, 3.2 * len(panels) + 0.6), dpi=100)
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        width = 0.8 / len(runs)
        for ax, (ptitle, cats, series) in zip(axes, panels):
            xs = list(range(len(cats)))
            for j, ((label, _), vals) in enumerate(zip(runs, series)):
                pos = [x - 0.4 + width * (j + 0.5) for x in xs]
                heights = [v if isinstance(v, (int, float)) else 0.0 for v in vals]
                bars = ax.bar(pos, heights, width * 0.95, label=label, color=colors[j % 2])
                for b, v in zip(bars, vals):
                    txt = "n/a" if v is None else f"{v:.2f}"
                    ax.annotate(
                        txt,
                        (b.get_x() + b.get_width() / 2, b.get_height()),
                        ha="center",
                        va="bottom",
                        fontsize=7,
                        xytext=(0, 1),
                        textcoords="offset points",
                    )
            ax.set_xticks(xs)
            ax.set_xticklabels(cats, rotation=15 if len(cats) > 6 else 0)
            ax.set_ylim(0, 1.12)
            ax.set_title(ptitle)
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
            if len(runs) > 1:
                ax.legend(loc="upper right", fontsize=8)
        fig.suptitle(title)
        fig.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png")
    return out
