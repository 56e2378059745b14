"""Which files to read: expand the user's paths, keep C and assembly sources.

Inside a git work tree `git grep -l` finds the candidate files (it is much
faster than reading every file in Python); elsewhere every source file is
read and a cheap substring test drops files without a family name. Either
way the accounting stays exact, because a file dropped here cannot contain
a whole-word family name.

With a cache directory the prefilter's answer is kept per file, keyed by the
file's stat (store.py; in a git tree also whether git tracks it): an
unchanged tree then costs a walk (tree.py, with `git ls-files` in a git
tree) and only new or changed files are searched again.
"""
from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import cachekey, git, store
from .git import grep_words
from .tree import DIR_LINK, FILE, LINK, SOURCE_SUFFIXES, walk


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
    the walk of each directory walked (str(dir) -> tree.Snapshot), for the
    caller's own use of the same stat pass (the definition index's walk of
    the tree reuses them)."""
    cwd = cwd or Path.cwd()
    if cache_dir is not None and cachekey.get()[0] is None:
        cache_dir = None       # answers are kept MACed with the user's key only (see _Known)
    idle = _once(idle)
    out: dict[str, Candidate] = {}       # by real path: a file named twice is read once
    problems: list[InputProblem] = []
    unread = Unreadable()
    real_dirs: dict[str, str] = {}
    ahead: dict[str, object] = {}        # str(dir) -> its git grep, started early (_greps_ahead)

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

    try:
        _expand_paths(paths, names, cwd, use_git, cache_dir, idle, walks, problems, unread, add, ahead)
    finally:
        for proc in ahead.values():
            git.stop(proc)
    for d, reason in sorted(unread.dirs.items()):
        problems.append(InputProblem(display_path(Path(d), cwd), f"cannot read this directory ({reason}): files in it "
                                     "were not scanned; make it readable to include them"))
    return sorted(out.values(), key=lambda c: c.display), problems


def _expand_paths(paths, names, cwd: Path, use_git: bool, cache_dir, idle, walks, problems, unread, add,
                  ahead: dict) -> None:
    """expand's loop over the user's paths, each added by `add`."""
    paths = list(paths)
    for i, raw in enumerate(paths):
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
                if use_git:
                    _greps_ahead(paths[i + 1:], names, cwd, cache_dir, ahead)
                found = (_walk_prefiltered(p, names, cache_dir, idle, walks, unread, ahead.pop(str(p), None))
                         if use_git else _walk(p, unread))
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


def _greps_ahead(rest, names, cwd: Path, cache_dir: Path | None, ahead: dict) -> None:
    """Start the `git grep --no-index` of every directory among `rest` (the
    paths after one found outside any git work tree) that likely is outside
    one too (no .git above it) and has no earlier answers: they then run
    beside this process's walks instead of one after the other (`scan`
    of the 18 source directories of a tree: 18 greps). A directory's own
    turn still asks git whether it is in a work tree and uses its grep
    only if not (a grep not used is stopped)."""
    for raw in rest:
        q = _plain(cwd / raw)
        key = str(q)
        if key in ahead or not q.is_dir() or os.path.islink(q) or git.top(q) is not None:
            continue
        if not _Known(cache_dir, q, names, "walk").exists():
            ahead[key] = _grep_no_index(q, names)


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


def _walk(top: Path, unread: Unreadable) -> list[Path]:
    """Every file `walk` finds under `top` but symbolic links to
    directories, in _walk_order; directories it cannot list go to `unread`."""
    snap = walk(top, stat=False)
    _unlisted(snap, unread)
    return _walk_order(top, [f for f, kind, _ in snap.entries if kind != DIR_LINK])


def _unlisted(snap, unread: Unreadable) -> None:
    for d, reason in snap.unlisted.items():
        unread.directory(d, reason)


# ------------------------------------------------------------ the prefilter

PREFILTER_VERSION = b"pgrewrite-prefilter-3"
# more new or changed files than this: one `git grep` over the tree is faster
# than reading them in Python (or than long pathspec lists)
FULL_SEARCH_OVER = 3000


class _Known(store.Kept):
    """The prefilter's earlier answers for one tree: path -> (key, listed),
    and the summary of the last run that could trust every file."""

    def __init__(self, cache_dir: Path | None, top: Path, names, kind: str):
        # answers trusted on the files' stat, which anyone who can stat the
        # tree knows: a forged `no` would leave a file out silently, so they
        # are MACed with the user's key, and not kept without one
        # (docs/threat-model.md)
        path, secret = (None, None) if cache_dir is None else store.keyed_path_for(
            cache_dir, "prefilter", PREFILTER_VERSION, top, kind, sorted(names), SOURCE_SUFFIXES,
            suffix=".prefilter")
        super().__init__(path, _answers_from, key=secret)

    def summary(self):
        """(fingerprint, answer) of the last run that could trust every
        file's stat, or None."""
        return (store.load(self.path.with_suffix(".summary"), _summary_from, self._key)
                if self.path is not None else None)

    def save_summary(self, fingerprint: bytes, answer: list[str]) -> None:
        if self.path is not None:
            store.save(self.path.with_suffix(".summary"), [fingerprint.hex(), answer], self._key)


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


def _grep_no_index(top: Path, names):
    return git.start(top, "grep", "--no-index", "-l", "-z", *grep_words(names),
                     "--", *(f"*{s}" for s in SOURCE_SUFFIXES), spool=True)


def _grep_listed(proc, top: Path, unread: Unreadable) -> set[str] | None:
    """The files a `git grep --no-index -l -z` process listed (normalised
    absolute paths), or None if it failed in any way. What it could not read
    goes to `unread`."""
    done = git.finish(proc, ok=(0, 1))
    if done is None or not unread.git_stderr(done[1], top):
        return None
    out = done[0]
    return {os.path.normpath(os.path.join(top, f.decode("utf-8", "surrogateescape")))
            for f in out.split(b"\0") if f}


def _walk_prefiltered(top: Path, names, cache_dir: Path | None = None, idle=_once(None), walks=None,
                      unread: Unreadable | None = None, started=None):
    """The walk's files, minus regular files `git grep --no-index -w` finds no
    family name in (outside a git tree it is still ~5x faster than reading
    every file in Python). Symbolic links stay, for the caller to judge. If
    git is missing or reports an error it does not name a file for, nothing
    is dropped. Files whose stat is unchanged since an earlier run keep that
    run's answer. Files and directories that could not be read go to `unread`.
    `started`: the grep of `top`, already running (expand's _greps_ahead)."""
    unread = unread if unread is not None else Unreadable()
    known = _Known(cache_dir, top, names, "walk")
    # without earlier answers git grep runs on the other core during the walk
    proc = started if started is not None else _grep_no_index(top, names) if not known.exists() else None
    walked = walk(top)
    _unlisted(walked, unread)
    if walks is not None:
        walks[str(top)] = walked
    files = [(f, kind, st) for f, kind, st in walked.entries if kind != DIR_LINK]
    # no file added, removed or changed since a run that trusted every stat:
    # its answer, without looking at each file's
    fingerprint = walked.fingerprint
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
        # None: git could not read it (kept, never remembered); a Path
        # for each of ~60,000 files cost 0.6 s of the one-core start
        bad = unread.files
        answers = {f: None if bad and Path(f) in bad else f in listed for f in unknown}
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
            proc = git.start(top, *args, "--", *chunk)
            if proc is None:
                return None
            idle()
            done = git.finish(proc, ok=(0, 1))
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
    inside = git.found(top, "rev-parse", "--is-inside-work-tree", "--show-prefix", timeout=30)
    if inside is None or inside.returncode != 0 or not inside.stdout.startswith(b"true\n"):
        return None
    prefix = inside.stdout[5:].rstrip(b"\n").decode("utf-8", "surrogateescape")
    if cache_dir is None:
        found = _git_grep(top, names, [], idle, unread, prefix)
        return None if found is None else sorted(f for f in found if is_source(f.name))
    # Which files git would search (tracked, or untracked and not ignored),
    # and whether git tracks each: that is part of a file's key.
    known = _Known(cache_dir, top, names, "git")
    ls = git.start(top, "ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard", "--", ".")
    if ls is None:
        return None
    walked = walk(top)        # the stat keys, while git lists the files
    if walks is not None:
        walks[str(top)] = walked
    idle()
    done = git.finish(ls)
    if done is None or not unread.git_stderr(done[1], top, prefix):
        return None
    listing = done[0]
    tracked: dict[str, bool] = {}
    for item in listing.split(b"\0"):
        if len(item) > 2:
            rel = item[2:].decode("utf-8", "surrogateescape")
            if is_source(rel):
                tracked[rel] = tracked.get(rel, False) or item[:1] != b"?"
    seen = {f: (kind, st) for f, kind, st in walked.entries}
    keys: dict[str, tuple | None] = {}
    for rel, t in tracked.items():
        path = os.path.join(top, rel)
        kind, st = seen.get(path, (None, None))
        try:
            if kind is None:        # not walked: in a dot directory, say
                st = store.stat_key(os.lstat(path))
                kind = LINK if os.path.islink(path) else FILE
            elif st is None and kind == FILE:
                st = store.stat_key(os.lstat(path))
            if kind == FILE:
                key = (t, st)
            else:    # git grep skips tracked symbolic links, reads untracked ones
                key = (t, store.stat_key(os.lstat(path)), store.stat_key(os.stat(path)))
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
