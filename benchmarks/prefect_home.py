"""A Prefect home made ready before a benchmark times `cleaner run` in it.

The first run on a fresh PREFECT_HOME creates and migrates the temporary server's database:
one record then takes ~12 s here against ~6 s for every later run. A user pays that once per
home, not every day, so the benchmarks run one record first, untimed in their rows, and print
what it took.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path


def migrate(cleaner: list[str], env: dict[str, str]) -> float:
    """Run `cleaner run` on one record in `env` (its PREFECT_HOME); the seconds it took."""
    with tempfile.TemporaryDirectory(prefix="bench-prefect-home-") as tmp:
        record = Path(tmp) / "one.jsonl"
        record.write_text('{"text": "One record, so that the next runs find the database ready."}\n')
        started = time.perf_counter()
        subprocess.run([*cleaner, "run", str(record), "--out", str(Path(tmp) / "out")], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        return time.perf_counter() - started


def say(seconds: float) -> str:
    return (
        f"a fresh Prefect home's first run (one record, migrating its database; once per home, "
        f"not in the rows): {seconds:.1f} s"
    )
