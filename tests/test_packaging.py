"""An installed pgrewrite works outside the checkout.

The wheel is built from a copy of the checkout (so the build leaves nothing
in it), installed with its pinned dependencies into a fresh venv (pip as the
machine has it set up: the index, the local wheel cache), and run from
directories that have nothing to do with the checkout: the shipped rules,
schemas and fixtures must come from inside the installed package.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pgrewrite import __version__

REPO = Path(__file__).resolve().parent.parent
# left out of the copy the wheel is built from: what the checkout makes, not what it ships
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "out", "build", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".hypothesis", ".pgrewrite-cache")

pytestmark = pytest.mark.slow


def run(cmd, cwd, env, check=True):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True)
    if check and r.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def git_tree(src: Path, to: Path) -> Path:
    shutil.copytree(src, to)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "sample tree"]):
        subprocess.run(cmd, cwd=to, env=env, check=True)
    return to


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    """(the venv's pgrewrite, the environment to run it in)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, symlinks=True, ignore=NOT_SOURCE)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["XDG_CACHE_HOME"] = str(tmp / "cache")          # the result cache too stays out of the checkout
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp / "dist", src], tmp, env)
    wheels = list((tmp / "dist").glob("pgrewrite-*.whl"))
    assert len(wheels) == 1, wheels
    run([sys.executable, "-m", "venv", tmp / "venv"], tmp, env)
    run([tmp / "venv" / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         wheels[0]], tmp, env)
    shutil.rmtree(src)                                  # nothing may still point into a source tree
    return tmp / "venv" / "bin" / "pgrewrite", env


def test_wheel_ships_rules_schemas_and_fixtures(installed):
    exe, env = installed
    where = run([exe.parent / "python", "-c",
                 "import pgrewrite, pathlib; print(pathlib.Path(pgrewrite.__file__).parent)"],
                exe.parent, env).stdout.strip()
    package = Path(where)
    assert package.is_relative_to(exe.parent.parent), package      # the venv's copy, not the checkout
    rules = package / "semantic-rules"
    assert not rules.is_symlink() and not (package / "fixtures").is_symlink()
    for name in ("family.yaml", "clashes.yaml", "schema.json", "clashes.schema.json", "README.md"):
        assert (rules / name).is_file(), name
    shipped = sorted(p.relative_to(rules) for p in rules.rglob("*") if p.is_file())
    source = sorted(p.relative_to(REPO / "semantic-rules") for p in (REPO / "semantic-rules").rglob("*")
                    if p.is_file())
    assert shipped == source
    assert (package / "fixtures").is_dir()


def test_version(installed):
    exe, env = installed
    assert run([exe, "--version"], exe.parent, env).stdout == f"pgrewrite, version {__version__}\n"


def test_test_runs_the_shipped_rules_and_fixtures_from_anywhere(installed, tmp_path):
    exe, env = installed
    out = run([exe, "test"], tmp_path, env).stdout
    assert out.endswith(": 0 problem(s)\n"), out
    n_fixtures = len([p for p in (REPO / "fixtures").iterdir() if p.is_dir()])
    assert f", {n_fixtures} fixtures:" in out


def test_scan_and_series_on_the_sample_tree(installed, tmp_path):
    exe, env = installed
    tree = git_tree(REPO / "sample-tree", tmp_path / "tree")
    scan = run([exe, "scan", "."], tree, env, check=False)
    assert scan.returncode == 0, scan.stderr
    # the same verdicts as the checkout's own pgrewrite on the same tree
    here = run([REPO / ".venv" / "bin" / "pgrewrite", "scan", ".", "--no-cache"], tree, env, check=False) \
        if (REPO / ".venv" / "bin" / "pgrewrite").exists() else None
    if here is not None:
        assert scan.stdout == here.stdout
    assert "pte: PAGE_SIZE -> PTE_SIZE" in scan.stdout and "pg: PAGE_SIZE -> PG_SIZE" in scan.stdout
    # a path inside the tree, run from a subdirectory
    sub = run([exe, "scan", "memory.c"], tree / "mm", env, check=False)
    assert sub.returncode == 0 and sub.stdout.startswith("memory.c:"), sub.stdout + sub.stderr

    series = run([exe, "series", ".", "-o", tmp_path / "series"], tree, env)
    patches = sorted(p.name for p in (tmp_path / "series").glob("*.patch"))
    assert patches[0] == "0000-cover-letter.patch" and len(patches) > 2, patches
    assert "git am" in series.stdout + series.stderr
    # the series applies to the tree it was made from
    run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "am", "-q", "--empty=drop",
         *sorted((tmp_path / "series").glob("*.patch"))], tree, env)
