"""The package layout: imports only go down, no cycle anywhere, a wheel that works outside the checkout,
and the demo site unchanged by refactoring (a recorded tree hash)."""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "generator"
BIN = Path(sys.executable).parent

# sha256 over (path, sha256 of content) of every file of the demo site built with SOURCE_DATE_EPOCH below.
# Refactoring must leave it as it is; a change that means to change pages updates it (and says so).
DEMO_EPOCH = "1764547200"
# Last changed when the pages' table sections became one macro (_macros.html, table_section): its title is
# escaped as every value is, so the plan page's "sizing rule's" heading now reads "rule&#39;s"; no other byte moved.
DEMO_TREE = "375bfdfe7c124d5683d2e8cfc7e1b842b09c48694cc37ba7976a4404361e7b5e"


def module_graph() -> dict[str, set[str]]:
    """Module → the generator modules it imports, at the top or inside a function (deferred) alike."""
    mods: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "generator":
                deps |= {known(f"{node.module}.{a.name}") if f"{node.module}.{a.name}" in mods else known(node.module)
                         for a in node.names}
            elif isinstance(node, ast.Import):
                deps |= {known(a.name) for a in node.names if a.name.split(".")[0] == "generator"}
        graph[name] = {d for d in deps if d and d not in (name, "generator")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while (w := stack.pop()) != v:
                comp.append(w)
            if comp:
                found.append(sorted([v, *comp]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_deferred_imports_included():
    graph = module_graph()
    assert len(graph) > 50 and "generator.site.pages" in graph["generator.pipeline.build"]
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_only_go_down_the_layers():
    lint = shutil.which("lint-imports", path=str(BIN))
    assert lint, "import-linter is a test dependency (pyproject.toml)"
    result = subprocess.run([lint, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout


def test_no_folder_holds_too_many_modules():
    for folder in [PACKAGE, *[p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__"]]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= 15, f"{folder.relative_to(REPO)} holds {len(modules)} modules"


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def test_the_demo_site_is_byte_identical_to_the_recorded_tree(tmp_path):
    out = tmp_path / "public"
    env = {**os.environ, "SOURCE_DATE_EPOCH": DEMO_EPOCH}
    result = subprocess.run([sys.executable, "-m", "generator", "build", "-q", "-c", str(REPO / "site.toml"), "-o", str(out)],
                            cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert tree_hash(out) == DEMO_TREE


@pytest.mark.skipif(not shutil.which("python", path=str(BIN)), reason="needs the project's virtualenv")
def test_the_wheel_builds_a_new_site_outside_the_checkout(tmp_path):
    wheel_dir = tmp_path / "dist"
    # --no-isolation: the build backend (hatchling) is a test dependency, so no download is needed.
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(wheel_dir), str(REPO)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = wheel_dir.glob("creditwise-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # The dependencies come from this environment's site-packages (a plain path: its .pth files, among
    # them the checkout's editable install, are not processed); Creditwise itself only from the wheel.
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    deps = next(p for p in map(Path, sys.path) if p.name == "site-packages" and (p / "duckdb").is_dir())
    (site_packages / "deps.pth").write_text(f"{deps}\n")
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    cw = str(venv / "bin" / "creditwise")
    where = subprocess.run([venv / "bin" / "python", "-c", "import generator; print(generator.__file__)"], cwd=work,
                           capture_output=True, text=True, env=env, check=True)
    assert where.stdout.startswith(str(venv)), where.stdout
    new = subprocess.run([cw, "new", "mysite"], cwd=work, capture_output=True, text=True, env=env, timeout=120)
    assert new.returncode == 0, new.stderr
    build = subprocess.run([cw, "build", "-q"], cwd=work / "mysite", capture_output=True, text=True, env=env, timeout=300)
    assert build.returncode == 0, build.stderr
    public = work / "mysite" / "public"
    assert (public / "index.html").is_file() and (public / "plan" / "index.html").is_file()
    assert (public / "assets" / "style.css").is_file()
    assert (public / "guides" / "tier-selection" / "index.html").is_file()  # shipped with Creditwise
    own = (public / "guides" / "how-we-use-aethera" / "index.html").read_text(encoding="utf-8")
    assert "80.0%" in own  # the example guide's placeholder, filled from site.toml


def test_new_refuses_a_folder_that_holds_anything(tmp_path):
    from conftest import run_cli

    (tmp_path / "mine.txt").write_text("keep me")
    result = run_cli("new", str(tmp_path))
    assert result.returncode == 2
    assert "already exists and is not empty" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
