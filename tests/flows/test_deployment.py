"""The `daily-inbox` deployment from prefect.yaml on a real Prefect server, with a real worker.

What the README's "Scheduling on a Prefect server" commands do, for real: a server on
127.0.0.1 with its own home, the process work pool, `prefect deploy`, `prefect worker
start`; then two runs triggered through the API on one inbox, the second after a second
batch of pages landed beside the first. The corpus must grow: the second batch is
deduplicated against the first, and the first batch is not read again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow.dataset as ds
import pytest
import yaml

from cleaner.corpus import writers
from tests.conftest import REPO
from tests.flows.server import PrefectServer, wait_gone

pytestmark = pytest.mark.prefect

INBOX = Path(__file__).parent / "inbox"
POOL = "cleaner-pool"
DEPLOYMENT = "clean-corpus/daily-inbox"
RUN_SECONDS = 150

ORIGINAL = "skerry-gazette/2026-04-02-island-ferry-timetable.txt"  # batch 1
MIRROR = "tidewater-digest/island-ferry-half-hourly.html"  # batch 2: an edited copy of it
NEW = "skerry-gazette/2026-04-05-wind-farm-vote.txt"  # batch 2


@dataclass
class Runs:
    deployment: object
    flow_runs: list  # FlowRun of run 1 and run 2, as finished
    corpus_after: list[dict]  # the corpus as read after run 1 and after run 2
    files_after: list[dict]  # its Parquet files and their hashes after run 1 and run 2
    counts: list[dict]  # each run's clean-corpus-counts artifact
    worker_log: str
    overlapping: list = None  # FlowRun of two runs started at once after them, as finished
    failed: object = None  # FlowRun of a run whose input path does not exist


def _read_corpus(out: Path) -> dict[str, list[dict]]:
    """Every dataset of the corpus, read recursively (an incremental corpus adds a
    partition per run); a dataset with no folder has no rows."""
    return {
        name: ds.dataset(out / name, format="parquet", partitioning="hive").to_table().to_pylist()
        if (out / name).exists()
        else []
        for name in writers.DATASETS
    }


def _parquet_files(out: Path) -> dict[str, str]:
    return {
        path.relative_to(out).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for name in writers.DATASETS
        for path in (out / name).rglob("*.parquet")
        if not any(part.startswith((".", "_")) for part in path.relative_to(out).parts)
    }


def _page(source: str) -> str:
    return source.split("/inbox/", 1)[1]


def _counts_artifact(client, flow_run_id) -> dict:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    artifacts = client.read_artifacts(
        artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
            key=ArtifactFilterKey(any_=["clean-corpus-counts"]),
        )
    )
    assert len(artifacts) == 1, artifacts
    return {row["count"]: row["value"] for row in json.loads(artifacts[0].data)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    from prefect import get_client
    from prefect.deployments import run_deployment

    root = tmp_path_factory.mktemp("deployment")
    inbox, out = root / "inbox", root / "corpus"
    inbox.mkdir()
    flow_runs, corpus_after, files_after, counts = [], [], [], []
    with PrefectServer(root / "prefect") as server:
        server.run("work-pool", "create", POOL, "--type", "process")
        server.run("--no-prompt", "deploy", "--name", "daily-inbox", cwd=REPO)
        worker = server.start(
            "worker", "start", "--pool", POOL, name="worker", PREFECT_WORKER_QUERY_SECONDS="1"
        )
        with server.api(), get_client(sync_client=True) as client:
            for batch in ("batch-1", "batch-2"):
                shutil.copytree(INBOX / batch, inbox, dirs_exist_ok=True)
                flow_run = run_deployment(
                    DEPLOYMENT,
                    parameters={"paths": [str(inbox)], "out": str(out)},
                    timeout=RUN_SECONDS,
                    poll_interval=1,
                )
                assert flow_run.state.is_completed(), f"{flow_run.state}\n{worker.output()}"
                flow_runs.append(flow_run)
                corpus_after.append(_read_corpus(out))
                files_after.append(_parquet_files(out))
                counts.append(_counts_artifact(client, flow_run.id))
            # Two runs at once (a run by hand at 05:00): the second waits for the first.
            parameters = {"paths": [str(inbox)], "out": str(out)}
            started = [run_deployment(DEPLOYMENT, parameters=parameters, timeout=0) for _ in range(2)]
            overlapping = [_finished(client, r.id) for r in started]
            # A run that fails on a setting: one line, no traceback, in the run and the worker.
            bad = {"paths": [str(root / "no-such-inbox")], "out": str(out)}
            failed = run_deployment(DEPLOYMENT, parameters=bad, timeout=RUN_SECONDS, poll_interval=1)
            deployment = client.read_deployment_by_name(DEPLOYMENT)
            flow_runs = [client.read_flow_run(r.id) for r in flow_runs]
    # Leaving the server's block stopped the worker and the server, and checked that
    # nothing of theirs is left; the flow runs ran in sessions of their own.
    for flow_run in flow_runs + overlapping:
        pid = int(flow_run.infrastructure_pid.rsplit(":", 1)[-1])
        assert wait_gone(pid), f"flow run process {pid} is still running"
    return Runs(
        deployment, flow_runs, corpus_after, files_after, counts, worker.output(), overlapping, failed
    )


def _finished(client, flow_run_id, seconds: float = RUN_SECONDS):
    """The flow run once it is in a final state (or as it is when `seconds` have passed)."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        flow_run = client.read_flow_run(flow_run_id)
        if flow_run.state.is_final() or time.monotonic() > deadline:
            return flow_run
        time.sleep(1)


def test_deployment_is_the_one_in_prefect_yaml(runs):
    (spec,) = yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]
    deployment = runs.deployment
    assert deployment.work_pool_name == POOL == spec["work_pool"]["name"]
    assert deployment.entrypoint == spec["entrypoint"] == "flows/clean_corpus.py:clean_corpus"
    assert (
        deployment.parameters
        == spec["parameters"]
        == {"paths": ["inbox"], "out": "corpus", "allow_empty": True}
    )
    # one run at a time, the next waiting (it failed on the corpus's lock)
    assert deployment.global_concurrency_limit.limit == spec["concurrency_limit"]["limit"] == 1
    assert deployment.concurrency_options.collision_strategy == "ENQUEUE"
    (schedule,) = deployment.schedules
    assert schedule.active
    assert schedule.schedule.cron == spec["schedules"][0]["cron"] == "0 5 * * *"
    assert schedule.schedule.timezone == spec["schedules"][0]["timezone"]
    # The flow runs from the checkout `prefect deploy` ran in.
    assert deployment.pull_steps == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}
    ]


def test_a_run_started_while_another_writes_waits_for_it(runs):
    """Without the deployment's concurrency limit the second failed at once on the corpus's
    lock ("another cleaner run is writing to corpus"), and its pages waited a day."""
    first, second = runs.overlapping
    assert first.state.is_completed() and second.state.is_completed(), (first.state, second.state)
    assert first.end_time <= second.start_time or second.end_time <= first.start_time  # one after the other


def test_a_run_failing_on_a_setting_says_it_in_one_line_without_a_traceback(runs):
    """The flow-run process logged "exited with unexpected exception" and some forty lines of
    traceback for an expected error, into the run's logs and the worker's output."""
    state = runs.failed.state
    assert state.is_failed() and state.message.startswith("input path does not exist: ")
    assert "\n" not in state.message
    assert "Traceback" not in runs.worker_log and "unexpected exception" not in runs.worker_log, (
        runs.worker_log[-3000:]
    )


def test_both_runs_completed_through_the_worker(runs):
    for flow_run in runs.flow_runs:
        assert flow_run.state.is_completed()
        assert flow_run.deployment_id == runs.deployment.id
        assert flow_run.work_pool_name == POOL
    assert "Worker 'ProcessWorker" in runs.worker_log


def test_first_run_keeps_the_first_batch(runs):
    first = runs.corpus_after[0]
    assert sorted(_page(d["source"]) for d in first["documents"]) == sorted(
        p.relative_to(INBOX / "batch-1").as_posix() for p in (INBOX / "batch-1").rglob("*.*")
    )
    assert not first["duplicates"] and not first["rejects"]
    assert runs.counts[0]["documents kept"] == 2 and runs.counts[0]["duplicate documents"] == 0


def test_second_batch_is_deduplicated_against_the_first(runs):
    first, final = runs.corpus_after
    original = next(d for d in first["documents"] if _page(d["source"]) == ORIGINAL)
    # The corpus grew: what the first run kept is still there, once.
    kept = [(d["doc_id"], d["text"]) for d in final["documents"]]
    for doc in first["documents"]:
        assert kept.count((doc["doc_id"], doc["text"])) == 1, _page(doc["source"])
    assert sorted(_page(d["source"]) for d in final["documents"]) == sorted(
        [_page(d["source"]) for d in first["documents"]] + [NEW]
    )
    # The mirror is a duplicate of the first run's document, down to its passages.
    (mirror,) = final["duplicates"]
    assert _page(mirror["source"]) == MIRROR
    assert mirror["duplicate_of"] == original["doc_id"] and mirror["kind"] in ("near", "exact")
    copied = [
        p for p in final["passages"] if p["doc_id"] == mirror["doc_id"] and p["status"] != "boilerplate"
    ]
    assert len(copied) == 4  # its four paragraphs: two copied verbatim, two with a word changed
    assert sorted(p["status"] for p in copied) == ["exact_duplicate"] * 2 + ["near_duplicate"] * 2
    assert all(p["duplicate_of_doc"] == original["doc_id"] for p in copied)


def test_second_run_adds_files_and_leaves_the_first_runs_alone(runs):
    """The corpus grows by new files: what the first run wrote is still there, byte for byte."""
    first, second = runs.files_after
    assert first and set(second) > set(first)
    assert {path: second.get(path) for path in first} == first


def test_second_run_reads_only_the_new_batch(runs):
    """The first batch's files are still in the inbox; the second run does not read them:
    its counts cover the two pages of the second batch alone."""
    second = runs.counts[1]
    assert second["documents kept"] == 1  # the new article
    assert second["duplicate documents"] == 1  # the mirror
    assert second["rejects"] == 0
    final = runs.corpus_after[1]
    placed = [_page(r["source"]) for name in ("documents", "duplicates", "rejects") for r in final[name]]
    assert sorted(placed) == sorted(set(placed))  # every page once in the whole corpus
