"""Issue 15, finding 5: a file or directory the prefilter cannot read is never
silently left out. A tracked file git grep cannot read is a failed file
with its reason, an unreadable directory an input problem, and the exit
code is 4, in `scan`, `apply` and `series`, with and without git and the
cache.

The runs are real processes that cannot read a mode-000 file: as root,
under setpriv without root's read override (root reads anything otherwise).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from pgrewrite.files import Unreadable

from .test_robustness_support import c_file, run_cli
from .test_series import FILES, make_tree


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"), "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_SYSTEM": "/dev/null"}


def tree_with_unreadable(root: Path, git: bool) -> Path:
    """mm/good.c, a tracked mm/secret.c (mode 000) and an untracked directory
    mm/closed/ (mode 000) holding another file with family names."""
    if git:
        files = {**FILES, "mm/good.c": c_file(0).decode(), "mm/secret.c": c_file(1).decode()}
        make_tree(root, files, history=())
    else:
        (root / "mm").mkdir(parents=True)
        (root / "mm/good.c").write_bytes(c_file(0))
        (root / "mm/secret.c").write_bytes(c_file(1))
    (root / "mm/closed").mkdir()
    (root / "mm/closed/inside.c").write_bytes(c_file(2))
    (root / "mm/secret.c").chmod(0)
    (root / "mm/closed").chmod(0)
    return root


FILE_LINE = "mm/secret.c: error: permission denied; make the file readable to include it"
DIR_LINE = ("mm/closed: error: cannot read this directory (Permission denied): files in it were not "
            "scanned; make it readable to include them")


@pytest.mark.parametrize("git", [True, False], ids=["git", "no-git"])
def test_scan_counts_what_it_cannot_read(tmp_path, unprivileged, env, git):
    tree = tree_with_unreadable(tmp_path / "tree", git)
    try:
        # without the cache, then twice with it (the second run answers from it)
        for cache in (["--no-cache"], ["--cache-dir", str(tmp_path / "c")], ["--cache-dir", str(tmp_path / "c")]):
            r = run_cli(unprivileged, ["scan", "mm", "-j1", *cache], tree, env)
            assert r.returncode == 4, r.stderr + r.stdout
            lines = r.stdout.splitlines() + r.stderr.splitlines()
            assert FILE_LINE in lines
            assert DIR_LINE in lines
            assert "1 files failed" in r.stdout
            assert "mm/good.c:7:" in r.stdout                 # the other files were scanned
    finally:
        (tree / "mm/closed").chmod(0o755)


def test_apply_and_series_say_so_too(tmp_path, unprivileged, env):
    tree = tree_with_unreadable(tmp_path / "tree", git=True)
    (tree / "mm/closed").chmod(0o755)
    (tree / "mm/closed/inside.c").unlink()
    (tree / "mm/closed").rmdir()
    r = run_cli(unprivileged, ["apply", "mm", "-j1", "--no-cache"], tree, env)
    assert r.returncode == 4, r.stderr
    assert FILE_LINE in r.stderr.splitlines()
    assert b"PTE_SHIFT" in (tree / "mm/good.c").read_bytes()        # the readable file was rewritten
    (tree / "mm/good.c").write_bytes(c_file(0))
    r = run_cli(unprivileged, ["series", "mm", "-j1", "-o", str(tmp_path / "out"), "--no-get-maintainer"], tree, env)
    assert r.returncode == 4, r.stderr
    assert "  mm/secret.c: permission denied; make the file readable to include it" in r.stderr.splitlines()
    assert (tmp_path / "out/0000-cover-letter.patch").exists()


def test_what_git_says_it_cannot_read():
    """git's messages (LC_ALL=C) name paths from the top level of the work
    tree; anything it says that is not about an unreadable path makes its
    answer unusable (the caller then reads every file)."""
    top = Path("/t/linux/mm")
    u = Unreadable()
    assert u.git_stderr(b"error: failed to stat 'mm/sub/we ird'x.c': Permission denied\n"
                        b"error: failed to stat 'mm/Makefile': Permission denied\n"
                        b"warning: could not open directory 'mm/closed/': Permission denied\n"
                        b"warning: unable to access 'mm/shut/.gitattributes': Permission denied\n"
                        b"warning: unable to access '/root/.config/git/attributes': Permission denied\n",
                        top, "mm/")
    assert u.files == {top / "sub/we ird'x.c"}            # Makefile is not a source file
    assert u.dirs == {"/t/linux/mm/closed": "Permission denied", "/t/linux/mm/shut": "Permission denied"}
    assert not Unreadable().git_stderr(b"fatal: something else\n", top, "mm/")
    assert Unreadable().git_stderr(b"", top, "mm/")


def test_series_names_an_unreadable_directory(tmp_path, unprivileged, env):
    tree = tree_with_unreadable(tmp_path / "tree", git=True)
    try:
        r = run_cli(unprivileged, ["series", "mm", "-j1", "-o", str(tmp_path / "out"), "--no-get-maintainer"], tree, env)
    finally:
        (tree / "mm/closed").chmod(0o755)
    assert r.returncode == 4, r.stderr
    assert DIR_LINE in r.stderr.splitlines()
