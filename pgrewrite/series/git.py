"""Commits for a series without touching the user's repository.

`Scratch` writes every object into a temporary object directory (the user's
repository is only read, through alternates) and builds the commits' trees
itself, with no index, so building a series never touches the user's
working tree, index or object store. `Git` itself, like every git call, is in pgrewrite/git.py.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path
from typing import Sequence

# series/build.py and commands/series.py take these from here
from ..git import Git, GitError, cannot_run, toplevel  # noqa: F401


class Scratch:
    """Temporary object directory + index on top of a repository.

    A series makes hundreds of commits on a tree of ~90,000 files. Blobs and
    trees are written as loose objects here (the same objects git writes):
    a commit's tree is the parent's with the changed files' directories
    written again, read through one `git cat-file --batch` and hashed here.
    An index (`update-index` + `write-tree` per commit) read its 9 MB shared
    part twice a patch: 19 of a whole-tree series' 46 s."""

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
            # no command here reads an index; one of its own keeps any that
            # would away from the user's
            "GIT_INDEX_FILE": str(self.dir / "index"),
        })
        fmt = repo.out("rev-parse", "--show-object-format").strip()
        self.hash = fmt if fmt in ("sha1", "sha256") else "sha1"
        self.root = self.git.out("rev-parse", f"{base}^{{tree}}").strip()
        self._dirs: dict[bytes, dict[bytes, tuple[bytes, str]]] = {}   # dir -> {name: (mode, oid)}, as of the tip
        self._cat: subprocess.Popen | None = None

    def write_blob(self, data: bytes) -> str:
        """The blob's id; the loose object is written unless already there."""
        return self._write(b"blob", data)

    def _write(self, kind: bytes, data: bytes) -> str:
        raw = kind + b" %d\0" % len(data) + data
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
        """Stage {path: (mode, content)} of files the tree has, on top of
        what was staged before, and return the tree id."""
        dirty: set[bytes] = set()
        for path, (mode, data) in sorted(files.items()):
            d, _, name = path.encode().rpartition(b"/")
            entries = self._entries(d)
            if name not in entries or entries[name][0] == b"40000":
                raise GitError(f"{path}: not a file of the base tree")
            entries[name] = (mode.encode(), self.write_blob(data))
            while True:                       # the directory and those above it
                dirty.add(d)
                if not d:
                    break
                d = d.rpartition(b"/")[0]
        for d in sorted(dirty, key=lambda d: -d.count(b"/") - (1 if d else 0)):
            oid = self._write(b"tree", self._serialise(self._dirs[d]))
            if d:
                parent, _, name = d.rpartition(b"/")
                self._dirs[parent][name] = (b"40000", oid)
            else:
                self.root = oid
        return self.root

    def _entries(self, d: bytes) -> dict[bytes, tuple[bytes, str]]:
        """The entries of directory `d` (b"" the root) as of the tip."""
        got = self._dirs.get(d)
        if got is None:
            if d:
                parent, _, name = d.rpartition(b"/")
                mode, oid = self._entries(parent).get(name, (b"", ""))
                if mode != b"40000":
                    raise GitError(f"{os.fsdecode(d)}: not a directory of the base tree")
            else:
                oid = self.root
            got = self._dirs[d] = self._parse(self._read_tree(oid))
        return got

    def _read_tree(self, oid: str) -> bytes:
        if self._cat is None:
            self._cat = self.git.pipe("cat-file", "--batch")
        self._cat.stdin.write(oid.encode() + b"\n")
        self._cat.stdin.flush()
        header = self._cat.stdout.readline().split()
        if len(header) != 3 or header[1] != b"tree":
            raise GitError(f"git cat-file: {oid} is not a tree")
        data = self._cat.stdout.read(int(header[2]))
        self._cat.stdout.read(1)             # the newline after the object
        return data

    def _parse(self, data: bytes) -> dict[bytes, tuple[bytes, str]]:
        width = hashlib.new(self.hash).digest_size
        out, i = {}, 0
        while i < len(data):
            sp = data.index(b" ", i)
            nul = data.index(b"\0", sp)
            out[data[sp + 1:nul]] = (data[i:sp], data[nul + 1:nul + 1 + width].hex())
            i = nul + 1 + width
        return out

    @staticmethod
    def _serialise(entries: dict[bytes, tuple[bytes, str]]) -> bytes:
        # git's order: by name, a directory's name as if it ended in "/"
        def key(item):
            name, (mode, _) = item
            return name + b"/" if mode == b"40000" else name
        return b"".join(mode + b" " + name + b"\0" + bytes.fromhex(oid)
                        for name, (mode, oid) in sorted(entries.items(), key=key))

    def commit(self, tree: str, parent: str, message: str, env: dict[str, str]) -> str:
        return self.git.out("commit-tree", tree, "-p", parent, "-F", "-",
                            input=message.encode(), env=env).strip()

    def close(self) -> None:
        if self._cat is not None:
            self._cat.stdin.close()
            self._cat.wait()
            self._cat = None
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
