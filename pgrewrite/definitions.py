"""Existing `#define`s of the new names: the one model, the one finder, and
the plan of preparatory renames made from them (data only).

The collision index (collisions.py) asks which files a definition captures;
the preparation stage (preparation.py, series/definitions.py) plans renaming
private ones away first. Both read the same `Definition`, found by
`find_definitions` in the lines of a `git grep` of the new names.

The new names are the family's replacements (family.yaml). What the series'
first patch defines for each (`own_bodies`) is what a definition is compared
with: one with that body is compatible and blocks nothing.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from .lex import rename_spans

# What the first patch defines, in the order it writes them: a constant is an
# alias of today's name; a helper or offset has a body of its own, over the
# constant of its granularity (PTE_SIZE) when that is defined, else PAGE_*.
CONSTANTS: tuple[tuple[str, str], ...] = (
    ("PTE_SHIFT", "PAGE_SHIFT"),
    ("PTE_SIZE", "PAGE_SIZE"),
    ("PTE_MASK", "PAGE_MASK"),
    ("PG_SHIFT", "PAGE_SHIFT"),
    ("PG_SIZE", "PAGE_SIZE"),
    ("PG_MASK", "PAGE_MASK"),
)
HELPERS = ("PTE_ALIGN", "PTE_ALIGN_DOWN", "PTE_ALIGNED",
           "PG_ALIGN", "PG_ALIGN_DOWN", "PG_ALIGNED")
OFFSETS = ("offset_in_pte", "offset_in_pg")
_FIRST_PATCH_ORDER = tuple(n for n, _ in CONSTANTS) + HELPERS + OFFSETS

# where the first patch puts them (series/definitions.py says why)
CONSTANTS_HEADERS = (("include/linux/const.h", (rb"^#include <vdso/const\.h>", rb"^#define _\w+_H\b")),
                     ("include/asm-generic/memory_model.h", (rb"^#include <linux/pfn\.h>", rb"^#define __\w+_H\b")))
HELPERS_HEADER = "include/linux/mm.h"


def new_names(family) -> tuple[str, ...]:
    """The family's replacements (family.yaml), in the order the first patch
    defines them."""
    wanted = family.replacements
    return (tuple(n for n in _FIRST_PATCH_ORDER if n in wanted)
            + tuple(n for n in wanted if n not in _FIRST_PATCH_ORDER))


def own_bodies(constant_names: set[str]) -> dict[str, str]:
    """The replacement text the first patch gives each name, when it defines
    the constants `constant_names` too (for compatibility checks)."""
    bodies = {n: a for n, a in CONSTANTS}
    for prefix in ("PTE", "PG"):
        size = f"{prefix}_SIZE" if f"{prefix}_SIZE" in constant_names else "PAGE_SIZE"
        mask = f"{prefix}_MASK" if f"{prefix}_MASK" in constant_names else "PAGE_MASK"
        bodies[f"{prefix}_ALIGN"] = f"(addr) ALIGN(addr, {size})"
        bodies[f"{prefix}_ALIGN_DOWN"] = f"(addr) ALIGN_DOWN(addr, {size})"
        bodies[f"{prefix}_ALIGNED"] = f"(addr) IS_ALIGNED((unsigned long)(addr), {size})"
        bodies[f"offset_in_{prefix.lower()}"] = f"(p) ((unsigned long)(p) & ~{mask})"
    return bodies


_ALL_CONSTANTS = frozenset(n for n, _ in CONSTANTS)


def is_own_definition(name: str, body: str, path: str | None = None) -> bool:
    """Is `#define name body` (in the file at `path`, if given) what the
    series' first patch adds, where it adds it (either spelling of the
    helpers' size: PTE_SIZE, or PAGE_SIZE)? An arch's alias of the same
    text elsewhere (sh's PTE_MASK) is not the series' own."""
    if path is not None and path not in ((HELPERS_HEADER,) if name in HELPERS + OFFSETS
                                         else tuple(h for h, _ in CONSTANTS_HEADERS)):
        return False

    return _norm(body) in _own_texts(name)


def _norm(text: str) -> str:
    return re.sub(r"[\s()]", "", text)


@functools.lru_cache(maxsize=None)
def _own_texts(name: str) -> frozenset:
    """The bodies the first patch may give `name`, normalised (computed once a name)."""
    return frozenset(_norm(b) for names in (set(), _ALL_CONSTANTS) if (b := own_bodies(names).get(name)))


# ------------------------------------------------------------------ the model

_COMMENT = re.compile(r"/\*.*?(?:\*/|$)|//.*$")     # an unterminated /* runs to the line's end
_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)")


def strip_comments(text: str) -> str:
    """One line's text without its comments, whitespace runs made one space."""
    return " ".join(_COMMENT.sub(" ", text).split())


@dataclass(frozen=True, order=True)
class Definition:
    """An existing `#define` of one of the new names: where, the line as
    written, and whether its body is what the series' first patch defines."""

    path: str      # relative to the tree root
    line: int
    name: str
    text: str      # the line, stripped
    compatible: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def body(self) -> str:
        """The replacement text (parameters included), without comments."""
        m = _DEFINE.match(self.text)
        return strip_comments(self.text[m.end():]) if m else ""

    @property
    def scope(self) -> str:
        """global (include/), arch:A (arch/A/include/) or local (anywhere else:
        private to a file or a directory)."""
        if self.path.startswith("include/"):
            return "global"
        m = re.match(r"arch/([^/]+)/include/", self.path)
        if m:
            return f"arch:{m.group(1)}"
        return "local"

    @property
    def shared(self) -> bool:
        """In a header shared by the whole tree or an arch: the generic
        definition of the same name, which the series must add, would clash
        with it in every build."""
        return self.scope != "local"

    def captures(self) -> str:
        scope = self.scope
        if scope == "global":
            return "every file in the tree"
        if scope.startswith("arch:"):
            arch = scope[5:]
            return (f"every file built for {arch}, generic code (mm/, kernel/, "
                    "include/, ...) included")
        if self.path.endswith((".c", ".S")):
            return "that file, which also sees the generic definition"
        return "the files that include it, which also see the generic definition"

    def is_alias_of(self, today: str | None) -> bool:
        """Already an alias of today's name (sh: `#define PTE_MASK PAGE_MASK`),
        so a rename to it changes nothing."""
        return today is not None and re.sub(r"[\s()]", "", self.body) in (today, f"{today}x")

    def is_own(self) -> bool:
        """The definition the series' first patch adds (`#define PTE_ALIGN(addr)
        ALIGN(addr, PTE_SIZE)`): in a tree the series converted, the new names
        are the family's own, not a clash."""
        return is_own_definition(self.name, self.body, self.path)


def find_definitions(lines, names, suffixes: tuple[str, ...] | None = None) -> list[Definition]:
    """The definitions of `names` among (path, line, text) lines (of `git grep
    -n` for at least `names`); with `suffixes`, in files of those suffixes
    only (a quoted, escaped path too). Sorted by path and line."""
    names = set(names)
    bodies = own_bodies(_ALL_CONSTANTS)
    out = []
    for path, line, text in lines:
        if suffixes is not None and not path.strip('"').endswith(suffixes):
            continue
        m = _DEFINE.match(text)
        if m is None or m.group(1) not in names:
            continue
        d = Definition(path, int(line), m.group(1), text.strip())
        own = bodies.get(d.name)
        compatible = (own is not None and not text.rstrip().endswith("\\")
                      and d.body == strip_comments(own))
        out.append(Definition(d.path, d.line, d.name, d.text, compatible) if compatible else d)
    return sorted(out)


# ------------------------------------------------------------------ the plan

@dataclass(frozen=True)
class LocalRename:
    definition: Definition
    new_name: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class ClashRename:
    clash: object                          # clashes.Clash
    definitions: tuple[Definition, ...]    # the definitions it resolves
    files: tuple[str, ...]                 # every C/assembly file in scope using the name

    @property
    def name(self) -> str:
        return self.clash.name

    @property
    def new_name(self) -> str:
        return self.clash.rename_to


@dataclass(frozen=True)
class Preparation:
    """What must happen before the new names can be defined: the one plan that
    `series` (preparatory patches), `apply` (the same renames, made in place)
    and `scan` (what it reports) share (series.definitions.prepare makes it)."""

    definitions: tuple[Definition, ...] = ()
    blocked: dict[str, tuple[Definition, ...]] = field(default_factory=dict)  # left out
    renames: tuple[LocalRename, ...] = ()
    reasons: tuple[str, ...] = ()          # why a private definition was not renamed
    clash_renames: tuple[ClashRename, ...] = ()   # declared in clashes.yaml
    new_names: tuple[str, ...] = _FIRST_PATCH_ORDER   # new_names(family)

    @property
    def names(self) -> set[str]:
        """The new names the first patch defines."""
        return set(self.new_names) - set(self.blocked)

    def renames_in(self, path: str) -> tuple[LocalRename, ...]:
        return tuple(r for r in self.renames if path in r.files)

    @property
    def resolved(self) -> frozenset[str]:
        """`path:line` of the definitions clashes.yaml renames away."""
        return frozenset(f"{d.path}:{d.line}" for r in self.clash_renames for d in r.definitions)

    def pairs(self) -> dict[str, dict[str, str]]:
        """path -> {old name: new name} of the preparatory renames."""
        out: dict[str, dict[str, str]] = {}
        for r in self.renames:
            for f in r.files:
                out.setdefault(f, {})[r.definition.name] = r.new_name
        for c in self.clash_renames:
            for f in c.files:
                out.setdefault(f, {})[c.name] = c.new_name
        return out

    def spans(self, path: str, data: bytes) -> list[tuple[int, int, bytes]]:
        """The preparatory renames in one file, as byte spans of `data`."""
        return [sp for old, new in sorted(self.pairs().get(path, {}).items())
                for sp in rename_spans(data, old, new)]

    def notes(self) -> list[str]:
        out = []
        for r in self.renames:
            d = r.definition
            out.append(f"{d.path}:{d.line}: {d.name} is defined privately with another meaning; "
                       f"apply and series first rename it to {r.new_name} in "
                       f"{', '.join(r.files)}, then define the generic {d.name}")
        for c in self.clash_renames:
            where = ", ".join(f"{d.path}:{d.line}" for d in c.definitions)
            out.append(f"{c.clash.source}:{c.clash.line()}: {c.name} ({where}) has another meaning; "
                       f"apply and series first rename it to {c.new_name} in {len(c.files)} file(s) "
                       f"({', '.join(c.clash.scope)}), then define the generic {c.name}")
        out += list(self.reasons)
        return out
