"""Group the selected renames into patches: one per subsystem (or per rule),
rule-decided and default renames never together, split into parts on request."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .select import Selected

NO_ENTRY = "(no MAINTAINERS entry)"
NO_RULE = "(no rule)"


@dataclass(frozen=True)
class PatchPlan:
    key: str                      # subsystem name or rule id
    default: bool                 # unverified pg-default renames
    edits: tuple[Selected, ...]   # sorted by path, offset
    part: int = 1
    parts: int = 1

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted({s.path for s in self.edits}))


def plan(edits: tuple[Selected, ...], *, split_by: str, subsystem: Callable[[str], str],
         line_of: Callable[[str, int], int], max_files: int | None = None,
         max_lines: int | None = None) -> tuple[PatchPlan, ...]:
    if split_by not in ("subsystem", "rule"):
        raise ValueError(f"split_by must be 'subsystem' or 'rule', not {split_by!r}")
    groups: dict[tuple[bool, str], list[Selected]] = {}
    for s in edits:
        if split_by == "rule":
            key = s.edit.rule or NO_RULE
        else:
            key = subsystem(s.path)
        groups.setdefault((s.default, key), []).append(s)

    def order(item):
        (default, key), members = item
        return (default, min(m.path for m in members) if split_by == "subsystem" else key)

    out: list[PatchPlan] = []
    for (default, key), members in sorted(groups.items(), key=order):
        chunks = _chunks(sorted(members), line_of, max_files, max_lines)
        for i, chunk in enumerate(chunks, 1):
            out.append(PatchPlan(key, default, tuple(chunk), i, len(chunks)))
    return tuple(out)


def _chunks(members: list[Selected], line_of, max_files, max_lines) -> list[list[Selected]]:
    """Split on file boundaries: at most max_files files and max_lines changed
    lines per part (a single file larger than max_lines makes a part of its own)."""
    by_file: dict[str, list[Selected]] = {}
    for s in members:
        by_file.setdefault(s.path, []).append(s)
    chunks: list[list[Selected]] = [[]]
    files = lines = 0
    for path in sorted(by_file):
        n_lines = len({line_of(path, s.edit.start) for s in by_file[path]})
        full = ((max_files and files + 1 > max_files)
                or (max_lines and lines + n_lines > max_lines))
        if chunks[-1] and full:
            chunks.append([])
            files = lines = 0
        chunks[-1].extend(by_file[path])
        files += 1
        lines += n_lines
    return [c for c in chunks if c]
