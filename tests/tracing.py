"""Measuring what a call allocates, for the tests that bound memory."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def peak_bytes(call: Callable[[], T]) -> tuple[T, int]:
    """Run `call` under tracemalloc; returns its result and the most memory Python held for
    it at once (allocations made through Python's allocators: bytes, str, lists...)."""
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak
