"""Publishing survives `kill -9` anywhere: `current` always points at a complete release, pruning never
leaves a half-deleted release in view, and rollback refuses a release that does not match its manifest."""

from __future__ import annotations

import getpass
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_publish import MONTH_2, Site, live, releases, sshd  # noqa: F401 — sshd is a fixture

from conftest import REPO, event, tree_bytes


def complete(release: Path) -> bool:
    """The release holds exactly the files its manifest lists, with those contents."""
    import hashlib

    try:
        files = json.loads((release / "manifest.json").read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return False
    present = {rel: b for rel, b in tree_bytes(release).items() if rel != "manifest.json"}
    return present.keys() == files.keys() and all(hashlib.sha256(b).hexdigest() == files[rel]
                                                   for rel, b in present.items())


def test_rollback_refuses_an_incomplete_release_and_dry_run_changes_nothing(tmp_path):
    site = Site(tmp_path, "target")
    target = tmp_path / "target"
    assert site.publish().returncode == 0
    site.add("m2.csv", MONTH_2)
    assert site.publish().returncode == 0
    first, second = releases(target)

    dry = site.publish("--rollback", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == (f"Dry run: would switch 'current' on {target} from {second} to {first} "
                                  "(nothing was changed)")
    assert live(target) == f"releases/{second}"

    (target / "releases" / first / "teams" / "support" / "index.html").unlink()  # as a killed prune left it
    r = site.publish("--rollback")
    assert r.returncode == 4
    assert f"{target}: releases/{first}: incomplete, not rolled back to: teams/support/index.html is missing" \
        in r.stderr
    assert r.stderr.splitlines()[-1] == ("creditwise publish: refused; nothing was rolled back, "
                                         "the live site is unchanged")
    assert live(target) == f"releases/{second}"


def test_same_content_on_an_incomplete_live_release_is_published_again(tmp_path):
    site = Site(tmp_path, "target")
    target = tmp_path / "target"
    assert site.publish().returncode == 0
    [first] = releases(target)
    (target / "releases" / first / "index.html").write_text("damaged")
    r = site.publish()
    assert r.returncode == 0, r.stderr
    assert f"Release {first} on {target} has this content but is incomplete (index.html differs from its " \
           "manifest): publishing it again." in r.stdout
    assert live(target) != f"releases/{first}" and complete(target / live(target))


def test_leftovers_of_killed_publishes_are_removed_by_the_next_one(tmp_path):
    site = Site(tmp_path, "target")
    target = tmp_path / "target"
    assert site.publish().returncode == 0
    for name in (".incoming-0002-20260101T000000Z-aaaaaaaaaaaa", ".removing-0000-20250101T000000Z-bbbbbbbbbbbb"):
        (target / "releases" / name / "months").mkdir(parents=True)
    site.add("m2.csv", MONTH_2)
    assert site.publish().returncode == 0
    assert not [n for n in os.listdir(target / "releases") if n.startswith(".")]


def test_kill_9_during_publish_and_prune_never_makes_a_broken_release_live(tmp_path):
    """20 publishes with keep = 2 (so each one prunes), killed at random moments: after each, every
    release in view is complete and `current` points at one of them; then rollback and a publish work."""
    site = Site(tmp_path, "target", keep=2)
    target = tmp_path / "target"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "generator", "publish", "--config", str(tmp_path / "site.toml")]
    start = time.perf_counter()
    assert site.publish().returncode == 0
    full = time.perf_counter() - start
    rng = random.Random(3)
    for n in range(20):
        site.add("m2.csv", [*MONTH_2, event(f"k{n}", "2026-02-10T09:00:00Z", n + 1)])  # new content each time
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, full * 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        shown = releases(target)
        assert [r for r in shown if not r.startswith(".") and not complete(target / "releases" / r)] == [], n
        assert live(target).removeprefix("releases/") in shown and complete(target / live(target))
    back = site.publish("--rollback")
    assert back.returncode in (0, 4), back.stderr  # 4 only when no earlier release is left
    assert complete(target / live(target))
    site.add("m2.csv", [*MONTH_2, event("final", "2026-02-11T09:00:00Z", 99)])
    final = site.publish()
    assert final.returncode == 0, final.stderr
    assert complete(target / live(target))
    assert not [n for n in os.listdir(target / "releases") if n.startswith(".")]


def test_rollback_over_ssh_checks_the_release_against_its_manifest(tmp_path, sshd):  # noqa: F811
    port, ssh = sshd
    remote = tmp_path / "remote"
    site = Site(tmp_path / "site", f"ssh://{getpass.getuser()}@127.0.0.1:{port}{remote}")
    env = {"CREDITWISE_SSH": ssh}
    assert site.publish(env=env).returncode == 0
    site.add("m2.csv", MONTH_2)
    assert site.publish(env=env).returncode == 0
    first, second = releases(remote)
    (remote / "releases" / first / "api" / "site.json").unlink()
    (remote / "releases" / first / "index.html").write_text("damaged")
    r = site.publish("--rollback", env=env)
    assert r.returncode == 4, r.stderr
    assert f"releases/{first}: incomplete, not rolled back to: api/site.json is missing" in r.stderr
    assert f"releases/{first}: incomplete, not rolled back to: index.html differs from its manifest" in r.stderr
    assert live(remote) == f"releases/{second}"
