"""Commits for a series without touching the user's repository.

`Scratch` writes every object into a temporary object directory (the user's
repository is only read, through alternates) and uses a temporary index, so
building a series never touches the user's working tree, index or object
store. `Git` itself, like every git call, is in pgrewrite/git.py.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Sequence

# series/build.py and commands/series.py take these from here
from ..git import Git, GitError, cannot_run, toplevel  # noqa: F401


class Scratch:
    """Temporary object directory + index on top of a repository.

    A series makes hundreds of commits on a tree of ~90,000 files: the index
    is a split index (each update writes the few changed entries, not 9 MB
    of them), and blobs are written as loose objects here rather than by
    one `git hash-object` per file (the same objects: what git writes)."""

    SPLIT = ("-c", "core.splitIndex=true")

    def __init__(self, repo: Git, base: str):
        self.repo = repo
        self.dir = Path(tempfile.mkdtemp(prefix="pgrewrite-series-"))
        # a path: bytes as the file system has them (UTF-8 or not)
        objects = os.fsdecode(repo.run("rev-parse", "--path-format=absolute",
                                       "--git-path", "objects").stdout.rstrip(b"\n"))
        (self.dir / "objects").mkdir()
        alternates = [objects]
        if os.environ.get("GIT_ALTERNATE_OBJECT_DIRECTORIES"):
            alternates.append(os.environ["GIT_ALTERNATE_OBJECT_DIRECTORIES"])
        self.git = Git(repo.cwd, {
            **repo.env,
            "GIT_OBJECT_DIRECTORY": str(self.dir / "objects"),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": os.pathsep.join(alternates),
            "GIT_INDEX_FILE": str(self.dir / "index"),
        })
        self.git.run(*self.SPLIT, "read-tree", base)
        fmt = repo.out("rev-parse", "--show-object-format").strip()
        self.hash = fmt if fmt in ("sha1", "sha256") else "sha1"

    def write_blob(self, data: bytes) -> str:
        """The blob's id; the loose object is written unless already there."""
        raw = b"blob %d\0" % len(data) + data
        oid = hashlib.new(self.hash, raw).hexdigest()
        where = self.dir / "objects" / oid[:2]
        path = where / oid[2:]
        if not path.exists():
            where.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=where)
            with os.fdopen(fd, "wb") as fh:
                fh.write(zlib.compress(raw, 1))
            os.replace(tmp, path)
        return oid

    def stage(self, files: dict[str, tuple[str, bytes]]) -> str:
        """Stage {path: (mode, content)} and return the tree id."""
        lines = []
        for path, (mode, data) in sorted(files.items()):
            lines.append(f"{mode} {self.write_blob(data)}\t{path}")
        if lines:
            self.git.run(*self.SPLIT, "update-index", "--index-info",
                         input=("\n".join(lines) + "\n").encode())
        return self.git.out(*self.SPLIT, "write-tree").strip()

    def commit(self, tree: str, parent: str, message: str, env: dict[str, str]) -> str:
        return self.git.out("commit-tree", tree, "-p", parent, "-F", "-",
                            input=message.encode(), env=env).strip()

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Scratch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_blobs(git: Git, base: str, paths: Sequence[str]) -> dict[str, tuple[str, bytes]]:
    """{path: (mode, bytes)} for the paths that exist at `base`."""
    if not paths:
        return {}
    modes: dict[str, str] = {}
    listing = git.run("ls-tree", "-z", base, "--", *paths).stdout
    for rec in listing.split(b"\0"):
        if rec:
            meta, name = rec.split(b"\t", 1)
            mode, kind, _ = meta.decode().split()
            if kind == "blob":
                modes[name.decode()] = mode
    wanted = sorted(modes)
    proc = git.run("cat-file", "--batch",
                   input="".join(f"{base}:{p}\n" for p in wanted).encode())
    out, buf, pos = {}, proc.stdout, 0
    for p in wanted:
        nl = buf.index(b"\n", pos)
        header = buf[pos:nl].decode().split()
        size = int(header[2])
        out[p] = (modes[p], buf[nl + 1:nl + 1 + size])
        pos = nl + 1 + size + 1
    return out
