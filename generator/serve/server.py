"""The preview's HTTP server: the last complete build, from memory, on 127.0.0.1.

Files are served from the in-memory file map of the last good build (`Snapshot`), never from the file
system: a rebuild makes a new map and swaps it in by reference, so a response is always from one
complete build, and there is no directory to escape from and no symlink to follow. Paths that try
(`..`, encoded or not, backslashes, NUL) are refused with the 404 page all the same.

Requests that arrive while a rebuild runs wait for it (up to REQUEST_WAIT seconds, then they get the
previous complete build), so a page loaded right after a save is never the stale one. Served HTML
gets the live-reload script, and the error overlay while the latest build is failing
(`preview_inject`); everything is sent with `Cache-Control: no-store` so a reload is never answered
from the browser cache.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
import socketserver
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from generator.errors import Problem
from generator.serve.inject import EVENTS_PATH, fallback_page, inject

HOST = "127.0.0.1"
REQUEST_WAIT = 30.0
CLIENT_TIMEOUT = 10.0  # a client that sends nothing for this long loses its connection (and thread)
BACKLOG = 256  # connections waiting to be accepted (socketserver's default of 5 dropped a burst of 200)
KEEPALIVE = 15.0  # seconds between SSE comments; a write to a closed tab ends its thread
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".json": "application/json", ".svg": "image/svg+xml", ".xml": "application/xml",
         ".csv": "text/csv; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".png": "image/png",
         ".ico": "image/x-icon", ".woff2": "font/woff2", ".webmanifest": "application/manifest+json"}
BY_NAME = {"feed.xml": "application/atom+xml; charset=utf-8"}


@dataclass(frozen=True)
class Snapshot:
    build_id: str
    files: Mapping[str, bytes]  # the last good build; empty until one succeeds
    problems: tuple[Problem, ...] = ()  # why the latest build failed; empty when it succeeded


class PreviewState:
    """The snapshot being served, and who is waiting for the next one."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._run = secrets.token_hex(4)  # new each server run, so open pages reload after a restart
        self._count = 0
        self._snapshot = Snapshot(f"{self._run}-0", {})
        self._building = True  # the first build is about to start
        self.closed = False

    def begin(self) -> None:
        with self._cond:
            self._building = True

    def publish(self, files: Mapping[str, bytes] | None, problems: list[Problem]) -> Snapshot:
        """Swap in a finished build (or, with `files` None, keep the last good one and show `problems`)."""
        with self._cond:
            self._count += 1
            keep = self._snapshot.files if files is None else files
            self._snapshot = Snapshot(f"{self._run}-{self._count}", keep, tuple(problems))
            self._building = False
            self._cond.notify_all()
            return self._snapshot

    def current(self, wait: float = REQUEST_WAIT) -> Snapshot:
        with self._cond:
            self._cond.wait_for(lambda: not self._building or self.closed, timeout=wait)
            return self._snapshot

    def after(self, seen: str | None, timeout: float) -> Snapshot:
        """The snapshot once its id is no longer `seen` (or after `timeout`, or at close)."""
        with self._cond:
            self._cond.wait_for(lambda: self._snapshot.build_id != seen or self.closed, timeout=timeout)
            return self._snapshot

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def site_path(url_path: str, base_path: str = "/") -> str | None:
    """The file of the site a request path names ("" for the root), or None if it cannot name one.

    The site also answers under its base_url path (e.g. /reports/), where 404.html's absolute links point."""
    try:
        decoded = unquote(url_path, errors="strict")
    except UnicodeDecodeError:
        return None
    if not decoded.startswith("/") or "\\" in decoded or "\0" in decoded:
        return None
    parts = decoded.split("/")[1:]
    if any(p in (".", "..") for p in parts) or any(p == "" for p in parts[:-1]):
        return None  # a dot segment, or `//` (which some servers would read as an absolute path)
    base = [p for p in base_path.split("/") if p]
    if base and parts[:len(base)] == base and len(parts) > len(base):
        parts = parts[len(base):]
    path = "/".join(parts)
    return path + "index.html" if path == "" or path.endswith("/") else path


def loopback_host(host: str | None) -> bool:
    """Whether a Host header names this machine's loopback: `localhost` (and `*.localhost`), 127.0.0.0/8
    or [::1], with any port. Any other name may be a DNS rebinding page reading the preview; a request
    without Host (not a browser's) is let through."""
    if host is None:
        return True
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name == "::1" and (rest == "" or re.fullmatch(r":\d{1,5}", rest) is not None)
    name, _, port = host.partition(":")
    if port and not re.fullmatch(r"\d{1,5}", port):
        return False
    name = name.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    parts = name.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)


def content_type(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return BY_NAME.get(name) or TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True  # an open reload connection never keeps the process alive
    request_queue_size = BACKLOG

    def __init__(self, port: int, state: PreviewState, base_path: str = "/"):
        self.state, self.base_path = state, base_path
        super().__init__((HOST, port), PreviewHandler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skip HTTPServer's reverse DNS lookup of the host
        self.server_name, self.server_port = HOST, self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_port}/"

    def handle_error(self, request, client_address) -> None:
        """A browser that closes or resets its connection is no error worth a traceback."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class PreviewHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "creditwise-preview"
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for the client's
    # delayed ACK (~40 ms per response on a kept-alive connection): a reload would take 100 ms longer.
    disable_nagle_algorithm = True
    timeout = CLIENT_TIMEOUT  # a slow or silent client cannot hold a thread forever
    server: PreviewServer

    def log_message(self, format: str, *args) -> None:  # the terminal shows rebuilds, not every request
        pass

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        if not loopback_host(self.headers.get("Host")):
            self.close_connection = True
            self._send(HTTPStatus.MISDIRECTED_REQUEST, "text/plain; charset=utf-8",
                       b"This preview answers only to localhost and 127.0.0.1.\n", head)
            return
        url_path = urlsplit(self.path).path
        if url_path.rstrip("/") == self.server.base_path.rstrip("/") != "" and not url_path.endswith("/"):
            self._redirect(url_path + "/")  # /reports -> /reports/, where the site's relative links work
            return
        if url_path == EVENTS_PATH and not head:
            self._events()
            return
        snap = self.server.state.current()
        rel = site_path(url_path, self.server.base_path)
        if not snap.files:  # no good build yet: every page is the overlay
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, "text/html; charset=utf-8",
                       inject(fallback_page("Not built yet", "The site has not built yet."), snap.build_id,
                              snap.problems, have_site=False), head)
            return
        body = snap.files.get(rel) if rel is not None else None
        if body is None and rel is not None and f"{rel}/index.html" in snap.files:
            self._redirect(url_path + "/")  # relative links need the trailing slash
            return
        if body is None:
            status, rel = HTTPStatus.NOT_FOUND, "404.html"
            body = snap.files.get(rel) or fallback_page("Not found", "There is no such page in this site.")
        else:
            status = HTTPStatus.OK
        kind = content_type(rel)
        if kind.startswith("text/html"):
            body = inject(body, snap.build_id, snap.problems)
        self._send(status, kind, body, head)

    def _send(self, status: HTTPStatus, kind: str, body: bytes, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.FOUND)  # not 301: browsers would remember it past this preview
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def _events(self) -> None:
        """Server-Sent Events: the id of the build being served, now and after every rebuild."""
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        state, seen = self.server.state, None
        try:
            self.wfile.write(b"retry: 500\n\n")  # reconnect quickly after a server restart
            while not state.closed:
                snap = state.after(seen, KEEPALIVE)
                if state.closed:
                    break
                if snap.build_id != seen:
                    seen = snap.build_id
                    self.wfile.write(f"event: build\ndata: {seen}\n\n".encode())
                else:
                    self.wfile.write(b": still here\n\n")
                self.wfile.flush()
        except OSError:  # the tab went away
            pass
