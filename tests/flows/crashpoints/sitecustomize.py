"""Fault injection for tests/flows/test_crash.py: kill a whole `cleaner run` at a chosen call.

Python imports `sitecustomize` at start-up from the first folder of `sys.path` that holds
one, so a process started with this folder on PYTHONPATH runs this file: the `cleaner`
process, the process-pool workers it spawns (they inherit its environment) and its Prefect
server. It does nothing unless CLEANER_CRASH_AT is set:

    CLEANER_CRASH_AT      "module:function", e.g. "cleaner.clean.extract:extract_document" or
                          "cleaner.corpus.writers:CorpusWriter.add"
    CLEANER_CRASH_CALL    die on this call of it in one process (default 1)
    CLEANER_CRASH_WHEN    "before" the call runs or "after" it returns (default "after")
    CLEANER_CRASH_WITHIN  optional "module:function": count only calls made while that
                          function is running (e.g. fsyncs inside `writers._apply_journal`)
    CLEANER_CRASH_MARKER  a file to write, before dying, saying which call fired

The function is wrapped when its module is first imported (an import hook), so processes
that never import it, like the Prefect server, are not slowed down. Dying is
`os.killpg(os.getpgrp(), SIGKILL)`: the run is started in a session of its own, so this
kills the flow process, every worker and the server at once, with no clean-up anywhere,
as a power cut or the OOM killer would.

A sitecustomize further down `sys.path` (a distribution's own) would be shadowed by this
one, so it is loaded too.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import os
import signal
import sys


def _chain_shadowed() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in sys.path:
        if not folder or os.path.abspath(folder) == here:
            continue
        path = os.path.join(folder, "sitecustomize.py")
        if os.path.isfile(path):
            spec = importlib.util.spec_from_file_location("_shadowed_sitecustomize", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return


def _die(what: str, call: int) -> None:
    marker = os.environ.get("CLEANER_CRASH_MARKER")
    if marker:
        with open(marker, "a", encoding="utf-8") as fh:
            fh.write(f"{what} call {call} in pid {os.getpid()}\n")
            fh.flush()
            os.fsync(fh.fileno())
    os.killpg(os.getpgrp(), signal.SIGKILL)


def _split(spec: str) -> tuple[str, list[str]]:
    module, _, attr = spec.partition(":")
    return module, attr.split(".")


def _wrap(module, attrs: list[str], make):
    owner = module
    for name in attrs[:-1]:
        owner = getattr(owner, name)
    original = getattr(owner, attrs[-1])
    setattr(owner, attrs[-1], functools.wraps(original)(make(original)))


class _Patcher(importlib.abc.MetaPathFinder):
    """Wraps functions of a module as soon as the module has been executed."""

    def __init__(self) -> None:
        self.patches: dict[str, list] = {}

    def add(self, spec: str, make) -> None:
        module, attrs = _split(spec)
        if module in sys.modules:
            _wrap(sys.modules[module], attrs, make)
        else:
            self.patches.setdefault(module, []).append((attrs, make))

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.patches:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader, patches = spec.loader, self.patches.pop(fullname)
        exec_module = loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            for attrs, make in patches:
                _wrap(module, attrs, make)

        loader.exec_module = exec_and_patch
        return spec


def _install(target: str) -> None:
    call_at = int(os.environ.get("CLEANER_CRASH_CALL", "1"))
    when = os.environ.get("CLEANER_CRASH_WHEN", "after")
    within = os.environ.get("CLEANER_CRASH_WITHIN")
    if when not in ("before", "after"):
        raise ValueError(f"CLEANER_CRASH_WHEN must be before or after, not {when!r}")
    state = {"calls": 0, "depth": 0 if within else 1}
    patcher = _Patcher()

    def counting(original):
        def wrapper(*args, **kwargs):
            if not state["depth"]:
                return original(*args, **kwargs)
            state["calls"] += 1
            if state["calls"] == call_at and when == "before":
                _die(target, call_at)
            result = original(*args, **kwargs)
            if state["calls"] == call_at:
                _die(target, call_at)
            return result

        return wrapper

    def scoping(original):
        def wrapper(*args, **kwargs):
            state["depth"] += 1
            try:
                return original(*args, **kwargs)
            finally:
                state["depth"] -= 1

        return wrapper

    if within:
        patcher.add(within, scoping)
    patcher.add(target, counting)
    sys.meta_path.insert(0, patcher)


_chain_shadowed()
if os.environ.get("CLEANER_CRASH_AT"):
    _install(os.environ["CLEANER_CRASH_AT"])
