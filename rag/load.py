"""Loading: a folder or file list → the report files in it → Documents.

Files are read through ``rag.formats`` (TXT/MD, DOCX, PDF, HTML), their metadata from the
catalog and the text (``rag.meta``). Page furniture (publication stamps, view counters,
navigation, page numbers; ``lexicon/boilerplate.toml``) is marked, never cut out, so
offsets stay exact. Paths are resolved and confined: a symlink that leads out of the
folder being indexed is not read. Every file that is not read gets one line saying why.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import catalog as catalogs
from . import formats
from .lexicon import lexicon
from .meta import describe
from .types import Document

NOT_REPORTS = re.compile(r"^(readme|license|licence|changelog|copying|notice)(\.|$)", re.I)


class LoadError(Exception):
    """A file that cannot be indexed; the message is one line for the user."""


@dataclass(frozen=True)
class Found:
    path: Path  # as found (inside its root)
    root: Path  # the folder it was found in (resolved); its catalog applies


@functools.lru_cache(maxsize=1)
def _boiler():
    b = lexicon().boilerplate
    return [re.compile(p) for p in b["lines"]], re.compile("|".join(b["trailers"]))


def content_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of ``text`` that are content: furniture lines and web trailers left out."""
    lines_re, trailer_re = _boiler()
    end = len(text)
    pos = 0
    for line in text.splitlines(keepends=True):
        if pos > len(text) * 0.3 and trailer_re.search(line):
            end = pos
            break
        pos += len(line)
    spans: list[tuple[int, int]] = []
    pos, cur = 0, None
    for line in text[:end].splitlines(keepends=True):
        bare = line.strip(" \t\u3000\u00a0\r\n")
        if bare and any(rx.match(bare) for rx in lines_re):
            if cur is not None:
                spans.append((cur, pos))
                cur = None
        elif cur is None:
            cur = pos
        pos += len(line)
    if cur is not None:
        spans.append((cur, end))
    return tuple((s, e) for s, e in spans if text[s:e].strip())


def confined(path: Path, root: Path) -> Path:
    """The resolved path, if it stays inside ``root``; LoadError otherwise."""
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise LoadError("dangling symlink (its target does not exist)" if path.is_symlink() else "no such file") from None
    except (OSError, RuntimeError) as e:
        raise LoadError(f"cannot resolve the path ({e})") from None
    root = root.resolve()
    if real != root and root not in real.parents:
        raise LoadError(f"symlink points outside the reports folder ({real}); not read")
    return real


def discover(paths: list[Path]) -> tuple[list[Found], list[tuple[str, str]]]:
    """The report files under ``paths`` (folders recursively, hidden entries and
    directory symlinks not followed) and the files skipped, each with a reason."""
    found: list[Found] = []
    skipped: list[tuple[str, str]] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            root = p.resolve()
            for dirpath, dirnames, filenames in os.walk(p, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if name.startswith(".") or name == catalogs.CATALOG_FILE or name.endswith(".tmp"):
                        continue
                    f = Path(dirpath) / name
                    if NOT_REPORTS.match(name):
                        skipped.append((str(f), "a folder's README/licence file, not a report"))
                    elif formats.kind_of(f) is None:
                        skipped.append((str(f), f"unsupported file type ({f.suffix.lower() or 'no suffix'}); "
                                                 f"reports are .txt .md .docx .pdf .html"))
                    else:
                        found.append(Found(f, root))
        elif p.exists() or p.is_symlink():
            found.append(Found(p, p.parent.resolve()))
        else:
            skipped.append((str(p), "no such file or folder"))
    return found, skipped


def read(path: Path, root: Path | None = None, catalog: dict | None = None, max_mb: float = 20.0) -> Document:
    """Load one file. Raises LoadError with a one-line reason."""
    path = Path(path)
    root = Path(root) if root is not None else path.parent
    real = confined(path, root)
    if not real.is_file():
        raise LoadError("not a regular file")
    if formats.kind_of(path) is None:
        raise LoadError(f"unsupported file type ({path.suffix.lower() or 'no suffix'}); reports are .txt .md .docx .pdf .html")
    size = real.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise LoadError(f"file is {size / 1024 / 1024:.1f} MB, over the {max_mb:g} MB limit (set RAG_MAX_FILE_MB to raise it)")
    try:
        raw = real.read_bytes()
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror}") from None
    try:
        ex = formats.extract(path, raw)
    except formats.FormatError as e:
        raise LoadError(str(e)) from None
    keep = content_spans(ex.text)
    if not keep:
        raise LoadError("no text content (only whitespace or page boilerplate)")
    if catalog is None:
        catalog = catalogs.load(root)
    report = describe(path.name, ex.text, title=ex.title, catalog=catalog.get(path.name), path=str(real))
    return Document(report=report, path=str(real), text=ex.text, format=ex.format, encoding=ex.encoding,
                    sha256=hashlib.sha256(raw).hexdigest(), keep=keep, marks=tuple(ex.marks))
