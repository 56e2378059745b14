"""Existing definitions of the new names, and which files they capture.

A rename to PTE_SHIFT is wrong wherever another PTE_SHIFT is visible: x86
defines one (the index bits of a page table) in an arch-wide header. The
visibility model is the kernel's include structure, simplified and safe:

- a definition under `include/` is visible everywhere;
- one under `arch/<A>/include/` is visible in `arch/<A>/` and in all
  generic code (everything outside `arch/`), which is built for <A> too;
- one in any other header is visible in its directory and below;
- one in a .c file is visible in that file.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .lex import Lexer


@dataclass(frozen=True)
class Definition:
    name: str
    path: str      # relative to the tree root
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def find_tree_root(start: Path) -> Path | None:
    """The kernel tree above `start` (a directory with arch/ and include/linux/)."""
    p = start if start.is_dir() else start.parent
    for d in (p, *p.parents):
        if (d / "arch").is_dir() and (d / "include" / "linux").is_dir():
            return d
    return None


_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)


def tree_definitions(root: Path, names) -> list[Definition]:
    """`#define` of any of `names` anywhere in the tree (git grep, else a walk)."""
    # fixed-string search is an order of magnitude faster than an anchored ERE
    args = ["git", "grep", "--no-index", "-n", "-I", "-F", "-w"]
    for n in names:
        args += ["-e", n]
    out = []
    try:
        r = subprocess.run(args + ["--", "*.h", "*.c", "*.S"], cwd=root, capture_output=True, timeout=600)
        lines = r.stdout.decode("utf-8", "replace").splitlines() if r.returncode in (0, 1) else None
    except (OSError, subprocess.TimeoutExpired):
        lines = None
    if lines is None:
        return _walk_definitions(root, names)
    for line in lines:
        path, lineno, text = line.split(":", 2)
        m = _DEFINE.match(text.encode())
        if m and m.group(1).decode() in names:
            out.append(Definition(m.group(1).decode(), path, int(lineno)))
    return sorted(out, key=lambda d: (d.path, d.line))


def _walk_definitions(root: Path, names) -> list[Definition]:
    wanted = set(names)
    out = []
    for p in sorted(root.rglob("*")):
        if p.suffix not in (".h", ".c", ".S") or not p.is_file():
            continue
        data = p.read_bytes()
        for m in _DEFINE.finditer(data):
            name = m.group(1).decode()
            if name in wanted:
                out.append(Definition(name, str(p.relative_to(root)), data.count(b"\n", 0, m.start()) + 1))
    return out


def visible(defn: Definition, rel: str) -> bool:
    """Is `defn` visible in the file at tree-relative path `rel`?"""
    d = defn.path
    parts = d.split("/")
    if parts[0] == "include":
        return True
    if parts[0] == "arch" and len(parts) > 2 and parts[2] == "include":
        return rel.startswith(f"arch/{parts[1]}/") or not rel.startswith("arch/")
    if d.endswith(".h"):
        return rel.startswith(d.rsplit("/", 1)[0] + "/") if "/" in d else True
    return rel == d


def local_uses(data: bytes, lexer: Lexer) -> dict[str, int]:
    """New names this file already uses or defines (outside comments): name -> first line."""
    lexed = lexer.lex(data)
    out: dict[str, int] = {}
    for s, _, name in lexed.words + [w for d in lexed.directives for w in d.words]:
        out.setdefault(name, data.count(b"\n", 0, s) + 1)
    return out
