"""What `cleaner run` checks of its output folder before it starts anything: that the run
can be written there at all. Each finding is one line that says what is wrong and the way out,
and costs the user nothing but reading it (before, the same errors came after Prefect's start,
from inside the flow, with a traceback).

The same conditions are checked again, for good, when the run takes the folder
(`writers.open_run`, `index.Index`): this is the early word, not the guard.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from cleaner.config import Config
from cleaner.corpus import check, index, writers
from cleaner.errors import OutputError


def check_output(out: str | Path, config: Config, reprocess: bool = False) -> None:
    """Raise `OutputError` if a run with `config` cannot write to `out` now: a file in the
    way, no permission, another run holding it, a damaged corpus (`check.precheck`, which
    also completes a commit a killed run left), another schema version, other MinHash
    settings, or other settings of the passage codes the rewrite stage keeps. With
    `reprocess` the corpus is to be rebuilt from its inputs, so neither its damage nor its
    MinHash settings stand in the way; files in its folders that no run wrote do, since the
    rebuilt corpus replaces those folders whole."""
    out = Path(out)
    if out.is_symlink() and not out.exists():
        raise OutputError(f"the output folder {out} is a link to {os.readlink(out)}, which does not exist")
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path exists and is not a folder: {out}")
    if not out.exists():
        parent = next((p for p in out.absolute().parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise OutputError(f"cannot create the output folder {out}: {parent} is a file, not a folder")
        if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(f"cannot create the output folder {out}: {parent} is not writable")
        return
    if writers.read_only(out):
        raise OutputError(f"cannot write to output folder {out}: it is on a read-only file system")
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to output folder {out}: permission denied")
    _not_locked(out)
    if reprocess:
        check.refuse_foreign(out)
        return
    check.precheck(out)
    manifest = out / writers.MANIFEST
    if manifest.exists():
        version = writers.read_manifest(manifest).get("schema_version")
        if version != writers.SCHEMA_VERSION:
            raise OutputError(
                f"{out} holds a corpus of schema version {version}, this cleaner writes version "
                f"{writers.SCHEMA_VERSION}: write to a new --out"
            )
    # other MinHash settings are refused here, and other settings of the rewrite stage's codes
    index.Index(out, config.dedup, rewrite=config.rewrite)


def _not_locked(out: Path) -> None:
    lock = out / writers.LOCK
    if not lock.exists():
        return
    try:
        with open(lock, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(handle, fcntl.LOCK_UN)
    except BlockingIOError:
        raise OutputError(f"another cleaner run is writing to {out}; wait for it to finish") from None
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {out}: {exc.strerror}") from None
