"""MAINTAINERS parsing and file -> subsystem assignment.

Follows scripts/get_maintainer.pl: an entry is a title line followed by
``X:<tab>value`` lines; ``F:``/``X:`` are path patterns (``*`` and ``?`` are
globs, a trailing ``/`` or an existing directory matches everything below it,
a non-directory pattern matches only at its own depth); ``N:`` is a regex on
the path. Of all entries that match a file, the one whose pattern is deepest
wins (a file pattern counts one level deeper than a directory with the same
number of slashes; ``*``-leading patterns such as THE REST's count as -1).
Ties go to the entry that appears first in the file.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

_FIELD = re.compile(r"^([A-Z]):\s*(.*?)\s*$")
# where a pattern stops being literal text (its regex after _compile)
_LITERAL_END = re.compile(r"[*?\[\](){}+|^$\\]")


@dataclass(frozen=True)
class Entry:
    name: str
    order: int
    maintainers: tuple[str, ...] = ()   # M:
    reviewers: tuple[str, ...] = ()     # R:
    lists: tuple[str, ...] = ()         # L:
    files: tuple[str, ...] = ()         # F: (raw)
    excludes: tuple[str, ...] = ()      # X: (raw)
    regexes: tuple[str, ...] = ()       # N:
    status: str = ""


@dataclass(frozen=True)
class Match:
    entry: Entry
    depth: int


def parse(text: str) -> tuple[Entry, ...]:
    """Parse MAINTAINERS text into entries, in file order."""
    entries: list[Entry] = []
    name: str | None = None
    fields: dict[str, list[str]] = {}

    def flush() -> None:
        nonlocal name, fields
        if name is not None and fields:
            entries.append(Entry(
                name=name, order=len(entries),
                maintainers=tuple(fields.get("M", ())),
                reviewers=tuple(fields.get("R", ())),
                lists=tuple(fields.get("L", ())),
                files=tuple(fields.get("F", ())),
                excludes=tuple(fields.get("X", ())),
                regexes=tuple(fields.get("N", ())),
                status=(fields.get("S") or [""])[0],
            ))
        name, fields = None, {}

    for raw in text.splitlines():
        line = raw.rstrip()
        m = _FIELD.match(line)
        if m:
            if name is not None:
                fields.setdefault(m.group(1), []).append(m.group(2))
            continue
        flush()
        if line and not line[0].isspace():
            name = line.strip()
    flush()
    return tuple(entries)


def _compile(pattern: str, is_dir: Callable[[str], bool]) -> str:
    """get_maintainer.pl's pattern -> anchored regex source (with '/' suffix for dirs)."""
    if not pattern.endswith("/") and is_dir(pattern):
        pattern += "/"
    return pattern.replace(".", r"\.").replace("*", ".*").replace("?", ".")


def _matches(path: str, src: str, rx: re.Pattern) -> bool:
    if not rx.match(path):
        return False
    if src.endswith("/"):
        return True
    return path.count("/") == src.count("/")


@dataclass
class Maintainers:
    entries: tuple[Entry, ...]
    is_dir: Callable[[str], bool] = field(default=lambda p: False)
    _compiled: dict[str, tuple[str, re.Pattern]] = field(default_factory=dict, repr=False)
    _index: dict[str, list[tuple[str, Entry]]] | None = field(default=None, repr=False)
    _always: list[Entry] = field(default_factory=list, repr=False)
    _cache: dict[str, list[Match]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_tree(cls, root: Path, text: str | None = None) -> "Maintainers":
        if text is None:
            path = root / "MAINTAINERS"
            text = path.read_text(errors="replace") if path.is_file() else ""
        return cls(parse(text), is_dir=lambda p: (root / p).is_dir())

    def _rx(self, pattern: str) -> tuple[str, re.Pattern]:
        rx = self._compiled.get(pattern)
        if rx is None:
            src = _compile(pattern, self.is_dir)
            rx = self._compiled[pattern] = (src, re.compile(src))
        return rx

    def _candidates(self, path: str) -> list[Entry]:
        """Entries that can match `path`, in file order: those with an N:
        regex, and those with an F: pattern whose literal start (up to its
        first wildcard) begins `path` (a pattern matches from the start of
        the path, so no other can). Patterns are bucketed by the directory
        part of that literal start, so a path looks at its own directories'
        buckets only, not at every entry under drivers/."""
        if self._index is None:
            index: dict[str, list[tuple[str, Entry]]] = {}
            for entry in self.entries:
                for pattern in entry.files:
                    literal = _LITERAL_END.split(pattern, maxsplit=1)[0]
                    index.setdefault(literal[:literal.rfind("/") + 1], []).append((literal, entry))
            self._index = index
            self._always = [e for e in self.entries if e.regexes]
        found = {e.order: e for e in self._always}
        end = 0
        while end >= 0:
            for literal, entry in self._index.get(path[:end], ()):
                if path.startswith(literal):
                    found[entry.order] = entry
            nxt = path.find("/", end)
            end = nxt + 1 if nxt >= 0 else -1
        return [found[k] for k in sorted(found)]

    def matches(self, path: str) -> list[Match]:
        """Every entry that covers `path`, deepest first (ties: file order)."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        found: list[Match] = []
        for entry in self._candidates(path):
            if any(_matches(path, *self._rx(x)) for x in entry.excludes):
                continue
            depth: int | None = None
            for pattern in entry.files:
                src, rx = self._rx(pattern)
                if _matches(path, src, rx):
                    d = src.count("/") + (0 if src.endswith("/") else 1)
                    if src.startswith(".*"):
                        d = -1
                    depth = d if depth is None else max(depth, d)
            for regex in entry.regexes:
                try:
                    if re.search(regex, path, re.X):
                        depth = 0 if depth is None else max(depth, 0)
                except re.error:
                    continue
            if depth is not None:
                found.append(Match(entry, depth))
        found.sort(key=lambda m: (-m.depth, m.entry.order))
        self._cache[path] = found
        return found

    def best(self, path: str) -> Entry | None:
        found = self.matches(path)
        return found[0].entry if found else None

    def recipients(self, paths: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(To, Cc) for a patch touching `paths`, as scripts/get_maintainer.pl
        assigns them: the maintainers of every matching entry (deepest first) are
        To; reviewers and lists are Cc; THE REST's maintainer ("chief penguin") is
        Cc, unless he is get_maintainer.pl's own PENGUIN_CHIEF, whom it leaves
        out. A person named by several entries keeps the role of the first
        (deepest), as in get_maintainer.pl. With nobody in To, the first person
        in Cc is promoted."""
        said: dict[str, bool] = {}      # address -> in To
        for path in sorted(paths):
            for m in self.matches(path):
                for a in _unique(person(x) for x in m.entry.maintainers):
                    said.setdefault(a, m.entry.name != "THE REST")
                for a in _unique([person(x) for x in m.entry.reviewers] + list(m.entry.lists)):
                    said.setdefault(a, False)
        said = {a: is_to for a, is_to in said.items() if PENGUIN_CHIEF not in a}
        return promote(tuple(a for a, is_to in said.items() if is_to),
                       tuple(a for a, is_to in said.items() if not is_to))


_NAME_ADDRESS = re.compile(r"^([^<]+)<(.+@.*)>")
_MUST_QUOTE = re.compile(r"[^\w \-]", re.ASCII)


def person(text: str) -> str:
    """`Name <address>` as get_maintainer.pl writes it (parse_email,
    format_email): a name with a character other than an ASCII letter,
    digit, `_`, `-` or space in double quotes ("David S. Miller")."""
    m = _NAME_ADDRESS.match(text)
    if m is None:
        return text
    name, address = m.group(1).strip(), m.group(2).strip()
    name = name[1:] if name.startswith('"') else name
    name = name[:-1] if name.endswith('"') else name
    if _MUST_QUOTE.search(name):
        name = '"' + re.sub(r'(?<!\\)"', r'\\"', name) + '"'
    return f"{name} <{address}>" if name else address


# get_maintainer.pl's @penguin_chief: left out of its answer unless it is
# given --git-chief-penguins (THE REST's M: line names him on every patch)
PENGUIN_CHIEF = "Linus Torvalds <torvalds@linux-foundation.org>"


def promote(to: tuple[str, ...], cc: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    cc = tuple(a for a in cc if a not in to)
    if not to:
        person = next((a for a in cc if "<" in a), None)
        if person:
            return (person,), tuple(a for a in cc if a != person)
    return to, cc


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        # L: lines may carry a note: "list@vger.kernel.org (moderated for ...)"
        addr = item.split(" (")[0].strip() if "@" in item.split(" (")[0] else item.strip()
        if addr and addr not in seen:
            seen[addr] = None
    return tuple(seen)


# scripts/get_maintainer.pl reads all of MAINTAINERS on every run: about
# 0.8 s of CPU per patch on 6.12, and its answers merge over the patches it
# is given, so it cannot be run once for a series. For a whole-tree series
# (~460 patches) that was more than the rest of the series together; above
# this many patches, To/Cc come from Maintainers.recipients unless asked.
GET_MAINTAINER_MAX_PATCHES = 50


def run_get_maintainer(root: Path, patches: list[Path], use: bool | None = None,
                       jobs: int | None = None) -> tuple[list, tuple[str, ...]]:
    """scripts/get_maintainer.pl's (To, Cc) of each patch, or None (not run,
    or it failed: the caller takes Maintainers.recipients then), and a note
    saying so when it was left out. `use`: True runs it for every patch,
    False for none, None for a series of at most GET_MAINTAINER_MAX_PATCHES
    patches. Each run reads only its own patch; `jobs` of them at once
    (default: all cores)."""
    none: list = [None] * len(patches)
    if use is False or not (root / "scripts" / "get_maintainer.pl").is_file():
        return none, ()
    if use is None and len(patches) > GET_MAINTAINER_MAX_PATCHES:
        return none, (f"note: To/Cc of the {len(patches)} patches are pgrewrite's reading of MAINTAINERS, "
                      f"not scripts/get_maintainer.pl's: it runs once per patch (about 0.8 s of CPU each on "
                      f"6.12), so only for series of at most {GET_MAINTAINER_MAX_PATCHES} patches; "
                      "--get-maintainer runs it for every patch",)
    with ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda p: get_maintainer(root, p), patches)), ()


def get_maintainer(root: Path, patch: Path) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(To, Cc) from the tree's scripts/get_maintainer.pl: maintainers and
    supporters are To, reviewers and lists Cc. None if it cannot be run."""
    script = root / "scripts" / "get_maintainer.pl"
    if not script.is_file() or not shutil.which("perl"):
        return None
    try:
        proc = subprocess.run(
            ["perl", str(script), "--no-git", "--no-git-fallback", "--no-rolestats",
             "--roles", "--m", "--r", "--l", "--no-s", str(patch)],
            cwd=root, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    to: list[str] = []
    cc: list[str] = []
    for line in proc.stdout.splitlines():
        addr, _, role = line.partition(" (")
        if "@" not in addr:
            continue
        is_to = role.startswith(("maintainer", "supporter"))
        (to if is_to else cc).append(addr.strip())
    return promote(tuple(dict.fromkeys(to)), tuple(dict.fromkeys(cc)))
