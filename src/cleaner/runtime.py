"""Process-level settings and bundled resources. Imports Prefect only inside `prefect_api`.

`prefect_defaults` must run before Prefect is imported: Prefect reads its settings from
the environment once, at import.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

# The ephemeral server's first start on a fresh PREFECT_HOME migrates its database (~25 s
# here), past Prefect's default start-up timeout of 20 s; later starts take ~13 s.
EPHEMERAL_STARTUP_TIMEOUT_SECONDS = "180"


def prefect_defaults() -> None:
    """Keep Prefect's telemetry off and let its first start finish. A value the user set
    in the environment wins."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault(
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", EPHEMERAL_STARTUP_TIMEOUT_SECONDS
    )


def bundled_examples() -> Path:
    """The sample corpus's pages: package data after `pip install .`, else the checkout's
    `examples/` (an editable install maps only code)."""
    try:
        installed = Path(str(resources.files("cleaner.examples") / "pages"))
        if installed.is_dir():
            return _relative_to_cwd(installed)
    except ModuleNotFoundError:
        pass
    checkout = Path(__file__).resolve().parents[2] / "examples" / "pages"
    if checkout.is_dir():
        return _relative_to_cwd(checkout)
    raise FileNotFoundError("the bundled examples/ corpus is not installed with this copy of cleaner")


def _relative_to_cwd(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


@contextmanager
def prefect_api() -> Iterator[None]:
    """Run with a Prefect API that worker processes can reach.

    With no PREFECT_API_URL, Prefect starts a temporary server for the process, and every
    process-pool worker would start one of its own (seconds each, and their task runs land
    in other databases). Starting it here and naming its URL in the settings, which the
    process pool hands to its workers, gives the whole run one server."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()  # stopped at exit, as Prefect's own temporary server is
    with temporary_settings({PREFECT_API_URL: server.api_url}):
        yield
