"""`creditwise serve` over plain HTTP: only the built site's files, right content types, the 404 page,
no traversal, Server-Sent Events on rebuild, errors that never stop the server, clean exit."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from preview_support import GUIDE, Server, guide_path, make_site, save_like_an_editor

from conftest import REPO


def request(server: Server, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """The raw path goes on the wire as written (no client-side normalising of `..`)."""
    conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=20)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    root = make_site(tmp_path_factory.mktemp("preview-http") / "site")
    (root / "secret.txt").write_text("do not serve me", encoding="utf-8")
    srv = Server(root)
    yield srv
    assert srv.stop() == 0


def test_pages_come_with_the_reload_script_and_no_store(server):
    status, headers, body = request(server, "/guides/house-rules/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert b"Edit before you regenerate" in body
    assert body.count(b'id="creditwise-live-reload"') == 1 and body.index(b"creditwise-live-reload") < body.rindex(b"</body>")
    assert not (server.root / "public").exists()  # serving writes no site, so a built one never holds the script


@pytest.mark.parametrize(("path", "kind"), [
    ("/", "text/html; charset=utf-8"),
    ("/index.html", "text/html; charset=utf-8"),
    ("/assets/style.css", "text/css; charset=utf-8"),
    ("/charts/utilization.svg", "image/svg+xml"),
    ("/api/site.json", "application/json"),
    ("/months/2026-01/daily.svg", "image/svg+xml"),
])
def test_content_types(server, path, kind):
    status, headers, body = request(server, path)
    assert (status, headers["content-type"]) == (200, kind)
    assert int(headers["content-length"]) == len(body) > 0
    assert (b"creditwise-live-reload" in body) == kind.startswith("text/html")  # only HTML is touched


def test_same_bytes_as_a_build_for_everything_but_html(server, tmp_path):
    out = tmp_path / "built"
    result = subprocess.run([sys.executable, "-m", "generator", "build", "-c", str(server.root / "site.toml"), "-o", str(out)],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    for rel in ("assets/style.css", "api/site.json", "charts/utilization.svg"):
        assert request(server, "/" + rel)[2] == (out / rel).read_bytes(), rel
    assert b"creditwise-live-reload" not in (out / "index.html").read_bytes()


def test_missing_paths_get_the_404_page(server):
    for method in ("GET", "HEAD"):
        status, headers, body = request(server, "/no/such/page.html", method)
        assert status == 404 and headers["content-type"] == "text/html; charset=utf-8"
        assert headers["cache-control"] == "no-store"
        assert body == b"" if method == "HEAD" else b"creditwise-live-reload" in body


@pytest.mark.parametrize("path", [
    "/../site.toml", "/%2e%2e/site.toml", "/%2E%2E%2Fsite.toml", "/guides/..%2f..%2fsite.toml",
    "/assets/../../secret.txt", "/..%5csecret.txt", "/%252e%252e/secret.txt", "//etc/passwd",
    "/%2fetc%2fpasswd", "/index.html%00.css", "/%ff", "/secret.txt", "/site.toml", "/exports/2026.csv",
    "/content/guides/house-rules.md", "/themes/default/templates/base.html",
])
def test_nothing_outside_the_built_site_is_served(server, path):
    status, _, body = request(server, path)
    assert status == 404, path
    assert b"do not serve me" not in body and b"[site]" not in body and b"root:" not in body


def test_a_symlink_out_of_the_output_folder_is_not_followed(server):
    out = server.root / "public"
    out.mkdir(exist_ok=True)
    (out / "leak.txt").symlink_to(server.root / "secret.txt")
    try:
        assert request(server, "/leak.txt")[0] == 404  # the site is served from the build in memory, not a folder
    finally:
        (out / "leak.txt").unlink()
        out.rmdir()


def test_folder_without_slash_redirects_and_base_url_path_works(server):
    status, headers, _ = request(server, "/guides/house-rules")
    assert status == 302 and headers["location"] == "/guides/house-rules/"
    assert request(server, "/r/plan/index.html")[2] == request(server, "/plan/index.html")[2]  # base_url is /r/


def test_a_rebuild_is_announced_over_server_sent_events(server):
    conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=20)
    conn.request("GET", "/__creditwise/events")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("content-type") == "text/event-stream"

    def next_build() -> str:
        while True:
            line = resp.fp.readline().decode()
            assert line, "stream ended"
            if line.startswith("data: "):
                return line.removeprefix("data: ").strip()

    first = next_build()
    page = request(server, "/guides/house-rules/")[2]
    assert f'data-build="{first}"'.encode() in page  # a page knows which build it shows
    mark = server.mark()
    save_like_an_editor(guide_path(server.root), GUIDE.replace("Edit before you regenerate", "Prefer edits"))
    second = next_build()
    conn.close()
    assert second != first
    assert b"Prefer edits" in request(server, "/guides/house-rules/")[2]
    server.wait_for(r"guides changed \(content/guides/house-rules\.md\): rebuilding guide pages", after=mark)
    server.wait_for(r"re-rendered \d+ guide pages in \d+ ms", after=mark)


def test_a_broken_start_still_serves_the_error_and_recovers(tmp_path):
    root = make_site(tmp_path / "site")
    config = root / "site.toml"
    good = config.read_text()
    config.write_text(good.replace("[data]", "[dta]"), encoding="utf-8")
    srv = Server(root)
    try:
        status, _, body = request(srv, "/")
        assert status == 503
        assert b'id="creditwise-build-error"' in body and b"site.toml" in body and b"dta" in body
        mark = srv.mark()
        config.write_text(good, encoding="utf-8")
        srv.wait_for(r"built \d+ files", after=mark)
        status, _, body = request(srv, "/")
        assert status == 200 and b"creditwise-build-error" not in body
    finally:
        assert srv.stop() == 0
    assert "Stopped." in srv.lines


def test_a_port_in_use_is_a_clear_error(tmp_path):
    root = make_site(tmp_path / "site")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "generator", "serve", "-c", "site.toml", "--port", str(port)],
                                cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "building" not in result.stdout  # said before building anything
    assert not (Path(root) / "public").exists()
