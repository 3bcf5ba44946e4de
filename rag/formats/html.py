"""HTML pages (as saved from government web sites) → the page's main text (trafilatura).

* Bytes are decoded by a byte-order mark, else the charset the page declares
  (``<meta charset>``, ``http-equiv``, XML declaration; GB2312/GBK read as their
  superset GB18030), else UTF-8, else GB18030 if that gives Chinese text, else
  charset-normalizer's guess.
* trafilatura finds the main content; its XML (``<head rend="h2">``, ``<p>``,
  ``<list>``, ``<table>``, ``<hi rend="#b">``, ``<lb/>``) is turned into lines here,
  so marks come from the same extraction as the text: ``"heading"`` for h1–h6
  (level = N), ``"bold"`` for ``<b>/<strong>``, ``"table"``/``"row"`` for data tables
  (a row's cells joined by ``\\t``). A layout table (a cell holding paragraphs) is
  read as the paragraphs it holds. A ``<br>`` ends a line.
* What trafilatura leaves of page furniture is dropped: link lists and other
  blocks whose text is mostly links (related articles, navigation), a heading
  whose whole section was such a block ("相关文章"), and short lines such as
  "上一篇：…", "下一篇：…", "分享到：…", "【打印】【关闭】".
* When trafilatura does not recognise the page's content container, it gathers the
  text piece by piece, drops headings and collapses identical paragraphs (the
  repeated "各位代表！"); the reader then extracts again from the element holding
  the first and last paragraph (and the <h1> right before it) and keeps that run's
  text between them — whole reports of 15–100k characters come through unchanged.
* HTML collapses white space, and so does trafilatura: leading ideographic spaces
  used as indentation in the page are not kept.
* ``title`` is og:title, else ``<title>``.
"""
from __future__ import annotations

import re
from typing import Any

from . import Extracted, FormatError, Mark

__all__ = ["decode_html", "extract_html"]

_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.\-]+)""", re.I)
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "gb18030": "gb18030",
    "utf8": "utf-8",
    "unicode": "utf-8",
    "big5": "big5hkscs",
}
_WESTERN = {"iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252", "us-ascii", "ascii"}

_FURNITURE = re.compile(
    r"^\s*[【\[]?\s*(?:上一篇|下一篇|上一条|下一条|分享到|分享|打印本页|打印|关闭窗口|关闭|返回顶部|"
    r"扫一扫|字号|字体|【?\s*大\s*中\s*小)\s*[】\]]?\s*(?:[:：].*)?$"
)
# page UI inside a short line: font size switches, print/close buttons, view counters
_UI_MARKERS = re.compile(r"【\s*字[体号]|字[体号][:：]\s*\[?\s*大|\b大\s+中\s+小\b|浏览次数|点击数|阅读次数|访问量[:：]")
_FURNITURE_BITS = re.compile(r"[【\[]\s*(?:打印|关闭|关闭窗口|打印本页|收藏|纠错|大|中|小|字体[:：]?.*?)\s*[】\]]")
_MIN_MAIN_TEXT = 200  # visible characters of paragraph text a report page has at the least


def _declared(raw: bytes) -> str | None:
    m = _XML_DECL.match(raw[:200])
    if not m:
        m = _CHARSET.search(raw[:8192])
    if not m:
        return None
    name = m.group(1).decode("ascii", "ignore").lower().strip()
    return _ALIASES.get(name, name)


def _looks_chinese(text: str) -> bool:
    sample = text[:20000]
    non_ascii = [ch for ch in sample if ord(ch) >= 128]
    if not non_ascii:
        return True
    cjk = sum(1 for ch in non_ascii if 0x4E00 <= ord(ch) <= 0x9FFF or 0x3000 <= ord(ch) <= 0x303F or 0xFF00 <= ord(ch) <= 0xFFEF)
    return cjk >= 0.7 * len(non_ascii)


def decode_html(raw: bytes) -> str:
    """The page as text: BOM, declared charset, UTF-8, GB18030, detection (see module doc)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    declared = _declared(raw)
    tried = []
    if declared and declared not in _WESTERN:
        try:
            return raw.decode(declared)
        except (LookupError, UnicodeDecodeError):
            tried.append(declared)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
        if _looks_chinese(text):
            return text
    except UnicodeDecodeError:
        pass
    if declared and declared not in tried:
        try:
            return raw.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw).best()
        if best is not None and best.encoding:
            return str(best)
    except Exception:  # noqa: BLE001 - detection is a best effort
        pass
    enc = declared if declared and declared not in tried else "utf-8"
    try:
        return raw.decode(enc, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _title(tree: Any) -> str:
    for xp in ('//meta[@property="og:title"]/@content', '//meta[@name="og:title"]/@content', "//title//text()"):
        try:
            found = tree.xpath(xp)
        except Exception:  # noqa: BLE001
            continue
        text = " ".join(" ".join(str(s) for s in found).split())
        if text:
            return text
    return ""


# ---------------------------------------------------------------- trafilatura XML → lines


class _Line:
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
        self.lines: list[_Line] = []
        self.tables = 0

    def _inline(self, el: Any, line: _Line, bold: bool, link: bool) -> _Line:
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

    def _new_like(self, line: _Line) -> _Line:
        new = _Line(line.kind, line.level)
        new.row_of = line.row_of
        self.lines.append(new)
        return new

    def _add(self, line: _Line, s: str, bold: bool, link: bool) -> _Line:
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
                    line = _Line("item" if tag == "item" else "p")
                    self.lines.append(line)
                    self._add(line, el.text, False, False)
                for child in el:
                    if isinstance(child.tag, str) and child.tag in ("p", "list", "table", "head", "quote"):
                        self.block(child)
                        if child.tail and child.tail.strip():
                            line = _Line("p")
                            self.lines.append(line)
                            self._add(line, child.tail, False, False)
                    else:
                        line = _Line("p")
                        self.lines.append(line)
                        self._inline(child, line, False, False)
                return
            kind = "head" if tag == "head" else ("item" if tag == "item" else "p")
            level = 0
            if tag == "head":
                m = re.match(r"h([1-6])$", el.get("rend") or "")
                level = int(m.group(1)) if m else 0
            line = _Line(kind, level)
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
            line = _Line("p")
            self.lines.append(line)
            self._inline(el, line, False, False)

    def table(self, tbl: Any) -> None:
        layout = False
        for cell in tbl.iter("cell"):
            blocks = sum(1 for c in cell if isinstance(c.tag, str) and c.tag in ("p", "list", "table", "head", "quote"))
            if blocks >= 2 or cell.find(".//lb") is not None or _visible("".join(cell.itertext())) > 300:
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
            line = _Line("row")
            line.row_of = self.tables
            line.text = "\t".join(cells)
            links = sum(len("".join(r.itertext()).strip()) for r in row.iter("ref"))
            line.links = links
            self.lines.append(line)


def _visible(s: str) -> int:
    return sum(1 for ch in s if not ch.isspace())


def _clean(lines: list[_Line]) -> list[_Line]:
    """Drop link blocks, furniture lines and headings of dropped sections; trim lines."""
    for ln in lines:
        # trim white space at both ends, moving the bold spans
        lead = len(ln.text) - len(ln.text.lstrip())
        ln.text = ln.text.strip()
        ln.bold = [(max(0, s - lead), min(len(ln.text), e - lead)) for s, e in ln.bold]
        ln.bold = [(s, e) for s, e in ln.bold if e > s]
    kept: list[_Line] = []
    lost: set[int] = set()  # indexes (in kept) of headings after which a link block was dropped
    last_head = None
    for ln in lines:
        if not ln.text:
            continue
        vis = _visible(ln.text)
        links = ln.kind != "head" and ln.links * 2 > vis
        if links and last_head is not None:
            lost.add(last_head)
        if (
            links
            or (vis <= 80 and bool(_FURNITURE.match(ln.text)))
            or (vis <= 40 and not _FURNITURE_BITS.sub("", ln.text).strip())
            or (vis <= 100 and ln.kind != "head" and bool(_UI_MARKERS.search(ln.text)))
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


def _merge(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Adjacent bold spans (touching or apart by white space only) as one."""
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and not text[out[-1][1]:s].strip():
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _extract_lines(tree: Any, first_table: int = 0) -> list[_Line] | None:
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


def _norm(s: str) -> str:
    return " ".join(s.split())


def _container(tree: Any, anchors: list[str]) -> Any | None:
    """The smallest element of `tree` holding all `anchors` (texts of extracted lines)."""
    found = []
    for anchor in anchors:
        best, best_len = None, None
        for el in tree.iter():
            if not isinstance(el.tag, str) or el.tag in ("script", "style", "head", "title", "meta"):
                continue
            text = _norm(el.text_content())
            if anchor in text and (best_len is None or len(text) < best_len):
                best, best_len = el, len(text)
        if best is None:
            return None
        found.append(best)
    common = None
    for el in found:
        chain = [el, *el.iterancestors()]
        common = chain if common is None else [a for a in chain if a in set(common)]
    return common[0] if common else None


def _title_heading(tree: Any, box: Any) -> Any | None:
    """The page's <h1> just before the content container `box`, if it sits close to it.

    Close: their common ancestor holds little more text than `box` itself (a title
    and its article, not a title, the article and a sidebar).
    """
    order = {el: i for i, el in enumerate(tree.iter())}
    box_at = order.get(box)
    ancestors = set(box.iterancestors())
    before = [h for h in tree.iter("h1") if order.get(h, 1 << 30) < (box_at or 0) and h not in ancestors]
    before = [h for h in before if 0 < len(_norm(h.text_content())) <= 100]
    if not before:
        return None
    h1 = before[-1]
    chain = set(h1.iterancestors())
    common = next((a for a in box.iterancestors() if a in chain), None)
    if common is None or common.tag in ("html", "body"):
        return None
    extra = len(_norm(common.text_content())) - len(_norm(box.text_content()))
    return common if extra <= 300 + len(_norm(h1.text_content())) else None


def _restore_repeats(tree: Any, lines: list[_Line]) -> list[_Line]:
    """Run trafilatura again over the report's own container, if that keeps more.

    When trafilatura does not recognise the page's content container it gathers the
    text element by element: identical paragraphs collapse (a report's repeated
    "各位代表！" lines vanish) and headings are lost. Extracting again from just the
    element that holds the first and the last extracted paragraph (and the page's
    <h1> title right before it) avoids that; only the part from the title or the
    first paragraph to the last paragraph is taken from the second run.
    """
    from copy import deepcopy

    from lxml import html as lxml_html

    body = [i for i, ln in enumerate(lines) if ln.kind != "head" and _visible(ln.text) >= 10]
    if len(body) < 2:
        return lines
    a, b = body[0], body[-1]
    first, last = _norm(lines[a].text), _norm(lines[b].text)
    box = _container(tree, [first, last])
    if box is None or box.tag in ("html", "body"):
        return lines
    title_box = _title_heading(tree, box)
    if title_box is not None:
        box = title_box
    page = lxml_html.fromstring('<html><head><title></title></head><body><div itemprop="articleBody"></div></body></html>')
    page.find(".//div").append(deepcopy(box))
    again = _extract_lines(page, first_table=1000)
    if not again:
        return lines
    starts = [i for i, ln in enumerate(again) if _norm(ln.text) == first]
    ends = [i for i, ln in enumerate(again) if _norm(ln.text) == last]
    if not starts or not ends or ends[-1] < starts[0]:
        return lines
    s = starts[0]
    if title_box is not None:
        heads = [i for i in range(s) if again[i].kind == "head" and again[i].level == 1]
        if heads:
            s = heads[0]
    middle = again[s : ends[-1] + 1]
    if sum(_visible(ln.text) for ln in middle) <= sum(_visible(ln.text) for ln in lines[a : b + 1]):
        return lines
    # lines the first run had before its first paragraph, unless the second run has them now
    lead = {_norm(ln.text) for ln in again[s : starts[0]]}
    before = [ln for ln in lines[:a] if _norm(ln.text) not in lead]
    return before + middle + lines[b + 1 :]


def extract_html(raw: bytes) -> Extracted:
    from trafilatura import load_html

    if not raw.strip():
        raise FormatError("no main text found in the page")
    html = decode_html(raw)
    try:
        tree = load_html(html)
    except Exception:  # noqa: BLE001
        tree = None
    if tree is None:
        raise FormatError("no main text found in the page")
    title = _title(tree)
    lines = _extract_lines(tree)
    if not lines or sum(_visible(ln.text) for ln in lines if ln.kind != "head") < _MIN_MAIN_TEXT:
        raise FormatError("no main text found in the page")
    try:
        lines = _restore_repeats(tree, lines)
    except Exception:  # noqa: BLE001 - the first extraction stands
        pass

    texts: list[str] = []
    marks: list[Mark] = []
    pos = 0
    table_span: dict[int, list[int]] = {}
    for ln in lines:
        start = pos + (1 if texts else 0)
        texts.append(ln.text)
        pos = start + len(ln.text)
        if ln.kind == "head":
            marks.append(Mark(start, pos, "heading", ln.level))
        elif ln.kind == "row":
            marks.append(Mark(start, pos, "row"))
            span = table_span.setdefault(ln.row_of or 0, [start, pos])
            span[1] = pos
        for s, e in _merge(ln.bold, ln.text):
            marks.append(Mark(start + s, start + e, "bold"))
    for s, e in table_span.values():
        marks.append(Mark(s, e, "table"))
    marks.sort(key=lambda m: (m.start, -m.end))
    return Extracted(text="\n".join(texts), format="html", marks=tuple(marks), title=title)
