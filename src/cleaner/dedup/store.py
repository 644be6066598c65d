"""Where a run's MinHash signatures wait: on disk, read a block of columns or a set of rows at a time.

The signatures are the largest thing a run knows of its passages: `num_perm` uint32 values,
512 bytes a passage, 512 MB for a million. Joined into one array in the run's process they
were its peak (1.2 GB after the join, of which the signatures were 512 MB), while no stage
needs them all at once: LSH reads a band (`rows` columns) at a time, the estimates of the
candidate pairs a block of columns at a time, the index writer a few thousand rows at a time.

So each part's signatures stay in the spool as the worker that signed them wrote them
(`save`), column-major: a band of a part is one contiguous read. A `SignatureStore` is the
list of those files (and of arrays held in memory: an earlier run's signatures, or a sketch
made in one process), read with plain reads rather than memory maps, so that what a read
brings in is let go when its caller drops it instead of staying in the process's resident
set. It pickles as file names, which is how an LSH task on a worker gets it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cleaner.errors import OutputError

_DTYPE = np.dtype(np.uint32)


class StoreError(OutputError):
    """A signature file of the run's own spool is missing or is not what the run wrote."""


class _File(NamedTuple):
    """A column-major (rows, width) uint32 array in a .npy file, its data from `offset`."""

    path: str
    offset: int
    rows: int


class SignatureStore:
    """Signatures of passages, row i of the store being passage i's, held in pieces that are
    arrays in memory or column-major .npy files (`save`); `width` values a row."""

    def __init__(self, pieces: Sequence[np.ndarray | _File], width: int) -> None:
        self.pieces = list(pieces)
        self.width = width
        sizes = [p.rows if isinstance(p, _File) else len(p) for p in self.pieces]
        self.starts = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))

    @classmethod
    def of(cls, values: np.ndarray | SignatureStore) -> SignatureStore:
        """`values` as a store: a (rows, width) array is one piece held in memory."""
        if isinstance(values, SignatureStore):
            return values
        return cls([values] if len(values) else [], values.shape[1])

    @classmethod
    def files(cls, paths: Iterable[str | Path], width: int) -> SignatureStore:
        """The signatures `save` wrote to `paths`, in that order. Each file's header is read
        now: a missing or foreign file is a `StoreError` here, not at the first read."""
        return cls([_open(str(path), width) for path in paths], width)

    @staticmethod
    def save(path: str | Path, values: np.ndarray) -> None:
        """Write a (rows, width) array where `files` reads it: column-major .npy."""
        np.save(path, np.asfortranarray(values, dtype=_DTYPE))

    def __len__(self) -> int:
        return int(self.starts[-1])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), self.width

    def then(self, other: SignatureStore) -> SignatureStore:
        """This store's rows, then `other`'s."""
        return SignatureStore(self.pieces + other.pieces, self.width)

    def columns(self, start: int, stop: int) -> np.ndarray:
        """Columns start..stop-1 of every row, as a (rows, stop - start) array."""
        if len(self.pieces) == 1:
            return _read(self.pieces[0], start, stop)
        out = np.empty((len(self), stop - start), dtype=_DTYPE)
        for piece, first, last in zip(self.pieces, self.starts[:-1], self.starts[1:], strict=True):
            out[first:last] = _read(piece, start, stop)
        return out

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Rows `rows` (any order, repeats allowed), as a (len(rows), width) array; each
        piece they are in is read once."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.width), dtype=_DTYPE)
        if not len(rows):
            return out
        if rows.min() < 0 or rows.max() >= len(self):
            raise IndexError(f"rows outside 0..{len(self) - 1} of the signature store")
        where = np.searchsorted(self.starts, rows, side="right") - 1
        order = np.argsort(where, kind="stable")
        cuts = np.flatnonzero(np.diff(where[order])) + 1
        for chosen in np.split(order, cuts):
            piece = int(where[chosen[0]])
            out[chosen] = _read(self.pieces[piece], 0, self.width)[rows[chosen] - self.starts[piece]]
        return out

    def on_disk(self, folder: Path) -> SignatureStore:
        """This store with its pieces held in memory written to files in `folder`, so that it
        pickles as file names (a task per LSH band group would carry a copy of each)."""
        pieces: list[np.ndarray | _File] = []
        for i, piece in enumerate(self.pieces):
            if isinstance(piece, _File):
                pieces.append(piece)
                continue
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"signatures-{i}.npy"
            self.save(path, piece)
            pieces.append(_open(str(path), self.width))
        return SignatureStore(pieces, self.width)


def _open(path: str, width: int) -> _File:
    try:
        with open(path, "rb") as fh:
            fmt = np.lib.format
            header = fmt.read_array_header_1_0 if fmt.read_magic(fh) == (1, 0) else fmt.read_array_header_2_0
            shape, fortran, dtype = header(fh)
            offset = fh.tell()
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a signature file"
        raise StoreError(f"the run's signature file {path} cannot be read ({reason}): run again") from None
    if dtype != _DTYPE or len(shape) != 2 or shape[1] != width or not (fortran or shape[0] <= 1):
        raise StoreError(
            f"the run's signature file {path} holds {dtype} {shape}, not the run's column-major "
            f"uint32 (rows, {width}): run again"
        )
    return _File(path, offset, shape[0])


def _read(piece: np.ndarray | _File, start: int, stop: int) -> np.ndarray:
    """Columns start..stop-1 of a piece, as a (rows, stop - start) array."""
    if not isinstance(piece, _File):
        return piece[:, start:stop]
    count = piece.rows * (stop - start)
    try:
        flat = np.fromfile(
            piece.path, dtype=_DTYPE, count=count, offset=piece.offset + start * piece.rows * _DTYPE.itemsize
        )
    except OSError as exc:
        raise StoreError(
            f"the run's signature file {piece.path} cannot be read ({exc.strerror}): run again"
        ) from None
    if len(flat) != count:
        raise StoreError(f"the run's signature file {piece.path} is cut short: run again")
    return flat.reshape((piece.rows, stop - start), order="F")
