"""How the dedup benchmark reads datatrove's MinHash output and scores it (no datatrove needed)."""

import json

import pytest

from benchmarks.bench_dedup import found_from_pairs, kept_a_copy, score
from benchmarks.peers.datatrove_minhash import pairs_from_clusters, read_rows

# Passages 0..6; 3 copies 1, 5 and 6 both copy 2. Cluster 0 kept the source, 1; cluster 1
# kept the copy 5 rather than its source 2, as datatrove's union-by-size may do.
PLANTED = {3: 1, 5: 2, 6: 2}
KEPT = [("0", -1), ("1", 0), ("4", -1), ("5", 1)]
REMOVED = [("2", 1), ("3", 0), ("6", 1)]


def test_each_removed_passage_is_paired_with_its_clusters_kept_member():
    assert pairs_from_clusters(REMOVED, KEPT) == [("2", "5"), ("3", "1"), ("6", "5")]


def test_a_cluster_that_kept_nothing_or_two_members_is_an_error():
    with pytest.raises(ValueError, match="kept no member"):
        pairs_from_clusters([("3", 7)], KEPT)
    with pytest.raises(ValueError, match="keeps both"):
        pairs_from_clusters(REMOVED, [*KEPT, ("0", 1)])


def test_a_copy_counts_only_when_its_kept_member_is_its_planted_source():
    found = found_from_pairs([list(p) for p in pairs_from_clusters(REMOVED, KEPT)])
    assert found == {2: 5, 3: 1, 6: 5}
    recall, precision = score(found, PLANTED)
    assert (recall, precision) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert kept_a_copy(found, PLANTED) == 2  # 2 -> 5 and 6 -> 5: the right family, wrong member kept


def test_a_passage_removed_twice_is_refused():
    with pytest.raises(ValueError, match="removed twice"):
        found_from_pairs([["3", "1"], ["3", "2"]])


def test_rows_are_read_as_datatroves_jsonl_writer_writes_them(tmp_path):
    lines = [
        {"text": "a b c", "id": "3", "metadata": {"minhash_cluster_id": 0, "file_path": "x/00000.jsonl"}},
        {"text": "d e f", "id": "4", "metadata": {"minhash_cluster_id": -1, "file_path": "x/00000.jsonl"}},
    ]
    (tmp_path / "00000.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (tmp_path / "00001.jsonl").write_text("")
    assert read_rows(tmp_path) == [("3", 0), ("4", -1)]
