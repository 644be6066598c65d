"""The same flow on an existing Dask cluster: a real dask.distributed scheduler and two worker
processes on 127.0.0.1. Batches and LSH bands run on the workers; the corpus must be the one a
local run makes."""

from __future__ import annotations

import json

import pyarrow.dataset as ds
import pytest

from cleaner.corpus import writers
from cleaner.errors import CleanerError
from cleaner.io import readers
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.prefect


def _contents(out) -> dict[str, list[dict]]:
    tables = {}
    for name in writers.DATASETS:
        rows = ds.dataset(out / name, format="parquet", partitioning="hive").to_table().to_pylist()
        for row in rows:
            row.pop("run")
        tables[name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return tables


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            protocol="tcp",
        ) as cluster,
        Client(cluster, set_as_default=False) as client,  # else prefect-dask would use it, not the address
    ):
        yield cluster.scheduler_address, client


def test_a_run_on_a_dask_cluster_gives_the_local_runs_corpus(prefect_server, cluster, tmp_path):
    from distributed import get_task_stream

    from cleaner_flows.clean_corpus import clean_corpus

    address, client = cluster
    # several batches and band groups, and LSH spread however few the passages
    config = {"run": {"batch_size": 4, "lsh_tasks": 3, "lsh_spread_min_rows": 0}}
    local = clean_corpus(paths=[str(EXAMPLES / "pages")], out=str(tmp_path / "local"), config=config)
    with get_task_stream(client) as stream:
        on_dask = clean_corpus(
            paths=[str(EXAMPLES / "pages")], out=str(tmp_path / "dask"), config=config, dask=address
        )
    assert on_dask["counts"] == local["counts"]
    assert _contents(tmp_path / "dask") == _contents(tmp_path / "local")
    # The batches and the LSH band groups ran as tasks on the cluster's two worker processes.
    ran = [(task["key"], task["worker"]) for task in stream.data]
    names = sorted(key.split("-")[0] for key, _ in ran)
    files = len(readers.discover([EXAMPLES / "pages"])[0])
    assert names.count("prepare") == -(-files // 4) and names.count("lsh_bands") == 3, names
    assert len({worker for _, worker in ran}) == 2


def test_an_unreachable_scheduler_is_a_one_line_error(prefect_server, tmp_path):
    import dask

    from cleaner_flows.clean_corpus import clean_corpus

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "2s"}),
        pytest.raises(CleanerError, match=r"cannot reach the Dask scheduler at tcp://127.0.0.1:1: "),
    ):
        clean_corpus(paths=[str(EXAMPLES / "pages")], out=str(tmp_path / "out"), dask="tcp://127.0.0.1:1")
    assert not (tmp_path / "out").exists()  # nothing was started, nothing written


def test_a_bad_setting_is_said_before_the_scheduler_is_tried(prefect_server, tmp_path):
    """The flow tried the scheduler first: an unreachable one made the user wait, then named
    it, never the setting."""
    from cleaner_flows.clean_corpus import clean_corpus

    with pytest.raises(CleanerError, match=r"^dedup\.threshold"):
        clean_corpus(
            paths=[str(EXAMPLES / "pages")],
            out=str(tmp_path / "out"),
            dask="tcp://127.0.0.1:1",
            config={"dedup": {"threshold": 5}},
        )
