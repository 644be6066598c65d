"""Each flow run publishes its counts as a table artifact, read back here from the API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.prefect

INBOX = Path(__file__).parent / "inbox"


def _artifacts_of(flow_run_id):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )


def test_flow_run_publishes_its_counts_as_a_table(prefect_server, tmp_path):
    from cleaner_flows.clean_corpus import clean_corpus

    inbox = tmp_path / "inbox"
    for batch in ("batch-1", "batch-2"):  # both at once: the mirror is a duplicate in one run
        shutil.copytree(INBOX / batch, inbox, dirs_exist_ok=True)
    out = tmp_path / "out"
    state = clean_corpus(paths=[str(inbox)], out=str(out), return_state=True)
    assert state.is_completed()
    counts = json.loads((out / "manifest.json").read_text())["counts"]

    artifacts = _artifacts_of(state.state_details.flow_run_id)
    assert [(a.key, a.type) for a in artifacts] == [("clean-corpus-counts", "table")]
    table = {row["count"]: row["value"] for row in json.loads(artifacts[0].data)}
    assert table == {
        "documents kept": 3,
        "duplicate documents": 1,
        "boilerplate lines": counts["passages_by_status"]["boilerplate"],
        "rejects": 0,
        **{f"passages {status}": n for status, n in counts["passages_by_status"].items()},
    }
    assert table["boilerplate lines"] > 0 and table["passages near_duplicate"] > 0
    assert "clean-corpus" in artifacts[0].description
