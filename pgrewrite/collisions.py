"""Existing definitions of the new names, and which files they capture.

A rename to PTE_SHIFT is wrong wherever another PTE_SHIFT is visible: x86
defines one (the index bits of a page table) in a header that nearly every
x86 file includes. Visibility follows the kernel's include graph:

- Every `#include` line of every .h, .c and .S file in the tree counts,
  whatever #if it sits under (conservative: a file may include more than a
  given configuration does, never less).
- `<p>` resolves as the kernel's -I list does for arch A: arch/A/include/p,
  include/p, arch/A/include/uapi/p, include/uapi/p, first that exists.
  `<asm/x.h>` missing from arch/A/include/asm/ is one of the generated
  wrappers: include/asm-generic/x.h (and arch/A/include/uapi/asm/x.h if that
  exists too; both count), else include/uapi/asm-generic/x.h.
  `"p"` is tried relative to the including file first, then as `<p>`.
- Unresolvable includes (<generated/...>, paths a Makefile adds with -I,
  computed includes, files with other suffixes) are treated as reaching
  nothing. A file always sees its own definitions, and engine.Engine.analyse
  adds every new name a file itself mentions.
- A file under arch/A/ is built for A only; any other file for every arch.
  Each definition under arch/A/ is followed over A's resolution of the
  graph; definitions elsewhere over the union of all arches' resolutions.
- A definition is visible in a file if some file compiled together with it
  reaches the definition: a .c file sees what it includes transitively; a
  header's text (its macro bodies above all) is compiled inside every file
  that includes it, so a header sees what any of its includers sees.

CollisionIndex.build reads the include lines (for the whole kernel tree one
`git grep` of "include", ~2 s of CPU beside the `git grep` for the
definitions, instead of 3-4 s reading every file here; with a cache directory
only files changed since the last run, see the end of the module), then answers `captured(rel_path)` from two propagations of bit masks, one
bit per definition: `reach` upwards from the defining files, `seen`
downwards from every file that reaches one.
"""
from __future__ import annotations

import mmap
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import cachefile, git, store, tree
from .codec import strs
from .definitions import Definition, find_definitions
from .git import top as git_top  # noqa: F401  (api and commands ask this module)
from .lex import Lexer
from .tree import GRAPH_SUFFIXES


def find_tree_root(start: Path) -> Path | None:
    """The kernel tree above `start` (a directory with arch/ and include/linux/)."""
    p = start if start.is_dir() else start.parent
    for d in (p, *p.parents):
        if (d / "arch").is_dir() and (d / "include" / "linux").is_dir():
            return d
    return None


def tree_root(start: Path) -> Path:
    """The root every path, site id, rule glob and decisions file is taken
    from, whatever the working directory: the nearest directory above
    `start` that looks like a kernel root, else the git top level, else
    `start` itself (its directory, for a file)."""
    start = Path(os.path.abspath(start))
    return find_tree_root(start) or git_top(start) or (start if start.is_dir() else start.parent)


def tree_definitions(root: Path, names) -> list[Definition]:
    """`#define` of any of `names` anywhere in the tree (git grep, else a walk)."""
    # a search for the names (git.grep_words) is an order of magnitude
    # faster than an anchored ERE for `#define NAME`
    r = git.found(root, "grep", "--no-index", "-n", "-I", *git.grep_words(names), "--", "*.h", "*.c", "*.S")
    lines = r.stdout.decode("utf-8", "replace").splitlines() if r is not None and r.returncode in (0, 1) else None
    if lines is None:
        return find_definitions(_walk_lines(root, names), names)
    return find_definitions((line.split(":", 2) for line in lines), names, GRAPH_SUFFIXES)


def _walk_lines(root: Path, names):
    """(path, line, text) of the lines of every .h, .c and .S file that
    mention one of `names` (what `git grep -n` gives), the files those of
    the tree's snapshot (tree.walk: the one walker of a tree)."""
    wanted = [n.encode() for n in names]
    stats, _ = tree.walk(root, stat=False).graph(root)
    for rel, _ in sorted(stats):
        try:
            data = (root / rel).read_bytes()
        except OSError:       # gone, unreadable, or a link to a directory
            continue
        if not any(n in data for n in wanted):
            continue
        for i, line in enumerate(data.split(b"\n"), 1):
            if any(n in line for n in wanted):
                yield rel, i, line.decode("utf-8", "replace")


def local_uses(data: bytes, lexer: Lexer) -> dict[str, int]:
    """New names this file already uses or defines (outside comments): name -> first line."""
    lexed = lexer.lex(data)
    out: dict[str, int] = {}
    for s, _, name in lexed.words + [w for d in lexed.directives for w in d.words]:
        out.setdefault(name, data.count(b"\n", 0, s) + 1)
    return out


# ------------------------------------------------------------------ include lines

_INCLUDE = re.compile(rb'[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]')


def include_specs(data) -> list[tuple[bool, str]]:
    """(quoted, path) of every #include line in `data` (bytes or mmap)."""
    out = []
    i = data.find(b"include")
    while i >= 0:   # a literal search, then a check at the line start: fast on huge headers
        m = _INCLUDE.match(data, data.rfind(b"\n", 0, i) + 1)
        if m is not None and m.end(1) > i:
            out.append((m.group(1) == b'"', m.group(2).decode("latin-1").strip()))
        i = data.find(b"include", i + 7)
    return out


def _read(path: str):
    """The file's bytes (an mmap for big generated headers), or None."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        size = os.fstat(fd).st_size
        if size < 1 << 20:
            return os.read(fd, size + 1)
        return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


def _read_specs(path: str) -> list[tuple[bool, str]]:
    data = _read(path)
    if data is None:
        return []
    try:
        return include_specs(data)
    finally:
        if isinstance(data, mmap.mmap):
            data.close()


# more files to read than this: one `git grep` of the tree is faster
FULL_GREP_OVER = 3000
_INCLUDE_LINE = re.compile(rb'^([^\0\n]*)\0[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.M)
_INCLUDE_GREP = ("grep", "--no-index", "-z", "-a", "-F", "-e", "include", "--", "*.h", "*.c", "*.S")


class IncludeLines(git.Ahead):
    """The tree's `git grep` for include lines, started ahead (`start`),
    while the caller's own work leaves a core idle: a cold scan's prefilter
    runs on about one core, and this grep costs a second of CPU that would
    otherwise compete with the analysis' workers. Taken by the index of the
    same root (`take`); `close` ends it if nobody took it."""

    @classmethod
    def start(cls, root: Path) -> IncludeLines:
        return cls(root, *_INCLUDE_GREP)


def _include_lines(root: Path, ahead: IncludeLines | None):
    if ahead is not None:
        got = ahead.take(root)
        if got is not None:
            return got
    r = git.found(root, *_INCLUDE_GREP)
    return (r.stdout, r.stderr) if r is not None and r.returncode in (0, 1) else None


def _read_all_specs(root: Path, rels, links=frozenset(), ahead: IncludeLines | None = None
                    ) -> dict[str, list[tuple[bool, str]]]:
    """{rel: _read_specs(root/rel)} for the tree-relative paths `rels`. Many
    files: the lines with "include" of all the tree's regular .h, .c and .S
    files come from one `git grep -a` (a fifth of the time of reading them
    here; `ahead`: that grep, if the caller started it); `links` (symbolic
    links, which git grep skips) are read here, as is everything if git
    fails."""
    found = None
    if len(rels) > FULL_GREP_OVER and not any("\n" in r for r in rels):
        r = _include_lines(root, ahead)
        found = {} if r is not None and not r[1] else None
        if found is not None:
            for path, quote, p in _INCLUDE_LINE.findall(r[0]):
                specs = found.get(path)
                if specs is None:
                    specs = found[path] = []
                specs.append((quote == b'"', p.decode("latin-1").strip()))
    if found is None:
        return {f: _read_specs(os.path.join(root, f)) for f in rels}
    return {f: _read_specs(os.path.join(root, f)) if f in links else found.get(os.fsencode(f), [])
            for f in rels}


def _tree_walk(root: Path, walks: dict | None, stat: bool = True) -> tree.Snapshot:
    """The walk of the tree; `walks` holds this run's walks (str(dir) ->
    tree.Snapshot) for it to reuse."""
    return (walks or {}).get(str(root)) or tree.walk(root, reuse=walks, stat=stat)


def _arch_of(rel: str) -> str | None:
    if rel.startswith("arch/"):
        parts = rel.split("/", 2)
        if len(parts) == 3:
            return parts[1]
    return None


# ------------------------------------------------------------------ the index

class CollisionIndex:
    """Which definitions of the new names each file of one tree sees."""

    def __init__(self, root: Path, definitions, files, specs):
        self.root = Path(root)
        self.definitions = tuple(sorted(definitions, key=lambda d: (d.path, d.line)))
        self.files = set(files)
        self.arches = sorted({a for f in self.files if (a := _arch_of(f)) and f.startswith(f"arch/{a}/include/")})
        self._specs = specs                      # rel path -> include specs (read lazily if missing)
        self._bit_pass = []                      # per bit: the arch whose graph it follows, or None
        self.pass_bits: dict[str | None, int] = {}
        self._own: dict[str, int] = {}
        for i, d in enumerate(self.definitions):
            a = _arch_of(d.path)
            self._bit_pass.append(a)
            self.pass_bits[a] = self.pass_bits.get(a, 0) | (1 << i)
            self._own[d.path] = self._own.get(d.path, 0) | (1 << i)
        self.full = (1 << len(self.definitions)) - 1
        self._arch_paths = {}                    # p -> arches with arch/A/include{,/uapi}/p
        for f in self.files:
            a = _arch_of(f)
            if a and f.startswith(pre := f"arch/{a}/include/"):
                p = f[len(pre):]
                if p.startswith("uapi/"):
                    p = p[5:]
                self._arch_paths.setdefault(p, set()).add(a)
        self._angle_cache: dict[str, tuple[tuple[str, int], ...]] = {}
        self.reach: dict[str, int] = {}
        self.seen: dict[str, int] = {}
        if self.definitions:
            self._propagate()

    @classmethod
    def build(cls, root: Path, names, definitions=None, aliases: dict[str, str] | None = None,
              cache_dir: Path | None = None, walks: dict | None = None, search=None,
              ahead: IncludeLines | None = None) -> CollisionIndex:
        """Find the definitions of `names` (unless given) and read the tree's include graph.

        `aliases` maps a new name to today's name it stands for (PTE_MASK ->
        PAGE_MASK): a definition that already says exactly that is no clash.
        With `cache_dir`, the include lines and the index itself are kept
        across runs (see `_cached_build`), and `index.fingerprint` says
        which state of the tree's files it was built from.
        `walks` holds the walks the caller made (str(dir) -> tree.Snapshot,
        files.expand's): the tree's walk reuses them.
        `search(root, names)`, if given, finds the definitions instead of
        tree_definitions (the scan shares one `git grep` with the
        preparation stage). `ahead`: the tree's grep for include lines, if
        the caller started it (IncludeLines)."""
        root = Path(root)
        search = search or tree_definitions
        if definitions is None and cache_dir is not None:
            return _cached_build(cls, root, names, aliases or {}, Path(cache_dir), walks, search, ahead)
        with ThreadPoolExecutor(1) as pool:   # git grep runs on the other core meanwhile
            found = pool.submit(search, root, names) if definitions is None else None
            stats, links = _tree_walk(root, walks, stat=False).graph(root)
            files = [r for r, _ in stats]
            specs = _read_all_specs(root, files, links, ahead)
            defs = found.result() if found is not None else definitions
        return cls._of_definitions(root, defs, files, specs, aliases or {})

    @classmethod
    def _of_definitions(cls, root: Path, defs, files, specs, aliases: dict) -> CollisionIndex:
        """The index of the definitions that clash: not those that already
        alias today's name, nor the series' own (kept as `own_names`)."""
        own = [d.is_own() for d in defs]
        index = cls(root, [d for d, o in zip(defs, own) if not o and not d.is_alias_of(aliases.get(d.name))],
                    files, specs)
        index.own_names = frozenset(d.name for d, o in zip(defs, own) if o)
        return index

    # new names the tree defines as the series does (Definition.is_own):
    # a file's own uses of them capture nothing (scan._captured)
    own_names: frozenset = frozenset()
    # the stat fingerprint of the tree's .h, .c and .S files the index was
    # built from (None: without a cache directory, or when a file changed
    # too recently to trust its stat)
    fingerprint: bytes | None = None

    _STATE = ("definitions", "files", "arches", "_bit_pass", "pass_bits", "_own", "full",
              "_arch_paths", "reach", "seen", "own_names")

    def _state(self) -> dict:
        """The built index as data (cachefile), for `_from_state`."""
        return {
            "definitions": [[d.path, d.line, d.name, d.text, d.compatible] for d in self.definitions],
            "files": sorted(self.files), "arches": self.arches, "_bit_pass": self._bit_pass,
            "pass_bits": [[a, _mask_data(m)] for a, m in self.pass_bits.items()],
            "_own": _masks_data(self._own), "full": _mask_data(self.full),
            "_arch_paths": {p: sorted(arches) for p, arches in self._arch_paths.items()},
            "reach": _masks_data(self.reach), "seen": _masks_data(self.seen),
            "own_names": sorted(self.own_names)}

    @classmethod
    def _from_state(cls, root: Path, state: dict) -> CollisionIndex:
        """The index `_state` made `state` from; raises one of
        cachefile.SHAPE_ERRORS for data of another shape."""
        self = cls.__new__(cls)
        self.root = Path(root)
        self.definitions = tuple(Definition(*_typed(d, (str, int, str, str, bool))) for d in state["definitions"])
        self.files = set(strs(state["files"]))
        self.arches = list(strs(state["arches"]))
        self._bit_pass = [a if a is None else _typed([a], (str,))[0] for a in state["_bit_pass"]]
        self.pass_bits = {_typed([a], ((str, type(None)),))[0]: _mask(m) for a, m in state["pass_bits"]}
        self._own, self.full = _masks(state["_own"]), _mask(state["full"])
        self._arch_paths = {p: set(strs(a)) for p, a in state["_arch_paths"].items()}
        self.reach, self.seen = _masks(state["reach"]), _masks(state["seen"])
        self.own_names = frozenset(strs(state["own_names"]))
        if len(self._bit_pass) != len(self.definitions):
            raise ValueError("the index's bits do not match its definitions")
        self._specs, self._angle_cache = {}, {}    # read lazily if a query needs them
        return self

    # -------------------------------------------------------------- resolution

    def _resolve_for(self, p: str, arch: str) -> list[str]:
        """Files `<p>` names when building for `arch`."""
        files = self.files
        if p.startswith("asm/"):
            own = f"arch/{arch}/include/{p}"
            if own in files:
                return [own]
            y = p[4:]
            out = [t for t in (f"include/asm-generic/{y}", f"arch/{arch}/include/uapi/{p}") if t in files]
            if not out and f"include/uapi/asm-generic/{y}" in files:
                out = [f"include/uapi/asm-generic/{y}"]
            return out
        for t in (f"arch/{arch}/include/{p}", f"include/{p}", f"arch/{arch}/include/uapi/{p}", f"include/uapi/{p}"):
            if t in files:
                return [t]
        if p.startswith("uapi/asm/") and f"include/uapi/asm-generic/{p[9:]}" in files:
            return [f"include/uapi/asm-generic/{p[9:]}"]
        return []

    def _angle(self, p: str) -> tuple[tuple[str, int], ...]:
        """(target, mask of definition bits whose graph has this edge) for `<p>`."""
        hit = self._angle_cache.get(p)
        if hit is not None:
            return hit
        if not p.startswith(("asm/", "uapi/asm/")) and p not in self._arch_paths:
            t = next((t for t in (f"include/{p}", f"include/uapi/{p}") if t in self.files), None)
            out = ((t, self.full),) if t is not None else ()
        else:
            acc: dict[str, int] = {}
            for a, bits in self.pass_bits.items():
                for arch in (self.arches if a is None else (a,)):
                    for t in self._resolve_for(p, arch):
                        acc[t] = acc.get(t, 0) | bits
            out = tuple(sorted(acc.items()))
        self._angle_cache[p] = out
        return out

    def _edges(self, src: str) -> list[tuple[str, int]]:
        specs = self._specs.get(src)
        if specs is None:
            specs = self._specs[src] = _read_specs(os.path.join(self.root, src))
        here = src.rsplit("/", 1)[0] + "/" if "/" in src else ""
        files, full, angle = self.files, self.full, self._angle
        out = []
        for quoted, p in specs:
            if "./" in p or "//" in p:
                p = os.path.normpath(p)
            if quoted:
                q = here + p
                if q in files or (".." in p and (q := os.path.normpath(q)) in files):
                    out.append((q, full))
                    continue
            out.extend(angle(p))
        return out

    # -------------------------------------------------------------- propagation

    def _propagate(self) -> None:
        # edges present in every arch's graph are kept apart, as bare strings: most are
        full = self.full
        down_all: dict[str, list[str]] = {}
        down_some: dict[str, list[tuple[str, int]]] = {}
        up_all: dict[str, list[str]] = {}
        up_some: dict[str, list[tuple[str, int]]] = {}
        for src in self._specs:
            edges = self._edges(src)
            if not edges:
                continue
            da, ds = [], []
            for t, m in edges:
                if m == full:
                    da.append(t)
                    up_all.setdefault(t, []).append(src)
                else:
                    ds.append((t, m))
                    up_some.setdefault(t, []).append((src, m))
            down_all[src] = da
            if ds:
                down_some[src] = ds
        self.reach = self._spread(dict(self._own), up_all, up_some)
        self.seen = self._spread(dict(self.reach), down_all, down_some)

    @staticmethod
    def _spread(bits: dict[str, int], plain, masked) -> dict[str, int]:
        """Push each node's bits along the edges until nothing changes."""
        stack = list(bits)
        get = bits.get
        while stack:
            n = stack.pop()
            b = bits[n]
            for t in plain.get(n, ()):
                if b & ~get(t, 0):
                    bits[t] = get(t, 0) | b
                    stack.append(t)
            for t, m in masked.get(n, ()):
                if b & m & ~get(t, 0):
                    bits[t] = get(t, 0) | (b & m)
                    stack.append(t)
        return bits

    # -------------------------------------------------------------- queries

    def _mask(self, rel: str) -> int:
        if not self.definitions:
            return 0
        if rel in self.seen or rel in self.files:
            mask = self.seen.get(rel, 0)
        else:                          # not part of the graph (other suffix): its own includes
            mask = self._own.get(rel, 0)
            for t, m in self._edges(rel):
                mask |= self.reach.get(t, 0) & m
            self.seen[rel] = mask
        arch = _arch_of(rel)
        if arch is not None:           # built for its own arch only
            mask &= self.pass_bits.get(arch, 0) | self.pass_bits.get(None, 0)
        return mask

    def visible(self, rel: str) -> tuple[Definition, ...]:
        """Every definition visible in the file at tree-relative path `rel`."""
        mask = self._mask(rel)
        return tuple(d for i, d in enumerate(self.definitions) if mask >> i & 1)

    def captured(self, rel: str) -> dict[str, str]:
        """New name -> "path:line" of a definition visible in `rel` (the nearest one)."""
        arch = _arch_of(rel)

        def nearness(d: Definition):
            # x86 is the architecture the split is for: name its clash first
            return (d.path != rel, _arch_of(d.path) != arch, (_arch_of(d.path) or "x86") != "x86", d.path, d.line)

        out: dict[str, str] = {}
        for d in sorted(self.visible(rel), key=nearness):
            out.setdefault(d.name, str(d))
        return out

    def unavailable(self, rel: str) -> dict[str, str]:
        """New names a rename in `rel` must not produce: those `captured`
        there, and those a shared header (include/, arch/*/include/) defines
        anywhere, since the generic definition a series adds first would
        clash with it in every build of that arch."""
        out = self.captured(rel)
        for d in self.definitions:
            if d.shared and d.name not in out:
                out[d.name] = f"{d} (a shared header: no generic {d.name} can be added until it is renamed)"
        return out


# ------------------------------------------------------------------ across runs
#
# Reading the include lines of 61,000 files costs ~2 s of CPU and building
# the index ~1.3 s more, every run. Both are kept in the cache directory, per
# tree root and set of names:
# - `<key>.specs`: each file's include specs with the (size, mtime_ns,
#   ctime_ns, inode) it was read at; a file whose stat differs is read again;
# - `<key>.state`: the built index, with a digest of every file's stat: when
#   no file was added, removed or changed, it is the answer (no reads, no
#   git grep). Otherwise the definitions are searched again and the index is
#   rebuilt from the kept specs plus the files read again.
# Files a store does not trust (store.trusted) are not kept.

CACHE_VERSION = b"pgrewrite-includes-6"    # 6: own_names kept


def any_index_kept(cache_dir: Path) -> bool:
    """Whether `cache_dir` holds an index of any tree (a run that finds
    none is cold for certain)."""
    return any((Path(cache_dir) / "includes").glob("*.state"))


def index_is_kept(cache_dir: Path | None, root: Path, family) -> bool:
    """Whether `cache_dir` holds an index of the tree at `root` for the
    family's new names (it may still be stale: a hint, not an answer)."""
    if cache_dir is None:
        return False
    state, _, _ = _cache_paths(Path(cache_dir), Path(root), family.replacements, family.aliases())
    return state is not None and state.exists()


def _cache_paths(cache_dir: Path, root: Path, names, aliases: dict) -> tuple[Path | None, Path | None, bytes | None]:
    """The index's `.state` and `.specs` files (one name, two suffixes) and
    the user's key they are MACed with; all None without a key."""
    state, secret = store.keyed_path_for(cache_dir, "includes", CACHE_VERSION, root, sorted(names),
                                         sorted(aliases.items()), suffix=".state")
    return (state, state.with_suffix(".specs"), secret) if state is not None else (None, None, None)


# Bit masks: one bit per definition, so beyond 63 definitions a mask is
# larger than JSON numbers carry; such masks are kept as hex strings.
_BIG = 1 << 63


def _mask_data(m: int):
    return m if m < _BIG else hex(m)


def _mask(v) -> int:
    if type(v) is int:
        return v
    if type(v) is not str:
        raise TypeError("not a bit mask")
    return int(v, 16)


def _masks_data(masks: dict) -> dict:
    if all(m < _BIG for m in masks.values()):
        return masks
    return {k: _mask_data(m) for k, m in masks.items()}


def _masks(data: dict) -> dict:
    if type(data) is not dict:
        raise TypeError("not a dict of bit masks")
    if all(type(v) is int for v in data.values()):
        return data
    return {k: _mask(v) for k, v in data.items()}


def _typed(values, kinds):
    """`values` if each is of its kind in `kinds` (types or tuples of types), else TypeError."""
    if type(values) is not list or len(values) != len(kinds) or not all(
            isinstance(v, k) and not (k is int and type(v) is bool) for v, k in zip(values, kinds)):
        raise TypeError(f"{values!r} is not of the expected shape")
    return values


def _specs_from(data: dict) -> dict:
    """The saved include specs (rel -> [stat, [[quoted, spec]...]]), checked."""
    out = {}
    for rel, (key, specs) in data.items():
        if type(specs) is not list or not all(type(q) is bool and type(p) is str for q, p in specs):
            raise TypeError(f"include specs of {rel!r} are not of the expected shape")
        out[rel] = (tuple(key), specs)
    return out


def _state_from(data):
    """(fingerprint, index state) of a saved `.state` file, unconverted: the
    index is converted (`_from_state`) only when its fingerprint matches."""
    if type(data["index"]) is not dict:
        raise TypeError("not an index state")
    return bytes.fromhex(data["fingerprint"]), data["index"]


def _cached_build(cls, root: Path, names, aliases: dict, cache_dir: Path, walks=None,
                  search=tree_definitions, ahead: IncludeLines | None = None) -> CollisionIndex:
    # the index says which definitions each file sees, trusted on stat keys
    # that anyone who can stat the tree can compute: MACed with the user's
    # key (docs/threat-model.md), and not kept without one
    state_path, specs_path, secret = _cache_paths(cache_dir, root, names, aliases)
    if secret is None:
        return cls.build(root, names, aliases=aliases, walks=walks, search=search, ahead=ahead)
    with ThreadPoolExecutor(1) as pool:
        snap = _tree_walk(root, walks)
        fp = snap.fingerprint
        state = store.load(state_path, _state_from, secret)
        if state is not None and state[0] == fp:
            try:
                index = cls._from_state(root, state[1])
            except cachefile.SHAPE_ERRORS:
                cachefile.note_bad(state_path, "not the data this pgrewrite expects there")
            else:
                cachefile.touch(specs_path)     # recently used (cache.prune deletes the oldest)
                index.fingerprint = fp
                return index
        found = pool.submit(search, root, names)   # git grep on the other core
        stats, links = snap.graph(root)
        kept = store.Kept(specs_path, _specs_from, key=secret)
        old = {rel: got for rel, key in stats if (got := kept.get(rel, key)) is not None}
        fresh = _read_all_specs(root, [rel for rel, _ in stats if rel not in old], links, ahead)
        specs = {rel: old[rel] if rel in old else fresh[rel] for rel, _ in stats}
        keep = {rel: (key, specs[rel]) for rel, key in stats if kept.trusted(key)}
        defs = found.result()
    index = cls._of_definitions(root, defs, [r for r, _ in stats], specs, aliases)
    kept.save(keep)
    if len(keep) == len(stats):
        store.save(state_path, {"fingerprint": fp.hex(), "index": index._state()}, secret)
        index.fingerprint = fp           # no file changed too recently to trust its stat
    return index
