"""Hand-written vs library decompression in `cleaner.io` (issue 17): is the library as good?

Two pairs, each timed best of `--repeat` in this process, on one core, beside the memory that
a decompression bomb makes it hold (tracemalloc's peak, with a 1 MB record limit):

- Content-Encoding of a WARC response: ours (`warc._payload`: `_decoding`, `_Inflating`,
  `open_zstd`, a bounded inflate) against warcio's `ArcWarcRecord.content_stream()` (with
  zstd and x-gzip registered into its decompressors, as a swap would). Timed on a `.warc` of
  `--pages` gzip-encoded HTML responses: the payloads alone (warcio's record iterator,
  then each variant's payload), and `read_files` on the whole archive (hashing, parsing,
  charset decoding included) with `warc._payload` replaced.
- A zstd stream: ours (`compression.open_zstd`: zstandard's `stream_reader` plus a walk of
  the frame headers to tell a stream cut inside a frame) against zstandard's own frame end
  (`decompressobj().eof`, one frame per object, `unused_data` handed to the next), fed
  `piece` bytes at a time since `decompress` has no output bound; and, for reference only,
  the bare `stream_reader(read_across_frames=True)`, which cannot tell a cut stream from a
  whole one. Timed reading a multi-frame JSONL (`--mb` MB in frames of 1 MiB, as concatenated
  files or a multi-threaded zstd make) to its end, 64 KiB at a time.

    python benchmarks/bench_io_swaps.py
    python benchmarks/bench_io_swaps.py --pages 3000 --mb 200 --repeat 5
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import tempfile
import time
import tracemalloc
from collections import Counter
from functools import partial
from pathlib import Path

import zstandard
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cleaner.config import ReadConfig
from cleaner.document import Reject
from cleaner.io import compression, warc
from cleaner.io.readers import discover, read_files

LIMIT = 1_000_000
WORDS = (
    "ferry harbour council budget school bridge island storm engine contract teacher parent road "
    "lorry village crossing winter summer market fisher plant worker nurse doctor hospital library"
).split()


# -- the library variants -----------------------------------------------------------------------

BufferedReader.DECOMPRESSORS.setdefault("zstd", lambda: zstandard.ZstdDecompressor().decompressobj())
BufferedReader.DECOMPRESSORS.setdefault("x-gzip", BufferedReader.DECOMPRESSORS["gzip"])


def payload_warcio(record, where: str, limit: int) -> bytes | Reject:
    """`warc._payload` with warcio's `content_stream()` doing de-chunking and decoding."""
    encoding = (record.http_headers.get_header("content-encoding") or "identity").strip().lower()
    if encoding not in ("gzip", "x-gzip", "deflate", "zstd", "identity", "none", ""):
        return Reject(where, "unsupported_encoding", encoding)
    try:
        content = warc._read_up_to(record.content_stream(), limit + 1)
    except compression.COMPRESSION_ERRORS as exc:
        if isinstance(exc, EOFError) and record.raw_stream.limit > 0:
            return b""
        return Reject(where, "corrupt_compressed", str(exc))
    if len(content) > limit:
        return compression.too_large(where, "over", limit)
    return content


class LibZstd(io.RawIOBase):
    """A zstd stream read with zstandard's own frame end: one `decompressobj` per frame, its
    `eof` telling a whole frame from a cut one, its `unused_data` the next frame's start."""

    def __init__(self, stream, piece: int) -> None:
        self._stream = stream
        self._piece = piece
        self._dctx = zstandard.ZstdDecompressor()
        self._obj = None
        self._pending = b""
        self._out = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._out:
            if not self._pending:
                self._pending = self._stream.read(self._piece)
                if not self._pending:
                    if self._obj is not None:
                        raise EOFError("the zstd data ends inside a frame")
                    return 0
            if self._obj is None:
                self._obj = self._dctx.decompressobj()
            data, self._pending = self._pending[: self._piece], self._pending[self._piece :]
            self._out = memoryview(self._obj.decompress(data))
            if self._obj.eof:
                self._pending = self._obj.unused_data + self._pending
                self._obj = None
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


ZSTD_VARIANTS = {
    "ours: open_zstd (stream_reader + frame walk)": compression.open_zstd,
    "zstandard decompressobj().eof, 64 KiB pieces": lambda s: io.BufferedReader(LibZstd(s, 1 << 16), 1 << 16),
    "zstandard decompressobj().eof, 1 KiB pieces": lambda s: io.BufferedReader(LibZstd(s, 1 << 10), 1 << 16),
    "zstandard decompressobj().eof, 64 B pieces": lambda s: io.BufferedReader(LibZstd(s, 64), 1 << 16),
    "reference: bare stream_reader (no cut detection)": lambda s: zstandard.ZstdDecompressor().stream_reader(
        s, read_size=1 << 16, read_across_frames=True, closefd=False
    ),
}
WARC_VARIANTS = {"ours: warc._payload": warc._payload, "warcio content_stream()": payload_warcio}


# -- inputs -------------------------------------------------------------------------------------


def _page(rng: random.Random, number: int) -> bytes:
    paragraphs = "".join(
        f"<p>{' '.join(rng.choice(WORDS) for _ in range(rng.randint(40, 120)))}.</p>\n" for _ in range(30)
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Story {number}</title></head>"
        f"<body><nav>Home | News | Sport</nav><article><h1>Story {number}</h1>{paragraphs}</article>"
        "</body></html>"
    ).encode()


def _http(encoding: str) -> StatusAndHeaders:
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", encoding)]
    return StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")


def write_warc(path: Path, pages: int) -> int:
    rng = random.Random(1)
    decoded = 0
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        for n in range(pages):
            page = _page(rng, n)
            decoded += len(page)
            payload = io.BytesIO(gzip.compress(page, compresslevel=6))
            url = f"https://news.example/story/{n}"
            writer.write_record(
                writer.create_warc_record(url, "response", payload, http_headers=_http("gzip"))
            )
    return decoded


def write_bomb_warc(path: Path) -> None:
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        bomb = gzip.compress(b"<html><body>" + b" " * 60_000_000 + b"</body></html>")
        record = writer.create_warc_record(
            "https://news.example/bomb", "response", io.BytesIO(bomb), http_headers=_http("gzip")
        )
        writer.write_record(record)


def write_jsonl_zst(path: Path, megabytes: int) -> int:
    cctx = zstandard.ZstdCompressor(level=3, write_checksum=True)
    frame, size, number = [], 0, 0
    with open(path, "wb") as fh:
        while size < megabytes * 1_000_000:
            text = f"Record {number}: {hashlib.sha256(number.to_bytes(8)).hexdigest()} " * 4
            line = (json.dumps({"id": f"r{number}", "text": text}) + "\n").encode()
            frame.append(line)
            size += len(line)
            number += 1
            if sum(map(len, frame)) >= 1 << 20:
                fh.write(cctx.compress(b"".join(frame)))
                frame = []
        if frame:
            fh.write(cctx.compress(b"".join(frame)))
    return size


def write_bomb_zst(path: Path) -> None:
    with open(path, "wb") as fh, zstandard.ZstdCompressor().stream_writer(fh) as writer:
        for _ in range(100):
            writer.write(b" " * 1_000_000)


# -- timings ------------------------------------------------------------------------------------


def best(repeat: int, calls: dict) -> dict:
    """The fastest of `repeat` rounds of each call, the calls taking turns within a round (so
    that a burst of load on the machine falls on all of them alike)."""
    times: dict = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


def peak(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def warc_payloads(path: Path, payload) -> int:
    total = 0
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                content = payload(record, "x", LIMIT)
                total += len(content) if isinstance(content, bytes) else 0
    return total


def warc_read_files(path: Path, payload) -> int:
    saved, warc._payload = warc._payload, payload
    try:
        files, _ = discover([path])
        docs, rejects, _ = read_files(enumerate(files), ReadConfig(max_record_bytes=LIMIT), Counter())
        return len(docs)
    finally:
        warc._payload = saved


def zstd_read(path: Path, opener, limit: int | None = None) -> int:
    total = 0
    with open(path, "rb") as fh:
        stream = opener(io.BufferedReader(fh, 1 << 16))
        while (limit is None or total <= limit) and (chunk := stream.read(1 << 16)):
            total += len(chunk)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--mb", type=int, default=200, help="decompressed size of the zstd JSONL")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        crawl, bomb_warc, feed, bomb_zst = (
            root / n for n in ("crawl.warc", "bomb.warc", "feed.jsonl.zst", "bomb.txt.zst")
        )
        decoded = write_warc(crawl, args.pages)
        write_bomb_warc(bomb_warc)
        size = write_jsonl_zst(feed, args.mb)
        write_bomb_zst(bomb_zst)
        print(f"load average before: {os.getloadavg()}")
        print(
            f"\nWARC: {args.pages:,} gzip-encoded HTML responses, {crawl.stat().st_size / 1e6:.1f} MB on disk, "
            f"{decoded / 1e6:.1f} MB decoded; best of {args.repeat}\n"
        )
        print("| Content-Encoding | payloads s | read_files s | bomb peak MB (limit 1 MB) |")
        print("|---|---|---|---|")
        for name, payload in WARC_VARIANTS.items():
            assert warc_payloads(crawl, payload) == decoded, name
        payloads = best(args.repeat, {n: partial(warc_payloads, crawl, p) for n, p in WARC_VARIANTS.items()})
        whole = best(args.repeat, {n: partial(warc_read_files, crawl, p) for n, p in WARC_VARIANTS.items()})
        for name, payload in WARC_VARIANTS.items():
            bomb = peak(partial(warc_payloads, bomb_warc, payload))
            print(f"| {name} | {payloads[name]:.3f} | {whole[name]:.3f} | {bomb / 1e6:.1f} |")
        print(
            f"\nzstd: a JSONL of {size / 1e6:.0f} MB in {size // (1 << 20) + 1} frames, "
            f"{feed.stat().st_size / 1e6:.1f} MB compressed, read to its end; best of {args.repeat}\n"
        )
        print("| zstd reader | s | MB/s | bomb peak MB (read to 1 MB) |")
        print("|---|---|---|---|")
        for name, opener in ZSTD_VARIANTS.items():
            assert zstd_read(feed, opener) == size, name
        seconds = best(args.repeat, {n: partial(zstd_read, feed, o) for n, o in ZSTD_VARIANTS.items()})
        for name, opener in ZSTD_VARIANTS.items():
            bomb = peak(partial(zstd_read, bomb_zst, opener, LIMIT))
            print(f"| {name} | {seconds[name]:.3f} | {size / 1e6 / seconds[name]:,.0f} | {bomb / 1e6:.1f} |")
        print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
