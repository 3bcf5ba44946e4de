"""DOCX → text (python-docx): the body's paragraphs and tables in document order.

* A paragraph's text is its runs' text as python-docx reads it (``w:t``, tabs as
  ``\\t``, line breaks as ``\\n``), runs inside hyperlinks included; runs inside
  tracked insertions, smart tags, inline content controls and simple fields are
  included too (python-docx's ``paragraph.text`` skips those), deleted runs are not.
  For a paragraph without such wrappers the text equals ``paragraph.text``.
* Block-level content controls (``w:sdt``) are read through, in place.
* A table is one line per row, the cells' texts joined by ``\\t`` (a horizontally
  merged cell once, a vertically merged cell in the first row only, "" below);
  the paragraphs of a cell are joined by a space; rows without any text are left
  out. Marks: one ``"table"`` over all its lines, one ``"row"`` per line.
* ``"heading"`` marks: paragraph style Heading N / 标题 N (level N), Title / 标题
  (level 1), or an outline level in the paragraph or its style chain (level + 1).
* ``"bold"`` marks: every maximal run of bold text in a body paragraph (run
  property, else character style, else paragraph style chain, else document
  defaults); whitespace-only runs between bold runs are bridged, and the mark is
  trimmed to its non-space characters.
* Text boxes, headers/footers, footnotes, endnotes and comments are not body
  text and are left out.
"""
from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from . import Extracted, FormatError, Mark

__all__ = ["extract_docx"]

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


def _q(tag: str) -> str:
    return f"{{{_W}}}{tag}"


_P, _R, _TBL, _TR, _TC, _SDT, _SDT_CONTENT = (_q(t) for t in ("p", "r", "tbl", "tr", "tc", "sdt", "sdtContent"))
_CUSTOM_XML = _q("customXml")
# inline wrappers whose runs are visible text
_INLINE_WRAPPERS = {_q(t) for t in ("hyperlink", "ins", "moveTo", "smartTag", "customXml", "fldSimple", "dir", "bdo")}
_HEADING_NAME = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.I)
_TITLE_NAME = re.compile(r"^(?:title|标题)$", re.I)
_OFF = {"0", "false", "off", "none"}


def _on_off(el: Any) -> bool | None:
    """Value of an on/off property element (w:b …); None when absent."""
    if el is None:
        return None
    val = el.get(_q("val"))
    return val is None or val.lower() not in _OFF


class _Styles:
    """The style facts the reader needs, resolved through ``w:basedOn`` chains."""

    def __init__(self, styles_el: Any | None):
        self._by_id: dict[str, Any] = {}
        self.default_para: str | None = None
        self.default_bold = False
        self._bold: dict[str, bool | None] = {}
        self._outline: dict[str, int | None] = {}
        if styles_el is None:
            return
        for st in styles_el.iterchildren(_q("style")):
            sid = st.get(_q("styleId"))
            if sid is None:
                continue
            self._by_id[sid] = st
            if st.get(_q("type")) == "paragraph" and (st.get(_q("default")) or "").lower() in ("1", "true", "on"):
                self.default_para = sid
        b = styles_el.find(f"{_q('docDefaults')}/{_q('rPrDefault')}/{_q('rPr')}/{_q('b')}")
        self.default_bold = bool(_on_off(b))

    def _chain(self, sid: str | None):
        seen = set()
        while sid and sid not in seen and sid in self._by_id:
            seen.add(sid)
            st = self._by_id[sid]
            yield st
            based = st.find(_q("basedOn"))
            sid = based.get(_q("val")) if based is not None else None

    def name(self, sid: str | None) -> str:
        st = self._by_id.get(sid or "")
        if st is None:
            return ""
        n = st.find(_q("name"))
        return (n.get(_q("val")) or "") if n is not None else ""

    def bold(self, sid: str | None) -> bool | None:
        """Bold as set by style `sid` or its bases; None when none of them says."""
        if not sid:
            return None
        if sid not in self._bold:
            val = None
            for st in self._chain(sid):
                val = _on_off(st.find(f"{_q('rPr')}/{_q('b')}"))
                if val is not None:
                    break
            self._bold[sid] = val
        return self._bold[sid]

    def outline(self, sid: str | None) -> int | None:
        """Outline level (0-based, 9 = body text) from style `sid` or its bases."""
        if not sid:
            return None
        if sid not in self._outline:
            val = None
            for st in self._chain(sid):
                ol = st.find(f"{_q('pPr')}/{_q('outlineLvl')}")
                if ol is not None:
                    try:
                        val = int(ol.get(_q("val")) or "9")
                    except ValueError:
                        val = 9
                    break
            self._outline[sid] = val
        return self._outline[sid]


def _runs(p: Any):
    """The w:r elements of paragraph `p` that carry visible text, in order."""
    for child in p.iterchildren():
        tag = child.tag
        if tag == _R:
            yield child
        elif tag in _INLINE_WRAPPERS:
            yield from _runs(child)
        elif tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _runs(content)


def _run_text(r: Any) -> str:
    return r.text or ""  # python-docx CT_R.text: w:t, w:tab → \t, w:br/w:cr → \n, …


def _paragraph(p: Any, styles: _Styles) -> tuple[str, list[tuple[int, int]], int | None]:
    """(text, bold spans relative to the paragraph, heading level or None)."""
    ppr = p.find(_q("pPr"))
    ps = ppr.find(_q("pStyle")) if ppr is not None else None
    style = ps.get(_q("val")) if ps is not None else styles.default_para
    para_bold = styles.bold(style)
    if para_bold is None:
        para_bold = styles.default_bold
    parts: list[str] = []
    pieces: list[tuple[int, int, bool]] = []  # (start, end, bold) per run
    pos = 0
    for r in _runs(p):
        t = _run_text(r)
        if not t:
            continue
        rpr = r.find(_q("rPr"))
        bold = _on_off(rpr.find(_q("b"))) if rpr is not None else None
        if bold is None and rpr is not None:
            rs = rpr.find(_q("rStyle"))
            if rs is not None:
                bold = styles.bold(rs.get(_q("val")))
        if bold is None:
            bold = para_bold
        parts.append(t)
        pieces.append((pos, pos + len(t), bool(bold)))
        pos += len(t)
    text = "".join(parts)

    # maximal bold runs: bridge whitespace-only non-bold pieces, trim whitespace
    spans: list[tuple[int, int]] = []
    cur: list[int] | None = None
    for s, e, b in pieces:
        if b:
            if cur is None:
                cur = [s, e]
            else:
                cur[1] = e
        elif cur is not None and not text[s:e].strip():
            continue  # blank between bold runs: bridged if bold follows
        else:
            if cur is not None:
                spans.append((cur[0], cur[1]))
            cur = None
    if cur is not None:
        spans.append((cur[0], cur[1]))
    trimmed = []
    for s, e in spans:
        seg = text[s:e]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        if e - trail > s + lead:
            trimmed.append((s + lead, e - trail))

    # heading level
    level: int | None = None
    direct = ppr.find(_q("outlineLvl")) if ppr is not None else None
    if direct is not None:
        try:
            v = int(direct.get(_q("val")) or "9")
        except ValueError:
            v = 9
        level = v + 1 if 0 <= v <= 8 else None
    else:
        name = styles.name(style).strip()
        m = _HEADING_NAME.match(name)
        if m:
            level = int(m.group(1))
        elif _TITLE_NAME.match(name):
            level = 1
        else:
            v = styles.outline(style)
            if v is not None and 0 <= v <= 8:
                level = v + 1
    return text, trimmed, level


def _cell_text(tc: Any, styles: _Styles) -> str:
    texts: list[str] = []
    for kind, el in _blocks(tc):
        if kind == "p":
            texts.append(_paragraph(el, styles)[0])
        else:
            for row in _rows(el):
                texts.append(" ".join(_cell_text(c, styles) for c in _cells(row) if c is not None))
    joined = " ".join(t for t in texts if t.strip())
    return joined.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def _blocks(container: Any):
    """("p" | "tbl", element) for the block content of body/cell, through content controls."""
    for child in container.iterchildren():
        tag = child.tag
        if tag == _P:
            yield "p", child
        elif tag == _TBL:
            yield "tbl", child
        elif tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _blocks(content)
        elif tag == _CUSTOM_XML:
            yield from _blocks(child)


def _rows(tbl: Any):
    for child in tbl.iterchildren():
        if child.tag == _TR:
            yield child
        elif child.tag in (_SDT, _CUSTOM_XML):
            inner = child.find(_SDT_CONTENT) if child.tag == _SDT else child
            if inner is not None:
                yield from _rows(inner)


def _cells(tr: Any):
    """The row's w:tc elements; None for the continuation of a vertical merge."""
    for child in tr.iterchildren():
        if child.tag == _TC:
            vm = child.find(f"{_q('tcPr')}/{_q('vMerge')}")
            if vm is not None and (vm.get(_q("val")) or "continue") != "restart":
                yield None
            else:
                yield child
        elif child.tag in (_SDT, _CUSTOM_XML):
            inner = child.find(_SDT_CONTENT) if child.tag == _SDT else child
            if inner is not None:
                yield from _cells(inner)


def _open(raw: bytes):
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    if raw.startswith(_OLE_MAGIC):
        if _ENCRYPTED_STREAM in raw:
            raise FormatError("password-protected DOCX")
        raise FormatError("corrupt DOCX (an old binary Word .doc file: save it as .docx)")
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise FormatError("corrupt DOCX (not a zip file)")
    try:
        return docx.Document(io.BytesIO(raw))
    except ValueError as e:
        if "content type" in str(e):
            # a macro-enabled document or a template saved with a .docx name: same body
            fixed = _as_plain_document(raw)
            if fixed is not None:
                try:
                    return docx.Document(io.BytesIO(fixed))
                except Exception:  # noqa: BLE001 - reported below as corrupt
                    pass
        raise FormatError(f"corrupt DOCX ({_one_line(e)})") from None
    except (PackageNotFoundError, KeyError, zipfile.BadZipFile) as e:
        raise FormatError(f"corrupt DOCX ({_one_line(e) or 'no Word document inside'})") from None
    except Exception as e:  # noqa: BLE001 - lxml syntax errors, truncated members, …
        raise FormatError(f"corrupt DOCX ({type(e).__name__}: {_one_line(e)})") from None


def _as_plain_document(raw: bytes) -> bytes | None:
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    others = (
        "application/vnd.ms-word.document.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
    )
    try:
        src = zipfile.ZipFile(io.BytesIO(raw))
        ct = src.read("[Content_Types].xml").decode("utf-8")
        if not any(o in ct for o in others):
            return None
        for o in others:
            ct = ct.replace(o, main)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = ct.encode("utf-8") if info.filename == "[Content_Types].xml" else src.read(info)
                dst.writestr(info, data)
        return out.getvalue()
    except Exception:  # noqa: BLE001
        return None


def _one_line(e: BaseException) -> str:
    s = " ".join(str(e).split())
    return s[:160]


def extract_docx(raw: bytes) -> Extracted:
    document = _open(raw)
    try:
        styles_el = document.styles.element  # python-docx adds default styles if the part is missing
    except Exception:  # noqa: BLE001 - a broken styles part: read without styles
        styles_el = None
    styles = _Styles(styles_el)

    lines: list[str] = []
    marks: list[Mark] = []
    pos = 0  # offset of the next line

    def add_line(s: str) -> int:
        nonlocal pos
        start = pos + (1 if lines else 0)
        lines.append(s)
        pos = start + len(s)
        return start

    try:
        body = document.element.body
        for kind, el in _blocks(body):
            if kind == "p":
                text, bold, level = _paragraph(el, styles)
                start = add_line(text)
                if level is not None and text.strip():
                    lead = len(text) - len(text.lstrip())
                    marks.append(Mark(start + lead, start + len(text.rstrip()), "heading", level))
                for s, e in bold:
                    marks.append(Mark(start + s, start + e, "bold"))
            else:
                table_start = None
                rows: list[Mark] = []
                for tr in _rows(el):
                    cells = ["" if c is None else _cell_text(c, styles) for c in _cells(tr)]
                    if not any(c.strip() for c in cells):
                        continue
                    line = "\t".join(cells)
                    start = add_line(line)
                    if table_start is None:
                        table_start = start
                    rows.append(Mark(start, start + len(line), "row"))
                if table_start is not None:
                    marks.append(Mark(table_start, pos, "table"))
                    marks.extend(rows)
    except FormatError:
        raise
    except Exception as e:  # noqa: BLE001 - malformed XML content
        raise FormatError(f"corrupt DOCX ({type(e).__name__}: {_one_line(e)})") from None

    text = "\n".join(lines)
    if not text.strip():
        raise FormatError("no text in the document")
    try:
        title = (document.core_properties.title or "").strip()
    except Exception:  # noqa: BLE001 - a broken core-properties part is not worth failing for
        title = ""
    marks.sort(key=lambda m: (m.start, -m.end))
    return Extracted(text=text, format="docx", marks=tuple(marks), title=title)
