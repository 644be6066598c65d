"""What a file's bytes are: an image or a PDF saved under a page's name, recognised by its
signature; and a page's or a text's encoding, taken from its byte order mark or its declared
charset as a browser reads them, else guessed.
"""

from __future__ import annotations

import codecs
import functools
import re
import warnings

from trafilatura.utils import detect_encoding

from cleaner.io.compression import GZIP_MAGIC, ZSTD_MAGIC

# -- what the bytes are --------------------------------------------------------------------

# File signatures of what crawls save under a page's name: images, PDFs, archives, media.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (GZIP_MAGIC, "gzip data inside gzip data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (ZSTD_MAGIC, "zstd-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an executable"),
    (b"OggS", "Ogg audio or video"),
    (b"ID3", "an MP3 file"),
    (b"\x1a\x45\xdf\xa3", "a WebM or Matroska video"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
)
_RIFF = {b"WEBP": "a WebP image", b"WAVE": "WAV audio", b"AVI ": "an AVI video"}
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def sniff_binary(content: bytes) -> str | None:
    """What a file that is not text is ("a PNG image"), or None for text. Text never holds
    a NUL byte unless it is UTF-16 or UTF-32, which then starts with a byte order mark."""
    for magic, what in _MAGIC:
        if content.startswith(magic):
            return what
    if content.startswith(b"RIFF") and content[8:12] in _RIFF:
        return _RIFF[content[8:12]]
    if content[4:8] == b"ftyp":
        return "an MP4 or QuickTime video"
    head = content[:8192]
    if _bom(content) is None and b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if len(head) >= 16 and (even.count(0) > 0.9 * len(even) or odd.count(0) > 0.9 * len(odd)):
            return (
                "UTF-16 text without a byte order mark, which cannot be told from binary data for "
                "sure: convert it to UTF-8 (iconv -f UTF-16LE -t UTF-8, or UTF-16BE)"
            )
        return "binary data (it holds NUL bytes, which text never does)"
    return None


def _bom(content: bytes) -> tuple[bytes, str] | None:
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return bom, encoding
    return None


# An encoding declared in the page's head: <meta charset="..."> or <meta http-equiv=
# "Content-Type" content="text/html; charset=...">, or an XML declaration's encoding.
_DECLARED = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)|<\?xml[^>]*?encoding\s*=\s*["']([-\w.:]+)""",
    re.IGNORECASE,
)
# Labels as browsers read them (the WHATWG Encoding standard): a page that says latin-1 is
# decoded as windows-1252, Shift_JIS as its Microsoft superset, and so on; and a page whose
# head is ASCII cannot really be UTF-16, whatever it says.
_LABELS = {
    **dict.fromkeys(
        ("latin1", "latin-1", "iso-8859-1", "iso8859-1", "iso_8859-1", "l1", "ascii", "us-ascii", "cp1252"),
        "cp1252",
    ),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis"), "cp932"),
    **dict.fromkeys(("windows-31j", "ms932"), "cp932"),
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "chinese", "csgb2312"), "gb18030"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "korean"), "cp949"),
    **dict.fromkeys(("iso-8859-9", "latin5"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11"), "cp874"),
    **dict.fromkeys(("utf-16", "utf-16le", "utf-16be", "utf-32"), "utf-8"),
}
_HEAD_BYTES = 4096  # browsers look at the first 1,024; real pages put long scripts first


def declared_encoding(content: bytes) -> str | None:
    """The Python codec for the encoding a page declares in its head, if it is a known one."""
    match = _DECLARED.search(content, 0, _HEAD_BYTES)
    if not match:
        return None
    return encoding_of_label((match.group(1) or match.group(2)).decode("ascii"))


def encoding_of_label(label: str) -> str | None:
    """The Python codec for a charset label ("ISO-8859-1") as a browser reads it, or None for
    a label no browser would use."""
    label = _normal(label)
    label = _LABELS.get(label, label)
    try:
        encoding = codecs.lookup(label).name
    except (LookupError, ValueError):  # ValueError: a label holding a NUL
        return None
    return encoding if _reads_ascii(encoding) else None


def _normal(label: str) -> str:
    return label.strip().strip("\"'").strip().lower()


# UTF-16 as an HTTP header declares it, which browsers follow (a page's own head cannot: it was
# read as ASCII); "utf-16" alone is little-endian (the WHATWG Encoding standard).
_UTF16 = {"utf-16": "utf-16-le", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be"}


def utf16_of_http_label(label: str | None) -> str | None:
    """The UTF-16 codec an HTTP header's charset label names, or None: bytes a page's head
    cannot declare (`encoding_of_label` reads such a label as UTF-8), with no byte order mark
    to tell them by."""
    return _UTF16.get(_normal(label)) if label else None


# Printable ASCII, and the escapes of codecs that give some of it another meaning.
_ASCII_PROBE = bytes(range(0x20, 0x7F)) + b"\t\n\r\\x41\\u0041+AGEA-~{~}"


@functools.cache
def _reads_ascii(encoding: str) -> bool:
    """Whether a codec reads ASCII as ASCII, as every encoding a browser takes from a page's
    head does: the head was just read as ASCII. Python knows others by name (UTF-16 and -32,
    EBCDIC, UTF-7, base64 and other bytes-to-bytes codecs, which cannot decode a page at all);
    a page declaring one of those is read as if it declared none."""
    try:
        with warnings.catch_warnings():  # unicode_escape warns of the escapes it does not know
            warnings.simplefilter("ignore")
            return _ASCII_PROBE.decode(encoding, errors="replace") == _ASCII_PROBE.decode("ascii")
    except (LookupError, UnicodeError, ValueError):
        return False


def decode_page(content: bytes, charset: str | None = None) -> str:
    """An HTML page's text: by its byte order mark, else `charset` (the one its HTTP headers
    declare, if any and known), else the charset its head declares, else as `decode_text`.
    Bytes invalid in the chosen encoding become U+FFFD, as in a browser."""
    if _bom(content) is None:  # a byte order mark wins: `decode_text` reads by it
        declared = (charset and encoding_of_label(charset)) or declared_encoding(content)
        if declared and declared != "utf-8":
            return content.decode(declared, errors="replace")
    return decode_text(content)


def decode_text(content: bytes) -> str:
    """Text of unknown encoding: UTF-8 when it is, or mostly is (a few broken bytes become
    U+FFFD rather than the whole text mojibake); else the encoding detection guesses."""
    bom = _bom(content)
    if bom:
        return content[len(bom[0]) :].decode(bom[1], errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = content.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    multibyte = sum(1 for ch in text if ord(ch) > 127) - broken
    if multibyte >= broken:  # more valid UTF-8 sequences than invalid ones
        return text
    for guess in detect_encoding(content):
        try:
            return content.decode(guess)
        except (LookupError, UnicodeDecodeError):
            continue
    return content.decode("cp1252", errors="replace")
