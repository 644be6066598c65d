"""Compressed input: gzip and zstd streams decompressed as they are read, and the rejects
of a file whose compressed data is cut off, damaged, or would decompress past the limit of a
record. Every reader (`readers`, `warc`, `parquet`) shares them.
"""

from __future__ import annotations

import gzip
import io
import zlib
from typing import BinaryIO

import zstandard

from cleaner.document import Reject

# "page.html.gz", "feed.jsonl.zst": compressed, read as it is decompressed ("crawl.warc.gz" too;
# a Parquet file compresses its own pages)
COMPRESSED = {".gz": "gzip", ".zst": "zstd"}
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_SKIPPABLE = b"\x2a\x4d\x18"  # a skippable frame's magic number after its first byte, 0x50 to 0x5F
COMPRESSION_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, zstandard.ZstdError)


def too_large(source: str, what: str, limit: int) -> Reject:
    return Reject(
        source,
        "too_large",
        f"{what}, over the limit of {mb(limit)} per record (read.max_record_bytes); "
        "not read, so that one record cannot exhaust memory or time",
    )


def bad_compression(source: str, exc: Exception, kept: str) -> Reject:
    if isinstance(exc, EOFError):
        return Reject(source, "truncated", f"the compressed file ends early (cut off while copying?){kept}")
    return Reject(source, "corrupt_compressed", f"the compressed data is damaged: {exc}{kept}")


def mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


_CHUNK = 1 << 16  # bytes read from a stream at a time


def open_zstd(stream: BinaryIO) -> BinaryIO:
    """A zstd stream, decompressed as it is read, a buffer at a time whatever its ratio.

    Like `gzip.GzipFile`, it raises EOFError at the end of data cut off inside a frame, and
    `zstandard.ZstdError` on damaged data, so both become the rejects a gzip file's do.
    Concatenated frames are read as one stream. A stream that starts with a dictionary
    (`_dictionary`) is decompressed with it."""
    return io.BufferedReader(_ZstdReader(stream), buffer_size=_CHUNK)


# The skippable frame a WARC's zstd dictionary comes in, first in the file (IIPC's "WARC
# zstd" specification, which Archive Team's wget-at writes): without it, every frame is
# "Dictionary mismatch", a file taken for damaged.
_DICTIONARY_FRAME = b"\x5d\x2a\x4d\x18"
_DICTIONARY_LIMIT = 64_000_000  # zstd's dictionaries are of kilobytes, rarely a megabyte


def _dictionary(stream: BinaryIO) -> zstandard.ZstdCompressionDict | None:
    """The dictionary in a skippable frame at the start of `stream` (read past it), which
    may itself be zstd-compressed; None when there is none."""
    peek = getattr(stream, "peek", None)
    if peek is None or peek(8)[:4] != _DICTIONARY_FRAME:
        return None
    size = int.from_bytes(stream.read(8)[4:], "little")
    if size > _DICTIONARY_LIMIT:
        raise zstandard.ZstdError(
            f"the zstd dictionary at the start holds {mb(size)}, past {mb(_DICTIONARY_LIMIT)}"
        )
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the zstd data ends inside its dictionary")
    if data.startswith(ZSTD_MAGIC):
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True) as reader:
            data = reader.read(_DICTIONARY_LIMIT + 1)
        if len(data) > _DICTIONARY_LIMIT:
            raise zstandard.ZstdError(
                f"the zstd dictionary at the start decompresses past {mb(_DICTIONARY_LIMIT)}"
            )
    return zstandard.ZstdCompressionDict(data)


class _ZstdReader(io.RawIOBase):
    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._frames = _ZstdFrames(stream)
        self._reader = None  # made at the first read, where a damaged dictionary is a reject

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._reader is None:
            decompressor = zstandard.ZstdDecompressor(dict_data=_dictionary(self._stream))
            self._reader = decompressor.stream_reader(
                self._frames, read_size=_CHUNK, read_across_frames=True, closefd=False
            )
        n = self._reader.readinto(buffer)
        if n == 0 and len(buffer):
            if self._frames.trailing:
                raise zstandard.ZstdError(
                    f"{self._frames.trailing} bytes after the last zstd frame are not zstd data"
                )
            if not self._frames.complete:
                raise EOFError("the zstd data ends inside a frame")
        return n


class _ZstdFrames:
    """The compressed bytes on their way to the decompressor, with their frame structure
    followed (RFC 8878: frame header, blocks, checksum) to tell a stream that ends after a
    frame from one cut off inside it: zstandard's stream reader ends quietly on both. Its
    `decompressobj().eof` tells them apart, but has no output bound: a bomb's frame comes out
    whole (docs/benchmarks.md, 2026-12-06)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._state = "magic"  # what is expected next: magic, frame (descriptor), block, skip-size
        self._head = b""  # the part of that header read so far, held back until it is whole
        self._skip = 0  # bytes of block content (or a skippable frame) still to pass
        self._checksum = False
        self._known = True  # False once the bytes are not zstd: the decompressor says so
        self._frames = 0  # frames begun
        # Bytes after the last frame that are no frame: held back from the decompressor, which
        # would raise on them and lose the text it had decompressed in the same read. Zeros
        # (a copy padded to a block) are not counted, as gzip ignores them.
        self.trailing: int | None = None

    @property
    def complete(self) -> bool:
        return not self._known or (self._state == "magic" and not self._head and not self._skip)

    def read(self, size: int = -1) -> bytes:
        if self.trailing is not None:
            return b""
        data = self._stream.read(size)
        if not self._known:
            return data
        if not data and self._state == "magic" and self._head and self._frames and not self._begins_frame():
            self.trailing, self._head = self._nonzero(self._head), b""  # 1 to 3 bytes after the last
            return b""
        out = bytearray()
        view = memoryview(data)
        while self._known and len(view):
            if self._skip:
                step = min(self._skip, len(view))
                self._skip -= step
                out += view[:step]
                view = view[step:]
                continue
            need = self._NEED[self._state] - len(self._head)
            self._head += bytes(view[:need])
            view = view[need:]
            if len(self._head) == self._NEED[self._state]:
                if self._state == "magic" and self._frames and not self._is_frame(self._head):
                    self.trailing = self._nonzero(self._head + bytes(view))
                    self._head = b""
                    return bytes(out)
                out += self._head
                self._advance()
        out += view  # after the bytes turned out not to be zstd: the decompressor says so
        return bytes(out)

    def _begins_frame(self) -> bool:
        """Whether the bytes of a magic number read so far may begin a frame's (a file cut
        there is cut off, not followed by junk)."""
        head = self._head
        return ZSTD_MAGIC.startswith(head) or (head[0] & 0xF0 == 0x50 and _SKIPPABLE.startswith(head[1:]))

    @staticmethod
    def _is_frame(head: bytes) -> bool:
        return head == ZSTD_MAGIC or (head[0] & 0xF0 == 0x50 and head[1:] == _SKIPPABLE)

    def _nonzero(self, first: bytes) -> int:
        """The bytes from `first` to the end of the stream, counted; 0 if all are zeros."""
        total, nonzero = len(first), bool(first.strip(b"\0"))
        while chunk := self._stream.read(_CHUNK):
            total += len(chunk)
            nonzero = nonzero or bool(chunk.strip(b"\0"))
        return total if nonzero else 0

    _NEED = {"magic": 4, "frame": 1, "block": 3, "skip-size": 4}

    def _advance(self) -> None:
        head, self._head = self._head, b""
        if self._state == "magic":
            if head == ZSTD_MAGIC:
                self._state = "frame"
                self._frames += 1
            elif self._is_frame(head):  # not zstd's: a skippable frame
                self._state = "skip-size"
            else:
                self._known = False
        elif self._state == "skip-size":
            self._skip = int.from_bytes(head, "little")
            self._state = "magic"
        elif self._state == "frame":  # the descriptor: what the rest of the header holds
            descriptor = head[0]
            single_segment = descriptor >> 5 & 1
            window, dictionary = 1 - single_segment, (0, 1, 2, 4)[descriptor & 3]
            self._skip = window + dictionary + (single_segment, 2, 4, 8)[descriptor >> 6]
            self._checksum = bool(descriptor >> 2 & 1)
            self._state = "block"
        else:  # a block header: last-block flag, type, size
            value = int.from_bytes(head, "little")
            self._skip = 1 if (value >> 1) & 3 == 1 else value >> 3  # an RLE block holds a byte
            if value & 1:
                self._skip += 4 * self._checksum
                self._state = "magic"
