"""The temporary Prefect server a command starts: one per command, gone with the command."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.prefect


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:  # the parent's pid, after the state
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="the server asks Linux to stop it with its parent")
def test_the_server_stops_when_the_command_is_killed(tmp_path):
    """SIGKILL runs no exit handler: the server must still not outlive the command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = os.environ.get("PREFECT_HOME", str(tmp_path / "home"))
    command = subprocess.Popen(
        [sys.executable, "-m", "cleaner_flows", "run", "--out", str(tmp_path / "out")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = None
    try:
        deadline = time.monotonic() + 60
        while server is None and time.monotonic() < deadline and command.poll() is None:
            server = next(
                (p for p in _children(command.pid) if "prefect.server.api.server" in _cmdline(p)), None
            )
            time.sleep(0.05)
        assert server is not None, "no server process under the command"
        command.send_signal(signal.SIGKILL)
        command.wait()
        deadline = time.monotonic() + 15
        while _alive(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(server), "the server outlived the command"
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
        if server is not None and _alive(server):
            os.kill(server, signal.SIGKILL)


def test_an_api_named_by_the_profile_is_used_and_the_early_server_stopped(tmp_path):
    """The server starts before Prefect reads its settings; a profile that names an API
    (not visible in the environment) must still win, and the server started early must
    not be left running."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "profiles.toml").write_text(
        'active = "remote"\n[profiles.remote]\nPREFECT_API_URL = "http://127.0.0.1:9/api"\n'
    )
    script = """
import os
from pathlib import Path
from cleaner_flows.server import start_prefect_api
server = start_prefect_api()
from prefect.settings import PREFECT_API_URL
children = []
for entry in Path("/proc").iterdir():
    if entry.name.isdigit():
        try:
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue
        if int(parent) == os.getpid() and state != "Z":
            children.append(entry.name)
print(server is None, PREFECT_API_URL.value(), os.environ.get("PREFECT_API_URL"), len(children))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "http://127.0.0.1:9/api", "None", "0"]
