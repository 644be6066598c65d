"""A real Prefect server for the tests that need one, and the `prefect` processes aimed at it.

`PrefectServer` runs `prefect server start` on 127.0.0.1 on a free port, with its own
PREFECT_HOME (so its own SQLite database), and starts `prefect` commands and workers with an
environment that points at it and at a client home of their own: nothing comes from the test
session's Prefect settings or the user's profile. Every process starts in a session of its
own, so stopping its process group stops whatever it started too; leaving the `with` block
stops them all and fails if any is left.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

# A fresh home migrates its database on the first start (7-25 s measured here).
STARTUP_SECONDS = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prefect_env(home: Path, **settings: str) -> dict[str, str]:
    """The environment of a `prefect` process: its own home, telemetry off, no Prefect
    setting inherited from this process, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", **settings)
    return env


class Process:
    """A `prefect` command running in its own session, its output in `log`."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, cwd: Path | None = None):
        self.args = args
        self.log = log
        with open(log, "wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "prefect", *args],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pgid = self.popen.pid

    def alive(self) -> bool:
        """Whether any process of its group is still there."""
        self.popen.poll()  # reap the leader if it has exited
        return group_alive(self.pgid)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the process group, then SIGKILL to whatever is left after `grace` s."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            if not self.alive():
                break
        self.popen.wait(grace)

    def output(self, tail: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-tail:]


def group_alive(pgid: int) -> bool:
    """Whether any process of the process group `pgid` is still running (a zombie waiting
    for a parent that does not reap it, as PID 1 of some containers, has stopped)."""
    return _signal_reaches(os.killpg, pgid) and any(_running(pid) for pid in _members(pgid))


def process_alive(pid: int) -> bool:
    return _signal_reaches(os.kill, pid) and _running(pid)


def wait_gone(pid: int, timeout: float = 30.0) -> bool:
    """Wait for a process and its group to stop; True if they did within `timeout` s."""
    deadline = time.monotonic() + timeout
    while group_alive(pid) or process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # after the command: state, ppid, pgrp
            members.append(int(stat.parent.name))
    return members


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _signal_reaches(send, target: int) -> bool:
    try:
        send(target, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but someone else's
        return True
    return True


class PrefectServer:
    """`prefect server start --host 127.0.0.1 --port <free port>` with its home in `root`.

    `server_settings` go to the server's environment only (e.g.
    PREFECT_SERVER_API_AUTH_STRING), `client_settings` to every command and worker started
    with `run` or `start` (e.g. PREFECT_API_AUTH_STRING). The scheduler service is off:
    the tests trigger their runs themselves, and a deployment's schedule is stored all the
    same; with it on, a run scheduled by the cron could start in the middle of a test."""

    def __init__(
        self,
        root: Path,
        server_settings: dict[str, str] | None = None,
        client_settings: dict[str, str] | None = None,
    ):
        self.root = root
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.server_settings = {
            "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            **(server_settings or {}),
        }
        self.client_settings = {"PREFECT_API_URL": self.api_url, **(client_settings or {})}
        self.processes: list[Process] = []

    def __enter__(self) -> PrefectServer:
        (self.root / "server-home").mkdir(parents=True, exist_ok=True)
        (self.root / "client-home").mkdir(parents=True, exist_ok=True)
        server = self._spawn(
            ["server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            prefect_env(self.root / "server-home", **self.server_settings),
            "server",
        )
        try:
            self._wait_healthy(server)
        except BaseException:
            self.stop_all()
            raise
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        left = self.stop_all()
        if exc_type is None:  # else the error that got us here is the one to see
            assert not left, f"still running after stop: {left}"

    def stop_all(self) -> list[str]:
        """Stop every process started, newest first; returns those still alive after."""
        for process in reversed(self.processes):
            process.stop()
        return [" ".join(p.args) for p in self.processes if p.alive()]

    def env(self, **settings: str) -> dict[str, str]:
        return prefect_env(self.root / "client-home", **self.client_settings, **settings)

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 120, **settings: str) -> str:
        """Run a `prefect` command against the server; its output, or an error with it."""
        result = subprocess.run(
            [sys.executable, "-m", "prefect", *args],
            env=self.env(**settings),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(f"prefect {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self, *args: str, name: str, cwd: Path | None = None, **settings: str) -> Process:
        """Start a long-running `prefect` command (a worker) against the server."""
        return self._spawn(list(args), self.env(**settings), name, cwd)

    @contextmanager
    def api(self, **settings: str) -> Iterator[None]:
        """Point this process's Prefect client (get_client, run_deployment) at the server,
        with `settings` (names of Prefect settings) on top."""
        import prefect.settings
        from prefect.settings import PREFECT_API_URL, temporary_settings

        updates = {getattr(prefect.settings, name): value for name, value in settings.items()}
        with temporary_settings({PREFECT_API_URL: self.api_url, **updates}):
            yield

    def _spawn(self, args: list[str], env: dict[str, str], name: str, cwd: Path | None = None) -> Process:
        process = Process(args, env, self.root / f"{name}.log", cwd)
        self.processes.append(process)
        return process

    def _wait_healthy(self, server: Process) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if server.popen.poll() is not None:
                raise RuntimeError(
                    f"prefect server exited with {server.popen.returncode}:\n{server.output()}"
                )
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2, trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"prefect server not healthy after {STARTUP_SECONDS} s:\n{server.output()}")
