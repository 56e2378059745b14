"""series/git.py's Scratch builds each commit's tree itself (blobs and the
changed directories hashed in Python, the rest read through one
`git cat-file --batch`): the trees must be exactly the ones git's own index
would write, and the user's repository must not change."""
from __future__ import annotations

import os
import subprocess

import pytest

from pgrewrite.series.git import Git, GitError, Scratch

ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def _git(repo, *args, input=None, env=None):
    return subprocess.run(["git", *args], cwd=repo, input=input, capture_output=True, check=True,
                          env={**os.environ, **ENV, **(env or {})}).stdout


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "linux"
    files = {"Makefile": b"all:\n", "mm/memory.c": b"int a = PAGE_SIZE;\n", "mm/slab.c": b"x\n",
             "include/linux/mm.h": b"#define X PAGE_SIZE\n", "include/linux-x/a.h": b"y\n",
             "include/linux.h": b"z\n", "arch/x86/mm/init.c": b"w\n", "scripts/run": b"#!/bin/sh\n"}
    for name, data in files.items():
        (r / name).parent.mkdir(parents=True, exist_ok=True)
        (r / name).write_bytes(data)
    (r / "scripts" / "run").chmod(0o755)
    _git(r, "init", "-q")
    _git(r, "add", "-A")
    _git(r, "commit", "-qm", "base")
    return r


def _index_tree(repo, base, changes):
    """The tree git's own index writes for `changes` on top of `base`."""
    env = {"GIT_INDEX_FILE": str(repo.parent / "check-index")}
    _git(repo, "read-tree", base, env=env)
    lines = []
    for path, (mode, data) in changes.items():
        oid = _git(repo, "hash-object", "-w", "--stdin", input=data).decode().strip()
        lines.append(f"{mode} {oid}\t{path}")
    _git(repo, "update-index", "--index-info", input=("\n".join(lines) + "\n").encode(), env=env)
    return _git(repo, "write-tree", env=env).decode().strip()


def test_staged_trees_are_the_ones_git_writes(repo):
    base = _git(repo, "rev-parse", "HEAD").decode().strip()
    refs_before = _git(repo, "for-each-ref")
    first = {"mm/memory.c": ("100644", b"int a = PG_SIZE;\n"),
             "include/linux/mm.h": ("100644", b"#define X PTE_SIZE\n"),   # linux/ sorts after linux-x/, linux.h
             "scripts/run": ("100755", b"#!/bin/sh\nexit 0\n")}
    second = {"arch/x86/mm/init.c": ("100644", b"v\n"), "mm/memory.c": ("100644", b"int a = PTE_SIZE;\n")}
    with Scratch(Git(repo, ENV), base) as scratch:
        t1 = scratch.stage(first)
        c1 = scratch.commit(t1, base, "one\n", ENV)
        t2 = scratch.stage(second)             # on top of the first
        assert t1 == _index_tree(repo, base, first)
        assert t2 == _index_tree(repo, base, {**first, **second})
        assert scratch.stage({}) == t2
        assert c1
    # the user's repository: same refs, no objects of the series, the scratch gone
    assert _git(repo, "for-each-ref") == refs_before
    assert subprocess.run(["git", "cat-file", "-e", c1], cwd=repo).returncode != 0


def test_a_path_the_base_does_not_have_is_an_error(repo):
    base = _git(repo, "rev-parse", "HEAD").decode().strip()
    with Scratch(Git(repo, ENV), base) as scratch:
        with pytest.raises(GitError, match="not a file of the base tree"):
            scratch.stage({"mm/new.c": ("100644", b"x\n")})
        with pytest.raises(GitError, match="not a directory of the base tree"):
            scratch.stage({"nowhere/x.c": ("100644", b"x\n")})
