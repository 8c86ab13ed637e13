"""Where releases live: a directory on this host, or one on another host reached with ssh + rsync.

Both keep the same layout (SPEC §2.1 `[publish]`):

    <target>/releases/<release-id>/   one complete site each, with its manifest.json
    <target>/current -> releases/<id>  the live one; the web server serves <target>/current/

A release is uploaded under a temporary name and renamed into place when complete, and `current` is
switched by renaming a fresh symlink over it, so a reader sees the old site or the new one, never a mix
of the two or a half-copied one.
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from generator.errors import CheckError, ConfigError, Problem
from generator.fileio import sha256_file


@dataclass
class TargetState:
    current: str | None  # name of the release `current` points at
    releases: list[str]  # every entry of releases/ (ours and anything else), sorted by name
    live_manifest: dict | None  # current/manifest.json, parsed


LEFTOVERS = (".incoming-", ".removing-")


class LocalTarget:
    def __init__(self, root: Path):
        self.root = root
        self.label = str(root)

    def _refuse(self, reason: str) -> CheckError:
        return CheckError([Problem(self.label, None, "", reason)])

    def state(self) -> TargetState:
        releases = self.root / "releases"
        try:
            names = sorted(p.name for p in releases.iterdir() if not p.name.startswith(".")) if releases.is_dir() else []
        except OSError as exc:
            raise self._refuse(f"cannot use the target directory: {exc.strerror or exc}") from None
        link = self.root / "current"
        if link.exists() and not link.is_symlink():
            raise self._refuse("'current' is a real file or directory, not a symlink; move it away first")
        current = Path(os.readlink(link)).name if link.is_symlink() else None
        manifest = None
        if (link / "manifest.json").is_file():
            try:
                manifest = json.loads((link / "manifest.json").read_text(encoding="utf-8"))
            except ValueError:
                manifest = None  # unreadable: treat the live release as unknown content
        return TargetState(current, names, manifest)

    def upload(self, site: Path, manifest: bytes, release: str, link_from: str | None) -> None:
        releases = self.root / "releases"
        staging = releases / f".incoming-{release}"
        previous = releases / link_from if link_from else None
        if releases.is_dir():  # what killed publishes left: half-uploaded and half-removed releases
            for leftover in releases.iterdir():
                if leftover.name.startswith(LEFTOVERS):
                    shutil.rmtree(leftover, ignore_errors=True)
        try:
            releases.mkdir(parents=True, exist_ok=True)
            staging.mkdir(mode=0o755)
            os.chmod(staging, 0o755)  # readable by a web server running as another user, whatever the umask
            for src in sorted(site.rglob("*")):
                rel = src.relative_to(site)
                dst = staging / rel
                if src.is_dir():
                    dst.mkdir(mode=0o755)
                    os.chmod(dst, 0o755)
                    continue
                old = previous / rel if previous else None
                if old and old.is_file() and filecmp.cmp(src, old, shallow=False):
                    os.link(old, dst)  # unchanged since the previous release: share it, like rsync --link-dest
                else:
                    shutil.copyfile(src, dst)
                    os.chmod(dst, 0o644)
            (staging / "manifest.json").write_bytes(manifest)
            os.chmod(staging / "manifest.json", 0o644)
            staging.rename(releases / release)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise self._refuse(f"cannot write the release: {exc}") from None

    def activate(self, release: str, remove: list[str]) -> None:
        tmp = self.root / f".current-{os.getpid()}"
        try:
            if tmp.is_symlink() or tmp.exists():
                tmp.unlink()
            os.symlink(f"releases/{release}", tmp)
            os.replace(tmp, self.root / "current")  # rename(2): atomic, readers never see no `current`
        except OSError as exc:
            raise self._refuse(f"cannot switch 'current': {exc}") from None
        for name in remove:  # out of sight first (one rename), then deleted: never a half-deleted release
            gone = self.root / "releases" / f".removing-{name}"
            try:
                (self.root / "releases" / name).rename(gone)
            except OSError:
                continue
            shutil.rmtree(gone, ignore_errors=True)

    def verify(self, release: str) -> list[str]:
        """What is wrong with a release against its manifest.json (empty: it is complete)."""
        folder = self.root / "releases" / release
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            files = manifest["files"]
        except (OSError, ValueError, KeyError, TypeError):
            return ["manifest.json is missing or unreadable"]
        problems = []
        for rel, digest in sorted(files.items()):
            path = folder / rel
            if not path.is_file():
                problems.append(f"{rel} is missing")
            elif sha256_file(path) != digest:
                problems.append(f"{rel} differs from its manifest")
        return problems


class SshTarget:
    """`ssh://[user@]host[:port]/path`: the same layout on another host, uploaded with rsync over ssh.

    The ssh command comes from $CREDITWISE_SSH (default `ssh`), e.g. `ssh -i ~/.ssh/deploy_key`; the
    remote host needs a POSIX shell, GNU coreutils (`mv -T`) and rsync.
    """

    def __init__(self, user: str | None, host: str, port: int | None, path: str, shown: str):
        self.dest = f"{user}@{host}" if user else host
        self.path = path
        self.label = shown
        ssh = shlex.split(os.environ.get("CREDITWISE_SSH") or "ssh")
        # Never wait for a password prompt nobody sees; ssh keeps the first value given, so the user's own win.
        self.ssh = [*ssh, "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", *(["-p", str(port)] if port else [])]

    def _refuse(self, reason: str) -> CheckError:
        return CheckError([Problem(self.label, None, "", reason)])

    def _run(self, script: str, what: str) -> str:
        try:
            run = subprocess.run([*self.ssh, self.dest, script], capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise self._refuse(f"cannot run ssh: {exc}") from None
        if run.returncode:
            detail = _last_line(run.stderr) or f"exit {run.returncode}"
            prefix = "cannot reach the host" if run.returncode == 255 else f"{what} failed on the host"
            raise self._refuse(f"{prefix}: {detail}")
        return run.stdout

    def state(self) -> TargetState:
        script = "\n".join([
            "set -e",
            f"cd {shlex.quote(self.path)} 2>/dev/null || exit 0",
            "if [ -e current ] && [ ! -L current ]; then echo 'not-a-link:'; fi",
            'echo "current:$(readlink current 2>/dev/null || true)"',
            "ls -1 releases 2>/dev/null | sed 's/^/release:/' || true",
            "if [ -f current/manifest.json ]; then echo 'manifest:'; cat current/manifest.json; fi",
        ])
        out = self._run(script, "reading the target")
        head, _, manifest_text = out.partition("manifest:\n")
        lines = head.splitlines()
        if "not-a-link:" in lines:
            raise self._refuse("'current' is a real file or directory, not a symlink; move it away first")
        current = next((ln.removeprefix("current:") for ln in lines if ln.startswith("current:")), "")
        names = sorted(ln.removeprefix("release:") for ln in lines
                       if ln.startswith("release:") and not ln.startswith("release:."))
        try:
            manifest = json.loads(manifest_text) if manifest_text.strip() else None
        except ValueError:
            manifest = None
        return TargetState(Path(current).name if current else None, names, manifest)

    def upload(self, site: Path, manifest: bytes, release: str, link_from: str | None) -> None:
        incoming = f"{self.path}/releases/.incoming-{release}"
        p = shlex.quote(self.path)
        self._run(f"mkdir -p {p}/releases && cd {p}/releases && rm -rf ./.incoming-* ./.removing-*",
                  "creating the releases folder")
        with tempfile.TemporaryDirectory(prefix="creditwise-manifest-") as tmp:
            (Path(tmp) / "manifest.json").write_bytes(manifest)
            # -c: compare contents, not times (every build rewrites every file); no -t, so that an unchanged
            # file is identical in every preserved attribute and --link-dest hard-links it instead of copying.
            cmd = ["rsync", "-rlpc", "--delete", "--chmod=D755,F644", "-e", shlex.join(self.ssh),
                   *([f"--link-dest=../{link_from}"] if link_from else []),
                   f"{site}/", f"{tmp}/manifest.json", f"{self.dest}:{incoming}/"]
            try:
                run = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise self._refuse(f"cannot run rsync: {exc}") from None
        if run.returncode:
            detail = _last_line(run.stderr) or f"exit {run.returncode}"
            raise self._refuse(f"upload failed (rsync exit {run.returncode}): {detail}")
        self._run(f"set -e; cd {p}/releases; mv -T {shlex.quote('.incoming-' + release)} {shlex.quote(release)}",
                  "moving the release into place")

    def activate(self, release: str, remove: list[str]) -> None:
        tmp = shlex.quote(f".current-{os.getpid()}")
        script = (f"set -e; cd {shlex.quote(self.path)}; ln -sfn {shlex.quote('releases/' + release)} {tmp}; "
                  f"mv -T {tmp} current")  # one rename(2) on the host: the switch is atomic there too
        for name in remove:  # out of sight first (one rename), then deleted: never a half-deleted release
            src, gone = shlex.quote(f"releases/{name}"), shlex.quote(f"releases/.removing-{name}")
            script += f"; if [ -d {src} ]; then mv -T {src} {gone} && rm -rf {gone}; fi"
        self._run(script, "switching 'current'")

    def verify(self, release: str) -> list[str]:
        """What is wrong with a release against its manifest.json (empty: it is complete)."""
        folder = shlex.quote(f"{self.path}/releases/{release}")
        out = self._run(f"cat {folder}/manifest.json 2>/dev/null || true", "reading the release's manifest")
        try:
            files = json.loads(out)["files"]
        except (ValueError, KeyError, TypeError):
            return ["manifest.json is missing or unreadable"]
        sums = "".join(f"{digest}  {rel}\n" for rel, digest in sorted(files.items()))
        script = f"cd {folder} && sha256sum -c --quiet 2>/dev/null <<'CREDITWISE_SUMS'\n{sums}CREDITWISE_SUMS\ntrue"
        problems = []
        for line in self._run(script, "checking the release").splitlines():
            rel, _, verdict = line.rpartition(": ")
            if rel:
                problems.append(f"{rel} is missing" if "open or read" in verdict else f"{rel} differs from its manifest")
        return problems


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def parse_target(value: str, config_root: Path, shown_config: str) -> LocalTarget | SshTarget:
    """`[publish].target`: `ssh://[user@]host[:port]/path`, or a directory (relative to site.toml)."""
    def bad(reason: str) -> ConfigError:
        return ConfigError([Problem(shown_config, None, "publish.target", reason)])

    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value):
        parts = urlsplit(value)
        if parts.scheme != "ssh":
            raise bad(f"{value!r}: only ssh:// URLs or a directory are supported")
        try:
            port = parts.port
        except ValueError:
            raise bad(f"{value!r}: the port is not a number") from None
        if not parts.hostname or not parts.path or parts.path == "/":
            raise bad(f"{value!r}: expected ssh://[user@]host[:port]/path")
        return SshTarget(unquote(parts.username) if parts.username else None, parts.hostname, port,
                         unquote(parts.path).rstrip("/"), value)
    root = Path(value).expanduser()
    return LocalTarget(root if root.is_absolute() else config_root / root)
