"""The shared contract files (the eval format and its independent scorer): the sibling
``../shared`` folder when it is there, else the copies in ``tests/fixtures/shared``."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORIGINALS = {"score.py": ROOT.parent / "shared" / "tools" / "score.py",
             "eval-format.md": ROOT.parent / "shared" / "eval-format.md"}
COPIES = Path(__file__).resolve().parent / "fixtures" / "shared"


def shared_file(name: str) -> Path:
    original = ORIGINALS[name]
    return original if original.exists() else COPIES / name
