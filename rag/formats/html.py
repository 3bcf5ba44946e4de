"""HTML pages (as saved from government web sites) → the page's main text (trafilatura).

* Bytes are decoded by a byte-order mark, else the charset the page declares
  (``<meta charset>``, ``http-equiv``, XML declaration; GB2312/GBK read as their
  superset GB18030), else UTF-8, else GB18030 if that gives Chinese text, else
  charset-normalizer's guess.
* trafilatura finds the main content; its XML (``<head rend="h2">``, ``<p>``,
  ``<list>``, ``<table>``, ``<hi rend="#b">``, ``<lb/>``) is turned into lines,
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

Turning trafilatura's XML into lines and dropping furniture is
:mod:`rag.formats.html_lines`; this module decodes the page, takes its title, extracts
again from the report's own container when that keeps more, and joins the lines
into the text and its marks.
"""
from __future__ import annotations

import re
from typing import Any

from . import Extracted, FormatError, Mark
from .html_lines import Line, extract_lines, merge_bold, visible

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


def _restore_repeats(tree: Any, lines: list[Line]) -> list[Line]:
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

    body = [i for i, ln in enumerate(lines) if ln.kind != "head" and visible(ln.text) >= 10]
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
    again = extract_lines(page, first_table=1000)
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
    if sum(visible(ln.text) for ln in middle) <= sum(visible(ln.text) for ln in lines[a : b + 1]):
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
    lines = extract_lines(tree)
    if not lines or sum(visible(ln.text) for ln in lines if ln.kind != "head") < _MIN_MAIN_TEXT:
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
        for s, e in merge_bold(ln.bold, ln.text):
            marks.append(Mark(start + s, start + e, "bold"))
    for s, e in table_span.values():
        marks.append(Mark(s, e, "table"))
    marks.sort(key=lambda m: (m.start, -m.end))
    return Extracted(text="\n".join(texts), format="html", marks=tuple(marks), title=title)
