"""The many-copies benchmark runs and measures what it says: every copy found, and only the
first exact copy's paragraphs searched by LSH (it once failed on its first call, unnoticed)."""

from benchmarks import bench_copies


def test_exact_copies_are_found_and_only_the_first_copy_is_searched():
    r = bench_copies.measure("exact", 20)
    assert r["passages"] == 20 * 100 and r["duplicates"] == 19 * 100
    assert r["searched"] == 100
    assert all(r[step] >= 0 for step in ("sketch", "lsh", "verify", "visit", "dedup"))


def test_near_copies_are_found():
    r = bench_copies.measure("near", 50)
    assert r["passages"] == 50 and r["duplicates"] == 49
