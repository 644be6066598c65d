"""The dedup benchmark's own method runs end to end on a small corpus: every step it reports
is timed, the result is written, and the planted pairs are found."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dedup.py"


def test_the_cleaner_method_reports_every_step_and_finds_the_planted_pairs():
    done = subprocess.run(
        [sys.executable, str(BENCH), "--child", "cleaner", "5000"], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    steps = ("sketch", "shingling", "signatures", "lsh", "verification", "clustering", "writing")
    assert all(result["seconds"][step] > 0 for step in steps), result["seconds"]
    assert result["recall"] >= 0.99 and result["precision"] == 1.0
    assert result["found"] > 900  # a fifth of 5,000 passages are planted copies
