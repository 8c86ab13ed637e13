"""`creditwise publish`: releases, the atomic switch, rollback, refusals — against a real nginx and sshd.

nginx and sshd are started by these tests on loopback ports and stopped at the end; CI installs them
(.ci/run). Without them (a developer machine) those tests skip, except under CI where they must run.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import BASIC_TOML, REPO, csv_text, event, tree_bytes
from generator.publish.releases import ReleaseId, removals

MONTH_1 = [event("e1", "2026-01-05T10:00:00Z", 30), event("e2", "2026-01-20T10:00:00Z", 25, feature="chat",
                                                          operation="response", team="support")]
MONTH_2 = [event("e3", "2026-02-03T09:00:00Z", 12), event("e4", "2026-02-04T09:00:00Z", 7, feature="compose",
                                                          operation="create", team="marketing")]


def need(binary: str) -> str:
    path = shutil.which(binary) or next((p for p in (f"/usr/sbin/{binary}",) if os.path.exists(p)), None)
    if not path:
        if os.environ.get("CI"):
            pytest.fail(f"{binary} is not installed; .ci/run installs it")
        pytest.skip(f"{binary} is not installed (apt-get install nginx openssh-server rsync)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {log.read_text(errors='replace') if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    pytest.fail(f"server did not listen on {port}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Site:
    def __init__(self, root: Path, target: str, keep: int = 5):
        self.root = root
        (root / "exports").mkdir(parents=True, exist_ok=True)
        (root / "site.toml").write_text(BASIC_TOML + f'\n[publish]\ntarget = "{target}"\nkeep = {keep}\n', encoding="utf-8")
        self.add("m1.csv", MONTH_1)

    def add(self, name: str, rows: list[dict]) -> None:
        (self.root / "exports" / name).write_text(csv_text(rows), encoding="utf-8")

    def publish(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "generator", "publish", "--config", str(self.root / "site.toml"), *args]
        return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                              env={**os.environ, **(env or {})})


def live(target: Path) -> str:
    return os.readlink(target / "current")


def releases(target: Path) -> list[str]:
    return sorted(p.name for p in (target / "releases").iterdir())


# --- a directory on this host ---------------------------------------------------------------


def test_publish_noop_dry_run_rollback_and_keep(tmp_path):
    site = Site(tmp_path, "target", keep=2)
    target = tmp_path / "target"
    r = site.publish()
    assert r.returncode == 0, r.stderr
    [first] = releases(target)
    assert live(target) == f"releases/{first}"
    assert ReleaseId.parse(first).seq == 1
    public = tree_bytes(tmp_path / "public")
    served = tree_bytes(target / "current")
    manifest = served.pop("manifest.json")
    assert served == public  # the release is exactly the built site, plus its manifest
    m = json.loads(manifest)
    assert m["id"] == first and m["creditwise_version"] and m["previous"] is None
    assert set(m["inputs"]) >= {"site.toml", "exports/m1.csv"}
    assert m["files"]["index.html"] == hashlib.sha256(public["index.html"]).hexdigest()
    assert first.endswith(m["content_sha256"][:12])
    assert f"Published release {first}" in r.stdout

    again = site.publish()  # the same content: nothing to do
    assert again.returncode == 0 and "Nothing to publish" in again.stdout
    assert releases(target) == [first]

    site.add("m2.csv", MONTH_2)
    dry = site.publish("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "  upload  months/2026-02/index.html" in dry.stdout and "  upload  assets/style.css" not in dry.stdout
    assert releases(target) == [first] and live(target) == f"releases/{first}"

    second = site.publish()
    assert second.returncode == 0, second.stderr
    _, new = releases(target)
    assert live(target) == f"releases/{new}" and f"(was {first})" in second.stdout
    # Unchanged files are shared with the previous release, not copied.
    assert (target / "releases" / new / "assets/style.css").stat().st_ino == \
        (target / "releases" / first / "assets/style.css").stat().st_ino

    back = site.publish("--rollback")
    assert back.returncode == 0, back.stderr
    assert live(target) == f"releases/{first}" and f"live is now {first} (was {new})" in back.stdout
    assert site.publish("--rollback").returncode == 4  # nothing before the first release
    assert live(target) == f"releases/{first}"

    # Publishing after a rollback drops the rolled-back release; keep = 2 keeps the live and previous only.
    site.add("m2.csv", [*MONTH_2, event("e5", "2026-02-05T09:00:00Z", 3)])
    assert site.publish().returncode == 0
    third = releases(target)
    assert len(third) == 2 and third[0] == first and new not in third and ReleaseId.parse(third[1]).seq == 3
    site.add("m2.csv", [*MONTH_2, event("e5", "2026-02-05T09:00:00Z", 4)])
    assert site.publish().returncode == 0
    assert [ReleaseId.parse(n).seq for n in releases(target)] == [3, 4]


def test_removals_never_touch_live_or_previous():
    r = [ReleaseId(n, "20260101T000000Z", f"{n:012x}") for n in range(1, 7)]
    assert removals(r[:5], r[4], r[5], keep=3) == r[:3]
    assert removals(r[:5], r[1], r[5], keep=1) == [r[2], r[3], r[4], r[0]]  # rolled back to 2: 3-5 go, 2 stays
    assert removals([], None, r[0], keep=1) == []


def test_failures_leave_the_live_site_alone(tmp_path):
    site = Site(tmp_path, "target")
    target = tmp_path / "target"
    assert site.publish().returncode == 0
    before = (live(target), releases(target), tree_bytes(target))

    site.add("bad.csv", [event("x1", "not a time", 5)])  # a failed build
    r = site.publish()
    assert r.returncode == 3
    assert "bad.csv:2: timestamp" in r.stderr
    assert r.stderr.splitlines()[-1] == "creditwise publish: stopped by 1 data error; nothing was published, " \
                                        "the live site is unchanged"
    (tmp_path / "exports" / "bad.csv").unlink()

    # A failed check: a theme of the site's own with a broken link.
    shutil.copytree(REPO / "themes" / "default", tmp_path / "themes" / "default")
    base = tmp_path / "themes" / "default" / "templates" / "base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("</main>", '<a href="{{ root }}nowhere/">x</a></main>'),
                    encoding="utf-8")
    site.add("m2.csv", MONTH_2)
    r = site.publish()
    assert r.returncode == 4
    assert 'index.html:' in r.stderr and 'href="nowhere/": no such file in the site: nowhere/' in r.stderr
    assert r.stderr.splitlines()[-1].startswith("creditwise publish: refused; nothing was published")
    shutil.rmtree(tmp_path / "themes")

    # An unreachable target (nothing listens on the port).
    (tmp_path / "site.toml").write_text(BASIC_TOML + f'\n[publish]\ntarget = "ssh://127.0.0.1:{free_port()}/srv/r"\n',
                                        encoding="utf-8")
    r = site.publish()
    assert r.returncode == 4
    assert "cannot reach the host" in r.stderr
    assert (live(target), releases(target), tree_bytes(target)) == before

    (tmp_path / "site.toml").write_text(BASIC_TOML, encoding="utf-8")
    r = site.publish()
    assert r.returncode == 2 and "publish.target: not set" in r.stderr
    (tmp_path / "site.toml").write_text(BASIC_TOML + '\n[publish]\ntarget = "public/live"\n', encoding="utf-8")
    r = site.publish()
    assert r.returncode == 2 and "overlaps the build output" in r.stderr


# --- nginx serving <target>/current under base_url ---------------------------------------------


@pytest.fixture
def nginx(tmp_path):
    binary = need("nginx")

    def start(target: Path, prefix: str = "/r/") -> int:
        port = free_port()
        d = tmp_path / "nginx"
        d.mkdir()
        temp_paths = "\n".join(f"  {k}_temp_path {d}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # `user root;`: the workers would otherwise run as nobody and not read pytest's 0700 temp dirs.
        # No open_file_cache: it would keep serving files of the old release after `current` switches.
        (d / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
  include /etc/nginx/mime.types;
  access_log off;
{temp_paths}
  server {{
    listen 127.0.0.1:{port};
    location {prefix} {{
      alias {target}/current/;
      error_page 404 {prefix}404.html;
    }}
  }}
}}
""", encoding="utf-8")
        proc = subprocess.Popen([binary, "-c", str(d / "nginx.conf"), "-p", str(d), "-e", str(d / "error.log")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        wait_for_port(port, proc, d / "error.log")
        return port

    procs: list[subprocess.Popen] = []
    yield start
    for p in procs:
        stop(p)


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes, str]:
    conn.request("GET", path)
    resp = conn.getresponse()
    return resp.status, resp.read(), resp.getheader("Content-Type", "")


def test_nginx_serves_the_release_and_switches_without_a_failed_request(tmp_path, nginx):
    site = Site(tmp_path, "target")
    target = tmp_path / "target"
    assert site.publish().returncode == 0
    first = live(target)
    port = nginx(target)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    files = tree_bytes(target / "current")
    for rel, body in files.items():
        status, got, ctype = get(conn, f"/r/{rel}")
        assert (status, got) == (200, body), rel
        if rel.endswith(".css"):
            assert ctype.startswith("text/css")
    assert get(conn, "/r/")[:2] == (200, files["index.html"])
    assert get(conn, "/r/months/2026-01/")[:2] == (200, files["months/2026-01/index.html"])
    status, body, _ = get(conn, "/r/no/such/page/")
    assert status == 404
    assert body == files["404.html"]  # the site's own 404 page, served by the error_page line of the README

    # Requests in a loop (bounded in count and time, loopback only) while a publish and a rollback happen.
    paths = [rel for rel in files if rel != "manifest.json"]
    seen: list[tuple[str, int, str]] = []
    done = threading.Event()

    def loop() -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        deadline = time.monotonic() + 60
        i = 0
        while not done.is_set() and time.monotonic() < deadline and i < 200_000:
            rel = paths[i % len(paths)]
            try:
                status, body, _ = get(c, f"/r/{rel}")
                seen.append((rel, status, hashlib.sha256(body).hexdigest()))
            except (OSError, http.client.HTTPException) as exc:
                seen.append((rel, -1, repr(exc)))
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            i += 1

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + 30
        while len(seen) < n and worker.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(seen) >= n, "the request loop stalled"

    worker = threading.Thread(target=loop)
    worker.start()
    try:
        wait_for(200)
        site.add("m2.csv", MONTH_2)
        assert site.publish().returncode == 0
        second = live(target)
        assert get(conn, "/r/index.html")[1] == (target / second / "index.html").read_bytes()
        wait_for(len(seen) + 200)
        assert site.publish("--rollback").returncode == 0
        assert live(target) == first
        wait_for(len(seen) + 200)
    finally:
        done.set()
        worker.join()

    def digests(rel_release: str) -> dict[str, str]:
        return {rel: hashlib.sha256(b).hexdigest() for rel, b in tree_bytes(target / rel_release).items()}

    one, two = digests(first), digests(second)
    # A page that only one release has (a team with no usage in the new month, say) is a
    # correct 404 while the other release is live; anything else must be a 200.
    only_one = set(one) ^ set(two)
    failed = [s for s in seen if s[1] != 200 and not (s[1] == 404 and s[0] in only_one)]
    mixed = [s for s in seen if s[1] == 200 and s[2] not in (one.get(s[0]), two.get(s[0]))]
    assert failed == [] and mixed == []
    which = Counter("both" if one[rel] == two.get(rel) else ("first" if h == one[rel] else "second")
                    for rel, status, h in seen if status == 200)
    assert which["first"] > 0 and which["second"] > 0  # the loop really saw both releases
    print(f"request loop: {len(seen)} requests, {dict(which)}")


# --- sshd + rsync on loopback ----------------------------------------------------------------


@pytest.fixture
def sshd(tmp_path):
    binary = need("sshd")
    need("rsync")
    d = tmp_path / "ssh"
    d.mkdir()
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    port = free_port()
    (d / "sshd_config").write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {d}/host_key
PidFile {d}/sshd.pid
AuthorizedKeysFile {d}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
""")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    proc = subprocess.Popen([binary, "-D", "-e", "-f", str(d / "sshd_config")], stdout=subprocess.DEVNULL,
                            stderr=open(d / "sshd.log", "w"))  # noqa: SIM115 — closed with the process
    wait_for_port(port, proc, d / "sshd.log")
    ssh = f"ssh -i {d}/client_key -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null " \
          "-o LogLevel=ERROR"
    yield port, ssh
    stop(proc)


def test_publish_and_rollback_over_ssh(tmp_path, sshd):
    port, ssh = sshd
    remote = tmp_path / "remote"
    site = Site(tmp_path / "site", f"ssh://{getpass.getuser()}@127.0.0.1:{port}{remote}")
    env = {"CREDITWISE_SSH": ssh}
    r = site.publish(env=env)
    assert r.returncode == 0, r.stderr
    first = live(remote)
    served = tree_bytes(remote / "current")
    assert f"releases/{json.loads(served.pop('manifest.json'))['id']}" == first
    assert served == tree_bytes(tmp_path / "site" / "public")

    site.add("m2.csv", MONTH_2)
    dry = site.publish("--dry-run", env=env)
    assert dry.returncode == 0 and "  upload  months/2026-02/index.html" in dry.stdout
    assert live(remote) == first and len(releases(remote)) == 1

    bad_key = site.publish(env={"CREDITWISE_SSH": ssh.replace("client_key", "no_such_key")})
    assert bad_key.returncode == 4 and "cannot reach the host" in bad_key.stderr
    assert live(remote) == first and len(releases(remote)) == 1

    r = site.publish(env=env)
    assert r.returncode == 0, r.stderr
    second = live(remote)
    assert second != first and len(releases(remote)) == 2
    assert tree_bytes(remote / "current").keys() - {"manifest.json"} == tree_bytes(tmp_path / "site" / "public").keys()
    # rsync --link-dest: an unchanged file is a hard link to the previous release's copy.
    assert (remote / second / "assets/style.css").stat().st_ino == (remote / first / "assets/style.css").stat().st_ino
    assert not any(n.startswith(".") for n in os.listdir(remote / "releases"))

    r = site.publish("--rollback", env=env)
    assert r.returncode == 0, r.stderr
    assert live(remote) == first
