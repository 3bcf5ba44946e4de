"""Loading: bytes → text (UTF-8, UTF-8 with BOM, GB18030, detected) and the spans of
real content (page boilerplate such as "发布时间…浏览次数" or a web trailer after
"试读结束" is marked, never cut out, so offsets into the file stay exact)."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from . import config
from .catalog import guess_report, load_catalog
from .types import Document, Report

SUFFIXES = (".txt", ".md")


class LoadError(Exception):
    """A file that cannot be indexed; the message is one line for the user."""


# A line that is page furniture (publication stamp, view counter, source line).
_BOILER_LINE = re.compile(
    r"^\s*(发布时间[:：].*|.*浏览次数[:：]?\s*\d*\s*|信息来源[:：].*|来源[:：].{0,30}|"
    r"(上一篇|下一篇)\s.*|返回顶部|字号[:：].*|打印本页|关闭窗口)\s*$"
)
# Everything after one of these is a web trailer, not the report.
_TRAILER = re.compile(r"^.*(试读结束|未经允许不得转载|扫码关注|本文由.*整理).*$", re.M)


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding). Raises LoadError for binary or undecodable data."""
    if not raw.strip():
        raise LoadError("empty file")
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as e:
            raise LoadError(f"has a UTF-8 BOM but is not valid UTF-8 (byte {e.start + 3})") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise LoadError("has a UTF-16 BOM but is not valid UTF-16") from None
    sample = raw[:65536]
    if b"\x00" in sample:
        raise LoadError("binary file (contains NUL bytes), not text")
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if controls > len(sample) * 0.01:
        raise LoadError("binary file (many control bytes), not text")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError as e:
        raise LoadError(f"cannot decode as UTF-8 or GB18030 (bad byte at {e.start})") from None
    # GB18030 maps almost any byte soup to *something*; demand it looks like Chinese text.
    cjk = sum(1 for ch in text[:20000] if "\u4e00" <= ch <= "\u9fff")
    visible = sum(1 for ch in text[:20000] if not ch.isspace())
    if visible and cjk / visible < 0.2:
        raise LoadError("cannot decode as UTF-8; as GB18030 it is not Chinese text")
    return text, "gb18030"


def content_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of `text` that are content: boilerplate lines and web trailers left out."""
    end = len(text)
    m = _TRAILER.search(text)
    if m and m.start() > len(text) * 0.3:
        end = m.start()
    spans: list[tuple[int, int]] = []
    pos = 0
    cur: int | None = None
    for line in text[:end].splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if _BOILER_LINE.match(bare):
            if cur is not None:
                spans.append((cur, pos))
                cur = None
        elif cur is None:
            cur = pos
        pos += len(line)
    if cur is not None:
        spans.append((cur, end))
    return tuple((s, e) for s, e in spans if text[s:e].strip())


def read(path: Path, catalog: dict[str, Report] | None = None) -> Document:
    """Load one file. Raises LoadError with a one-line reason."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise LoadError(f"not a .txt or .md file ({path.suffix or 'no suffix'})")
    try:
        size = path.stat().st_size
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror}") from None
    limit = config.max_file_mb()
    if size > limit * 1024 * 1024:
        raise LoadError(
            f"file is {size / 1024 / 1024:.1f} MB, over the {limit:g} MB limit (set RAG_MAX_FILE_MB to raise it)"
        )
    raw = path.read_bytes()
    text, enc = decode(raw)
    keep = content_spans(text)
    if not keep:
        raise LoadError("no text content (only whitespace or page boilerplate)")
    if catalog is None:
        catalog = load_catalog(path.parent)
    report = catalog.get(path.name) or guess_report(path.name, text)
    return Document(
        report=report,
        path=str(path),
        text=text,
        encoding=enc,
        sha256=hashlib.sha256(raw).hexdigest(),
        keep=keep,
    )


def discover(paths: list[Path]) -> list[Path]:
    """Expand folders to their .txt/.md files (sorted); keep explicit files as given."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in SUFFIXES))
        else:
            out.append(p)
    return out
