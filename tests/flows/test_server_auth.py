"""A real Prefect server that requires basic authentication, as the README shows for a
server that must listen beyond loopback: PREFECT_SERVER_API_AUTH_STRING on the server,
PREFECT_API_AUTH_STRING on every client (CLI, worker, Python)."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.flows.server import PrefectServer

pytestmark = pytest.mark.prefect

AUTH = "cleaner:not-a-real-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = {"PREFECT_SERVER_API_AUTH_STRING": AUTH}
    with PrefectServer(tmp_path_factory.mktemp("auth"), server_settings=settings) as server:
        yield server


@pytest.fixture(scope="module")
def http():
    with httpx.Client(trust_env=False, timeout=10) as client:  # straight to the server, no proxy
        yield client


def test_request_without_the_credentials_is_refused(server, http):
    url = f"{server.api_url}/flows/filter"
    assert http.post(url, json={}).status_code == 401
    assert http.post(url, json={}, auth=("cleaner", "wrong")).status_code == 401
    assert http.post(url, json={}, auth=tuple(AUTH.split(":", 1))).status_code == 200


def test_health_check_stays_open(server, http):
    # Prefect leaves GET /api/health (and /api/ready) open, for load balancers' probes.
    assert http.get(f"{server.api_url}/health").json() is True


def test_prefect_clients_send_the_api_auth_string(server):
    from prefect import get_client

    with pytest.raises(AssertionError, match="prefect work-pool ls failed"):
        server.run("work-pool", "ls")
    server.run("work-pool", "create", "auth-pool", "--type", "process", PREFECT_API_AUTH_STRING=AUTH)
    with server.api(PREFECT_API_AUTH_STRING=AUTH), get_client(sync_client=True) as client:
        assert client.read_work_pool("auth-pool").type == "process"


def test_server_listens_on_loopback_only(server, http):
    outside = _non_loopback_address()
    if outside is None:
        pytest.skip("this machine has no address beside loopback")
    with pytest.raises((httpx.ConnectError, httpx.ConnectTimeout)):
        http.get(f"http://{outside}:{server.port}/api/health", timeout=2)
    assert http.get(f"http://127.0.0.1:{server.port}/api/health").status_code == 200


def _non_loopback_address() -> str | None:
    """The address this machine would reach other hosts from (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("203.0.113.1", 9))  # TEST-NET-3, documentation only: nothing is sent
        except OSError:
            return None
        address = sock.getsockname()[0]
    return None if address.startswith("127.") else address
