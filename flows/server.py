"""Prefect's settings for this process and its temporary server for one command. Imports
Prefect only when a server is started or used.

`prefect_defaults` must run before Prefect is imported: Prefect reads its settings from
the environment once, at import.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cleaner.errors import CleanerError

# The ephemeral server's first start on a fresh PREFECT_HOME migrates its database (~25 s
# here), past Prefect's default start-up timeout of 20 s; later starts take ~13 s.
EPHEMERAL_STARTUP_TIMEOUT_SECONDS = "180"


def prefect_defaults() -> None:
    """Keep Prefect's telemetry off (its server's analytics, and the client's, which
    DO_NOT_TRACK turns off) and let its first start finish. A value the user set in the
    environment wins."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault(
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", EPHEMERAL_STARTUP_TIMEOUT_SECONDS
    )


# `python -m uvicorn ARGS`, asking Linux first to send the server SIGTERM when the command's
# process ends (PR_SET_PDEATHSIG), and leaving if it already has. Done in the server's own
# process: a `preexec_fn` is unsafe once the command has threads.
_SERVE = """
import os, runpy, signal, sys
if sys.platform == "linux":
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)
    if os.getppid() != int(sys.argv[1]):
        sys.exit(0)
sys.argv = ["uvicorn", *sys.argv[2:]]
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""


class TemporaryServer:
    """Prefect's API server for one command, in a subprocess on 127.0.0.1: what Prefect's own
    temporary server (`prefect.server.api.server.SubprocessASGIServer`) runs, started here
    without importing Prefect (0.9 s) or its server package (1.8 s) and without waiting for
    it, so that the command's own imports run while it starts (3 to 4 s).

    `publish` makes its URL the process's PREFECT_API_URL, as if the user had set it: every thread
    (Prefect's process pool forwards its workers' events from one of its own) and every
    worker process then reports to it. It stops when the process exits, after Prefect's own
    exit handlers have sent what they hold; or, on Linux, when the command dies without
    running its exit handlers (killed, or a SIGTERM it does not handle): an orphaned server
    would keep its port and its database open for good."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.published = False
        atexit.register(self.stop)  # before Prefect registers its handlers: runs after them
        self._start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def _start(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SERVE,
                str(os.getpid()),
                "--app-dir",
                _prefect_package_parent(),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env={
                **os.environ,
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT_SERVER_DATABASE_CONNECTION_URL": temporary_database_url(),
            },
            # Out of the command's process group: a terminal's Ctrl-C or a SIGTERM to the
            # group stops the command, which then stops the server after its run has said
            # what it was doing. Stopped first, the server left the run retrying it for minutes.
            start_new_session=True,
        )
        if self.published:
            self.publish()

    def publish(self) -> None:
        """Make the server this process's PREFECT_API_URL, and its workers'."""
        from prefect.context import refresh_global_settings_context

        self.published = True
        os.environ["PREFECT_API_URL"] = self.api_url
        refresh_global_settings_context()

    def wait(self) -> None:
        """Until the server answers its health check. A port taken meanwhile (uvicorn's exit
        status 3) means another one; any other exit, or no answer within Prefect's start-up
        timeout, is an error."""
        import httpx
        from prefect.logging import get_logger
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

        # Said here, not at the start: Prefect sets its logging up as the flows are imported.
        get_logger().info(f"Starting temporary server on http://127.0.0.1:{self.port}")
        timeout = PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
        deadline = time.monotonic() + timeout
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                status = self.process.poll()
                if status == 3:
                    self._start()
                elif status is not None:
                    raise CleanerError(
                        f"Prefect's temporary server exited with status {status} as it started"
                    )
                try:
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.stop()
        raise CleanerError(f"Prefect's temporary server did not answer within {timeout} s")

    def watch(self, on_death: Callable[[int], None]) -> None:
        """Call `on_death(exit status)` from a thread of its own if the server ends without
        `stop`: the run can no longer report to it, and Prefect would retry it for minutes.
        (A scheduler's SIGTERM to every process of the command stops the server too.)"""

        def watcher() -> None:
            process = self.process
            while process is not None and self.process is process:
                status = process.poll()
                if status is not None and self.process is process:
                    on_death(status)
                    return
                time.sleep(0.2)

        threading.Thread(target=watcher, name="cleaner-server-watch", daemon=True).start()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def temporary_database_url() -> str:
    """The database of the temporary servers `cleaner run` starts: a file of its own in
    Prefect's home (`PREFECT_HOME`, else ~/.prefect), not the `prefect.db` a user's own
    `prefect server` keeps there, which they would otherwise share; kept between commands,
    since a new database takes its first start ~25 s to migrate."""
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{home / 'cleaner-runs.db'}"


def start_prefect_api() -> TemporaryServer | None:
    """Start a temporary Prefect server now, unless the settings name an API, so that it
    starts while the caller imports its flows; `prefect_api` waits for it.

    Unless the environment names an API, the server starts before Prefect is imported
    (0.9 s), and stops again if Prefect's settings name one after all (a profile, a
    prefect.toml)."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    server = TemporaryServer()
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        server.stop()
        return None
    server.publish()
    return server


@contextmanager
def prefect_api(server: TemporaryServer | None = None) -> Iterator[None]:
    """Run with a Prefect API that worker processes can reach.

    With no PREFECT_API_URL, Prefect starts a temporary server for the process, and every
    process-pool worker would start one of its own (seconds each, and their task runs land
    in other databases). One server for the whole command (`server`, from
    `start_prefect_api`, or one started here), named in the settings the workers inherit,
    gives the whole run one server."""
    if server is None:
        server = start_prefect_api()
    if server is not None:
        server.wait()
    else:
        _check_answers()
    yield


def _check_answers(timeout: float = 10.0) -> None:
    """The Prefect API the settings name answers, or a one-line error that says which: a
    server not started, or a wrong address, was "unexpected error: RuntimeError: Failed to
    reach API" once the flow run began, as if cleaner had a bug. Any HTTP answer will do
    (a server behind authentication answers 401)."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    url = str(PREFECT_API_URL.value()).rstrip("/")
    try:
        httpx.get(f"{url}/health", timeout=timeout)
    except httpx.HTTPError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CleanerError(
            f"the Prefect API at {url} (PREFECT_API_URL) does not answer ({reason}): start its server, "
            "or unset PREFECT_API_URL for a temporary one"
        ) from None


def _prefect_package_parent() -> str:
    """The folder holding Prefect's package, found without importing it."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        raise CleanerError("Prefect is not installed")
    return str(Path(spec.origin).parent.parent)


def _free_port() -> int:
    """A port free on 127.0.0.1 now (the server binds it a moment later; `wait` handles
    the rare case of losing it meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
