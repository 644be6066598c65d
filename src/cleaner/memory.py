"""Handing freed memory back to the system between the steps of a run.

The run's process lives through every whole-corpus step of a million records, and what a step
frees is not always given back: Arrow's allocator keeps its buffers for reuse, and glibc keeps
what the threads of LSH and of the estimates freed in their own arenas (+170 MB resident after
LSH on a million records, all of it free). A step that allocated that much calls `give_back`.
"""

from __future__ import annotations

import ctypes
import sys
from contextlib import suppress

import pyarrow as pa


def give_back() -> None:
    """Return the memory the allocators hold free to the system (a few ms)."""
    pa.default_memory_pool().release_unused()
    if sys.platform == "linux":
        with suppress(OSError, AttributeError):  # not glibc: nothing to trim
            ctypes.CDLL(None).malloc_trim(0)
