"""`pgrewrite apply`: write the renames into the files, safely.

Each file is rewritten only if: it is unchanged since it was analysed, it
has no uncommitted changes in git (unless allowed), and the rewrite passes
the self-checks (edits.self_check). Each write is atomic.

Ctrl-C (SIGINT) or SIGTERM stops the run between two files or in the middle
of one write: the file being written keeps its old bytes (its temporary file
is removed), the files already written keep their new bytes, and the report
says how far the run got. After `kill -9` every file is still old or new;
only a temporary file may be left, which the next run removes.
"""
from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import git
from .api import Engine, digest
from .edits import EditError, remove_stale_temporaries, rewrite, self_check, write_atomically
from .definitions import new_names
from .lex import rename_spans
from .model import Edit, ScanResult

DEFINES_IN = "it defines them in include/linux/const.h (or asm-generic/memory_model.h) and include/linux/mm.h"


@dataclass
class ApplyReport:
    rewritten: list = field(default_factory=list)     # (path, renames)
    refused: list = field(default_factory=list)       # (path, reason)
    dry_run: bool = False
    cleaned: list = field(default_factory=list)       # stale temporary files removed
    interrupted: bool = False
    not_reached: int = 0                              # files left alone after an interruption
    prepared: dict = field(default_factory=dict)      # path -> (count, "OLD -> NEW, ...") of preparatory renames
    withheld: list = field(default_factory=list)      # (name, why): every rename to it held back
    undefined: list = field(default_factory=list)     # new names used but not defined in the tree
    new_names: tuple = ()                             # the family's (definitions.new_names)

    def lines(self, shown=str):
        """The report; `shown(path)`: how a path is printed (shownpaths)."""
        for path, n in self.rewritten:
            prep = self.prepared.get(path)
            extra = f" ({prep[0]} preparatory: {prep[1]})" if prep else ""
            yield f"{'would rewrite' if self.dry_run else 'rewrote'} {shown(path)}: {n} rename(s){extra}"
        for path, why in self.refused:
            yield f"{shown(path)}: refused: {why}"
        for name, why in self.withheld:
            yield (f"withheld: every rename to {name}, in every file, because {why}; "
                   f"fix that file and re-run")
        for path in self.cleaned:
            yield f"{shown(path)}: removed a temporary file left by an interrupted run"
        if self.interrupted:
            yield (f"interrupted: every file is either rewritten completely or untouched; "
                   f"{self.not_reached} file(s) were not reached; re-run to finish")
        # counted as `series` counts them: the renames, then the preparatory ones
        prep = sum(n for n, _ in self.prepared.values())
        renames = sum(n for _, n in self.rewritten) - prep
        what = f"{renames} renames" + (f", and {prep} preparatory renames of existing definitions"
                                       if prep else "")
        verb = "would rewrite" if self.dry_run else "rewrote"
        yield f"summary: {verb} {len(self.rewritten)} file(s) ({what}), refused {len(self.refused)}"
        if self.undefined:
            added = "it is" if len(self.undefined) == 1 else "they are"
            yield (f"note: the tree does not define {', '.join(self.undefined)} yet, so it does not "
                   f"build until {added} added: apply the patch `pgrewrite series` puts first "
                   f"(\"introduce PTE_* and PG_* names for PAGE_*\": {DEFINES_IN})")


def undefined_names(result: ScanResult, report: "ApplyReport") -> list[str]:
    """The new names the rewritten files now use that no definition in the
    tree provides (the series' introducing patch is not applied yet)."""
    written = {path for path, _ in report.rewritten}
    used = {e.new for f in result.files if f.path in written for e in f.edits
            if e.kind == "family"}
    prep = result.preparation
    renamed_away = ({c.name for c in prep.clash_renames} | {r.definition.name for r in prep.renames}
                    if prep is not None else set())
    defined = {d.name for d in result.definitions if d.shared} - renamed_away
    return [n for n in report.new_names if n in used and n not in defined]


@contextmanager
def sigterm_as_interrupt():
    """Make SIGTERM unwind like Ctrl-C, so temporary files are cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def outside_git(paths, cwd: Path) -> str | None:
    """Why `apply` on `paths` must not go on without --no-git: git is not on
    PATH, or a path is not in a git work tree (where git is how the rewrite
    is reviewed and undone); None if all is well. Missing paths are left to
    the scan, which reports them."""
    for raw in paths:
        p = cwd / raw
        if not os.path.lexists(p):
            continue
        d = p if p.is_dir() else p.parent
        try:
            r = git.call(d, "rev-parse", "--is-inside-work-tree", timeout=120)
        except OSError as e:
            return f"{git.cannot_run(e)}; apply checks with git that no file has uncommitted changes"
        except git.TimeoutExpired:
            return "git rev-parse did not answer in 2 minutes"
        if r.returncode != 0 or r.stdout.strip() != b"true":
            return (f"{raw}: not in a git work tree; apply rewrites files in place, and git is how "
                    "the change is reviewed and undone")
    return None


def dirty_files(paths: list[Path]) -> set[Path] | None:
    """Files among `paths` with uncommitted changes (empty outside git);
    None if git cannot be run."""
    dirty: set[Path] = set()
    by_dir: dict[Path, list[Path]] = {}
    for p in paths:
        by_dir.setdefault(p.parent, []).append(p)
    for d, files in by_dir.items():
        try:
            r = git.call(d, "status", "--porcelain", "-z", "--", *[f.name for f in files], timeout=120)
        except (OSError, git.TimeoutExpired):
            return None
        if r.returncode != 0:
            continue     # not a git tree
        top = git.found(d, "rev-parse", "--show-toplevel", timeout=120)
        if top is None:
            return None
        root = Path(os.fsdecode(top.stdout.rstrip(b"\n")))
        for entry in r.stdout.split(b"\0"):
            if len(entry) > 3:      # modified, staged, or untracked (no committed copy to go back to)
                dirty.add((root / entry[3:].decode("utf-8", "surrogateescape")).resolve())
    return dirty


@dataclass
class _Task:
    """One file to rewrite: its scan result (None for a file only the
    preparatory renames touch) and the private names renamed in it."""

    display: str
    path: Path
    result: object | None
    private: dict          # old name -> new name (series/definitions.Preparation)


def _tasks(result: ScanResult, cwd: Path) -> list[_Task]:
    tasks: dict[Path, _Task] = {}
    for f in result.files:
        if f.edits and f.error is None:
            tasks[(cwd / f.path).resolve()] = _Task(f.path, cwd / f.path, f, {})
    prep = result.preparation
    if prep is not None and result.root is not None:
        scanned = {(cwd / f.path).resolve(): f for f in result.files}
        for rel, pairs in sorted(prep.pairs().items()):
            path = Path(result.root) / rel
            key = path.resolve()
            if key not in tasks:
                f = scanned.get(key)
                if f is not None and f.error is not None:
                    continue     # reported as failed; nothing is written to it
                tasks[key] = _Task(_display(path, cwd), path, f, {})
            tasks[key].private.update(pairs)
    return sorted(tasks.values(), key=lambda t: t.display)


def apply_result(result: ScanResult, ruleset, allow_dirty: bool = False, dry_run: bool = False, cwd: Path | None = None) -> ApplyReport:
    """Make the renames of a scan result, and the preparatory renames of
    private definitions that `series` puts first (result.preparation), so that
    apply + the series' first patch == the series applied.

    All or nothing per preparation: every file is read and checked before any
    is written. A preparatory rename (x86's PTE_SHIFT -> PTE_INDEX_BITS) that
    is refused in any file, or whose write fails, withholds every rename to
    that name in every file: the tree is never left with uses of the generic
    PTE_SHIFT while the old private PTE_SHIFT is still defined. Files that
    carry preparatory renames are written first."""
    cwd = cwd or Path.cwd()
    report = ApplyReport(dry_run=dry_run, new_names=new_names(ruleset.family))
    todo = _tasks(result, cwd)
    dirty = set() if allow_dirty else dirty_files([t.path for t in todo])
    engine = Engine(ruleset)
    blocked: dict[str, str] = {}         # name -> why its preparation is withheld
    plans, current = [], -1
    with sigterm_as_interrupt():
        try:
            plans = _plan_all(todo, engine, dirty, blocked, report)
            plans.sort(key=lambda p: (not p.private, p.task.display))
            for i, plan in enumerate(plans):
                current = i
                if plan.withheld_by(blocked):       # a preparation failed after it was planned
                    plan = _plan(plan.task, engine, dirty, blocked)
                    if isinstance(plan, str):
                        report.refused.append((plans[i].task.display, plan))
                        continue
                    if plan is None:
                        continue
                try:
                    _write(plan, dry_run, report, cwd)
                except _WriteFailed as e:
                    report.refused.append((plan.task.display, f"not written: {e}"))
                    for name in plan.private:
                        blocked.setdefault(name, f"its preparatory rename in {plan.task.display} was not written ({e})")
        except KeyboardInterrupt:
            report.interrupted = True
            # the file being written when it came is reached (and left old)
            report.not_reached = len(plans) - current - 1 if plans else len(todo)
    report.withheld = sorted(blocked.items())
    return report


@dataclass
class _Plan:
    task: _Task
    old: bytes
    new: bytes
    edits: list
    private: dict

    def withheld_by(self, blocked: dict) -> bool:
        return any(n in blocked for n in self.private) or any(e.new in blocked for e in self.edits)


class _WriteFailed(Exception):
    pass


def _plan_all(todo, engine, dirty, blocked: dict, report: ApplyReport) -> list:
    """Read and check every file; refusals of files with preparatory renames
    withhold those names, and only the files with renames to them are
    planned again (a plan re-analyses the file: not every file twice)."""
    plans: dict[str, _Plan] = {}
    refused: list = []
    pending = list(todo)
    while pending:
        newly = {}
        for t in pending:
            plan = _plan(t, engine, dirty, blocked)
            plans.pop(t.display, None)
            if isinstance(plan, str):
                refused.append((t.display, plan))
                newly.update((name, f"its preparatory rename in {t.display} was refused ({plan})")
                             for name in t.private if name not in blocked)
            elif plan is not None:
                plans[t.display] = plan
        blocked.update(newly)
        pending = [p.task for p in plans.values() if p.withheld_by(newly)]
    report.refused.extend(refused)
    return list(plans.values())


def _plan(t: _Task, engine, dirty, blocked: dict):
    """The file's new bytes (a _Plan), a refusal reason (str), or None when
    nothing is left to do once the withheld names are taken out."""
    f, path = t.result, t.path
    if dirty is None:
        return "git could not be run to check it for uncommitted changes; pass --allow-dirty to rewrite anyway"
    if path.resolve() in dirty:
        return "has uncommitted changes (or is untracked); commit or stash them, or pass --allow-dirty"
    try:
        old = path.read_bytes()
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    if f is not None and digest(old) != f.digest:
        return "changed since it was analysed; re-run"
    edits = [e for e in (f.edits if f is not None else ()) if e.new not in blocked]
    private = {o: n for o, n in t.private.items() if o not in blocked}
    if not edits and not private:
        return None
    pedits = private_edits(old, private) if private else []
    try:
        new = rewrite(old, edits + pedits)
    except EditError as e:
        return f"edits do not fit the file ({e}); re-run"
    withheld = f is not None and len(edits) != len(f.edits)
    problems = self_check(old, new, edits + pedits, engine, t.display,
                          sites_before=len(f.decisions) if f is not None and not withheld else None,
                          private=private)
    if problems:
        return "self-check failed: " + "; ".join(problems)
    return _Plan(t, old, new, edits + pedits, private)


def _write(plan: _Plan, dry_run: bool, report: ApplyReport, cwd: Path) -> None:
    path = plan.task.path
    if not dry_run:
        for stale in remove_stale_temporaries(path):
            report.cleaned.append(_display(stale, cwd))
        try:
            write_atomically(path, plan.new, plan.old)
        except (OSError, EditError) as e:
            raise _WriteFailed(str(e)) from None
    report.rewritten.append((plan.task.display, len(plan.edits)))
    if plan.private:
        report.prepared[plan.task.display] = (
            sum(1 for e in plan.edits if e.kind == "private"),
            ", ".join(f"{o} -> {n}" for o, n in sorted(plan.private.items())))


def private_edits(data: bytes, private: dict) -> list[Edit]:
    """The preparatory renames of one file as edits (kind "private")."""
    return [Edit(start, end, old, new.decode(), None, "private")
            for old, name in sorted(private.items())
            for start, end, new in rename_spans(data, old, name)]


def _display(p: Path, cwd: Path) -> str:
    try:
        return str(p.relative_to(cwd))
    except ValueError:
        return str(p)
