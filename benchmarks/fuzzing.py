"""What the fuzzers (`benchmarks/fuzz_readers.py`, `benchmarks/fuzz_clean.py`) share: their
command line, the seed corpus built from our own inputs, and starting atheris (libFuzzer).

Nothing here imports `cleaner`: each fuzzer imports it inside `atheris.instrument_imports()`,
so that the package's code is instrumented for coverage before it is first loaded.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Minimised findings, one folder per fuzzer: kept in the repository, and seeds of every run.
FINDINGS = HERE / "fuzz_corpus"
# The corpus a fuzzer grows, kept between runs on one machine (not in the repository).
WORK = Path(os.environ.get("CLEANER_FUZZ_DIR", Path(tempfile.gettempdir()) / "cleaner-fuzz"))
MAX_SEED_BYTES = 1 << 16


def arguments(
    name: str, doc: str, timeout: int = 10, extra: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"python -m benchmarks.{name}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=int, default=600, help="time budget of the run (default 600)")
    parser.add_argument(
        "--seeds",
        action="store_true",
        help="(re)build the seed corpus from tests/hostile_corpus.py and examples/pages before "
        "fuzzing (benchmarks/fuzz_corpus is always read)",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=timeout,
        help=f"seconds one input may take before it is a hang (default {timeout})",
    )
    parser.add_argument("--max-len", type=int, default=MAX_SEED_BYTES, help="largest input tried, in bytes")
    parser.add_argument(
        "--work", type=Path, default=WORK / name, help=f"corpus and findings (default {WORK}/{name})"
    )
    parser.add_argument(
        "inputs",
        nargs="*",
        type=Path,
        help="run these inputs once each (a finding to reproduce) instead of fuzzing",
    )
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def example_files() -> Iterator[tuple[str, bytes]]:
    """(relative name, bytes) of our own inputs: the hostile corpus without its multi-megabyte
    members, and the sample pages."""
    sys.path.insert(0, str(ROOT))
    from tests.hostile_corpus import build

    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp), large=False)
        yield from _files(Path(tmp), "hostile")
    yield from _files(ROOT / "examples" / "pages", "examples")


def _files(root: Path, prefix: str) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.stat().st_size <= MAX_SEED_BYTES:
            yield f"{prefix}/{path.relative_to(root).as_posix()}", path.read_bytes()


def write_seeds(folder: Path, seeds: Iterator[bytes]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    n = 0
    for n, data in enumerate(seeds, 1):
        (folder / f"seed-{n:04d}").write_bytes(data)
    return n


def fuzz(
    name: str,
    args: argparse.Namespace,
    test_one_input: Callable[[bytes], None],
    seeds: Callable[[], Iterator[bytes]],
    dictionary: list[bytes],
) -> None:
    """Run libFuzzer on `test_one_input` for `args.seconds`, its corpus under `args.work`;
    with `args.inputs`, run just those inputs once each.

    A crash, an invariant break (an AssertionError) or a hang (an input running longer than
    `args.timeout` seconds) stops the run and is saved as a `crash-*` or `timeout-*` file in
    `args.work`; rerun the fuzzer with that file as an input to see its traceback."""
    import atheris

    args.work.mkdir(parents=True, exist_ok=True)
    corpus, seed_dir = args.work / "corpus", args.work / "seeds"
    corpus.mkdir(exist_ok=True)
    if args.seeds or not seed_dir.exists():
        n = write_seeds(seed_dir, seeds())
        print(f"{name}: {n} seeds in {seed_dir}", flush=True)
    dict_file = args.work / "dictionary.txt"
    dict_file.write_text("".join(f'"{_escape(token)}"\n' for token in dictionary), encoding="ascii")
    findings = FINDINGS / name.removeprefix("fuzz_")
    libfuzzer = [sys.argv[0]]
    if args.inputs:
        libfuzzer += [f"-timeout={args.timeout}", *map(str, args.inputs)]
    else:
        libfuzzer += [
            f"-max_total_time={args.seconds}",
            f"-timeout={args.timeout}",
            f"-max_len={args.max_len}",
            f"-dict={dict_file}",
            f"-artifact_prefix={args.work}/",
            "-print_final_stats=1",
            # fuzz_clean's process grows by about 10 KB per execution under atheris's
            # instrumentation (not without it: measured on the same inputs), so 10 minutes of
            # it peak at 0.7 to 1 GB; fuzz_readers stays near 130 MB.
            "-rss_limit_mb=3072",
            str(corpus),
            str(seed_dir),
            *([str(findings)] if findings.is_dir() else []),
        ]
    atheris.Setup(libfuzzer, test_one_input)
    atheris.Fuzz()


def _escape(token: bytes) -> str:
    """A libFuzzer dictionary entry: printable ASCII as is, the rest as \\xNN."""
    return "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\x{b:02x}" for b in token)
