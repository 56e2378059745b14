"""The first patch of a series: the new names, and what already owns them.

Where the names go (checked against the 6.12 tree):

* ``PTE_SHIFT/SIZE/MASK`` and ``PG_SHIFT/SIZE/MASK`` go into
  ``include/linux/const.h``. 6.12 has no generic header that defines
  PAGE_SIZE (each arch does, e.g. arch/x86/include/asm/page_types.h), and
  the arch headers use PAGE_SHIFT in inline functions (x86's
  get_max_mapped(), pfn_to_kaddr(); asm-generic/getorder.h on arm, m68k,
  xtensa) before <asm/page.h> includes asm-generic/memory_model.h at its
  end: the aliases must be defined before the first header that can use
  them. Every arch defines PAGE_SIZE with _AC() from <linux/const.h>, so
  const.h is read before any page-size definition, in C and in assembly
  (the aliases expand to PAGE_* only where they are used). Verified on
  x86_64 defconfig (docs/verify.md). A tree without include/linux/const.h
  (our fixtures) gets them in asm-generic/memory_model.h, the header of
  earlier versions of this plan.
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
from pathlib import Path

from ..definitions import (
    _FIRST_PATCH_ORDER,
    CONSTANTS,
    CONSTANTS_HEADERS,
    HELPERS,
    HELPERS_HEADER,
    OFFSETS,
    ClashRename,
    Definition,
    LocalRename,
    Preparation,
    own_bodies,
)
from ..definitions import find_definitions as _find
from ..git import CompletedProcess, Git, grep_words

CONSTANTS_HEADER = CONSTANTS_HEADERS[0][0]


class DefinitionsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Source:
    """Where the definitions and uses are searched: a commit (`rev`), or the
    files on disk under the git object's directory (`rev=None`: `git grep
    --no-index`, which works in and outside a repository). `series` reads the
    base commit, `scan` and `apply` the work tree; both go through `prepare`."""

    git: Git
    rev: str | None = None

    def grep(self, *args: str, paths: tuple[str, ...] = ()) -> CompletedProcess:
        where = [self.rev] if self.rev else []
        head = ["grep", "--no-index"] if self.rev is None else ["grep"]
        return self.git.run(*head, *args, *where, "--", *paths, check=False)

    def exists(self, path: str) -> bool:
        if self.rev:
            return self.git.run("cat-file", "-e", f"{self.rev}:{path}", check=False).returncode == 0
        return (Path(self.git.cwd) / path).is_file()

    def path_of(self, line: str) -> str:
        """A `git grep` output line starts with `rev:` when searching a commit."""
        if self.rev and line.startswith(self.rev + ":"):
            return line[len(self.rev) + 1:]
        return line


def _source(git_or_source, base: str | None) -> Source:
    return git_or_source if isinstance(git_or_source, Source) else Source(git_or_source, base)


def _grep_new_names(src: Source, extra: tuple[str, ...] = (),
                    names: tuple[str, ...] = _FIRST_PATCH_ORDER) -> list[tuple[str, int, str]]:
    """(path, line, text) of every line of every text file mentioning a new
    name (or one of `extra`: the names clashes.yaml renames to) as a whole
    word. A search for the names only (git.grep_words): on the 6.12 tree
    an anchored `#define` regex takes 20-50 s, this about 1 s (2.3 s
    without PCRE)."""
    proc = src.grep(*_new_name_grep(names, extra))
    if proc.returncode not in (0, 1):
        raise DefinitionsError(proc.stderr.decode(errors="replace").strip())
    return _lines(proc.stdout, src)


def _new_name_grep(names: tuple[str, ...], extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    return ("-n", "-I", *grep_words(names + tuple(n for n in extra if n not in names)))


def _lines(stdout: bytes, src: Source | None = None) -> list[tuple[str, int, str]]:
    out = []
    for raw in stdout.decode(errors="replace").splitlines():
        path, line, text = (src.path_of(raw) if src is not None else raw).split(":", 2)
        out.append((path, int(line), text))
    return out


def new_name_lines(git, clashes=(), names: tuple[str, ...] = _FIRST_PATCH_ORDER) -> list[tuple[str, int, str]]:
    """The lines `prepare(git, None, clashes=clashes, names=names)` searches."""
    return _grep_new_names(_source(git, None), tuple(c.rename_to for c in clashes), names)


def new_name_grep(clashes=(), names: tuple[str, ...] = _FIRST_PATCH_ORDER) -> tuple[str, ...]:
    """The `git grep --no-index` arguments of `new_name_lines`, for a caller
    that runs it itself; `new_name_lines_of` reads its output."""
    return ("grep", "--no-index", *_new_name_grep(names, tuple(c.rename_to for c in clashes)), "--")


def new_name_lines_of(stdout: bytes) -> list[tuple[str, int, str]]:
    return _lines(stdout)


def find_definitions(git, base: str | None = None, lines=None,
                     names: tuple[str, ...] = _FIRST_PATCH_ORDER) -> tuple[Definition, ...]:
    """Every `#define` of a new name in the tree at `base` (or on disk, see Source)."""
    src = _source(git, base)
    return tuple(_find(lines if lines is not None else _grep_new_names(src, names=names), names))


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


def constants_place(read) -> tuple[str, int | None]:
    """(header, offset) where the PTE_*/PG_* constants go: the first header
    of CONSTANTS_HEADERS the tree has, after its anchor line."""
    for header, anchors in CONSTANTS_HEADERS:
        data = read(header)
        if data is None:
            continue
        for anchor in anchors:
            pos = _after_line(data, anchor)
            if pos is not None:
                return header, pos
    return CONSTANTS_HEADERS[-1][0], None


def constants_header(read) -> str:
    """The header the series defines the PTE_*/PG_* constants in."""
    return constants_place(read)[0]


def plan_definitions(read, names: set[str]) -> tuple[Insertion, ...]:
    """Insertions that define `names` (the unblocked new names).

    `read(path) -> bytes | None` reads a file at the base commit."""
    constants = [(n, a) for n, a in CONSTANTS if n in names]
    bodies = own_bodies({n for n, _ in constants})
    out: list[Insertion] = []

    if constants:
        header, pos = constants_place(read)
        if pos is None:
            raise DefinitionsError(
                "cannot place the PTE_*/PG_* constants: "
                f"{' and '.join(h for h, _ in CONSTANTS_HEADERS)} are missing or have no include guard")
        body = ["",
                "/*",
                " * PTE_* is the mapping granularity (what one page-table entry maps),",
                " * PG_* the allocation granularity (what one order-0 page holds).",
                " * Both equal PAGE_* today; code says which one it means.",
                " */"]
        body += [f"#define {n}\t{a}" for n, a in constants]
        out.append(Insertion(header, pos, ("\n".join(body) + "\n").encode()))

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


SOURCES = (".c", ".h", ".S", ".s", ".lds", ".dts", ".dtsi")


def _files_using(lines, name: str) -> list[str]:
    """C/assembly files that use `name` (documentation and logs do not count)."""
    word = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")
    return sorted({p for p, _, text in lines if p.endswith(SOURCES) and word.search(text)})


def plan_local_renames(git, base: str | None, defs: tuple[Definition, ...],
                       blocked: dict[str, tuple[Definition, ...]], lines=None):
    """(renames, still blocked, reasons): private definitions that can be renamed
    away, the names that stay blocked, and why a private one could not be."""
    src = _source(git, base)
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
        if lines is None:
            lines = _grep_new_names(src)
        all_defs = [d for d in defs if d.name == name]
        uses = _files_using(lines, name)
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
                if _files_using_in(src, new, files):
                    problem = f"{new} (for {d.path}) is already used there"
                    break
                planned.append(LocalRename(d, new, files))
        if problem:
            reasons.append(f"{name}: private definition not renamed: {problem}")
            still[name] = bad
            continue
        renames += planned
    return tuple(renames), still, reasons


def _files_using_in(src: Source, name: str, files) -> bool:
    proc = src.grep("-q", "-w", "-F", "-e", name, paths=tuple(files))
    return proc.returncode == 0


# ---------------------------------------------------------------- declared clashes
#
# A definition in an arch header (x86's PTE_SHIFT, the index bits of a page
# table) blocks its name tree-wide, and no rule can say what it should be
# called instead. semantic-rules/clashes.yaml says so, per clash (see
# pgrewrite/rules/clashes.py): the definitions of `name` in `defined-in`, and every
# use of `name` in the files `scope` matches, become `rename-to`. The plan
# checks the declaration against the tree and refuses (ClashError, reported
# like a rule error) when it does not fit.


class ClashError(DefinitionsError):
    """clashes.yaml does not fit the tree; `problems` are `file:line: key: message`."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def plan_clash_renames(lines, defs: tuple[Definition, ...], clashes, exists=None):
    """Check each clashes.yaml entry against the tree (the grep `lines` of the
    new names and of the rename-to names) and turn it into renames:
    (renames, notes). An entry none of whose defined-in files exists (another
    kernel version, a partial tree) does not apply here, and a missing
    defined-in file is skipped: notes, not errors. A file that exists but
    does not define the name is an error (a stale declaration)."""
    problems: list[str] = []
    out: list[ClashRename] = []
    notes: list[str] = []
    by_file: dict[tuple[str, str], object] = {}        # (name, file) -> the entry renaming it
    for c in clashes:
        def bad(key, msg, c=c):
            problems.append(f"{c.source}:{c.line(key)}: {c.index}/{key}: {msg}")

        if exists is not None and not any(exists(f) for f in c.defined_in):
            notes.append(f"{c.source}:{c.line()}: {c.name} -> {c.rename_to} does not apply to this "
                         f"tree: {', '.join(c.defined_in)} not found")
            continue

        mine = tuple(d for d in defs if d.name == c.name and d.path in c.defined_in)
        for f in c.defined_in:
            if any(d.path == f for d in mine):
                continue
            if exists is None or exists(f):
                bad("defined-in", f"{f} does not define {c.name} (no `#define {c.name}` there)")
            else:
                notes.append(f"{c.source}:{c.line('defined-in')}: {f} (defined-in of {c.name} -> "
                             f"{c.rename_to}) is not in this tree")
        for d in defs:
            if d.name == c.name and d.path not in c.defined_in and c.in_scope(d.path):
                bad("scope", f"{d.path}:{d.line} defines {c.name} inside this scope but is not "
                             "listed in defined-in; list it (it is renamed too) or narrow the scope")
        word = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(c.rename_to)}(?![A-Za-z0-9_])")
        used = next(((p, n) for p, n, text in lines if word.search(text)), None)
        if used is not None:
            bad("rename-to", f"{c.rename_to} is already used at {used[0]}:{used[1]}; "
                             "choose a name that does not occur in the tree")
        files = tuple(f for f in _files_using(lines, c.name) if c.in_scope(f))
        for f in files:
            other = by_file.setdefault((c.name, f), c)
            if other is not c:
                bad("scope", f"{f} is also in the scope of the entry at line {other.line()} "
                             f"for {c.name}; one file can be renamed one way only")
                break
        out.append(ClashRename(c, mine, files))
    if problems:
        raise ClashError(problems)
    return tuple(out), notes


def prepare(git, base: str | None = None, collisions: str = "rename-local",
            clashes=(), lines=None, names: tuple[str, ...] = _FIRST_PATCH_ORDER) -> Preparation:
    """Find the definitions of the new names and plan the preparatory renames.

    `collisions`: rename-local (declared clashes and private definitions are
    renamed, the other blocked names left out), leave-out (all blocked names
    left out) or refuse (the caller refuses when `blocked` is not empty).
    `clashes`: the entries of clashes.yaml (RuleSet.clashes); a name they
    resolve is free once no other definition blocks it. Raises ClashError
    when an entry does not fit the tree. `lines`: what new_name_lines(src,
    clashes, names) returned, if the caller has it already. `names`: the new
    names (definitions.new_names of the family; by default those the first
    patch knows how to define)."""
    src = _source(git, base)
    clashes = tuple(clashes) if collisions == "rename-local" else ()
    if lines is None:
        lines = new_name_lines(src, clashes, names)
    found = find_definitions(src, lines=lines, names=names)
    blocked = blocked_names(found)
    if not blocked or collisions != "rename-local":
        return Preparation(found, blocked, new_names=names)
    planned, notes = plan_clash_renames(lines, found, clashes, src.exists) if clashes else ((), [])
    declared = {(d.path, d.line) for c in planned for d in c.definitions}
    rest = {n: tuple(d for d in ds if (d.path, d.line) not in declared) for n, ds in blocked.items()}
    renames, still, reasons = plan_local_renames(src, None, found, {n: ds for n, ds in rest.items() if ds},
                                                 lines=lines)
    reasons = notes + reasons
    # a declared rename that frees nothing (another definition keeps the name
    # blocked) is not made: the name stays blocked and is reported with it
    made = []
    for c in planned:
        if c.name in still:
            others = ", ".join(f"{d.path}:{d.line}" for d in still[c.name])
            reasons.append(f"{c.clash.source}:{c.clash.line()}: {c.name} -> {c.new_name} not made: "
                           f"{c.name} stays blocked by {others}, which clashes.yaml does not resolve")
            still[c.name] = tuple(sorted(set(still[c.name]) | set(c.definitions)))
        else:
            made.append(c)
    return Preparation(found, still, renames, tuple(reasons), tuple(made), names)
