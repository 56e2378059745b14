"""Paths as a run prints them.

A run opens its files by their paths relative to the working directory, and
prints them that way too, so that a shell or an editor can open what it
shows. Run from elsewhere (`~/pgrewrite/.venv/bin/pgrewrite scan ~/linux/mm`
from the checkout), that gives `../../home/me/linux/mm/memory.c`: then every
path is printed relative to the tree root instead (`mm/memory.c`, the path
in the site ids and the series too), and the output says once which root
that is: the text formats with make's `Entering directory` line, which vim's
quickfix and Emacs' compilation mode follow, JSON with `paths_relative_to`,
SARIF with the `%SRCROOT%` it gives.

Only printing goes through a PathView; what a run opens keeps the path
relative to the working directory.
"""
from __future__ import annotations

import os
from pathlib import Path


class PathView:
    """`view(path)`: `path` (relative to the working directory, or absolute)
    as it is printed. `base`: the tree root when paths are printed from it,
    None when they are printed as they are (relative to the working
    directory)."""

    def __init__(self, base: Path | None = None, cwd: Path | None = None):
        self.base = base
        self.cwd = cwd
        self._real: dict[str, str] = {}
        self._shown: dict[str, str] = {}     # a file's sites share its path

    def __call__(self, path: str) -> str:
        if self.base is None:
            return path
        shown = self._shown.get(path)
        if shown is None:
            shown = self._shown[path] = self._from_base(path)
        return shown

    def _from_base(self, path: str) -> str:
        full = os.path.normpath(os.path.join(self.cwd, path))
        rel = os.path.relpath(full, self.base)
        if not _leaves(rel):
            return rel
        d, name = os.path.split(full)         # through a symbolic link: the real directory
        real = self._real.get(d)
        if real is None:
            real = self._real[d] = os.path.realpath(d)
        rel = os.path.relpath(os.path.join(real, name), os.path.realpath(self.base))
        return path if _leaves(rel) else rel  # not in the tree: as it was given


def path_view(root: Path | str | None, cwd: Path | None = None) -> PathView:
    """How a run under `root` (the tree root; None: no tree) prints paths
    from the working directory `cwd`: relative to `root` when `cwd` is
    outside it, else unchanged."""
    cwd = Path(os.path.abspath(cwd or Path.cwd()))
    if root is None:
        return PathView()
    root = Path(os.path.abspath(root))
    real_root, real_cwd = os.path.realpath(root), os.path.realpath(cwd)
    if real_cwd == real_root or real_cwd.startswith(os.path.join(real_root, "")):
        return PathView()
    return PathView(root, cwd)


def entering(base: Path | str) -> str:
    """The line that says which directory the paths are relative to, when
    it is not the working directory. make prints it the same way, so
    editors that read the output as a quickfix list find the files."""
    return f"pgrewrite: Entering directory '{base}'"


def _leaves(rel: str) -> bool:
    return rel == ".." or rel.startswith("../") or os.path.isabs(rel)
