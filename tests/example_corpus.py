"""The bundled examples cleaned once by the real flow, shared by the tests that read a corpus
(test_report, test_inspect, test_downstream): a module-scoped fixture in each calls
`example_corpus`, which runs the flow on the first call of the session only."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLES

_BUILT: dict[str, Path] = {}


def example_corpus(tmp_path_factory) -> Path:
    """The corpus folder of one run of the clean-corpus flow on examples/pages (needs the
    session's `prefect_server` fixture)."""
    if "examples" not in _BUILT:
        from cleaner_flows.clean_corpus import clean_corpus

        out = tmp_path_factory.mktemp("example-corpus") / "output"
        clean_corpus(paths=[str(EXAMPLES / "pages")], out=str(out))
        _BUILT["examples"] = out
    return _BUILT["examples"]
