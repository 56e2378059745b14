"""build_series: scan results -> a `git format-patch` series in a directory.

Data flow, one step (function) each in _build_series: existing definitions of
the new names and the renames that free them (definitions.py) -> select the
renames (select.py) -> read the files at the base commit -> lay out the new
names' definitions and group the renames by MAINTAINERS entry or rule (plan.py)
-> commit each patch in a scratch object store on top of the base (git.py) ->
`git format-patch --cover-letter --base` -> add To/Cc and the cover text.
"""
from __future__ import annotations

import bisect
import collections
import dataclasses
import email.utils
import functools
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..lex import rename_spans
from ..model import Decision, FileResult, Verdict
from . import definitions as defs_mod
from . import messages, prefix, subjects
from ..definitions import _FIRST_PATCH_ORDER, Definition
from .git import Git, GitError, Scratch, read_blobs
from .maintainers import Maintainers, run_get_maintainer
from .plan import NO_ENTRY, PatchPlan, plan
from .select import LeftOut, Selection, leave_out_own_page_size, select


class SeriesError(RuntimeError):
    """A problem the user must fix; the message says what and how."""

    exit_code = 1


class CollisionError(SeriesError):
    exit_code = 3


@dataclass(frozen=True)
class SeriesOptions:
    base: str = "HEAD"
    split_by: str = "subsystem"          # subsystem | rule
    max_files: int | None = None
    max_lines: int | None = None
    reroll_count: int | None = None
    subject_prefix: str = "PATCH"
    only: str | None = None              # pte | pg
    collisions: str = "rename-local"     # rename-local | leave-out | refuse
    clashes: tuple = ()                  # RuleSet.clashes: declared clash resolutions (clashes.yaml)
    new_names: tuple[str, ...] = _FIRST_PATCH_ORDER   # definitions.new_names(RuleSet.family)
    get_maintainer: bool | None = None   # scripts/get_maintainer.pl (when present): for every patch,
                                         # none, or None: small series only (maintainers.run_get_maintainer)
    date: str | None = None              # fixed author/committer date (reproducible runs)
    jobs: int | None = None              # get_maintainer.pl runs at once (default: all cores)
    paths: tuple[str, ...] = ()          # what was scanned (for the cover letter)
    command: str = "pgrewrite series"


@dataclass(frozen=True)
class PatchFile:
    path: Path
    subject: str
    kind: str                            # cover | prep | definitions | rules | defaults
    files: tuple[str, ...] = ()
    renames: int = 0
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    prefix_source: str = ""              # history | path


@dataclass(frozen=True)
class SeriesReport:
    out_dir: Path
    base_commit: str
    patches: tuple[PatchFile, ...]       # cover letter first
    counts: dict[str, int]               # sites by verdict, whole scan
    renamed: dict[str, int]              # pte / pg / pg-default / identifier
    left_out: tuple[LeftOut, ...]
    blocked: dict[str, tuple[Definition, ...]]
    definitions: tuple[Definition, ...]
    local_renames: tuple[defs_mod.LocalRename, ...]
    clash_renames: tuple[defs_mod.ClashRename, ...]
    failed_files: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = field(default=())   # for stderr


def splice(data: bytes, spans: Iterable[tuple[int, int, bytes]]) -> bytes:
    out, pos = [], 0
    for start, end, new in sorted(spans, key=lambda s: (s[0], s[1])):
        if start < pos:
            raise SeriesError(f"overlapping edits at byte {start}")
        out += [data[pos:start], new]
        pos = end
    out.append(data[pos:])
    return b"".join(out)


def _addr(a: str) -> str:
    name, mail = email.utils.parseaddr(a)
    if not mail:
        return a
    if name and not name.isascii():
        return email.utils.formataddr((name, mail), charset="utf-8")
    return email.utils.formataddr((name, mail))


def _add_headers(path: Path, to: Sequence[str], cc: Sequence[str],
                 subject: str | None = None, blurb: str | None = None) -> None:
    # the diffs carry the files' own bytes, UTF-8 or not: kept as they are
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    head, sep, body = text.partition("\n\n")
    extra = []
    if to:
        extra.append("To: " + ",\n    ".join(_addr(a) for a in to))
    if cc:
        extra.append("Cc: " + ",\n    ".join(_addr(a) for a in cc))
    if subject is not None:
        head = head.replace("*** SUBJECT HERE ***", subject)
    if extra:
        head += "\n" + "\n".join(extra)
    if blurb is not None:
        body = body.replace("*** BLURB HERE ***", blurb)
    path.write_text(head + sep + body, encoding="utf-8", errors="surrogateescape")


def rename_subjects(git: Git, base: str, plans, maint: Maintainers, split_by: str,
                    only: str | None) -> list[tuple[str, str]]:
    """(subject, source of its prefix: history or path) of each rename patch;
    no two alike, none over subjects.LIMIT characters (subjects.py). The
    parts of one group share their prefix."""
    group_files: dict[tuple[str, bool], tuple[str, ...]] = {}
    for p in plans:
        key = (p.key, p.default)
        group_files[key] = tuple(sorted(set(group_files.get(key, ())) | set(p.files)))
    prefixes = _group_prefixes(git, base, group_files, maint, split_by)
    forms, sources = [], []
    for p in plans:
        pfx, src, what = prefixes[(p.key, p.default)]
        # a rule's patch renames one way: its subject says which
        target = messages.rename_target(p) if split_by == "rule" else None
        forms.append(messages.rename_subject_forms(pfx, p, only, what, target))
        sources.append(src)
    return list(zip(subjects.fit(forms), sources))


def _group_prefixes(git: Git, base: str, group_files, maint, split_by: str) -> dict:
    """(key, default) -> (subject prefix, its source, what tells the group
    apart)."""
    found = {}
    for key, group in group_files.items():
        entry = maint.best(group[0]) if split_by == "subsystem" else None
        hint = prefix.from_patterns(entry.files) if entry else None
        found[key] = prefix.subject_prefix(git, base, group, hint)
    if split_by == "rule":      # the rule names the patch
        return {key: (pfx, src, key[0].strip("()")) for key, (pfx, src) in found.items()}
    distinct = {}
    for default in (False, True):     # their subjects differ anyway
        distinct.update(subjects.distinct({key: (pfx, group_files[key], key[0])
                                           for key, (pfx, _) in found.items() if key[1] is default}))
    return {key: (distinct[key][0], found[key][1] if distinct[key][0] == found[key][0] else "path",
                  distinct[key][1]) for key in found}


def build_series(root: Path, results: Sequence[FileResult], out_dir: Path,
                 options: SeriesOptions = SeriesOptions(), progress=None) -> SeriesReport:
    """The series of `results` in `out_dir` (which must hold no .patch file).
    It is built in a directory beside out_dir and moved into place once
    complete: a failure leaves neither a half-written series nor debris that
    would make the next run refuse the directory. `progress` (see
    commands.common.Progress) is told the phases and the patches written."""
    out_dir = Path(out_dir)
    _refuse_patches_in(out_dir)
    aside = _aside(out_dir)
    try:
        report = _build_series(root, results, aside, options, progress)
        _into_place(aside, out_dir)
    except BaseException:
        shutil.rmtree(aside, ignore_errors=True)
        raise
    return dataclasses.replace(report, out_dir=out_dir, patches=tuple(
        dataclasses.replace(p, path=out_dir / p.path.name) for p in report.patches))


def _aside(out_dir: Path) -> Path:
    """A new empty directory beside `out_dir` (same file system, so that it
    can be renamed into place), with the permissions mkdir would give."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.pgrewrite-", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    aside.chmod(0o777 & ~umask)
    return aside


def _into_place(aside: Path, out_dir: Path) -> None:
    """`aside` becomes `out_dir`: one rename when out_dir is missing or
    empty; else (it holds other files, but no .patch file) file by file,
    the cover letter last."""
    try:
        os.rename(aside, out_dir)
        return
    except OSError:
        if not out_dir.is_dir():
            raise
    for f in sorted(aside.iterdir(), key=lambda f: "cover-letter" in f.name):
        os.replace(f, out_dir / f.name)
    aside.rmdir()


def _build_series(root: Path, results: Sequence[FileResult], out_dir: Path,
                  options: SeriesOptions, progress=None) -> SeriesReport:
    """The steps of a run, in order; each hands the next what it made."""
    root, out_dir = Path(root), Path(out_dir)
    if progress is not None:
        progress.phase("preparation")
    base = _base(root, options)
    _refuse_patches_in(out_dir)
    prep = _preparation(base, options)
    results = sorted(results, key=lambda r: r.path)
    sel = _something_to_send(select(results, only=options.only, blocked=set(prep.blocked)))
    files = _read_base(root, base, sel, prep, options)
    layout = _layout(root, files, sel, prep, options)
    out_dir.mkdir(parents=True, exist_ok=True)
    tick = _ticker(progress, layout, prep)
    commits, (cover, *written) = _commit_patches(base, files, layout, prep, options, out_dir, tick)
    patches, rcpt_notes = _address(root, written, commits, layout.maint, options, tick)
    tally = _tally(results, layout.sel)
    notes = messages.notes(prep.blocked, layout.sel, tally.collision_skips, prep.renames,
                           list(prep.reasons), prep.clash_renames)
    cover_file = _cover_letter(cover, patches, commits, tally, notes, prep, options)
    return SeriesReport(out_dir=out_dir, base_commit=base.commit, patches=(cover_file, *patches),
                        counts=tally.counts, renamed=tally.renamed, left_out=layout.sel.left_out,
                        blocked=prep.blocked, definitions=prep.definitions, local_renames=prep.renames,
                        clash_renames=prep.clash_renames, failed_files=layout.sel.failed_files,
                        notes=tuple(notes) + rcpt_notes)


# ------------------------------------------------------------ what the steps hand on

Span = tuple[int, int, bytes]          # (start, end, new bytes) in a file at base


@dataclass(frozen=True)
class _Base:
    """The commit the series applies to, and who signs its patches."""
    git: Git
    commit: str
    name: str
    mail: str
    date: str | None = None             # fixed author/committer date

    @property
    def sob(self) -> str:
        return f"{self.name} <{self.mail}>"

    @property
    def env(self) -> dict[str, str]:
        """Author and committer of the scratch commits."""
        env = {"GIT_AUTHOR_NAME": self.name, "GIT_AUTHOR_EMAIL": self.mail,
               "GIT_COMMITTER_NAME": self.name, "GIT_COMMITTER_EMAIL": self.mail}
        if self.date:
            env.update(GIT_AUTHOR_DATE=self.date, GIT_COMMITTER_DATE=self.date)
        return env


@dataclass(frozen=True)
class _BaseFiles:
    """The files the series reads or changes, as the base commit has them."""
    blobs: dict[str, tuple[str, bytes]]     # path -> (mode, bytes)
    constants_header: str                   # the header the constants are defined in

    def data(self, path: str) -> bytes | None:
        return self.blobs[path][1] if path in self.blobs else None


@dataclass(frozen=True)
class _Layout:
    """Which renames the series makes, and in which patch."""
    sel: Selection
    names: frozenset[str]                   # the new names the series defines
    insertions: tuple[defs_mod.Insertion, ...]   # their definitions
    maint: Maintainers
    plans: tuple[PatchPlan, ...]            # the rename patches

    def subsystem(self, path: str) -> str:
        return _subsystem(self.maint, path)


@dataclass(frozen=True)
class _Commit:
    """A scratch commit: a patch before it has its file and its To/Cc."""
    subject: str
    kind: str                               # as PatchFile.kind
    files: tuple[str, ...]
    renames: int
    prefix_source: str

    def patch(self, path: Path, to: Sequence[str], cc: Sequence[str]) -> PatchFile:
        return PatchFile(path=path, subject=self.subject, kind=self.kind, files=self.files,
                         renames=self.renames, to=tuple(to), cc=tuple(cc), prefix_source=self.prefix_source)


@dataclass(frozen=True)
class _Tally:
    """What the cover letter counts."""
    counts: dict[str, int]                  # sites by verdict, whole scan
    renamed: dict[str, int]                 # pte / pg / pg-default / identifier
    logic: tuple[Decision, ...]             # by path and position
    collision_skips: int                    # sites skipped for a name collision


# ------------------------------------------------------------ the steps

def _base(root: Path, options: SeriesOptions) -> _Base:
    git = Git(root)
    try:
        commit = git.out("rev-parse", "--verify", "--quiet", f"{options.base}^{{commit}}").strip()
    except GitError:
        raise SeriesError(f"--base {options.base}: not a commit in {root}") from None
    name, mail = git.config("user.name"), git.config("user.email")
    if not (name and mail):
        raise SeriesError("git config user.name and user.email must be set: they make "
                          "the From: and Signed-off-by: lines")
    return _Base(git, commit, name, mail, options.date)


def _refuse_patches_in(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.glob("*.patch")):
        raise SeriesError(f"{out_dir} already holds .patch files; use an empty directory "
                          "so that `git am --empty=drop DIR/*.patch` applies this series only")


def _preparation(base: _Base, options: SeriesOptions) -> defs_mod.Preparation:
    """Existing definitions of the new names, found before anything else, and
    the renames that free them; `apply` makes the same preparatory renames
    from the same plan (definitions.prepare)."""
    try:
        prep = defs_mod.prepare(base.git, base.commit, collisions=options.collisions, clashes=options.clashes,
                                names=options.new_names)
    except defs_mod.ClashError as exc:
        raise CollisionError("clashes.yaml does not fit the tree at the base commit:\n"
                             + str(exc)) from None
    except defs_mod.DefinitionsError as exc:
        raise SeriesError(str(exc)) from None
    if prep.blocked and options.collisions == "refuse":
        raise CollisionError("\n".join(
            ["refusing to build the series: some new names already exist in the tree."]
            + defs_mod.explain(prep.blocked)
            + ["(--collisions rename-local renames private definitions first and "
               "leaves out the other names; --collisions leave-out leaves them all out)"]))
    return prep


def _something_to_send(sel: Selection) -> Selection:
    if not sel.edits:
        raise SeriesError("no mechanical renames in the scanned paths: nothing to send")
    return sel


def _read_base(root: Path, base: _Base, sel: Selection, prep: defs_mod.Preparation,
               options: SeriesOptions) -> _BaseFiles:
    """The bytes at base of every file the series reads or changes. The scan
    read the work tree, so the files it edits must be the same there."""
    edited = sorted({s.path for s in sel.edits})
    prep_files = sorted({f for r in prep.renames for f in r.files}
                        | {f for c in prep.clash_renames for f in c.files})
    wanted = (edited + prep_files + [h for h, _ in defs_mod.CONSTANTS_HEADERS]
              + [defs_mod.HELPERS_HEADER, "MAINTAINERS"])
    blobs = read_blobs(base.git, base.commit, sorted(set(wanted)))
    files = _BaseFiles(blobs, defs_mod.constants_header(lambda p: blobs[p][1] if p in blobs else None))
    dirty = [p for p in edited if p not in blobs or not (root / p).is_file()
             or (root / p).read_bytes() != blobs[p][1]]
    if dirty:
        raise SeriesError(
            f"the work tree differs from {options.base} in {len(dirty)} scanned file(s) "
            f"(first: {', '.join(dirty[:5])}); the renames were computed on the work "
            "tree, so commit or stash first, or pass the matching --base")
    for s in sel.edits:
        if blobs[s.path][1][s.edit.start:s.edit.end] != s.edit.old.encode():
            raise SeriesError(f"{s.path}: edit at byte {s.edit.start} expects "
                              f"{s.edit.old!r}; the scan and the file disagree")
    return files


def _layout(root: Path, files: _BaseFiles, sel: Selection, prep: defs_mod.Preparation,
            options: SeriesOptions) -> _Layout:
    """The renames left once files that define PAGE_SIZE themselves are left
    out, the definitions of the names nothing blocks, and the rename patches
    by MAINTAINERS entry (or by rule)."""
    sel = _something_to_send(leave_out_own_page_size(sel, files.blobs))
    names = set(prep.new_names) - set(prep.blocked)
    try:
        insertions = defs_mod.plan_definitions(files.data, names)
    except defs_mod.DefinitionsError as exc:
        raise SeriesError(str(exc)) from None
    maint = Maintainers.from_tree(root, text=(files.data("MAINTAINERS") or b"").decode(errors="replace"))
    plans = plan(sel.edits, split_by=options.split_by, subsystem=functools.partial(_subsystem, maint),
                 line_of=_line_finder(files), max_files=options.max_files, max_lines=options.max_lines)
    return _Layout(sel, frozenset(names), insertions, maint, plans)


def _subsystem(maint: Maintainers, path: str) -> str:
    entry = maint.best(path)
    return entry.name if entry else NO_ENTRY


def _line_finder(files: _BaseFiles) -> Callable[[str, int], int]:
    """line_of(path, offset): the line (1-based) of a byte offset in a file at base."""
    starts: dict[str, list[int]] = {}

    def line_of(path: str, offset: int) -> int:
        if path not in starts:
            starts[path] = [m.end() for m in re.finditer(rb"\n", files.blobs[path][1])]
        return bisect.bisect_right(starts[path], offset) + 1
    return line_of


def _ticker(progress, layout: _Layout, prep: defs_mod.Preparation) -> Callable[[], None]:
    """Start the phase of writing patches; the function returned counts one
    step (each patch is committed, then given its To/Cc)."""
    if progress is None:
        return lambda: None
    n_prep = len({layout.subsystem(r.definition.path) for r in prep.renames})
    progress.phase("writing patches",
                   2 * (n_prep + len(prep.clash_renames) + bool(layout.insertions) + len(layout.plans)))
    return lambda: progress(1)


class _Scratchpad:
    """The scratch commits on top of the base, one per patch. A file in a
    commit is its bytes at base with every rename committed so far, and the
    new names' definitions from the commit that introduces them on."""

    def __init__(self, scratch: Scratch, base: _Base, files: _BaseFiles, tick: Callable[[], None]):
        self.scratch, self.base, self.files, self.tick = scratch, base, files, tick
        self.tip = base.commit
        self.spans: dict[str, list[Span]] = collections.defaultdict(list)
        self.insertions: tuple[defs_mod.Insertion, ...] = ()
        self.commits: list[_Commit] = []

    def rename(self, path: str, spans: list[Span]) -> int:
        """Add renames in `path` to the next commit; how many."""
        self.spans[path] += spans
        return len(spans)

    def content(self, path: str) -> tuple[str, bytes]:
        mode, data = self.files.blobs[path]
        inserted = [(i.offset, i.offset, i.text) for i in self.insertions if i.path == path]
        return mode, splice(data, self.spans[path] + inserted)

    def commit(self, commit: _Commit, message: str) -> None:
        tree = self.scratch.stage({f: self.content(f) for f in commit.files})
        self.tip = self.scratch.commit(tree, self.tip, message, self.base.env)
        self.tick()
        self.commits.append(commit)


def _commit_patches(base: _Base, files: _BaseFiles, layout: _Layout, prep: defs_mod.Preparation,
                    options: SeriesOptions, out_dir: Path,
                    tick: Callable[[], None]) -> tuple[list[_Commit], list[Path]]:
    """The commits, in series order, and the files `git format-patch` wrote
    (the cover letter first)."""
    with Scratch(base.git, base.commit) as scratch:
        pad = _Scratchpad(scratch, base, files, tick)
        _private_rename_patches(pad, layout, prep)
        _clash_rename_patches(pad, prep)
        _definitions_patch(pad, layout, prep)
        _rename_patches(pad, layout, options)
        return pad.commits, _format_patch(pad, out_dir, options)


def _private_rename_patches(pad: _Scratchpad, layout: _Layout, prep: defs_mod.Preparation) -> None:
    """Private definitions of new names renamed: one patch per MAINTAINERS entry."""
    groups: dict[str, list[defs_mod.LocalRename]] = {}
    for r in prep.renames:
        groups.setdefault(layout.subsystem(r.definition.path), []).append(r)
    for _, group in sorted(groups.items(), key=lambda kv: kv[1][0].definition.path):
        files = sorted({f for r in group for f in r.files})
        plan_ = defs_mod.Preparation(renames=tuple(group))
        n = sum(pad.rename(f, plan_.spans(f, pad.files.blobs[f][1])) for f in files)
        pfx, src = prefix.subject_prefix(pad.base.git, pad.base.commit, [r.definition.path for r in group])
        if len(group) == 1:
            subject = f"{pfx}: rename {group[0].definition.name} to {group[0].new_name}"
        else:
            subject = f"{pfx}: rename private macros named like PTE_*/PG_*"
        msg = messages.local_rename_message(
            subject, group, [pad.files.constants_header, defs_mod.HELPERS_HEADER], pad.base.sob)
        pad.commit(_Commit(subject, "prep", tuple(files), n, src), msg)


def _clash_rename_patches(pad: _Scratchpad, prep: defs_mod.Preparation) -> None:
    """Declared clashes (clashes.yaml) renamed: one patch per entry, in file order."""
    for c in prep.clash_renames:
        n = sum(pad.rename(f, rename_spans(pad.files.blobs[f][1], c.name, c.new_name))
                for f in c.files)
        pfx, src = prefix.subject_prefix(pad.base.git, pad.base.commit,
                                         [d.path for d in c.definitions] or list(c.files))
        subject = f"{pfx}: rename {c.name} to {c.new_name}"
        header = (pad.files.constants_header if c.name in dict(defs_mod.CONSTANTS)
                  else defs_mod.HELPERS_HEADER)
        msg = messages.clash_rename_message(subject, c, [header], pad.base.sob)
        pad.commit(_Commit(subject, "prep", tuple(c.files), n, src), msg)


def _definitions_patch(pad: _Scratchpad, layout: _Layout, prep: defs_mod.Preparation) -> None:
    """The patch that introduces the new names (none when all are blocked)."""
    if not layout.insertions:
        return
    pad.insertions = layout.insertions
    hdrs = sorted({i.path for i in layout.insertions})
    pfx = prefix.from_history(pad.base.git, pad.base.commit, hdrs)
    pfx, src = (pfx, "history") if pfx else ("mm", "path")
    subject = f"{pfx}: introduce PTE_* and PG_* names for PAGE_*"
    msg = messages.definitions_message(
        subject, [n for n in prep.new_names if n in layout.names], prep.blocked, pad.base.sob)
    pad.commit(_Commit(subject, "definitions", tuple(hdrs), 0, src), msg)


def _rename_patches(pad: _Scratchpad, layout: _Layout, options: SeriesOptions) -> None:
    """The renames the rules decided: one patch per plan (MAINTAINERS entry or rule, and part)."""
    subjects = rename_subjects(pad.base.git, pad.base.commit, layout.plans, layout.maint,
                               options.split_by, options.only)
    for p, (subject, src) in zip(layout.plans, subjects):
        for s in p.edits:
            pad.rename(s.path, [(s.edit.start, s.edit.end, s.edit.new.encode())])
        files_desc = p.files[0] if len(p.files) == 1 else f"{len(p.files)} files"
        msg = messages.rename_message(subject, p, files_desc, pad.base.sob)
        pad.commit(_Commit(subject, "defaults" if p.default else "rules", p.files, len(p.edits), src), msg)


# the user's configuration must not change what `git am` will see
_PINNED_CONFIG = ("-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
                  "-c", "diff.relative=false", "-c", "format.suffix=.patch",
                  "-c", "format.signOff=false")


def _format_patch(pad: _Scratchpad, out_dir: Path, options: SeriesOptions) -> list[Path]:
    """`git format-patch --cover-letter` of the commits into out_dir: the
    files written, the cover letter first."""
    base = pad.base.commit
    args = [*_PINNED_CONFIG, "format-patch", "--cover-letter", f"--base={base}", "--no-thread",
            "--numbered", f"--subject-prefix={options.subject_prefix}",
            "--signature=pgrewrite", "-o", str(out_dir.resolve())]
    if options.reroll_count:
        args.append(f"--reroll-count={options.reroll_count}")
    listing = pad.scratch.git.run(*args, f"{base}..{pad.tip}").stdout     # paths: bytes, UTF-8 or not
    return [Path(os.fsdecode(line)) for line in listing.splitlines() if line.strip()]


def _address(root: Path, written: list[Path], commits: list[_Commit], maint: Maintainers,
             options: SeriesOptions, tick: Callable[[], None]) -> tuple[list[PatchFile], tuple[str, ...]]:
    """Each patch with its To/Cc: get_maintainer.pl's, else from MAINTAINERS
    (maintainers.run_get_maintainer says when); and notes on that choice."""
    out = []
    found, notes = run_get_maintainer(root, written, options.get_maintainer, options.jobs)
    for path, commit, rcpt in zip(written, commits, found):
        to, cc = rcpt if rcpt else maint.recipients(commit.files)
        _add_headers(path, to, cc)
        tick()
        out.append(commit.patch(path, to, cc))
    return out, tuple(notes)


def _tally(results: Sequence[FileResult], sel: Selection) -> _Tally:
    counts: collections.Counter[str] = collections.Counter()
    logic = []
    collision_skips = 0
    for fr in results:
        for d in fr.decisions:
            counts[str(d.verdict)] += 1
            if d.verdict == Verdict.LOGIC:
                logic.append(d)
            if d.verdict == Verdict.SKIPPED and "collision" in d.reason.lower():
                collision_skips += 1
    renamed: collections.Counter[str] = collections.Counter()
    for s in sel.edits:
        key = ("identifier" if s.edit.kind == "identifier"
               else "pg-default" if s.default else (s.edit.verdict or "?"))
        renamed[key] += 1
    return _Tally(dict(counts), dict(renamed), tuple(sorted(logic, key=lambda d: (d.site.path, d.site.start))),
                  collision_skips)


def _cover_letter(cover: Path, patches: list[PatchFile], commits: list[_Commit], tally: _Tally,
                  notes: list[str], prep: defs_mod.Preparation, options: SeriesOptions) -> PatchFile:
    """The cover letter's subject and text, sent to everyone the patches are."""
    to = tuple(dict.fromkeys(a for p in patches for a in p.to))
    cc = tuple(a for a in dict.fromkeys(a for p in patches for a in p.cc) if a not in to)
    subject, blurb = messages.cover_letter(
        title_paths=list(options.paths) or ["."], counts=tally.counts, renamed=tally.renamed,
        logic=list(tally.logic), left_out_notes=notes, n_prep=sum(1 for c in commits if c.kind == "prep"),
        n_clash=len(prep.clash_renames), command=options.command, split_by=options.split_by)
    _add_headers(cover, to, cc, subject=subject, blurb=blurb)
    return PatchFile(path=cover, subject=subject, kind="cover", to=to, cc=cc)
