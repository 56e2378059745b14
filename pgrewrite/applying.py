"""`pgrewrite apply`: write the renames into the files, safely.

Each file is rewritten only if: it is unchanged since it was analysed, it
has no uncommitted changes in git (unless allowed), and the rewrite passes
the self-checks (edits.self_check). Each write is atomic.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .api import Engine, digest
from .edits import EditError, rewrite, self_check, write_atomically


@dataclass
class ApplyReport:
    rewritten: list = field(default_factory=list)     # (path, renames)
    refused: list = field(default_factory=list)       # (path, reason)
    dry_run: bool = False

    def lines(self):
        for path, n in self.rewritten:
            yield f"{'would rewrite' if self.dry_run else 'rewrote'} {path}: {n} rename(s)"
        for path, why in self.refused:
            yield f"{path}: refused: {why}"
        total = sum(n for _, n in self.rewritten)
        verb = "would rewrite" if self.dry_run else "rewrote"
        yield f"summary: {verb} {len(self.rewritten)} file(s) ({total} renames), refused {len(self.refused)}"


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
            continue
        if r.returncode != 0:
            continue     # not a git tree
        top = subprocess.run(["git", "-C", str(d), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
        root = Path(top.stdout.strip())
        for entry in r.stdout.split(b"\0"):
            if len(entry) > 3 and entry[:2] != b"??":
                dirty.add((root / entry[3:].decode("utf-8", "surrogateescape")).resolve())
    return dirty


def apply_result(result, ruleset, allow_dirty: bool = False, dry_run: bool = False, cwd: Path | None = None) -> ApplyReport:
    cwd = cwd or Path.cwd()
    report = ApplyReport(dry_run=dry_run)
    todo = [f for f in result.files if f.edits and f.error is None]
    paths = {f.path: (cwd / f.path) for f in todo}
    dirty = set() if allow_dirty else dirty_files(list(paths.values()))
    engine = Engine(ruleset)
    for f in todo:
        path = paths[f.path]
        if path.resolve() in dirty:
            report.refused.append((f.path, "has uncommitted changes; commit or stash them, or pass --allow-dirty"))
            continue
        try:
            old = path.read_bytes()
        except OSError as e:
            report.refused.append((f.path, f"cannot read: {e.strerror or e}"))
            continue
        if digest(old) != f.digest:
            report.refused.append((f.path, "changed since it was analysed; re-run"))
            continue
        try:
            new = rewrite(old, f.edits)
        except EditError as e:
            report.refused.append((f.path, f"edits do not fit the file ({e}); re-run"))
            continue
        problems = self_check(old, new, f.edits, engine)
        if problems:
            report.refused.append((f.path, "self-check failed: " + "; ".join(problems)))
            continue
        if not dry_run:
            try:
                write_atomically(path, new, old)
            except (OSError, EditError) as e:
                report.refused.append((f.path, f"not written: {e}"))
                continue
        report.rewritten.append((f.path, len(f.edits)))
    return report
