"""The rewrite gate: on the labelled set, no pinned figure gets worse and the issue's targets
hold; on the seeds (when present beside this checkout) too."""

import json

import pytest

from benchmarks.rewrites.run import BASELINE, check, measure, missed_targets
from cleaner.config import RewriteConfig


@pytest.fixture(scope="module")
def metrics():
    return measure(RewriteConfig(), with_seeds=False)


def test_no_figure_falls_below_its_pin(metrics):
    assert check(metrics, json.loads(BASELINE.read_text())) == []


def test_the_issue_targets_hold_on_the_labelled_set(metrics):
    assert missed_targets(metrics) == []
    assert metrics["sets"]["labelled"]["rewrites"]["documents"]["independent_false_merges"] == []


def test_the_issue_targets_hold_on_the_seeds(seeds_dir):
    metrics = measure(RewriteConfig())
    assert missed_targets(metrics) == []
    outcome = metrics["seeds_outcome"]["rewrites"]
    assert outcome["documents"] == {"seed/000": "seed/002"}
    assert [d for d, marked in outcome["passages_marked"].items() if marked] == ["seed/000"]


def test_the_gate_catches_a_detector_that_cannot_tell_coverage_from_copying(metrics):
    loose = measure(RewriteConfig(min_aligned=1, min_score=0.01), with_seeds=False)
    assert any("independent_flagged" in line for line in check(loose, json.loads(BASELINE.read_text())))
    assert missed_targets(loose)
