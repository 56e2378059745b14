"""Apply a patch's file diffs to files held in memory, as `git apply` would
without fuzz: each hunk's old lines must match exactly, at the line its
header names or at the nearest offset from it (later hunks follow the
offset of earlier ones). Nothing is written anywhere.

Besides the new contents, each applied file says where each hunk line
landed (`Applied.old_index`/`new_index`), which is what the checker reads
to know which lines a patch added, and what --fix needs to rewrite a later
patch's context lines after an earlier one was corrected.
"""
from __future__ import annotations

from dataclasses import dataclass

from .read import FileDiff, PatchError


@dataclass
class Applied:
    path: str | None          # the new path (None: deleted)
    old: list[bytes] | None   # the old lines (None: a new file)
    new: list[bytes] | None   # the new lines (None: deleted)
    # per hunk, per hunk line: 0-based index in the old lines (context and
    # removed lines) and in the new lines (context and added lines), else None
    old_index: list[list[int | None]]
    new_index: list[list[int | None]]
    # per new line: the index of the old line it is (None: added by the patch)
    origin: list[int | None]


def split_lines(data: bytes) -> list[bytes]:
    """Lines with their "\\n" (the last one without, if the file ends without one)."""
    lines = data.split(b"\n")
    tail = lines.pop()
    out = [ln + b"\n" for ln in lines]
    if tail:
        out.append(tail)
    return out


def apply_file(name: str, fd: FileDiff, old: list[bytes] | None) -> Applied:
    """Apply one file diff to the old lines (None: the file does not exist)."""
    where = fd.old_path or fd.new_path
    if fd.old_path is not None and old is None:
        raise PatchError(name, fd.patch_line, f"does not apply: {fd.old_path}: no such file in the tree")
    if fd.old_path is None and old is not None:
        raise PatchError(name, fd.patch_line, f"does not apply: {fd.new_path}: the patch creates it, "
                                              "but it already exists in the tree")
    src = old or []
    out: list[bytes] = []
    origin: list[int | None] = []
    pos = 0           # next old line not yet copied
    offset = 0        # how far earlier hunks landed from their headers
    old_index, new_index = [], []
    for h in fd.hunks:
        pre = [ln.text for ln in h.lines if ln.kind != "+"]
        # "@@ -5,0" inserts after line 5; "@@ -5,3" starts at line 5
        want = (h.old_start if h.old_count == 0 else h.old_start - 1) + offset
        # as git apply: a hunk at the top must match there, one without
        # trailing context at the end (no fuzz, no context reduction)
        trailing = len(h.lines) - len(_rstrip_context(h.lines))
        at = _find(src, pre, want, pos, at_start=h.old_start <= 1, at_end=trailing == 0)
        if at is None:
            raise PatchError(name, h.patch_line, f"does not apply: {where}: hunk at old line {h.old_start} "
                                                 "does not match the file there or near it "
                                                 "(is the tree at the commit the patch is based on?)")
        offset = at - (want - offset)
        out.extend(src[pos:at])
        origin.extend(range(pos, at))
        oi, ni = [], []
        i = at
        for ln in h.lines:
            if ln.kind == "+":
                oi.append(None)
                ni.append(len(out))
                out.append(ln.text)
                origin.append(None)
            elif ln.kind == "-":
                oi.append(i)
                ni.append(None)
                i += 1
            else:
                oi.append(i)
                ni.append(len(out))
                out.append(src[i])
                origin.append(i)
                i += 1
        old_index.append(oi)
        new_index.append(ni)
        pos = i
    out.extend(src[pos:])
    origin.extend(range(pos, len(src)))
    if fd.new_path is None:
        if out:
            raise PatchError(name, fd.patch_line, f"does not apply: {fd.old_path}: the patch deletes it, "
                                                  "but the tree's file has more lines than the patch removes")
        return Applied(None, old, None, old_index, new_index, [])
    return Applied(fd.new_path, old, out, old_index, new_index, origin)


def _rstrip_context(lines):
    end = len(lines)
    while end and lines[end - 1].kind == " ":
        end -= 1
    return lines[:end]


def _find(src: list[bytes], pre: list[bytes], want: int, low: int, at_start: bool = False,
          at_end: bool = False) -> int | None:
    """Where `pre` matches `src` exactly, nearest to `want`, not before `low`."""
    n = len(pre)
    top = len(src) - n
    if at_start or at_end:
        at = 0 if at_start else top
        ok = at >= low and src[at:at + n] == pre and (not at_end or at == top)
        return at if ok else None
    want = min(max(want, low), max(top, low))
    for d in range(0, max(top - low, 0) + 2):
        for at in (want - d, want + d) if d else (want,):
            if low <= at <= top and src[at:at + n] == pre:
                return at
        if want - d < low and want + d > top:
            break
    return None
