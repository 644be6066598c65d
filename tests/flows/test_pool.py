"""The process pool `cleaner run` starts before its flow run: its workers are the ones that
run the tasks, start warm, and stop with the run."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = [
    pytest.mark.prefect,
    pytest.mark.skipif(sys.platform != "linux", reason="reads the workers' command lines in /proc"),
]

# Run in a process of its own, as `cleaner run` does: a pool starts forked only from a
# process that has no other thread yet, and the test session has Prefect's.
_PROBE = """
import json, multiprocessing, os, sys, threading
from cleaner_flows.server import prefect_api, prefect_defaults, start_prefect_api

prefect_defaults()
server = start_prefect_api()
from cleaner_flows.pool import EagerProcessPool

if sys.argv[1] == "thread":  # another thread is running: forking is not safe
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
pool = EagerProcessPool(2, warm=("cleaner_flows.clean_corpus",)).start()
started = sorted(p.pid for p in multiprocessing.active_children())

def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        return fh.read()

forked = [cmdline(pid) == cmdline(os.getpid()) for pid in started]

from prefect import flow, task

@task
def where():
    import trafilatura.external

    from cleaner.clean import language

    warm = trafilatura.external.JT_STOPLIST is not None and language._model.cache_info().currsize == 1
    return {"pid": os.getpid(), "warm": warm}

@flow(task_runner=pool)
def probe():
    seen = [f.result() for f in [where.submit() for _ in range(6)]]
    from cleaner.clean import language
    from cleaner_flows.tasks import PrefectExecutor

    PrefectExecutor().release()  # what `cleaner.run` does once its batches are done
    released = [p.pid for p in multiprocessing.active_children()]
    return seen, released, language._model.cache_info().currsize

with prefect_api(server):
    seen, released, model = probe()
print(json.dumps({
    "started": started,
    "forked": forked,
    "seen": seen,
    "released": released,
    "model_after_release": model,
    "left": [p.pid for p in multiprocessing.active_children()],
    "still_started": pool.started,
}))
"""


def _probe(mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = os.environ["PREFECT_HOME"]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_workers_start_forked_and_warm_before_the_flow_run_and_run_its_tasks():
    result = _probe("alone")
    assert len(result["started"]) == 2, "both workers start with the pool, before any task"
    assert all(result["forked"])
    assert {r["pid"] for r in result["seen"]} <= set(result["started"])
    assert all(r["warm"] for r in result["seen"]), (
        "the fallback extractors and the language model were loaded before the fork"
    )
    assert result["released"] == [] and result["model_after_release"] == 0, (
        "released inside the flow run: its workers stop, and the flow's process lets its models go"
    )
    assert not result["still_started"] and result["left"] == [], "the run stops the workers"


def test_with_another_thread_running_workers_are_spawned_and_warm_up_themselves():
    result = _probe("thread")
    assert len(result["started"]) == 2
    assert not any(result["forked"])
    assert {r["pid"] for r in result["seen"]} <= set(result["started"])
    assert all(r["warm"] for r in result["seen"]), "each spawned worker warmed up as it started"
    assert not result["still_started"] and result["left"] == []
