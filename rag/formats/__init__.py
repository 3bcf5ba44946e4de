"""File formats → one plain text string (as stored) plus marks as offsets into it.

Every reader returns an :class:`Extracted`: ``text`` is what the project stores for
the file, and citations, headings, pages and tables are character offsets into it
(``text[m.start:m.end]``). Paragraphs are joined by ``"\\n"`` (one per line), each
paragraph's own text kept as the document has it (leading ideographic spaces
included); nothing is stripped or normalised beyond what each reader documents.

Readers (heavy libraries are imported lazily, so importing this package is cheap):

* ``text`` (.txt/.md/.text) — :mod:`rag.formats.plain`: UTF-8 (± BOM), UTF-16 with
  BOM, GB18030 (GBK/GB2312); line ends normalised to ``"\\n"``.
* ``docx`` — :mod:`rag.formats.docx` (python-docx): body paragraphs and tables in
  order, heading and bold marks, table/row marks.
* ``pdf`` — :mod:`rag.formats.pdf` (pypdfium2, PDFium): text of each page, page marks,
  bare page-number lines and running headers dropped.
* ``html`` — :mod:`rag.formats.html` (trafilatura): the page's main text, heading marks.

Usage::

    from rag.formats import extract, kind_of, FormatError
    doc = extract("2025年政府工作报告.pdf")       # or extract(name, raw=bytes)
"""
from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["SUFFIXES", "FormatError", "Mark", "Extracted", "kind_of", "extract"]

SUFFIXES: dict[str, str] = {
    ".txt": "text",
    ".md": "text",
    ".text": "text",
    ".docx": "docx",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".shtml": "html",
}


class FormatError(Exception):
    """A file that cannot be read; str(e) is ONE line for the user, e.g. 'no text layer (a scanned PDF?)'."""


@dataclass(frozen=True)
class Mark:
    """A span of :attr:`Extracted.text` that the format itself marks.

    kind: ``"heading"`` (level 1..9 when known), ``"bold"`` (a maximal run of bold
    text), ``"page"`` (one PDF page; level = 1-based page number), ``"table"`` (a whole
    table), ``"row"`` (one table row).
    """

    start: int
    end: int
    kind: str
    level: int = 0


@dataclass(frozen=True)
class Extracted:
    text: str  # the text as stored; citations are offsets into it
    format: str  # "text" | "docx" | "pdf" | "html"
    encoding: str = ""  # for text: "utf-8", "utf-8-sig", "gb18030", "utf-16"; "" otherwise
    marks: tuple[Mark, ...] = ()
    title: str = ""  # document title from metadata, "" if none


def kind_of(path: str | os.PathLike[str]) -> str | None:
    """The reader for `path` by its suffix (case-insensitive); None for unknown types."""
    return SUFFIXES.get(os.path.splitext(os.fspath(path))[1].lower())


def extract(path: str | os.PathLike[str], raw: bytes | None = None) -> Extracted:
    """Read `path` (or `raw`, its bytes, when given: then the file is not opened)."""
    kind = kind_of(path)
    if kind is None:
        suffix = os.path.splitext(os.fspath(path))[1].lower()
        raise FormatError(f"unsupported file type ({suffix or 'no suffix'})")
    if raw is None:
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError as e:
            raise FormatError(f"cannot read the file ({e.strerror or type(e).__name__})") from None
    if kind == "text":
        from .plain import extract_text as reader
    elif kind == "docx":
        from .docx import extract_docx as reader
    elif kind == "pdf":
        from .pdf import extract_pdf as reader
    else:
        from .html import extract_html as reader
    return reader(bytes(raw))
