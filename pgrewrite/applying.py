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

import signal
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .api import Engine, digest
from .edits import EditError, remove_stale_temporaries, rewrite, self_check, write_atomically
from .model import Edit


@dataclass
class ApplyReport:
    rewritten: list = field(default_factory=list)     # (path, renames)
    refused: list = field(default_factory=list)       # (path, reason)
    dry_run: bool = False
    cleaned: list = field(default_factory=list)       # stale temporary files removed
    interrupted: bool = False
    not_reached: int = 0                              # files left alone after an interruption
    prepared: dict = field(default_factory=dict)      # path -> (count, "OLD -> NEW, ...") of preparatory renames

    def lines(self):
        for path, n in self.rewritten:
            prep = self.prepared.get(path)
            extra = f" ({prep[0]} preparatory: {prep[1]})" if prep else ""
            yield f"{'would rewrite' if self.dry_run else 'rewrote'} {path}: {n} rename(s){extra}"
        for path, why in self.refused:
            yield f"{path}: refused: {why}"
        for path in self.cleaned:
            yield f"{path}: removed a temporary file left by an interrupted run"
        if self.interrupted:
            yield (f"interrupted: every file is either rewritten completely or untouched; "
                   f"{self.not_reached} file(s) were not reached; re-run to finish")
        total = sum(n for _, n in self.rewritten)
        verb = "would rewrite" if self.dry_run else "rewrote"
        yield f"summary: {verb} {len(self.rewritten)} file(s) ({total} renames), refused {len(self.refused)}"


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


def dirty_files(paths: list[Path]) -> set[Path]:
    """Files among `paths` with uncommitted changes (empty outside git)."""
    dirty: set[Path] = set()
    by_dir: dict[Path, list[Path]] = {}
    for p in paths:
        by_dir.setdefault(p.parent, []).append(p)
    for d, files in by_dir.items():
        try:
            r = subprocess.run(["git", "-C", str(d), "status", "--porcelain", "-z", "--", *[f.name for f in files]],
                               capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            return
        if r.returncode != 0:
            continue     # not a git tree
        top = subprocess.run(["git", "-C", str(d), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
        root = Path(top.stdout.strip())
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


def _tasks(result, cwd: Path) -> list[_Task]:
    tasks: dict[Path, _Task] = {}
    for f in result.files:
        if f.edits and f.error is None:
            tasks[(cwd / f.path).resolve()] = _Task(f.path, cwd / f.path, f, {})
    prep = getattr(result, "preparation", None)
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


def apply_result(result, ruleset, allow_dirty: bool = False, dry_run: bool = False, cwd: Path | None = None) -> ApplyReport:
    """Make the renames of a scan result, and the preparatory renames of
    private definitions that `series` puts first (result.preparation), so that
    apply + the series' first patch == the series applied."""
    cwd = cwd or Path.cwd()
    report = ApplyReport(dry_run=dry_run)
    todo = _tasks(result, cwd)
    dirty = set() if allow_dirty else dirty_files([t.path for t in todo])
    engine = Engine(ruleset)
    with sigterm_as_interrupt():
        for i, t in enumerate(todo):
            try:
                _apply_file(t, engine, dirty, dry_run, report, cwd)
            except KeyboardInterrupt:
                report.interrupted = True
                report.not_reached = len(todo) - i - 1
                break
    return report


def private_edits(data: bytes, private: dict) -> list[Edit]:
    """The preparatory renames of one file as edits (kind "private")."""
    from .series.definitions import rename_spans
    return [Edit(start, end, old, new.decode(), None, "private")
            for old, name in sorted(private.items())
            for start, end, new in rename_spans(data, old, name)]


def _apply_file(t: _Task, engine, dirty, dry_run: bool, report: ApplyReport, cwd: Path) -> None:
    f, path = t.result, t.path
    if path.resolve() in dirty:
        report.refused.append((t.display, "has uncommitted changes (or is untracked); commit or stash them, or pass --allow-dirty"))
        return
    try:
        old = path.read_bytes()
    except OSError as e:
        report.refused.append((t.display, f"cannot read: {e.strerror or e}"))
        return
    if f is not None and digest(old) != f.digest:
        report.refused.append((t.display, "changed since it was analysed; re-run"))
        return
    edits = list(f.edits) if f is not None else []
    private = private_edits(old, t.private) if t.private else []
    try:
        new = rewrite(old, edits + private)
    except EditError as e:
        report.refused.append((t.display, f"edits do not fit the file ({e}); re-run"))
        return
    problems = self_check(old, new, edits + private, engine, t.display,
                          sites_before=len(f.decisions) if f is not None else None,
                          private=t.private)
    if problems:
        report.refused.append((t.display, "self-check failed: " + "; ".join(problems)))
        return
    if not dry_run:
        for stale in remove_stale_temporaries(path):
            report.cleaned.append(_display(stale, cwd))
        try:
            write_atomically(path, new, old)
        except (OSError, EditError) as e:
            report.refused.append((t.display, f"not written: {e}"))
            return
    report.rewritten.append((t.display, len(edits) + len(private)))
    if private:
        report.prepared[t.display] = (len(private), ", ".join(
            f"{o} -> {n}" for o, n in sorted(t.private.items())))


def _display(p: Path, cwd: Path) -> str:
    try:
        return str(p.relative_to(cwd))
    except ValueError:
        return str(p)
