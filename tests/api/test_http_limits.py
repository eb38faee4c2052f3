"""The server's own limits, on the real `allocator serve`: header and body deadlines,
and the connection cap."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.service_process import ServiceProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    running = ServiceProcess(
        tmp_path_factory.mktemp("limits") / "data",
        http_header_timeout_s="1",
        body_timeout_s="1",
        http_max_connections="8",
        fast_workers="0",
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _connect(service: ServiceProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", service.port), timeout=10)


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_slow_headers_are_cut_off(service: ServiceProcess) -> None:
    with _connect(service) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(0.3)
        sock.sendall(b"Host: 127.0.0.1\r\n")  # ...and never the blank line
        assert _read_all(sock) == b"", "closed without an answer"
        assert time.monotonic() - started < 5


def test_silent_connection_is_cut_off(service: ServiceProcess) -> None:
    with _connect(service) as sock:
        started = time.monotonic()
        assert _read_all(sock) == b""
        assert time.monotonic() - started < 5


def test_slow_body_gets_408(service: ServiceProcess) -> None:
    with _connect(service) as sock:
        sock.sendall(
            b"POST /v1/allocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"ALLOCATOR_BODY_TIMEOUT_S" in answer


def test_connection_cap_answers_503_and_health_recovers(service: ServiceProcess) -> None:
    held = [_connect(service) for _ in range(8)]
    try:
        for sock in held:  # each holds a request slot: headers done, body pending
            sock.sendall(
                b"POST /v1/allocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 10\r\n\r\n"
            )
        time.sleep(0.2)
        assert httpx.get(f"{service.url}/healthz", timeout=5).status_code == 503
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.5)
    assert httpx.get(f"{service.url}/healthz", timeout=5).status_code == 200
