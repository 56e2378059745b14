"""Which files to read: expand the user's paths, keep C and assembly sources.

Inside a git work tree `git grep -l` finds the candidate files (it is much
faster than reading every file in Python); elsewhere every source file is
read and a cheap substring test drops files without a family name. Either
way the accounting stays exact, because a file dropped here cannot contain
a whole-word family name.

With a cache directory the prefilter's answer is kept per file, keyed by the
file's stat (size, mtime_ns, ctime_ns, inode; in a git tree also whether git
tracks it): an unchanged tree then costs a walk (or `git ls-files`) and a
stat per file, and only new or changed files are searched again. A file
changed less than STALE_NS before the search started is not kept (an edit
within the same timestamp granule would not show in its stat).
"""
from __future__ import annotations

import errno
import functools
import hashlib
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import cachefile
from .cachefile import touch

SOURCE_SUFFIXES = (".c", ".h", ".S", ".s", ".lds")


@dataclass(frozen=True)
class Candidate:
    display: str       # path shown to the user (relative to the cwd)
    path: Path         # absolute path


@dataclass(frozen=True)
class InputProblem:
    display: str
    message: str


def is_source(name: str) -> bool:
    return name.endswith(SOURCE_SUFFIXES)


def display_path(p: Path, cwd: Path) -> str:
    try:
        return os.path.relpath(p, cwd)
    except ValueError:
        return str(p)


def expand(paths, names, cwd: Path | None = None, use_git: bool = True, cache_dir: Path | None = None,
           idle=None, walks: dict | None = None):
    """Candidate files under `paths` and problems with the paths themselves.
    With `cache_dir`, the prefilter's answers are kept there across runs.
    `idle()` is called (at most once) while git works in another process,
    for the caller to use this process meanwhile. `walks`, if given, gets
    the walk of each directory walked (str(dir) -> what `walk` returns), for
    the caller's own use of the same stat pass."""
    cwd = cwd or Path.cwd()
    idle = _once(idle)
    out: dict[str, Candidate] = {}       # by real path: a file named twice is read once
    problems: list[InputProblem] = []
    unread = Unreadable()
    real_dirs: dict[str, str] = {}

    def add(f: Path):
        name = display_path(f, cwd)
        why = unshowable(name)
        if why is not None:
            problems.append(InputProblem(shown(name), f"{why}: it cannot be shown in reports or written into "
                                                      "patches; skipped (rename it to include it)"))
            return
        d, base = os.path.split(f)     # f is no link: its directory's real path is enough
        real = real_dirs.get(d)
        if real is None:
            real = real_dirs[d] = os.path.realpath(d)
        out.setdefault(os.path.join(real, base), Candidate(name, f))

    for raw in paths:
        p = _plain(cwd / raw)
        if not os.path.lexists(p):
            problems.append(InputProblem(str(raw), "no such file or directory; check the path"))
            continue
        if p.is_dir() and os.path.islink(p) and is_source(p.name):
            # named like a file (a list of files, say), it would be walked
            # and written through: as in the walk, such a link is not entered
            problems.append(InputProblem(str(raw), f"symbolic link to the directory {os.readlink(p)!r}, named "
                                                   "like a source file; not entered (name the directory itself)"))
            continue
        if p.is_dir():
            found = _git_candidates(p, names, cache_dir, idle, walks, unread) if use_git else None
            if found is None:
                unread.files.clear()       # what git said is moot: the walk decides
                found = (_walk_prefiltered(p, names, cache_dir, idle, walks, unread) if use_git
                         else _walk(p, unread))
            # a file the prefilter could not read stays a candidate: reading
            # it fails again, and the analysis reports it as a failed file
            found = sorted({*found, *unread.files}) if unread.files else found
            unread.files.clear()
            for f in found:
                if os.path.islink(f):
                    f = _follow(f, p, cwd, problems)
                    if f is None:
                        continue
                add(f)
        elif p.is_file() or p.is_symlink():
            # a file named explicitly is read whatever its suffix
            if os.path.islink(p):
                p = _follow(p, cwd, cwd, problems)
                if p is None:
                    continue
            add(p)
        else:
            problems.append(InputProblem(str(raw), "not a regular file or directory; skipped"))
    for d, reason in sorted(unread.dirs.items()):
        problems.append(InputProblem(display_path(Path(d), cwd), f"cannot read this directory ({reason}): files in it "
                                     "were not scanned; make it readable to include them"))
    return sorted(out.values(), key=lambda c: c.display), problems


def _plain(p: Path) -> Path:
    """`p` without `.` and `..` components when that is the same file
    (`mm/../mm/memory.c` is `mm/memory.c`; through a symbolic link `..` is
    not lexical, and the path stays as given)."""
    plain = Path(os.path.normpath(p))
    if plain != p:
        try:
            if os.path.realpath(plain) != os.path.realpath(p):
                return p
        except (OSError, ValueError):
            return p
    return plain


def unshowable(name: str) -> str | None:
    """Why a file name cannot go into a report line or a patch, or None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not UTF-8"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "the file name contains a control character (a newline, a tab, ...)"
    return None


def shown(name: str) -> str:
    """`name` printable on one line: undecodable bytes as \\xNN, control
    characters escaped as Python writes them."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(repr(ch)[1:-1] if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)


class Unreadable:
    """What the prefilter (git or the walk) could not read: source files
    (absolute paths; they stay candidates) and directories (path -> reason;
    each becomes an input problem). Nothing it could not read is dropped
    silently."""

    def __init__(self):
        self.files: set[Path] = set()
        self.dirs: dict[str, str] = {}

    def directory(self, path: str, reason: str) -> None:
        self.dirs.setdefault(os.path.normpath(path), reason)

    def git_stderr(self, err: bytes, top: Path, prefix: str = "") -> bool:
        """Take in what git grep or ls-files, run in `top`, said on stderr
        about files it could not read. Git names them from the top level of
        the work tree, `prefix` being `top`'s path from there (`git rev-parse
        --show-prefix`; "" with --no-index, which names them from `top`).
        False if git said anything else: then its answer is not to be used."""
        ok = True
        for line in err.decode("utf-8", "surrogateescape").splitlines():
            m = _GIT_TROUBLE.match(line)
            if m is None:
                ok = False
                continue
            name, reason = m.group("path"), m.group("reason")
            if name.startswith("/"):
                continue         # git's own configuration (~/.config/git/attributes, ...), not the tree
            where = top / name[len(prefix):] if name.startswith(prefix) else Path(
                os.path.normpath(top.joinpath(*[".."] * prefix.count("/"), name)))
            if m.group("what") == "failed to stat":
                if is_source(where.name):
                    self.files.add(where)
            else:                # a directory git could not list or look into
                self.directory(str(where.parent if where.name in (".gitattributes", ".gitignore") else where),
                               reason)
        return ok


# What git grep and ls-files say about a file or directory they cannot read
# (git runs with LC_ALL=C, so the words are these); anything else on stderr
# makes the prefilter's answer unusable.
_GIT_TROUBLE = re.compile(r"^(?:error|warning): (?P<what>failed to stat|could not open directory|unable to access) "
                          r"'(?P<path>.*)': (?P<reason>[^']+)$")


def _once(fn):
    done = []

    def call():
        if fn is not None and not done:
            done.append(True)
            fn()
    return call


def _follow(link: Path, top: Path, cwd: Path, problems: list) -> Path | None:
    """A symbolic link is analysed (and written) as its target, once, when
    the target is a file inside `top`; any other link is reported, never
    followed for writing."""
    shown = display_path(link, cwd)
    try:
        target = link.resolve()
        real_top = top.resolve()
    except (RuntimeError, OSError) as e:     # RuntimeError: a loop (Python < 3.13)
        problems.append(InputProblem(shown, f"symbolic link that cannot be resolved ({_why(e)}); skipped"))
        return None
    if not target.is_file():
        problems.append(InputProblem(shown, f"symbolic link to {os.readlink(link)!r}, which is not a file; skipped"))
        return None
    try:
        rel = target.relative_to(real_top)
    except ValueError:
        problems.append(InputProblem(shown, f"symbolic link to {os.readlink(link)!r}, outside the tree; neither analysed nor "
                                            "written (name the target itself to convert it)"))
        return None
    return top / rel


def _why(e: Exception) -> str:
    if isinstance(e, RuntimeError) or getattr(e, "errno", None) == errno.ELOOP:
        return "a loop of symbolic links"
    return getattr(e, "strerror", None) or str(e)


def _walk(top: Path, unread: "Unreadable | None" = None):
    def onerror(e: OSError):
        if unread is not None:
            unread.directory(e.filename, e.strerror or str(e))
    for dirpath, dirnames, filenames in os.walk(top, onerror=onerror):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if is_source(name):
                yield Path(dirpath) / name


# ------------------------------------------------------------ the prefilter

PREFILTER_VERSION = b"pgrewrite-prefilter-2"
STALE_NS = 2_000_000_000
# more new or changed files than this: one `git grep` over the tree is faster
# than reading them in Python (or than long pathspec lists)
FULL_SEARCH_OVER = 3000


class _Known:
    """The prefilter's earlier answers for one tree: path -> (key, listed).

    `start` is taken before any file is searched: an answer is kept only for
    a file whose last change (mtime and ctime) is STALE_NS older than that,
    so the content searched is the content its stat describes."""

    def __init__(self, cache_dir: Path | None, top: Path, names, kind: str):
        self.start = time.time_ns()
        self.path = None
        self._old: dict | None = {}
        if cache_dir is None:
            return
        try:
            where = str(top.resolve())
        except OSError:
            where = str(top)
        h = hashlib.blake2b(PREFILTER_VERSION + repr((kind, where, sorted(names), SOURCE_SUFFIXES)).encode(),
                            digest_size=16).hexdigest()
        self.path = Path(cache_dir) / "prefilter" / f"{h}.prefilter"
        self.summary_path = self.path.with_suffix(".summary")
        self._old = None                # read when first needed

    @property
    def old(self) -> dict:
        if self._old is None:
            self._old = _used(self.path, _answers_from) or {}
        return self._old

    def exists(self) -> bool:
        return self.path is not None and self.path.exists()

    def summary(self):
        """(fingerprint, answer) of the last run that could trust every
        file's stat, or None."""
        return _used(self.summary_path, _summary_from) if self.path is not None else None

    def save_summary(self, fingerprint: bytes, answer: list[str]) -> None:
        if self.path is not None:
            try:
                cachefile.write(self.summary_path, [fingerprint.hex(), answer])
            except OSError:
                pass

    def get(self, path: str, key):
        """True/False when `path` was searched at this key, else None."""
        hit = self.old.get(path)
        return hit[1] if hit is not None and hit[0] == key else None

    def trusted(self, st) -> bool:
        return st is not None and max(st[1], st[2]) < self.start - STALE_NS

    def save(self, new: dict) -> None:
        if self.path is None or new == self.old:
            return
        try:
            cachefile.write(self.path, new)
        except OSError:
            pass             # a cache that cannot be written is only slower


def _used(path: Path, convert):
    """`convert` of the data in the cache file at `path`, marked recently
    used (cache.prune deletes the oldest), or None."""
    got = cachefile.read(path, convert)
    if got is not None:
        touch(path)
    return got


def _answers_from(data: dict) -> dict:
    """The prefilter's answers as saved (path -> [key, listed]), with the
    keys as the tuples they are compared with: a walk's stat (4 numbers), or
    git's (tracked, stat) or (tracked, lstat, stat)."""
    return {path: (tuple(key) if type(key[0]) is int else (key[0], *map(tuple, key[1:])), listed)
            for path, (key, listed) in data.items()}


def _summary_from(data) -> tuple[bytes, list[str]]:
    fingerprint, answer = data
    if type(answer) is not list or not all(type(p) is str for p in answer):
        raise TypeError("not a list of paths")
    return bytes.fromhex(fingerprint), answer


def _stamp(st) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _word_test(names):
    """Whole-word test with `git grep -F -w`'s idea of a word (ASCII letters,
    digits, underscore); tests/test_performance_properties.py checks that the
    two agree."""
    needles = tuple(n.encode() for n in names)
    alt = b"|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True))
    word = re.compile(rb"(?<![A-Za-z0-9_])(?:" + alt + rb")(?![A-Za-z0-9_])")

    def mentions(path: str) -> bool | None:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            return None          # unreadable: kept, and reported by the analysis
        return any(n in data for n in needles) and word.search(data) is not None
    return mentions


# git's messages in English, whatever the user's locale: Unreadable reads them
_GIT_ENV = {**os.environ, "LC_ALL": "C", "LANGUAGE": ""}


def _start(args) -> subprocess.Popen | None:
    """A process whose output _finish collects, or None if it cannot start."""
    try:
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_GIT_ENV)
    except OSError:
        return None


def _finish(proc, ok=(0,)) -> tuple[bytes, bytes] | None:
    """stdout and stderr of a _start()ed process, or None if it did not start,
    ran over 10 minutes (it is killed) or exited with a code not in `ok`."""
    if proc is None:
        return None
    try:
        out, err = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None
    return (out, err) if proc.returncode in ok else None


def grep_words(names) -> list[str]:
    """`git grep` options matching any of `names` as a whole word, where a
    word is what `git grep -w` means by one (ASCII letters, digits, `_`).

    With PCRE in git (`-P`): one pattern per first letter, each an
    alternation between ASCII-class lookarounds. Same lines as `-E -w` on
    the 6.12 tree for a fraction of the CPU (prefilter 2.6-3.3 s -> 0.4 s):
    PCRE's JIT skips ahead with SIMD to a pair of letters when the
    alternatives share few of them, and splitting by first letter keeps
    that true ("PTE_", "PG_" and "offset_in_p" in one pattern: 2.2 s, in
    two: 0.4 s). Without PCRE: `-E -w` with one alternation, a quarter less
    CPU than `-F -w -e N...` (git's -w re-checks every fixed-string hit,
    and "PAGE_" hits are everywhere)."""
    if not _git_has_pcre():
        return ["-E", "-w", "-e", "|".join(_ere_escape(n) for n in names)]
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(n[:1], []).append(n)
    out = ["-P"]
    for group in groups.values():
        out += ["-e", f"(?<!{_WORD})(?:{'|'.join(re.escape(n) for n in group)})(?!{_WORD})"]
    return out


_WORD = "[A-Za-z0-9_]"


def _ere_escape(name: str) -> str:
    return re.sub(r"([.\[\]()*+?{}|^$\\])", r"\\\1", name)


@functools.cache
def _git_has_pcre() -> bool:
    """Whether this git was built with PCRE (`git grep -P`); a few ms, once."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        Path(d, "x").write_bytes(b"a b\n")
        try:
            r = subprocess.run(["git", "grep", "--no-index", "-q", "-P", "-e", r"(?<![a-z])b(?![a-z])"],
                               cwd=d, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return False
    return r.returncode == 0


def _grep_no_index(top: Path, names):
    args = ["git", "-C", str(top), "grep", "--no-index", "-l", "-z", *grep_words(names)]
    args += ["--", *(f"*{s}" for s in SOURCE_SUFFIXES)]
    return _start(args)


def _grep_listed(proc, top: Path, unread: Unreadable) -> set[str] | None:
    """The files a `git grep --no-index -l -z` process listed (normalised
    absolute paths), or None if it failed in any way. What it could not read
    goes to `unread`."""
    done = _finish(proc, ok=(0, 1))
    if done is None or not unread.git_stderr(done[1], top):
        return None
    out = done[0]
    return {os.path.normpath(os.path.join(top, f.decode("utf-8", "surrogateescape")))
            for f in out.split(b"\0") if f}


def _walk_prefiltered(top: Path, names, cache_dir: Path | None = None, idle=_once(None), walks=None,
                      unread: Unreadable | None = None):
    """The walk's files, minus regular files `git grep --no-index -w` finds no
    family name in (outside a git tree it is still ~5x faster than reading
    every file in Python). Symbolic links stay, for the caller to judge. If
    git is missing or reports an error it does not name a file for, nothing
    is dropped. Files whose stat is unchanged since an earlier run keep that
    run's answer. Files and directories that could not be read go to `unread`."""
    unread = unread if unread is not None else Unreadable()
    known = _Known(cache_dir, top, names, "walk")
    # without earlier answers git grep runs on the other core during the walk
    proc = _grep_no_index(top, names) if not known.exists() else None
    walked = walk(top, unread)
    if walks is not None:
        walks[str(top)] = walked
    files = [(f, kind, st) for f, kind, st in walked if kind != DIR_LINK]
    # no file added, removed or changed since a run that trusted every stat:
    # its answer, without looking at each file's
    fingerprint = cachefile.fingerprint(files)
    last = known.summary() if proc is None else None
    if last is not None and last[0] == fingerprint:
        return [Path(p) for p in last[1]]
    unknown = [f for f, kind, st in files if kind == FILE and (st is None or known.get(f, st) is None)]
    answers: dict[str, bool | None] = {}
    if proc is None and len(unknown) > FULL_SEARCH_OVER:
        proc = _grep_no_index(top, names)
    if proc is not None:
        idle()
        listed = _grep_listed(proc, top, unread)
        if listed is None:
            return _walk_order(top, [f for f, _, _ in files])
        # None: git could not read it (kept, never remembered)
        answers = {f: None if Path(f) in unread.files else f in listed for f in unknown}
    else:
        mentions = _word_test(names)
        answers = {f: mentions(f) for f in unknown}
    out, keep = [], {}
    for f, kind, st in files:
        if kind == LINK:
            out.append(f)
            continue
        hit = answers[f] if f in answers else known.get(f, st)
        if hit is None or hit:
            out.append(f)
        if hit is not None and known.trusted(st):
            keep[f] = (st, hit)
    known.save(keep)
    ordered = _walk_order(top, out)
    # every stat trusted: a later run may answer from the fingerprint (a new
    # one: with the last summary's the run ended above)
    if len(keep) == sum(1 for _, kind, _ in files if kind == FILE):
        known.save_summary(fingerprint, [str(p) for p in ordered])
    return ordered


def _walk_order(top: Path, paths) -> list[Path]:
    """`paths` in _walk's order: in each directory its files by name, then
    its subdirectories by name (problems are reported in this order)."""
    prefix = len(os.path.join(str(top), ""))

    def key(p):
        parts = str(p)[prefix:].split("/")
        return [(1, d) for d in parts[:-1]] + [(0, parts[-1])]
    return [Path(p) for p in sorted(paths, key=key)]


FILE, LINK, DIR_LINK = 0, 1, 2


def walk(top: Path, unread: Unreadable | None = None) -> list[tuple[str, int, tuple | None]]:
    """Every file under `top` named like a source file, dot directories and
    symbolic links to directories not entered: (path string, kind, stat key
    or None). Kind FILE: not a symbolic link (stat key unless stat failed);
    LINK: a symbolic link to something else than a directory; DIR_LINK: a
    symbolic link to a directory. Directories are visited depth-first from a
    stack, entries in os.scandir order (collisions._tree_entries' order).
    Directories that cannot be listed go to `unread`."""
    out = []
    stack = [str(top)]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError as e:
            if unread is not None:
                unread.directory(d, e.strerror or str(e))
            continue
        for e in entries:
            name = e.name
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if e.is_symlink():
                    if name.endswith(SOURCE_SUFFIXES):
                        out.append((e.path, DIR_LINK, None))
                elif not name.startswith("."):
                    stack.append(e.path)
            elif name.endswith(SOURCE_SUFFIXES):
                if e.is_symlink():
                    out.append((e.path, LINK, None))
                    continue
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    out.append((e.path, FILE, None))
                    continue
                out.append((e.path, FILE, (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)))
    return out


def _git(top: Path, *args, timeout=600):
    try:
        r = subprocess.run(["git", "-C", str(top), *args], capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r


def _git_grep(top: Path, names, pathspecs, idle=_once(None), unread: Unreadable | None = None,
              prefix: str = "") -> set[Path] | None:
    """Tracked files, then untracked ones that are not ignored: `--untracked`
    alone also drops tracked files that match an ignore pattern (Debian's
    kernel source ships a top-level .gitignore with "/*"). The files and
    directories git could not read go to `unread`; None if git failed or
    said something else on stderr."""
    unread = unread if unread is not None else Unreadable()
    found: set[Path] = set()
    chunks = [pathspecs[i:i + 500] for i in range(0, len(pathspecs), 500)] or [["."]]
    for extra in ([], ["--untracked"]):
        for chunk in chunks:
            args = ["grep", "-l", "-z", *extra, *grep_words(names)]
            proc = _start(["git", "-C", str(top), *args, "--", *chunk])
            if proc is None:
                return None
            idle()
            done = _finish(proc, ok=(0, 1))
            if done is None or not unread.git_stderr(done[1], top, prefix):
                return None
            found.update(top / f.decode("utf-8", "surrogateescape") for f in done[0].split(b"\0") if f)
    return found


def _git_candidates(top: Path, names, cache_dir: Path | None = None, idle=_once(None), walks=None,
                    unread: Unreadable | None = None):
    """Files under `top` that git grep says contain a family name, or None
    when `top` is not inside a git work tree (or git is missing). Files and
    directories git could not read go to `unread`."""
    unread = unread if unread is not None else Unreadable()
    inside = _git(top, "rev-parse", "--is-inside-work-tree", "--show-prefix", timeout=30)
    if inside is None or inside.returncode != 0 or not inside.stdout.startswith(b"true\n"):
        return None
    prefix = inside.stdout[5:].rstrip(b"\n").decode("utf-8", "surrogateescape")
    if cache_dir is None:
        found = _git_grep(top, names, [], idle, unread, prefix)
        return None if found is None else sorted(f for f in found if is_source(f.name))
    # Which files git would search (tracked, or untracked and not ignored),
    # and whether git tracks each: that is part of a file's key.
    known = _Known(cache_dir, top, names, "git")
    ls = _start(["git", "-C", str(top), "ls-files", "-z", "-t", "--cached", "--others",
                 "--exclude-standard", "--", "."])
    if ls is None:
        return None
    walked = walk(top)        # the stat keys, while git lists the files
    if walks is not None:
        walks[str(top)] = walked
    idle()
    done = _finish(ls)
    if done is None or not unread.git_stderr(done[1], top, prefix):
        return None
    listing = done[0]
    tracked: dict[str, bool] = {}
    for item in listing.split(b"\0"):
        if len(item) > 2:
            rel = item[2:].decode("utf-8", "surrogateescape")
            if is_source(rel):
                tracked[rel] = tracked.get(rel, False) or item[:1] != b"?"
    seen = {f: (kind, st) for f, kind, st in walked}
    keys: dict[str, tuple | None] = {}
    for rel, t in tracked.items():
        path = os.path.join(top, rel)
        kind, st = seen.get(path, (None, None))
        try:
            if kind is None:        # not walked: in a dot directory, say
                st = _stamp(os.lstat(path))
                kind = LINK if os.path.islink(path) else FILE
            elif st is None and kind == FILE:
                st = _stamp(os.lstat(path))
            if kind == FILE:
                key = (t, st)
            else:    # git grep skips tracked symbolic links, reads untracked ones
                key = (t, _stamp(os.lstat(path)), _stamp(os.stat(path)))
        except OSError:
            key = None
        keys[rel] = key
    unknown = [rel for rel, key in keys.items() if key is None or known.get(rel, key) is None]
    answers: dict[str, bool | None] = {}
    if unknown:
        specs = [] if len(unknown) > FULL_SEARCH_OVER else [":(literal)" + rel for rel in unknown]
        found = _git_grep(top, names, specs, idle, unread, prefix)
        if found is None:
            return None
        listed = {f.relative_to(top).as_posix() for f in found}
        # None: git could not read it (a candidate, never remembered)
        answers = {rel: None if top / rel in unread.files else rel in listed for rel in unknown}
    out, keep = [], {}
    for rel, key in keys.items():
        hit = answers[rel] if rel in answers else known.get(rel, key)
        if hit or hit is None:
            out.append(top / rel)
        if hit is not None and key is not None and known.trusted(key[1]) and (len(key) < 3 or known.trusted(key[2])):
            keep[rel] = (key, hit)
    known.save(keep)
    return sorted(out)
