import io

from cleaner.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_on_a_terminal_one_line_is_redrawn_with_a_bar_counts_rate_and_time_left():
    screen, clock, lines = Terminal(), Clock(), []
    progress = Progress(
        "prepare", total=1000, batches=4, emit=lines.append, stream=screen, clock=clock, width=10
    )
    clock.now += 2
    progress.advance(250, 300)
    assert screen.getvalue() == (
        "\rprepare [##........]  25% 1/4 batches · 250/1,000 files · 300 records · 125 files/s · 6 s left\x1b[K"
    )
    for _ in range(3):
        clock.now += 2
        progress.advance(250, 250)
    progress.close()
    last = screen.getvalue().split("\r")[-1]
    assert (
        last
        == "prepare [##########] 100% 4/4 batches · 1,000/1,000 files · 1,050 records · 125 files/s · 8 s in all\x1b[K\n"
    )
    assert lines == []  # nothing for the log on a terminal


def test_elsewhere_plain_log_lines_now_and_then_and_at_the_end():
    log_file, clock, lines = io.StringIO(), Clock(), []
    progress = Progress(
        "prepare", total=10_000, batches=40, emit=lines.append, stream=log_file, clock=clock, every=15
    )
    for _ in range(40):
        clock.now += 1
        progress.advance(250, 250)
    progress.close()
    assert log_file.getvalue() == ""  # no carriage returns in a log
    assert len(lines) == 40 // 15 + 1
    assert lines[0] == "prepare 15/40 batches · 3,750/10,000 files · 3,750 records · 250 files/s · 25 s left"
    assert (
        lines[-1]
        == "prepare 40/40 batches · 10,000/10,000 files · 10,000 records · 250 files/s · 40 s in all"
    )


def test_long_waits_read_in_minutes_and_hours():
    clock, lines = Clock(), []
    progress = Progress(
        "prepare", total=100_000, batches=400, emit=lines.append, stream=io.StringIO(), clock=clock
    )
    clock.now += 30
    progress.advance(10, 10)
    assert lines[-1].endswith("· 0 files/s · 83 h 19 min left")
    clock.now += 100
    progress.advance(990, 990)
    assert lines[-1].endswith("· 8 files/s · 3 h 34 min left")
