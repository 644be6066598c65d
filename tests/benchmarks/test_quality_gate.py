"""The quality gate: the pinned slice of the labelled corpus must not get worse."""

import copy
import json

import pytest

from benchmarks.quality.evaluate import evaluate
from benchmarks.quality.generate import EDITS, build_corpus
from benchmarks.quality.run import BASELINE, check, missed_targets, update_baseline
from cleaner.config import Config


@pytest.fixture(scope="module")
def baseline():
    return json.loads(BASELINE.read_text())


@pytest.fixture(scope="module")
def corpus(baseline):
    return build_corpus(baseline["slice"]["articles"], baseline["slice"]["seed"])


@pytest.fixture(scope="module")
def metrics(corpus):
    return evaluate(*corpus)


def test_no_figure_falls_below_its_pin(metrics, baseline):
    assert check(metrics, baseline) == []


def test_the_issue_targets_hold_on_the_slice(metrics):
    assert missed_targets(metrics) == []


def test_a_missed_target_is_reported(metrics):
    worse = copy.deepcopy(metrics)
    worse["boilerplate"]["precision"] = 0.9
    del worse["passages"]["mirror"]
    assert missed_targets(worse) == ["passages.mirror.recall", "boilerplate.precision"]


def test_the_gate_catches_a_worse_pipeline(corpus, baseline):
    # Jaccard-only verification at a strict threshold: edited copies go unnoticed.
    worse = Config.from_dict({"dedup": {"threshold": 0.9, "containment_threshold": 1.0}})
    failures = check(evaluate(*corpus, config=worse), baseline)
    assert any(f.startswith("passages.up_to_3_words.recall") for f in failures)
    assert any(f.startswith("passages.split.recall") for f in failures)


def test_a_pin_cannot_be_loosened_without_a_reason(metrics, baseline):
    worse = copy.deepcopy(metrics)
    worse["passages"]["all"]["recall"] = baseline["pins"]["passages.all.recall"] - 0.05
    with pytest.raises(SystemExit, match="refusing to loosen passages.all.recall"):
        update_baseline(baseline, worse, baseline["slice"], allow_lower=None)
    updated = update_baseline(baseline, worse, baseline["slice"], allow_lower="new edit type is harder")
    (entry,) = updated["lowered"][len(baseline["lowered"]) :]
    assert entry["metric"] == "passages.all.recall" and entry["reason"] == "new edit type is harder"
    better = copy.deepcopy(metrics)
    better["passages"]["all"]["recall"] = 1.0
    assert update_baseline(baseline, better, baseline["slice"], None)["pins"]["passages.all.recall"] == 1.0


def test_the_corpus_is_reproducible_and_has_every_kind_of_edit():
    a_records, a_labels = build_corpus(120, seed=3)
    b_records, b_labels = build_corpus(120, seed=3)
    assert [r.as_input() for r in a_records] == [r.as_input() for r in b_records]
    assert a_labels == b_labels
    assert build_corpus(120, seed=4)[0][0].as_input() != a_records[0].as_input()
    records, labels = build_corpus(2000, seed=7)
    assert len(records) == 2000
    assert {r.edit for r in records} == {None, *EDITS}
    assert labels["hard_negatives"]
    kinds = {line["kind"] for r in labels["records"].values() for line in r["lines"]}
    assert {"learned", "subheading", "related", "photo_caption", "timestamp", "headline"} <= kinds
