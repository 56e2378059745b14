"""Subject prefixes: what this subsystem's own history calls itself.

The most common ``prefix:`` among the recent subjects of commits touching the
patch's files (``mm/vmalloc:``, ``x86/mm:``); with no usable history (a tree
imported as one commit has none) a prefix derived from the paths.
"""
from __future__ import annotations

import collections
import posixpath
import re
from typing import Sequence

from ..git import Git

# "mm/vmalloc: fix ..." -> "mm/vmalloc"; "x86/mm/pat: ..." -> "x86/mm/pat".
# Not "Revert", "Merge", or sentences that happen to contain a colon later on.
_PREFIX = re.compile(r"^([A-Za-z0-9_.,+-]+(?:/[A-Za-z0-9_.,+-]+)*):\s")
_NOT_PREFIXES = {"Revert", "Merge", "revert", "merge", "Fixes", "FROMLIST", "UPSTREAM",
                 "BACKPORT", "treewide"}
RECENT = 100


def from_history(git: Git, base: str, paths: Sequence[str], recent: int = RECENT) -> str | None:
    if not paths:
        return None
    proc = git.run("log", f"-n{recent}", "--no-merges", "--format=%P%x09%s", base, "--",
                   *sorted(paths), check=False)
    if proc.returncode != 0:
        return None
    counts: collections.Counter[str] = collections.Counter()
    first_seen: dict[str, int] = {}
    for i, line in enumerate(proc.stdout.decode(errors="replace").splitlines()):
        parents, _, subject = line.partition("\t")
        if not parents.strip():
            continue  # a root commit (a tree imported in one go) says nothing
        m = _PREFIX.match(subject.strip())
        if m and m.group(1) not in _NOT_PREFIXES:
            counts[m.group(1)] += 1
            first_seen.setdefault(m.group(1), i)
    if not counts:
        return None
    # most common; ties go to the most recently used
    return min(counts, key=lambda p: (-counts[p], first_seen[p]))


def _kernel_style(parts: list[str]) -> list[str]:
    """Path components -> prefix components: arch/x86/mm -> x86/mm,
    drivers/net/foo -> net/foo, include/linux/mm.h -> mm."""
    if parts[:1] == ["arch"]:
        parts = parts[1:]
        if len(parts) >= 2 and parts[1] == "include":   # arch/x86/include/asm/x.h
            parts = [parts[0]] + parts[3:] if len(parts) > 3 else parts[:1]
    elif parts[:1] == ["drivers"]:
        parts = parts[1:]
    elif parts[:1] == ["include"]:   # include/linux/mm.h -> mm; include/linux alone: nothing
        nested = parts[1:3] in (["trace", "events"], ["uapi", "linux"], ["uapi", "asm-generic"])
        parts = parts[3:] if nested else parts[2:]
    return parts[:3]


def from_paths(paths: Sequence[str]) -> str:
    """A prefix in kernel style from the paths alone."""
    paths = sorted(set(paths))
    if not paths:
        return "treewide"
    if len(paths) == 1:
        stem = posixpath.splitext(posixpath.basename(paths[0]))[0]
        parts = [*filter(None, posixpath.dirname(paths[0]).split("/")), stem]
        return "/".join(_kernel_style(parts)) or "treewide"
    dirs = [posixpath.dirname(p) for p in paths]
    common = posixpath.commonpath(dirs) if all(dirs) else ""
    parts = _kernel_style([p for p in common.split("/") if p])
    if parts:
        return "/".join(parts)
    # mm/ and include/linux/ together: the most common top-level prefix
    tops = collections.Counter(
        (_kernel_style([*filter(None, posixpath.dirname(p).split("/")),
                        posixpath.splitext(posixpath.basename(p))[0]])
         if "/" in p else ["treewide"])[0]
        for p in paths)
    return min(tops, key=lambda t: (-tops[t], t))


def from_patterns(patterns: Sequence[str]) -> str | None:
    """The prefix a MAINTAINERS entry's F: patterns suggest: their most common
    first component (MEMORY MANAGEMENT: mm/, include/linux/mm.h, ... -> "mm"),
    with the second one when most of those patterns agree on it (XEN HYPERVISOR
    X86: arch/x86/xen/, arch/x86/include/asm/xen/ -> "x86/xen": at least 40%
    of them, and more than any other)."""
    styles = []
    seen = set()
    for pattern in patterns:
        literal = re.split(r"[*?]", pattern, maxsplit=1)[0]
        key = posixpath.splitext(literal)[0]
        if key in seen:       # mm/hugetlb_vmemmap.c and .h count once
            continue
        seen.add(key)
        parts = [p for p in literal.split("/") if p]
        if not parts or parts[0] in ("Documentation", "tools", "scripts", "samples"):
            continue
        if not literal.endswith("/") and literal == pattern:
            parts[-1] = posixpath.splitext(parts[-1])[0]
        style = _kernel_style(parts)
        if style:
            styles.append(style)
    if not styles:
        return None
    tops = collections.Counter(s[0] for s in styles)
    top = min(tops, key=lambda t: (-tops[t], t))
    seconds = collections.Counter(s[1] for s in styles if s[0] == top and len(s) > 1)
    ranked = sorted(seconds.items(), key=lambda kv: (-kv[1], kv[0]))
    if ranked:
        second, n = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0
        if n > runner_up and n * 5 >= tops[top] * 2:
            return f"{top}/{second}"
    return top


def subject_prefix(git: Git, base: str, paths: Sequence[str],
                   hint: str | None = None) -> tuple[str, str]:
    """(prefix, source) where source is 'history' or 'path'. For several files,
    `hint` (from the MAINTAINERS entry) wins when the paths alone give nothing
    more specific."""
    found = from_history(git, base, paths)
    if found:
        return found, "history"
    by_path = from_paths(list(paths))
    if len(set(paths)) > 1 and hint:
        dirs = {posixpath.dirname(p) for p in paths}
        common = _kernel_style([p for p in posixpath.commonpath(sorted(dirs)).split("/") if p]) \
            if all(dirs) else []
        if not common or hint.startswith("/".join(common) + "/"):
            return hint, "path"
    return by_path, "path"
