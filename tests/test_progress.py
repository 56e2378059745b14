"""Long runs say what they are doing on a terminal, and nothing elsewhere.

stderr is a pseudo-terminal here, as in an interactive shell; a pipe (CI,
scripts, the other tests) must get no progress output at all.
"""
from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PGREWRITE = [sys.executable, "-c", "import sys; from pgrewrite.cli import main; sys.argv[0] = 'pgrewrite'; main()"]
SERIES_PHASES = ("pgrewrite series: prefilter", "pgrewrite series: definitions", "pgrewrite series: analysis",
                 "pgrewrite series: preparation", "pgrewrite series: writing patches")


@pytest.fixture
def tree(tmp_path) -> Path:
    t = tmp_path / "tree"
    shutil.copytree(REPO / "sample-tree", t)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "sample"],
                ["git", "config", "user.name", "t"], ["git", "config", "user.email", "t@example.org"]):
        subprocess.run(cmd, cwd=t, env=env, check=True)
    return t


def stderr_on_a_terminal(cmd, cwd: Path, out: Path) -> tuple[int, str]:
    master, slave = pty.openpty()
    with open(out, "wb") as stdout:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=stdout, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:          # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(), b"".join(chunks).decode(errors="replace")


def test_series_names_its_phases_on_a_terminal(tree, tmp_path):
    code, err = stderr_on_a_terminal([*PGREWRITE, "series", ".", "-o", str(tmp_path / "out"), "--no-get-maintainer"],
                                     tree, tmp_path / "stdout")
    assert code == 0, err
    at = [err.find(p) for p in SERIES_PHASES]
    assert -1 not in at and at == sorted(at), err
    # the result is the same as without a terminal
    assert (tmp_path / "stdout").read_text().count(".patch") == len(list((tmp_path / "out").glob("*.patch")))


def test_no_progress_when_stderr_is_not_a_terminal(tree, tmp_path):
    r = subprocess.run([*PGREWRITE, "series", ".", "-o", str(tmp_path / "out"), "--no-get-maintainer"],
                       cwd=tree, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "pgrewrite series:" not in r.stderr and "prefilter" not in r.stderr
    r = subprocess.run([*PGREWRITE, "scan", ".", "--no-cache"], cwd=tree, capture_output=True, text=True)
    assert "pgrewrite:" not in r.stderr and "prefilter" not in r.stderr


def test_scan_names_its_phases_on_a_terminal(tree, tmp_path):
    code, err = stderr_on_a_terminal([*PGREWRITE, "scan", ".", "--no-cache"], tree, tmp_path / "stdout")
    assert code == 0, err
    assert "pgrewrite: prefilter" in err and "pgrewrite: analysis" in err
