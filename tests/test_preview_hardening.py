"""The preview server under hostile or careless clients: only loopback Host names, a backlog for bursts,
a timeout for silent clients, no traceback when a client resets, and the base path without its slash."""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from preview_support import Server, make_site

from generator.serve.server import CLIENT_TIMEOUT, loopback_host


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    srv = Server(make_site(tmp_path_factory.mktemp("preview-hardening") / "site"))
    yield srv
    assert srv.stop() == 0


def get(server: Server, path: str, host: str | None = None, timeout: float = 20) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=timeout)
    try:
        conn.putrequest("GET", path, skip_host=host is not None)
        if host is not None:
            conn.putheader("Host", host)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.nip.io", "localhost.evil.com",
                                  "192.168.1.10", "[::2]:8000"])
def test_a_host_that_is_not_loopback_is_refused(server, host):
    status, _, body = get(server, "/api/site.json", host=host)
    assert status == 421 and b"only to localhost and 127.0.0.1" in body


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST:{port}", "127.0.0.1:{port}", "[::1]:{port}"])
def test_loopback_hosts_are_served(server, host):
    port = urlsplit(server.url).port
    status, _, body = get(server, "/api/site.json", host=host.format(port=port))
    assert status == 200 and body.startswith(b"{")


@given(st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}(:[0-9]{1,5})?", fullmatch=True))
def test_only_localhost_names_pass(host):
    name = host.partition(":")[0]
    assert loopback_host(host) == (name == "localhost" or name.endswith(".localhost"))


def test_a_request_without_host_is_not_a_browsers_and_is_served(server):
    addr = (urlsplit(server.url).hostname, urlsplit(server.url).port)
    with socket.create_connection(addr, timeout=20) as s:
        s.sendall(b"GET /api/site.json HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_the_base_path_without_its_slash_redirects(server):
    status, headers, _ = get(server, "/r")  # BASIC_TOML: base_url = "/r/"
    assert status == 302 and headers["location"] == "/r/"
    assert get(server, "/r/")[0] == 200


def test_a_burst_of_200_connections_is_answered(server):
    results: list[int | str] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            status = get(server, "/assets/style.css", timeout=30)[0]
        except OSError as exc:
            status = type(exc).__name__
        with lock:
            results.append(status)

    threads = [threading.Thread(target=one) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(200) == 200, {r: results.count(r) for r in set(results)}


def test_a_silent_client_is_let_go_and_a_reset_prints_nothing(server):
    addr = (urlsplit(server.url).hostname, urlsplit(server.url).port)
    mark = server.mark()
    silent = socket.create_connection(addr)
    silent.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes its headers
    silent.settimeout(CLIENT_TIMEOUT + 10)
    start = time.monotonic()
    while silent.recv(1024):  # the server answers (or not) and closes: recv then returns b""
        pass  # (without a timeout it would wait forever and this recv would raise TimeoutError)
    assert time.monotonic() - start < CLIENT_TIMEOUT + 5
    silent.close()
    for _ in range(5):  # reset in the middle of a response: SO_LINGER 0 sends RST on close
        s = socket.create_connection(addr)
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    time.sleep(1)
    assert get(server, "/")[0] == 200
    said = "\n".join(server.lines[mark:])
    assert "Traceback" not in said and "ConnectionResetError" not in said and "BrokenPipe" not in said, said
