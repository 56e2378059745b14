"""The per-file analysis budget: a file whose tree is too big, or whose
analysis takes too long, is not analysed further; each of its sites is
`skipped` with a reason naming the limit (so the accounting still holds:
every family token gets a verdict).

The limits are set far above every file of the kernel: in mm, arch/x86 and
include of 6.12 the biggest tree analysed is mm/memory.c's, 23,307 nodes
(function bodies without a family name are not parsed), and the slowest
file, mm/shmem.c, takes 0.3 s. A generated 7.9 MB file of 44,000 functions
(2.9 million nodes) took 23 s and 1 GB; it is now skipped once parsed.
They can be changed with the environment:

- PGREWRITE_MAX_FILE_NODES (default 1,000,000): tree-sitter nodes of the
  file's parse and its macro bodies;
- PGREWRITE_MAX_FILE_SECONDS (default 60): CPU seconds to analyse one file.

A value that is not a positive number leaves the default.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

DEFAULT_NODES = 1_000_000
DEFAULT_SECONDS = 60.0
NODES_VAR = "PGREWRITE_MAX_FILE_NODES"
SECONDS_VAR = "PGREWRITE_MAX_FILE_SECONDS"


MARK = "over the analysis budget"


class OverBudget(Exception):
    """The file went over a limit; str() is the reason given to its sites."""


@dataclass(frozen=True)
class Budget:
    nodes: int = DEFAULT_NODES
    seconds: float = DEFAULT_SECONDS

    @classmethod
    def from_env(cls) -> "Budget":
        return cls(int(_positive(os.environ.get(NODES_VAR), DEFAULT_NODES)),
                   _positive(os.environ.get(SECONDS_VAR), DEFAULT_SECONDS))

    def check_nodes(self, count: int) -> None:
        if count > self.nodes:
            raise OverBudget(f"{MARK}: the file's syntax trees have {count:,} nodes, "
                             f"more than {self.nodes:,} ({NODES_VAR}); raise it to analyse this file")

    def clock(self) -> "Clock":
        return Clock(self.seconds)


class Clock:
    """Started when the file's analysis starts; `check()` between sites.
    It counts the process's CPU time, not the wall clock: a loaded machine
    (a 7.9 MB file took 23 s of CPU in 131 s) must not skip more files."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.start = time.process_time()
        # The CPU clock is a system call (45 µs here, more than a site's
        # analysis); the process's CPU time cannot grow faster than the
        # wall clock, so it is only read once the wall clock says the
        # rest of the budget could be used up.
        self.wall = time.monotonic() + seconds

    def check(self) -> None:
        now = time.monotonic()
        if now <= self.wall:
            return
        used = time.process_time() - self.start
        self.wall = now + (self.seconds - used)
        if used > self.seconds:
            raise OverBudget(f"{MARK}: analysing the file took more than "
                             f"{self.seconds:g} s ({SECONDS_VAR}); raise it to analyse this file")


def _positive(raw: str | None, default: float) -> float:
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 and value != float("inf") else default


def tree_nodes(parsed) -> int:
    """Nodes of a parsed file's tree and of its macro bodies' trees."""
    count = parsed.root.descendant_count if parsed.root is not None else 0
    for frag in parsed.fragments:
        count += sum(n.descendant_count for n in frag.nodes)
    return count


def went_over(result) -> bool:
    """Whether a FileResult is that of a file that went over the budget
    (engine.Engine.analyse notes it): never kept in the cache, so that a run
    with more time or higher limits analyses the file."""
    return any(MARK in n for n in result.notes)
