"""One walk of a directory: every source file in it, with its stat key.

The prefilter (files.py) walks each directory the user names, the
definition index (collisions.py) the whole tree from its root; a run makes
each walk once (`Snapshot`) and the root's walk reuses the walks of the
directories under it, so no file is stat()ed twice. The fingerprint of a
snapshot (a digest of every path, kind and stat key) is what a store
compares to know that nothing under the directory changed since a run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import cachefile
from .store import NO_STAT, stat_key, stat_of

SOURCE_SUFFIXES = (".c", ".h", ".S", ".s", ".lds")
# the files of the include graph (collisions.py)
GRAPH_SUFFIXES = (".h", ".c", ".S")

# kinds of entry: a file that is not a symbolic link; a symbolic link to
# something else than a directory; a symbolic link to a directory
FILE, LINK, DIR_LINK = 0, 1, 2


@dataclass
class Snapshot:
    """The walk of `top`: (path string, kind, stat key) of every file named
    like a source file, dot directories and symbolic links to directories
    not entered. A FILE's key is its lstat (None if that failed); a LINK's
    or DIR_LINK's the stat of its target (None if it has none). Entries are
    in the order of a depth-first walk from a stack, each directory's in
    os.scandir order. Directories that could not be listed: `unlisted`
    (path -> reason)."""

    top: str
    entries: list[tuple[str, int, tuple | None]]
    unlisted: dict[str, str] = field(default_factory=dict)
    _fingerprint: bytes | None = None

    @property
    def fingerprint(self) -> bytes:
        """A digest of every entry: equal only if no file was added, removed
        or changed (computed once)."""
        if self._fingerprint is None:
            self._fingerprint = cachefile.fingerprint(self.entries)
        return self._fingerprint

    def graph(self, root) -> tuple[list[tuple[str, tuple]], set[str]]:
        """The include graph's files under `root` (the top of this snapshot):
        (tree-relative path, stat key) of every .h, .c and .S file whose name
        does not start with a dot (NO_STAT if it has none), and the relative
        paths among them that are symbolic links."""
        n = len(os.path.join(str(root), ""))
        stats, links = [], set()
        for path, kind, key in self.entries:
            if not path.endswith(GRAPH_SUFFIXES) or path[path.rfind("/") + 1] == ".":
                continue
            rel = path[n:]
            if kind != FILE:
                links.add(rel)
            stats.append((rel, key if key is not None else NO_STAT))
        return stats, links


def walk(top, reuse: dict | None = None, stat: bool = True) -> Snapshot:
    """The Snapshot of the directory `top`. `reuse` (str(dir) -> Snapshot)
    holds walks already made in this run: a directory among them is not
    walked again, its entries are taken as they are (in the same order: a
    subtree's entries are contiguous in a depth-first walk). Without `stat`,
    keys are None (only the paths are wanted)."""
    top = str(top)
    reuse = {d: s for d, s in (reuse or {}).items() if d != top}
    out: list = []
    unlisted: dict[str, str] = {}
    stack = [top]
    while stack:
        d = stack.pop()
        done = reuse.get(d)
        if done is not None:
            out += done.entries
            unlisted.update(done.unlisted)
            continue
        try:
            entries = list(os.scandir(d))
        except OSError as e:
            unlisted.setdefault(os.path.normpath(d), e.strerror or str(e))
            continue
        for e in entries:
            name = e.name
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if e.is_symlink():
                    if name.endswith(SOURCE_SUFFIXES):
                        out.append((e.path, DIR_LINK, stat_of(e.path) if stat else None))
                elif not name.startswith("."):
                    stack.append(e.path)
            elif name.endswith(SOURCE_SUFFIXES):
                if e.is_symlink():
                    out.append((e.path, LINK, stat_of(e.path) if stat else None))
                    continue
                if not stat:
                    out.append((e.path, FILE, None))
                    continue
                try:
                    key = stat_key(e.stat(follow_symlinks=False))
                except OSError:
                    key = None
                out.append((e.path, FILE, key))
    return Snapshot(top, out, unlisted)
