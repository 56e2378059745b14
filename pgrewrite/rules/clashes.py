"""semantic-rules/clashes.yaml: declared resolutions of name clashes.

Some new names already exist in arch code with another meaning (x86's
PTE_SHIFT is the number of index bits of a page table). While such a
definition is in the tree the generic name cannot be added, so every rename
to it is blocked (collisions.py, series/definitions.py). An entry of
clashes.yaml resolves one clash first: the definitions in `defined-in`, and
every whole-word use of `name` in the C/assembly files `scope` matches, are
renamed to `rename-to` in a preparatory patch (series) or in place (apply).

Loading checks the file on its own (schema, names, globs); what needs the
tree (the definitions really are there, none is forgotten inside the scope,
`rename-to` is unused) is checked where the plan is made,
series.definitions.plan_clash_renames. Both report `file:line: key: message`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import documents
from .documents import glob_regex
from .documents import line_of as _line_of

FILE = "clashes.yaml"
SCHEMA = "clashes.schema.json"


@dataclass(frozen=True)
class Clash:
    name: str
    defined_in: tuple[str, ...]
    rename_to: str
    scope: tuple[str, ...]
    why: str
    source: str = FILE                       # clashes.yaml as displayed in messages
    index: int = 0                           # position in the file
    lines: tuple[tuple[str, int], ...] = ()  # key -> line of that key in the file

    def line(self, key: str | None = None) -> int:
        d = dict(self.lines)
        return d.get(key, d.get("", 1)) if key else d.get("", 1)

    def in_scope(self, path: str) -> bool:
        return scope_regex(self.scope).match(path) is not None

    def __str__(self) -> str:
        return f"{self.name} -> {self.rename_to} ({self.source}:{self.line()})"


_SCOPE_CACHE: dict[tuple[str, ...], re.Pattern] = {}


def scope_regex(globs) -> re.Pattern:
    """Globs anchored at the tree root: `**` any directories, `*` and `?`
    within one path component (the rules' `files` globs, anchored)."""
    key = tuple(globs)
    hit = _SCOPE_CACHE.get(key)
    if hit is None:
        hit = _SCOPE_CACHE[key] = glob_regex(key, anchored=True) or re.compile("(?:)$")
    return hit


def load_clashes(directory: Path, family, default_schema: Path,
                 validated=None) -> tuple[tuple[Clash, ...], list[str], bytes, tuple | None]:
    """(entries, problems, raw bytes, what the rules cache keeps) of
    DIRECTORY/clashes.yaml; no file: no entries. `validated`: the (document,
    lines) of these bytes that an earlier run parsed and validated."""
    f = documents.read_data_file(directory, FILE, SCHEMA, default_schema, [], validated,
                                 top_type_message="expected a list of entries (- name: ...)")
    if f is None:
        return (), [], b"", None
    if f.problems:
        return (), f.problems, f.raw, None
    return (*_entries(f.doc, f.lines, f.rel, family, f.raw), f.kept)


def _entries(doc, lines, rel: str, family, raw: bytes):
    """The entries of a valid clashes.yaml document, checked against the family."""
    problems: list[str] = []
    new_names = set(family.replacements)
    old_names = set(family.names)
    out: list[Clash] = []
    for i, entry in enumerate(doc):
        key_lines = tuple([("", _line_of(lines, (i,)))]
                          + [(k, _line_of(lines, (i, k))) for k in entry])
        c = Clash(entry["name"], tuple(entry["defined-in"]), entry["rename-to"],
                  tuple(entry["scope"]), " ".join(entry["why"].split()), rel, i, key_lines)

        def bad(key, msg):
            problems.append(f"{rel}:{c.line(key)}: {i}/{key}: {msg}")

        if c.name not in new_names:
            bad("name", f"{c.name!r} is not one of the new names ({', '.join(sorted(new_names))})")
        if c.rename_to in new_names or c.rename_to in old_names:
            bad("rename-to", f"{c.rename_to!r} is itself a family or new name; choose a name "
                             "that says what the old definition means")
        elif c.rename_to == c.name:
            bad("rename-to", "is the clashing name itself")
        for f in c.defined_in:
            if not c.in_scope(f):
                bad("defined-in", f"{f} is not matched by scope {list(c.scope)}: the definition "
                                  "would not be renamed with its uses")
        for j, other in enumerate(out):
            if other.name != c.name:
                continue
            both = [f for f in c.defined_in if other.in_scope(f)] + [f for f in other.defined_in if c.in_scope(f)]
            if both:
                bad("scope", f"overlaps entry {j} (line {other.line()}) for {c.name}: {both[0]} is in both "
                             "scopes; one file can be renamed one way only")
        out.append(c)
    return tuple(out), problems, raw
