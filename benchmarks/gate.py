"""Pinned figures for a quality gate: floors (or ceilings) kept in a JSON baseline.

A gate evaluates a fixed slice of a labelled set and fails when a figure falls below its
floor, or rises above its ceiling for figures where lower is better. Raising a floor is a
normal commit; lowering one is refused unless a reason is given, and the reason is recorded
in the baseline with the old and new values. `benchmarks.quality` (synthetic pages) and
`benchmarks.realpages` (real labelled pages) keep one baseline each.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime


def figure(metrics: dict, path: str):
    """The value at a dotted path ("passages.all.recall"), or None."""
    value = metrics
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check(metrics: dict, baseline: dict, lower_is_better: Collection[str] = ()) -> list[str]:
    """What falls below its floor or above its ceiling, one line each."""
    failures = []
    for path, bound in baseline["pins"].items():
        value = figure(metrics, path)
        worse = value is None or (value > bound if path in lower_is_better else value < bound)
        if worse:
            side = "ceiling" if path in lower_is_better else "floor"
            failures.append(f"{path} = {value}, {side} {bound}")
    return failures


def update_baseline(
    old: dict,
    metrics: dict,
    slice_: dict,
    allow_lower: str | None,
    pinned: Iterable[str],
    lower_is_better: Collection[str] = (),
) -> dict:
    """New pins from `metrics`; refuses (SystemExit) to loosen any pin without a reason."""
    if old.get("slice", slice_) != slice_:
        old = {"pins": {}, "lowered": old.get("lowered", [])}  # a new slice: new pins
    pins, lowered = {}, list(old.get("lowered", []))
    for path in pinned:
        value = figure(metrics, path)
        before = old["pins"].get(path)
        worse = before is not None and (value > before if path in lower_is_better else value < before)
        if worse:
            if not allow_lower:
                raise SystemExit(
                    f"refusing to loosen {path}: {before} -> {value}. Fix the regression, or pass "
                    '--allow-lower "reason" and say why in the commit.'
                )
            lowered.append(
                {
                    "metric": path,
                    "from": before,
                    "to": value,
                    "reason": allow_lower,
                    "date": f"{datetime.now(UTC):%Y-%m-%d}",
                }
            )
        pins[path] = value
    return {"slice": slice_, "pins": pins, "lowered": lowered}
