"""TXT/MD: bytes → text. UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030 (GBK/GB2312)."""
from __future__ import annotations

from . import Extracted, FormatError

__all__ = ["decode", "extract_text"]

_SAMPLE = 65536


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FFFF or 0xF900 <= o <= 0xFAFF


def _chinese_enough(text: str) -> bool:
    """Does GB18030-decoded `text` look like Chinese text (and not byte soup)?

    Its non-ASCII characters must be mostly CJK ideographs and the punctuation of
    Chinese text, and there must be some ideographs at all.
    """
    sample = text[:20000]
    non_ascii = [ch for ch in sample if ord(ch) >= 128]
    if not non_ascii:
        return True  # plain ASCII decodes as UTF-8 first; kept for completeness
    cjk = sum(1 for ch in non_ascii if _is_cjk(ch))
    usual = cjk + sum(
        1
        for ch in non_ascii
        if 0x3000 <= ord(ch) <= 0x303F  # CJK punctuation, ideographic space
        or 0xFF00 <= ord(ch) <= 0xFFEF  # full-width forms (，：（）％)
        or 0x2010 <= ord(ch) <= 0x206F  # “”‘’—…
        or ch in "·×÷°±§№"
    )
    return cjk >= max(1, len(non_ascii) // 4) and usual >= 0.9 * len(non_ascii)


def _check_not_binary(head: bytes) -> None:
    if b"\x00" in head:
        raise FormatError("binary file, not text")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    if controls > max(2, len(head) // 100):
        raise FormatError("binary file, not text")


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding) with line ends normalised to "\\n".

    encoding is "utf-8", "utf-8-sig" (BOM dropped), "utf-16" (BOM dropped) or
    "gb18030". Raises FormatError for empty, binary or undecodable data.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            text, enc = raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as e:
            raise FormatError(f"has a UTF-8 byte-order mark but is not valid UTF-8 (bad byte at {e.start + 3})") from None
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")) and not raw.startswith(b"\xff\xfe\x00\x00"):
        try:
            text, enc = raw.decode("utf-16"), "utf-16"  # the codec reads and drops the BOM
        except UnicodeDecodeError:
            raise FormatError("has a UTF-16 byte-order mark but is not valid UTF-16") from None
        if "\x00" in text[:_SAMPLE]:
            raise FormatError("binary file, not text")
    else:
        if not raw.strip():
            raise FormatError("empty file")
        _check_not_binary(raw[:_SAMPLE])
        try:
            text, enc = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as e:
            # Mostly valid UTF-8 with a few bad bytes (a damaged or cut file) must not be
            # read as GB18030, which would turn it into plausible-looking mojibake.
            lossy = raw.decode("utf-8", errors="replace")
            bad = lossy.count("\ufffd") - raw.count(b"\xef\xbf\xbd")
            multibyte = sum(1 for ch in lossy if ord(ch) >= 0x80 and ch != "\ufffd")
            if multibyte >= 20 and bad * 50 < multibyte:
                raise FormatError(f"not valid UTF-8 (damaged file? bad byte at {e.start})") from None
            try:
                text, enc = raw.decode("gb18030"), "gb18030"
            except UnicodeDecodeError as e2:
                raise FormatError(f"cannot decode as UTF-8 or GB18030 (bad byte at {e2.start})") from None
            if not _chinese_enough(text):
                raise FormatError("cannot decode: not UTF-8, and as GB18030 it is not Chinese text")
    if not text.strip():
        raise FormatError("empty file")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, enc


def extract_text(raw: bytes) -> Extracted:
    text, enc = decode(raw)
    return Extracted(text=text, format="text", encoding=enc)
