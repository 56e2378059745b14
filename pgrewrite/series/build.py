"""build_series: scan results -> a `git format-patch` series in a directory.

Data flow: select the renames (select.py) -> detect existing definitions of the
new names (definitions.py) -> group by MAINTAINERS entry or rule (plan.py) ->
commit each group in a scratch object store on top of the base commit (git.py)
-> `git format-patch --cover-letter --base` -> add To/Cc and the cover text.
"""
from __future__ import annotations

import bisect
import collections
import dataclasses
import email.utils
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ..model import FileResult, Verdict
from . import definitions as defs_mod
from . import messages, prefix, subjects
from .definitions import Definition
from .git import Git, GitError, Scratch, read_blobs
from .maintainers import Maintainers, run_get_maintainer
from .plan import NO_ENTRY, plan
from .select import LeftOut, leave_out_own_page_size, select


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
    no two alike (subjects.py). The parts of one group share their prefix."""
    group_files: dict[tuple[str, bool], tuple[str, ...]] = {}
    for p in plans:
        key = (p.key, p.default)
        group_files[key] = tuple(sorted(set(group_files.get(key, ())) | set(p.files)))
    prefixes = _group_prefixes(git, base, group_files, maint, split_by)
    out = []
    for p in plans:
        pfx, src, what = prefixes[(p.key, p.default)]
        out.append((messages.rename_subject(pfx, p, only, what), src))
    return out


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
    cli.Progress) is told the phases and the patches written."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.glob("*.patch")):
        raise SeriesError(f"{out_dir} already holds .patch files; use an empty directory "
                          "so that `git am --empty=drop DIR/*.patch` applies this series only")
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
    root = Path(root)
    if progress is not None:
        progress.phase("preparation")
    out_dir = Path(out_dir)
    git = Git(root)
    try:
        base = git.out("rev-parse", "--verify", "--quiet", f"{options.base}^{{commit}}").strip()
    except GitError:
        raise SeriesError(f"--base {options.base}: not a commit in {root}") from None
    name, mail = git.config("user.name"), git.config("user.email")
    if not (name and mail):
        raise SeriesError("git config user.name and user.email must be set: they make "
                          "the From: and Signed-off-by: lines")
    sob = f"{name} <{mail}>"
    if out_dir.exists() and any(out_dir.glob("*.patch")):
        raise SeriesError(f"{out_dir} already holds .patch files; use an empty directory "
                          "so that `git am --empty=drop DIR/*.patch` applies this series only")

    # 1. existing definitions of the new names, before anything else; `apply`
    # makes the same preparatory renames from the same plan (definitions.prepare)
    try:
        prep = defs_mod.prepare(git, base, collisions=options.collisions, clashes=options.clashes)
    except defs_mod.ClashError as exc:
        raise CollisionError("clashes.yaml does not fit the tree at the base commit:\n"
                             + str(exc)) from None
    except defs_mod.DefinitionsError as exc:
        raise SeriesError(str(exc)) from None
    found, blocked = prep.definitions, prep.blocked
    if blocked and options.collisions == "refuse":
        raise CollisionError("\n".join(
            ["refusing to build the series: some new names already exist in the tree."]
            + defs_mod.explain(blocked)
            + ["(--collisions rename-local renames private definitions first and "
               "leaves out the other names; --collisions leave-out leaves them all out)"]))
    local_renames = prep.renames
    local_reasons = list(prep.reasons)
    clash_renames = prep.clash_renames

    results = sorted(results, key=lambda r: r.path)
    sel = select(results, only=options.only, blocked=set(blocked))
    edited = sorted({s.path for s in sel.edits})
    if not sel.edits:
        raise SeriesError("no mechanical renames in the scanned paths: nothing to send")

    # 2. the bytes at base; the scan read the work tree, so they must agree
    prep_files = sorted({f for r in local_renames for f in r.files}
                        | {f for c in clash_renames for f in c.files})
    wanted = edited + prep_files + [h for h, _ in defs_mod.CONSTANTS_HEADERS] + [defs_mod.HELPERS_HEADER,
                                                                                 "MAINTAINERS"]
    base_files = read_blobs(git, base, sorted(set(wanted)))
    constants_at = defs_mod.constants_header(lambda p: base_files[p][1] if p in base_files else None)
    dirty = []
    for p in edited:
        disk = root / p
        if p not in base_files or not disk.is_file() or disk.read_bytes() != base_files[p][1]:
            dirty.append(p)
    if dirty:
        raise SeriesError(
            f"the work tree differs from {options.base} in {len(dirty)} scanned file(s) "
            f"(first: {', '.join(dirty[:5])}); the renames were computed on the work "
            "tree, so commit or stash first, or pass the matching --base")
    for s in sel.edits:
        data = base_files[s.path][1]
        if data[s.edit.start:s.edit.end] != s.edit.old.encode():
            raise SeriesError(f"{s.path}: edit at byte {s.edit.start} expects "
                              f"{s.edit.old!r}; the scan and the file disagree")

    sel = leave_out_own_page_size(sel, base_files)
    if not sel.edits:
        raise SeriesError("no mechanical renames in the scanned paths: nothing to send")

    names = set(defs_mod.NEW_NAMES) - set(blocked)
    try:
        insertions = defs_mod.plan_definitions(
            lambda p: base_files.get(p, (None, None))[1], names)
    except defs_mod.DefinitionsError as exc:
        raise SeriesError(str(exc)) from None

    maint = Maintainers.from_tree(
        root, text=base_files.get("MAINTAINERS", ("", b""))[1].decode(errors="replace"))

    def subsystem(path: str) -> str:
        entry = maint.best(path)
        return entry.name if entry else NO_ENTRY

    line_cache: dict[str, list[int]] = {}

    def line_of(path: str, offset: int) -> int:
        starts = line_cache.get(path)
        if starts is None:
            data = base_files[path][1]
            starts = line_cache[path] = [m.end() for m in re.finditer(rb"\n", data)]
        return bisect.bisect_right(starts, offset) + 1

    plans = plan(sel.edits, split_by=options.split_by, subsystem=subsystem,
                 line_of=line_of, max_files=options.max_files, max_lines=options.max_lines)

    # 3. commits in a scratch object store
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": mail,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": mail}
    if options.date:
        env.update(GIT_AUTHOR_DATE=options.date, GIT_COMMITTER_DATE=options.date)
    applied: dict[str, list[tuple[int, int, bytes]]] = collections.defaultdict(list)
    defs_applied = False

    def content(path: str) -> tuple[str, bytes]:
        mode, data = base_files[path]
        spans = list(applied[path])
        if defs_applied:
            spans += [(i.offset, i.offset, i.text) for i in insertions if i.path == path]
        return mode, splice(data, spans)

    infos: list[dict] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    if progress is not None:        # each patch is committed, then given its To/Cc
        n_prep = len({subsystem(r.definition.path) for r in local_renames})
        progress.phase("writing patches", 2 * (n_prep + len(clash_renames) + bool(insertions) + len(plans)))

    def tick():
        if progress is not None:
            progress(1)

    with Scratch(git, base) as scratch:
        tip = base
        prep: dict[str, list[defs_mod.LocalRename]] = {}
        for r in local_renames:
            prep.setdefault(subsystem(r.definition.path), []).append(r)
        for _, group in sorted(prep.items(), key=lambda kv: kv[1][0].definition.path):
            files = sorted({f for r in group for f in r.files})
            n = 0
            for f in files:
                spans = defs_mod.Preparation(renames=tuple(group)).spans(f, base_files[f][1])
                applied[f] += spans
                n += len(spans)
            pfx, src = prefix.subject_prefix(git, base, [r.definition.path for r in group])
            if len(group) == 1:
                subject = f"{pfx}: rename {group[0].definition.name} to {group[0].new_name}"
            else:
                subject = f"{pfx}: rename private macros named like PTE_*/PG_*"
            msg = messages.local_rename_message(
                subject, group, [constants_at, defs_mod.HELPERS_HEADER], sob)
            tree = scratch.stage({f: content(f) for f in files})
            tip = scratch.commit(tree, tip, msg, env)
            tick()
            infos.append(dict(subject=subject, kind="prep", files=tuple(files),
                              renames=n, prefix_source=src))
        # declared clashes (clashes.yaml): one patch per entry, in file order
        n_clash = 0
        for c in clash_renames:
            n = 0
            for f in c.files:
                spans = defs_mod.rename_spans(base_files[f][1], c.name, c.new_name)
                applied[f] += spans
                n += len(spans)
            pfx, src = prefix.subject_prefix(git, base, [d.path for d in c.definitions] or list(c.files))
            subject = f"{pfx}: rename {c.name} to {c.new_name}"
            header = constants_at if c.name in dict(defs_mod.CONSTANTS) else defs_mod.HELPERS_HEADER
            msg = messages.clash_rename_message(subject, c, [header], sob)
            tree = scratch.stage({f: content(f) for f in c.files})
            tip = scratch.commit(tree, tip, msg, env)
            tick()
            infos.append(dict(subject=subject, kind="prep", files=tuple(c.files),
                              renames=n, prefix_source=src))
            n_clash += 1
        if insertions:
            defs_applied = True
            hdrs = sorted({i.path for i in insertions})
            pfx = prefix.from_history(git, base, hdrs)
            pfx, src = (pfx, "history") if pfx else ("mm", "path")
            subject = f"{pfx}: introduce PTE_* and PG_* names for PAGE_*"
            msg = messages.definitions_message(
                subject, [n for n in defs_mod.NEW_NAMES if n in names], blocked, sob)
            tree = scratch.stage({p: content(p) for p in hdrs})
            tip = scratch.commit(tree, tip, msg, env)
            tick()
            infos.append(dict(subject=subject, kind="definitions", files=tuple(hdrs),
                              renames=0, prefix_source=src))
        for p, (subject, src) in zip(plans, rename_subjects(git, base, plans, maint, options.split_by,
                                                            options.only)):
            for s in p.edits:
                applied[s.path].append((s.edit.start, s.edit.end, s.edit.new.encode()))
            files_desc = p.files[0] if len(p.files) == 1 else f"{len(p.files)} files"
            msg = messages.rename_message(subject, p, files_desc, sob)
            tree = scratch.stage({f: content(f) for f in p.files})
            tip = scratch.commit(tree, tip, msg, env)
            tick()
            infos.append(dict(subject=subject, kind="defaults" if p.default else "rules",
                              files=p.files, renames=len(p.edits), prefix_source=src))

        # the user's configuration must not change what `git am` will see
        pinned = ["-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
                  "-c", "diff.relative=false", "-c", "format.suffix=.patch",
                  "-c", "format.signOff=false"]
        args = [*pinned, "format-patch", "--cover-letter", f"--base={base}", "--no-thread",
                "--numbered", f"--subject-prefix={options.subject_prefix}",
                "--signature=pgrewrite", "-o", str(out_dir.resolve())]
        if options.reroll_count:
            args.append(f"--reroll-count={options.reroll_count}")
        listing = scratch.git.run(*args, f"{base}..{tip}").stdout     # paths: bytes, UTF-8 or not
    written = [Path(os.fsdecode(line)) for line in listing.splitlines() if line.strip()]
    cover, patches = written[0], written[1:]

    # 4. To/Cc per patch, then the cover letter
    files_out: list[PatchFile] = []
    all_to: list[str] = []
    all_cc: list[str] = []
    found_rcpt, rcpt_notes = run_get_maintainer(root, patches, options.get_maintainer, options.jobs)
    for path, info, rcpt in zip(patches, infos, found_rcpt):
        to, cc = rcpt if rcpt else maint.recipients(info["files"])
        _add_headers(path, to, cc)
        tick()
        all_to += to
        all_cc += cc
        files_out.append(PatchFile(path=path, to=tuple(to), cc=tuple(cc), **info))

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

    notes = messages.notes(blocked, sel, collision_skips, local_renames, local_reasons, clash_renames)
    to_u = tuple(dict.fromkeys(all_to))
    cc_u = tuple(a for a in dict.fromkeys(all_cc) if a not in to_u)
    subject, blurb = messages.cover_letter(
        title_paths=list(options.paths) or ["."], counts=dict(counts), renamed=dict(renamed),
        logic=sorted(logic, key=lambda d: (d.site.path, d.site.start)),
        left_out_notes=notes, n_prep=sum(1 for i in infos if i["kind"] == "prep"), n_clash=n_clash,
        command=options.command,
        split_by=options.split_by)
    _add_headers(cover, to_u, cc_u, subject=subject, blurb=blurb)
    files_out.insert(0, PatchFile(path=cover, subject=subject, kind="cover", to=to_u, cc=cc_u))

    return SeriesReport(out_dir=out_dir, base_commit=base, patches=tuple(files_out),
                        counts=dict(counts), renamed=dict(renamed), left_out=sel.left_out,
                        blocked=blocked, definitions=found, local_renames=local_renames,
                        clash_renames=clash_renames,
                        failed_files=sel.failed_files,
                        notes=tuple(notes) + rcpt_notes)
