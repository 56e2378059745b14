"""The first patch of a series: the new names, and what already owns them.

Where the names go (checked against the 6.12 tree):

* ``PTE_SHIFT/SIZE/MASK`` and ``PG_SHIFT/SIZE/MASK`` go into
  ``include/asm-generic/memory_model.h``. 6.12 has no generic header that
  defines PAGE_SIZE (each arch does, e.g. arch/x86/include/asm/page_types.h),
  but every arch's <asm/page.h> (sparc's through page_32.h/page_64.h) includes
  asm-generic/memory_model.h after defining PAGE_*, so the aliases are visible
  wherever <asm/page.h> makes PAGE_SIZE visible. They are placed outside its
  ``#ifndef __ASSEMBLY__`` block so .S files that include <asm/page.h> see them too.
  (Files that only include an arch's page-definition header, such as x86 .S
  files including <asm/page_types.h> alone, do not: the cover letter says so.)
* ``PTE_ALIGN*``/``PG_ALIGN*`` go into ``include/linux/mm.h`` right after
  ``PAGE_ALIGNED()``, and ``offset_in_pte()``/``offset_in_pg()`` right after
  ``offset_in_page()``: the same header as the PAGE_* helpers they mirror, so they
  are visible exactly where those are.

Collisions. A rename must never produce a name that an existing definition
captures, and the first patch must not redefine a macro somebody else owns (a
redefinition with a different body is a warning, an error with CONFIG_WERROR).
A definition under include/ is seen by every file; one under arch/X/include/
by every file built for X, generic code (mm/, kernel/, include/...) included;
one in a .c file or a driver-local header by that file and its includers, which
also see the generic definition the first patch adds. Leaving files out cannot
fix the last point, so the unit of the policy is the name: a name with any
definition whose body differs from our alias is *blocked* tree-wide. By default
a blocked name is left out (not defined, no site renamed to it; its sites keep
the PAGE_* spelling, which stays valid) and the definitions that block it are
reported with what must be renamed first; ``collisions="refuse"`` makes that an
error before anything is written. A definition identical to ours (sh and m68k
``#define PTE_MASK PAGE_MASK``) is compatible and blocks nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .git import Git

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
NEW_NAMES: tuple[str, ...] = tuple(n for n, _ in CONSTANTS) + HELPERS + OFFSETS

CONSTANTS_HEADER = "include/asm-generic/memory_model.h"
HELPERS_HEADER = "include/linux/mm.h"


class DefinitionsError(RuntimeError):
    pass


@dataclass(frozen=True, order=True)
class Definition:
    """An existing `#define` of one of the new names."""

    path: str
    line: int
    name: str
    text: str
    compatible: bool

    @property
    def scope(self) -> str:
        if self.path.startswith("include/"):
            return "global"
        m = re.match(r"arch/([^/]+)/include/", self.path)
        if m:
            return f"arch:{m.group(1)}"
        return "local"

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


def _bodies(constant_names: set[str]) -> dict[str, str]:
    """The replacement text we would give each name (for compatibility checks)."""
    bodies = {n: a for n, a in CONSTANTS}
    for prefix in ("PTE", "PG"):
        size = f"{prefix}_SIZE" if f"{prefix}_SIZE" in constant_names else "PAGE_SIZE"
        mask = f"{prefix}_MASK" if f"{prefix}_MASK" in constant_names else "PAGE_MASK"
        bodies[f"{prefix}_ALIGN"] = f"(addr) ALIGN(addr, {size})"
        bodies[f"{prefix}_ALIGN_DOWN"] = f"(addr) ALIGN_DOWN(addr, {size})"
        bodies[f"{prefix}_ALIGNED"] = f"(addr) IS_ALIGNED((unsigned long)(addr), {size})"
        bodies[f"offset_in_{prefix.lower()}"] = f"(p) ((unsigned long)(p) & ~{mask})"
    return bodies


_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)(.*)$")
_COMMENT = re.compile(r"/\*.*?\*/|//.*$")


def _norm(text: str) -> str:
    return " ".join(_COMMENT.sub(" ", text).split())


def find_definitions(git: Git, base: str) -> tuple[Definition, ...]:
    """Every `#define` of a new name in the tree at `base` (not the work tree)."""
    names = "|".join(NEW_NAMES)
    proc = git.run("grep", "-n", "-I", "-E",
                   rf"^[[:space:]]*#[[:space:]]*define[[:space:]]+({names})([^A-Za-z0-9_]|$)",
                   base, "--", check=False)
    if proc.returncode not in (0, 1):
        raise DefinitionsError(proc.stderr.decode(errors="replace").strip())
    bodies = _bodies({n for n, _ in CONSTANTS})
    found = []
    for raw in proc.stdout.decode(errors="replace").splitlines():
        rest = raw[len(base) + 1:] if raw.startswith(base + ":") else raw
        path, line, text = rest.split(":", 2)
        m = _DEFINE.match(text)
        if not m:
            continue
        name, body = m.group(1), m.group(2)
        compatible = (not text.rstrip().endswith("\\")
                      and _norm(body) == _norm(bodies[name]))
        found.append(Definition(path, int(line), name, text.strip(), compatible))
    return tuple(sorted(found))


def blocked_names(defs: tuple[Definition, ...]) -> dict[str, tuple[Definition, ...]]:
    blocked: dict[str, list[Definition]] = {}
    for d in defs:
        if not d.compatible:
            blocked.setdefault(d.name, []).append(d)
    return {n: tuple(v) for n, v in sorted(blocked.items())}


def explain(blocked: dict[str, tuple[Definition, ...]]) -> list[str]:
    """Lines a person can act on: which definition owns which name."""
    lines = []
    for name, defs in blocked.items():
        lines.append(f"{name} is already defined with another meaning:")
        for d in defs:
            lines.append(f"  {d.path}:{d.line}: {d.text}")
            lines.append(f"    (captures {d.captures()})")
        lines.append(f"  rename that definition first (a preparatory patch), then re-run "
                     f"to convert the sites that need {name}.")
    return lines


@dataclass(frozen=True)
class Insertion:
    path: str
    offset: int      # byte offset in the file at base: a line start
    text: bytes


def _after_line(data: bytes, pattern: bytes) -> int | None:
    m = re.search(pattern, data, re.M)
    if not m:
        return None
    pos = m.start()
    while True:  # skip the anchor line and its continuation lines
        nl = data.find(b"\n", pos)
        if nl < 0:
            return len(data)
        if data[max(pos, nl - 1):nl] != b"\\":
            return nl + 1
        pos = nl + 1


def plan_definitions(read, names: set[str]) -> tuple[Insertion, ...]:
    """Insertions that define `names` (the unblocked new names).

    `read(path) -> bytes | None` reads a file at the base commit."""
    constants = [(n, a) for n, a in CONSTANTS if n in names]
    bodies = _bodies({n for n, _ in constants})
    out: list[Insertion] = []

    if constants:
        data = read(CONSTANTS_HEADER)
        pos = None
        if data is not None:
            pos = _after_line(data, rb"^#include <linux/pfn\.h>")
            if pos is None:
                pos = _after_line(data, rb"^#define __\w+_H\b")
        if pos is None:
            raise DefinitionsError(
                f"cannot place the PTE_*/PG_* constants: {CONSTANTS_HEADER} is missing "
                "or has no include guard")
        body = ["",
                "/*",
                " * PTE_* is the mapping granularity (what one page-table entry maps),",
                " * PG_* the allocation granularity (what one order-0 page holds).",
                " * Both equal PAGE_* today; code says which one it means.",
                " */"]
        body += [f"#define {n}\t{a}" for n, a in constants]
        out.append(Insertion(CONSTANTS_HEADER, pos, ("\n".join(body) + "\n").encode()))

    helpers = [h for h in HELPERS if h in names]
    offsets = [o for o in OFFSETS if o in names]
    if helpers or offsets:
        data = read(HELPERS_HEADER)
        if data is None:
            raise DefinitionsError(f"cannot place the helpers: {HELPERS_HEADER} is missing")
    if helpers:
        pos = _after_line(data, rb"^#define PAGE_ALIGNED\(")
        if pos is None:
            raise DefinitionsError(f"{HELPERS_HEADER} has no PAGE_ALIGNED() to put "
                                   "PTE_ALIGN*/PG_ALIGN* next to")
        lines = ["", "/* the same at mapping (PTE) and allocation (PG) granularity */"]
        for h in helpers:
            params, _, expansion = bodies[h].partition(" ")
            lines.append(f"#define {h}{params}\t{expansion}")
        out.append(Insertion(HELPERS_HEADER, pos, ("\n".join(lines) + "\n").encode()))
    if offsets:
        pos = _after_line(data, rb"^#define offset_in_page\(")
        if pos is None:
            raise DefinitionsError(f"{HELPERS_HEADER} has no offset_in_page() to put "
                                   "offset_in_pte()/offset_in_pg() next to")
        lines = [f"#define {o}(p)\t{bodies[o].partition(' ')[2]}" for o in offsets]
        out.append(Insertion(HELPERS_HEADER, pos, ("\n".join(lines) + "\n").encode()))
    return tuple(sorted(out, key=lambda i: (i.path, i.offset)))


# ---------------------------------------------------------------- private names
#
# A definition in a .c file, or in a header outside include/ and arch/*/include/,
# is private to that file or that directory. Renaming it (PG_SIZE in
# drivers/input/touchscreen/wdt87xx_i2c.c -> WDT87XX_I2C_PG_SIZE) is itself a
# mechanical change, and it frees the name for the generic definition, so the
# series can do it in a preparatory patch. It is done only when every use of the
# name in the tree is explained by a definition that covers it, and the new name
# is not used yet in the files concerned.


@dataclass(frozen=True)
class LocalRename:
    definition: Definition
    new_name: str
    files: tuple[str, ...]


def _covers(d: Definition, path: str) -> bool:
    scope = d.scope
    if scope == "global":
        return True
    if scope.startswith("arch:"):
        return path.startswith(f"arch/{scope[5:]}/")
    if d.path.endswith((".c", ".S")):
        return path == d.path
    return path.startswith(d.path.rsplit("/", 1)[0] + "/") if "/" in d.path else True


def _private_name(d: Definition) -> str:
    stem = re.sub(r"\W", "_", d.path.rsplit("/", 1)[-1].split(".")[0]).upper()
    new = f"{stem}_{d.name}"
    return new if not d.name.islower() else new.lower()


SOURCES = ("*.c", "*.h", "*.S", "*.s", "*.lds", "*.dts", "*.dtsi")


def _files_using(git: Git, base: str, name: str) -> list[str]:
    """C/assembly files that use `name` (documentation and logs do not count)."""
    proc = git.run("grep", "-l", "-I", "-w", "-F", "-e", name, base, "--", *SOURCES,
                   check=False)
    return sorted(line[len(base) + 1:] if line.startswith(base + ":") else line
                  for line in proc.stdout.decode(errors="replace").splitlines())


def plan_local_renames(git: Git, base: str, defs: tuple[Definition, ...],
                       blocked: dict[str, tuple[Definition, ...]]):
    """(renames, still blocked, reasons): private definitions that can be renamed
    away, the names that stay blocked, and why a private one could not be."""
    renames: list[LocalRename] = []
    still: dict[str, tuple[Definition, ...]] = {}
    reasons: list[str] = []
    for name, bad in blocked.items():
        local = [d for d in bad if d.scope == "local"]
        wide = tuple(d for d in bad if d.scope != "local")
        if not local or wide:
            # an arch or global header keeps the name blocked anyway: renaming
            # the private ones would not make it usable
            still[name] = bad
            continue
        all_defs = [d for d in defs if d.name == name]
        uses = _files_using(git, base, name)
        unexplained = [u for u in uses if not any(_covers(d, u) for d in all_defs)]
        planned: list[LocalRename] = []
        problem = ""
        if unexplained:
            problem = (f"{name} is used in {unexplained[0]}, which no definition covers")
        else:
            for d in local:
                files = tuple(u for u in uses if _covers(d, u))
                owners = [o for o in local if o != d and any(_covers(o, f) for f in files)]
                if owners:
                    problem = f"{d.path} and {owners[0].path} both define {name} for {files[0]}"
                    break
                new = _private_name(d)
                if _files_using_in(git, base, new, files):
                    problem = f"{new} (for {d.path}) is already used there"
                    break
                planned.append(LocalRename(d, new, files))
        if problem:
            reasons.append(f"{name}: private definition not renamed: {problem}")
            still[name] = bad
            continue
        renames += planned
    return tuple(renames), still, reasons


def _files_using_in(git: Git, base: str, name: str, files) -> bool:
    proc = git.run("grep", "-q", "-w", "-F", "-e", name, base, "--", *files, check=False)
    return proc.returncode == 0


_LEXEME = re.compile(rb'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|[A-Za-z_]\w*',
                     re.S)


def rename_spans(data: bytes, old: str, new: str) -> list[tuple[int, int, bytes]]:
    """Byte spans renaming the identifier `old` in code and comments (not in
    string or character literals)."""
    old_b, new_b = old.encode(), new.encode()
    word = re.compile(rb"\b" + re.escape(old_b) + rb"\b")
    spans = []
    for m in _LEXEME.finditer(data):
        tok = m.group()
        if tok == old_b:
            spans.append((m.start(), m.end(), new_b))
        elif tok.startswith((b"//", b"/*")):
            spans += [(m.start() + w.start(), m.start() + w.end(), new_b)
                      for w in word.finditer(tok)]
    return spans
