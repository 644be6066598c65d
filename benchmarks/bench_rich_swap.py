"""Hand-written terminal output against `rich` (issue 17): the progress bar, colour, columns.

Three pieces, each timed ours against the nearest rich equivalent, best of `--repeat` runs:

- progress: the import a run pays for it (a fresh interpreter per sample, `import
  cleaner.progress` against `import rich.progress`, the module a rich bar needs), and the
  cost of one `advance` on a terminal: ours redraws the line on every call; rich's `advance`
  only updates the task (a refresh thread redraws 10 times a second), so it is timed both
  alone and with the redraw (`refresh`) ours does.
- colour: the `--doc` listing of a document of `--lines` paragraphs with coloured labels,
  ours (ANSI codes around each label) against rich `Text` with styles printed by a `Console`
  (no wrapping, no highlighting).
- columns: a `--cluster` of `--docs` documents of `--lines` paragraphs each (the duplicates
  with a few words changed) side by side at `--width`, from the aligned rows on: ours
  (`_wrap` and `_print_row`) against a rich `Table` of styled `Text` cells, coloured and plain.

Prints a table of milliseconds (microseconds per `advance`) beside `os.getloadavg()`.

    python benchmarks/bench_rich_swap.py
    python benchmarks/bench_rich_swap.py --docs 5 --lines 200 --width 160 --repeat 5
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import time


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def import_ms(module: str, repeat: int) -> float:
    """Milliseconds to import `module` in a fresh interpreter (after `import cleaner`), best of."""
    code = f"import time, cleaner; s = time.perf_counter(); import {module}; print(time.perf_counter() - s)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return min(runs) * 1e3


def advance_us(calls: int, repeat: int) -> dict[str, float]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    from cleaner.progress import Progress as Ours

    def ours() -> None:
        p = Ours("prepare", calls * 250, calls, lambda _: None, stream=_Terminal())
        for _ in range(calls):
            p.advance(250, 300)

    def theirs(redraw: bool) -> None:
        console = Console(file=_Terminal(), force_terminal=True, width=120)
        columns = (TextColumn("{task.description}"), BarColumn(bar_width=28), TaskProgressColumn())
        with Progress(*columns, TextColumn("{task.fields[counts]}"), console=console) as p:
            task = p.add_task("prepare", total=calls * 250, counts="")
            for i in range(calls):
                p.advance(task, 250)
                p.update(task, counts=f"{i + 1}/{calls} batches · {300 * (i + 1):,} records")
                if redraw:
                    p.refresh()

    return {
        "ours (redraw each call)": _best(ours, repeat) / calls * 1e6,
        "rich (update only, thread redraws)": _best(lambda: theirs(False), repeat) / calls * 1e6,
        "rich (update and refresh)": _best(lambda: theirs(True), repeat) / calls * 1e6,
    }


def _words(rng: random.Random, n: int) -> list[str]:
    vocab = "the a market harbour council flights ferry island said would route crowns winter".split()
    return [rng.choice(vocab) + ("," if rng.random() < 0.05 else "") for _ in range(n)]


def _cluster(docs: int, lines: int, seed: int = 1):
    """Aligned rows as `_aligned_rows` returns them: one kept paragraph per row, each duplicate's
    copy of it with a few words changed, diffed word by word."""
    from cleaner.explain import word_diff

    rng = random.Random(seed)
    rows = []
    for _ in range(lines):
        base = _words(rng, rng.randint(30, 70))
        cells = [[(w, None) for w in base]]
        for _ in range(docs - 1):
            copy = list(base)
            for _ in range(3):
                copy[rng.randrange(len(copy))] = rng.choice(["colleges", "sole", "bigger", "pulled"])
            cells.append(word_diff(base, copy))
        rows.append(cells)
    return rows


def columns_ms(docs: int, lines: int, width: int, repeat: int) -> tuple[dict[str, float], str, str]:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from cleaner.explain import _painter, _print_row, _wrap

    rows = _cluster(docs, lines)
    col = max(20, (width - 3 * (docs - 1)) // docs)
    styles = {"del": "strike red", "ins": "bold green", "head": "bold", None: ""}

    def ours(colour: bool) -> str:
        out = io.StringIO()
        paint = _painter(colour)
        write = lambda line="": print(line.rstrip(), file=out)  # noqa: E731
        write(" | ".join("-" * col for _ in range(docs)))
        for i, cells in enumerate(rows):
            if i:
                write(" | ".join(" " * col for _ in range(docs)))
            _print_row([_wrap(cell, col, markers=not colour) for cell in cells], col, paint, write)
        return out.getvalue()

    def cell(tokens, colour: bool) -> Text:
        from cleaner.explain import _marked

        text = Text()
        for i, (word, style) in enumerate(tokens if colour else _marked(tokens)):
            text.append((" " if i else "") + word, styles[style] if colour else "")
        return text

    def theirs(colour: bool) -> str:
        out = io.StringIO()
        console = Console(
            file=out, width=width, force_terminal=colour, color_system="standard" if colour else None,
            highlight=False, markup=False, emoji=False,
        )  # fmt: skip
        table = Table(box=box.ASCII, show_edge=False, show_header=False, padding=(0, 1), pad_edge=False)
        for _ in range(docs):
            table.add_column(width=col, no_wrap=False)
        for cells in rows:
            table.add_row(*(cell(c, colour) for c in cells))
        console.print(table)
        return out.getvalue()

    times = {
        "ours, colour": _best(lambda: ours(True), repeat) * 1e3,
        "rich, colour": _best(lambda: theirs(True), repeat) * 1e3,
        "ours, plain": _best(lambda: ours(False), repeat) * 1e3,
        "rich, plain": _best(lambda: theirs(False), repeat) * 1e3,
    }
    return times, ours(False), theirs(False)


def colour_ms(lines: int, repeat: int) -> dict[str, float]:
    from rich.console import Console
    from rich.text import Text

    from cleaner.explain import _painter

    rng = random.Random(2)
    statuses = ["kept", "boilerplate", "exact_duplicate", "near_duplicate"]
    styles = {"kept": "", "boilerplate": "red", "exact_duplicate": "yellow", "near_duplicate": "yellow"}
    doc = [(i, rng.choice(statuses), " ".join(_words(rng, 50))) for i in range(lines)]

    def ours() -> None:
        out, paint = io.StringIO(), _painter(True)
        for i, status, text in doc:
            print(f"{i:>4} {paint(status, status.ljust(20))}  {text}", file=out)

    def theirs() -> None:
        console = Console(
            file=io.StringIO(), force_terminal=True, color_system="standard",
            highlight=False, markup=False, emoji=False, soft_wrap=True,
        )  # fmt: skip
        for i, status, text in doc:
            console.print(Text.assemble(f"{i:>4} ", (status.ljust(20), styles[status]), f"  {text}"))

    return {"ours": _best(ours, repeat) * 1e3, "rich": _best(theirs, repeat) * 1e3}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5)
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--calls", type=int, default=2000, help="advance calls per sample")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    print(f"load average before: {os.getloadavg()}")
    print("| piece | what | ours | rich |")
    print("|---|---|---|---|")
    ours_imp = import_ms("cleaner.progress", args.repeat)
    for module in ("rich.progress", "rich.table", "rich.console", "rich.cells"):
        print(f"| import | `import {module}` after `import cleaner`, ms | {ours_imp:.1f} (cleaner.progress) "
              f"| {import_ms(module, args.repeat):.1f} |")  # fmt: skip
    adv = advance_us(args.calls, args.repeat)
    print(f"| progress | one `advance` on a terminal, µs | {adv['ours (redraw each call)']:.1f} (redraw) "
          f"| {adv['rich (update only, thread redraws)']:.1f} (update only), "
          f"{adv['rich (update and refresh)']:.1f} (update and redraw) |")  # fmt: skip
    col = colour_ms(args.lines, args.repeat)
    print(
        f"| colour | `--doc` listing of {args.lines} paragraphs, ms | {col['ours']:.1f} | {col['rich']:.1f} |"
    )
    times, ours_text, rich_text = columns_ms(args.docs, args.lines, args.width, args.repeat)
    what = f"{args.docs} docs x {args.lines} paragraphs at width {args.width}, ms"
    print(f"| columns | {what}, coloured | {times['ours, colour']:.1f} | {times['rich, colour']:.1f} |")
    print(f"| columns | {what}, plain | {times['ours, plain']:.1f} | {times['rich, plain']:.1f} |")
    print(f"load average after: {os.getloadavg()}")
    # rich's table has no blank row between rows and no rule under nothing: drop ours to compare
    ours_cells = [line for line in ours_text.splitlines() if line.replace("|", "").replace("-", "").strip()]
    rich_cells = [line.rstrip() for line in rich_text.splitlines()]
    print(
        f"plain cell lines: ours {len(ours_cells)}, rich {len(rich_cells)}, identical: {ours_cells == rich_cells}"
    )


if __name__ == "__main__":
    main()
