"""trafilatura's XML of an HTML page → the page's lines, page furniture dropped.

Used by :mod:`rag.formats.html`. :func:`extract_lines` runs trafilatura over a parsed
page and turns its XML (``<head rend="h2">``, ``<p>``, ``<list>``, ``<table>``,
``<hi rend="#b">``, ``<ref>``, ``<lb/>``) into :class:`Line` objects: a kind
(paragraph, heading with its level, list item, data-table row with its cells joined
by ``\\t``), bold spans and the number of characters inside links. A layout table (a
cell holding paragraphs) is read as the paragraphs it holds; a ``<br>`` ends a line.
Then blocks whose text is mostly links, headings whose whole section was such a
block, and short furniture lines ("上一篇：…", "分享到：…", "【打印】【关闭】", font-size
switches, view counters) are dropped. trafilatura is imported lazily.
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["Line", "extract_lines", "merge_bold", "visible"]


def _pattern(name: str) -> re.Pattern:
    """Page furniture (navigation lines, UI markers, button bits): ``lexicon/phrasing.toml``."""
    from ..lexicon import pattern

    return pattern(name, "text")


class Line:
    """One line of the page: its text, kind, heading level, bold spans and link characters."""

    __slots__ = ("text", "bold", "links", "kind", "level", "row_of")

    def __init__(self, kind: str = "p", level: int = 0):
        self.text = ""
        self.bold: list[tuple[int, int]] = []
        self.links = 0  # characters inside <ref>
        self.kind = kind  # "p" | "head" | "item" | "row"
        self.level = level
        self.row_of: int | None = None  # table id for rows


class _Builder:
    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.tables = 0

    def _inline(self, el: Any, line: Line, bold: bool, link: bool) -> Line:
        """Append el's text (and its inline children) to `line`; <lb/> starts a new line."""
        tag = el.tag if isinstance(el.tag, str) else ""
        b = bold or (tag == "hi" and "#b" in (el.get("rend") or ""))
        lk = link or tag == "ref"
        if tag == "lb":
            line = self._new_like(line)
        elif tag in ("list", "table", "p", "head", "quote"):
            # a block inside an inline context: read it as blocks of its own
            self.block(el)
            line = self._new_like(line)
            if el.tail:
                line = self._add(line, el.tail, bold, link)
            return line
        else:
            if el.text:
                line = self._add(line, el.text, b, lk)
            for child in el:
                line = self._inline(child, line, b, lk)
        if el.tail:
            line = self._add(line, el.tail, bold, link)
        return line

    def _new_like(self, line: Line) -> Line:
        new = Line(line.kind, line.level)
        new.row_of = line.row_of
        self.lines.append(new)
        return new

    def _add(self, line: Line, s: str, bold: bool, link: bool) -> Line:
        parts = s.split("\n")
        for i, part in enumerate(parts):
            if i:
                line = self._new_like(line)
            if not part:
                continue
            start = len(line.text)
            line.text += part
            if bold and part.strip():
                line.bold.append((start, len(line.text)))
            if link:
                line.links += len(part.strip())
        return line

    def block(self, el: Any) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in ("p", "quote", "code", "item", "head", "div", "cell"):
            has_blocks = any(isinstance(c.tag, str) and c.tag in ("p", "list", "table", "head", "quote") for c in el)
            if tag in ("quote", "div", "cell", "item") and has_blocks:
                if el.text and el.text.strip():
                    line = Line("item" if tag == "item" else "p")
                    self.lines.append(line)
                    self._add(line, el.text, False, False)
                for child in el:
                    if isinstance(child.tag, str) and child.tag in ("p", "list", "table", "head", "quote"):
                        self.block(child)
                        if child.tail and child.tail.strip():
                            line = Line("p")
                            self.lines.append(line)
                            self._add(line, child.tail, False, False)
                    else:
                        line = Line("p")
                        self.lines.append(line)
                        self._inline(child, line, False, False)
                return
            kind = "head" if tag == "head" else ("item" if tag == "item" else "p")
            level = 0
            if tag == "head":
                m = re.match(r"h([1-6])$", el.get("rend") or "")
                level = int(m.group(1)) if m else 0
            line = Line(kind, level)
            self.lines.append(line)
            if el.text:
                line = self._add(line, el.text, False, False)
            for child in el:
                line = self._inline(child, line, False, False)
        elif tag == "list":
            for child in el:
                if isinstance(child.tag, str) and child.tag in ("item", "list"):
                    self.block(child)
                elif isinstance(child.tag, str) and child.tag == "head":
                    self.block(child)
        elif tag == "table":
            self.table(el)
        elif tag in ("body", "doc", "main", "article", "section"):
            for child in el:
                self.block(child)
        elif tag in ("graphic", "image"):
            return
        else:  # an unexpected inline at block level
            line = Line("p")
            self.lines.append(line)
            self._inline(el, line, False, False)

    def table(self, tbl: Any) -> None:
        layout = False
        for cell in tbl.iter("cell"):
            blocks = sum(1 for c in cell if isinstance(c.tag, str) and c.tag in ("p", "list", "table", "head", "quote"))
            if blocks >= 2 or cell.find(".//lb") is not None or visible("".join(cell.itertext())) > 300:
                layout = True  # a table used for page layout, not data: read its cells as text
                break
        if layout:
            for row in tbl:
                for cell in row:
                    if isinstance(cell.tag, str) and cell.tag == "cell":
                        self.block(cell)
            return
        self.tables += 1
        for row in tbl:
            if not isinstance(row.tag, str) or row.tag != "row":
                continue
            cells = []
            for cell in row:
                if not isinstance(cell.tag, str) or cell.tag != "cell":
                    continue
                cells.append(" ".join("".join(cell.itertext()).split()))
            if not any(cells):
                continue
            line = Line("row")
            line.row_of = self.tables
            line.text = "\t".join(cells)
            links = sum(len("".join(r.itertext()).strip()) for r in row.iter("ref"))
            line.links = links
            self.lines.append(line)


def visible(s: str) -> int:
    """Characters of `s` that are not white space."""
    return sum(1 for ch in s if not ch.isspace())


def _clean(lines: list[Line]) -> list[Line]:
    """Drop link blocks, furniture lines and headings of dropped sections; trim lines."""
    for ln in lines:
        # trim white space at both ends, moving the bold spans
        lead = len(ln.text) - len(ln.text.lstrip())
        ln.text = ln.text.strip()
        ln.bold = [(max(0, s - lead), min(len(ln.text), e - lead)) for s, e in ln.bold]
        ln.bold = [(s, e) for s, e in ln.bold if e > s]
    kept: list[Line] = []
    lost: set[int] = set()  # indexes (in kept) of headings after which a link block was dropped
    last_head = None
    for ln in lines:
        if not ln.text:
            continue
        vis = visible(ln.text)
        links = ln.kind != "head" and ln.links * 2 > vis
        if links and last_head is not None:
            lost.add(last_head)
        if (
            links
            or (vis <= 80 and bool(_pattern("html_nav_line").match(ln.text)))
            or (vis <= 40 and not _pattern("html_ui_bits").sub("", ln.text).strip())
            or (vis <= 100 and ln.kind != "head" and bool(_pattern("html_ui_markers").search(ln.text)))
        ):
            continue
        if ln.kind == "head":
            last_head = len(kept)
        kept.append(ln)
    # a heading whose section lost blocks and kept none goes too ("相关文章" + its link list)
    return [
        ln
        for i, ln in enumerate(kept)
        if not (i in lost and (i + 1 == len(kept) or kept[i + 1].kind == "head"))
    ]


def merge_bold(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Adjacent bold spans (touching or apart by white space only) as one."""
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and not text[out[-1][1]:s].strip():
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def extract_lines(tree: Any, first_table: int = 0) -> list[Line] | None:
    """trafilatura over `tree` → cleaned lines (None when it finds nothing)."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            tree,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_formatting=True,
            include_links=True,
            deduplicate=False,
        )
    except Exception:  # noqa: BLE001 - trafilatura raising on odd markup
        return None
    body = getattr(doc, "body", None) if doc is not None else None
    if body is None:
        return None
    builder = _Builder()
    builder.tables = first_table
    builder.block(body)
    return _clean(builder.lines)
