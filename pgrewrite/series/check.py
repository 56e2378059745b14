"""`--check`: apply the series with `git am` onto a scratch checkout of the base
and run the tree's scripts/checkpatch.pl on every patch.

The scratch tree is a `--shared --no-checkout` clone with a sparse checkout of
the touched files and scripts/, so even a full kernel tree is quick to set up
and the user's repository is only read.

An ERROR counts against the series only if the series introduced it: checkpatch
also runs on the reverse diff of the same commit (whose added lines are the
original lines, at the same line numbers, since renames never add or remove
lines); an error reported there at the same file, line and type was already
in the tree.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..git import Git

_REPORT = re.compile(r"^(?:(?P<file>[^:\s]+):(?P<line>\d+): )?"
                     r"(?P<level>ERROR|WARNING|CHECK):(?P<type>[A-Z0-9_]+): (?P<msg>.*)$")


@dataclass(frozen=True)
class Finding:
    level: str
    type: str
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file else ""
        return f"{where}{self.level}:{self.type}: {self.message}"


@dataclass(frozen=True)
class PatchCheck:
    patch: Path
    applied: bool
    apply_error: str = ""
    introduced: tuple[Finding, ...] = ()     # errors and warnings of the series' making
    preexisting: tuple[Finding, ...] = ()    # also reported for the original lines

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.introduced if f.level == "ERROR")


@dataclass(frozen=True)
class CheckReport:
    patches: tuple[PatchCheck, ...]
    checkpatch: str          # "ran", or why it did not

    @property
    def ok(self) -> bool:
        return all(p.applied and not p.errors for p in self.patches)

    def lines(self) -> list[str]:
        out = []
        for p in self.patches:
            if not p.applied:
                out.append(f"{p.patch.name}: does NOT apply: {p.apply_error}")
                continue
            if self.checkpatch != "ran":
                out.append(f"{p.patch.name}: applies")
                continue
            errs = len(p.errors)
            warns = sum(1 for f in p.introduced if f.level != "ERROR")
            out.append(f"{p.patch.name}: applies; checkpatch: {errs} error(s), "
                       f"{warns} warning(s) introduced, {len(p.preexisting)} pre-existing")
            out += [f"  {f}" for f in p.introduced]
        if self.checkpatch != "ran":
            out.append(f"checkpatch: {self.checkpatch}")
        out.append("check: " + ("OK" if self.ok else "FAILED"))
        return out


def _findings(text: str) -> list[Finding]:
    out = []
    for line in text.splitlines():
        m = _REPORT.match(line.strip())
        if m:
            out.append(Finding(m["level"], m["type"], m["file"] or "", int(m["line"] or 0),
                               m["msg"]))
    return out


def _checkpatch(tree: Path, patch_text: bytes) -> list[Finding]:
    proc = subprocess.run(
        ["perl", "scripts/checkpatch.pl", "--no-tree", "--terse", "--showfile",
         "--show-types", "--no-summary", "--color=never", "-"],
        cwd=tree, input=patch_text, capture_output=True, timeout=600)
    return _findings(proc.stdout.decode(errors="replace"))


def check_series(root: Path, base: str, patches: Sequence[Path],
                 files: Sequence[str]) -> CheckReport:
    """Apply `patches` (not the cover letter) onto `base` and checkpatch them.
    `files` are the paths the series touches (for the sparse checkout)."""
    src = Git(Path(root))
    work = Path(tempfile.mkdtemp(prefix="pgrewrite-check-"))
    try:
        tree = work / "tree"
        src.run("clone", "--quiet", "--shared", "--no-checkout", str(root), str(tree))
        git = Git(tree)
        name = src.config("user.name") or "pgrewrite check"
        mail = src.config("user.email") or "pgrewrite@localhost"
        git.run("config", "user.name", name)
        git.run("config", "user.email", mail)
        git.run("config", "core.sparseCheckout", "true")
        patterns = ["/scripts/"] + [f"/{f}" for f in sorted(set(files))]
        git.run("sparse-checkout", "set", "--no-cone", "--stdin",
                input=("\n".join(patterns) + "\n").encode())
        git.run("checkout", "--quiet", "--detach", base)

        have_checkpatch = (tree / "scripts" / "checkpatch.pl").is_file()
        status = "ran"
        if not have_checkpatch:
            status = "scripts/checkpatch.pl is not in the tree; not run"
        elif not shutil.which("perl"):
            status, have_checkpatch = "perl is not installed; not run", False

        results: list[PatchCheck] = []
        for patch in patches:
            # git runs in the scratch clone: a path relative to our working
            # directory (`-o ../series`) must not be read from there
            proc = git.run("am", "--quiet", "--no-3way", str(Path(patch).resolve()), check=False)
            if proc.returncode != 0:
                err = (proc.stderr or proc.stdout).decode(errors="replace").strip()
                git.run("am", "--abort", check=False)
                results.append(PatchCheck(patch, False, err.splitlines()[0] if err else "failed"))
                results += [PatchCheck(p, False, "not tried: an earlier patch failed")
                            for p in patches[len(results):]]
                break
            if not have_checkpatch:
                results.append(PatchCheck(patch, True))
                continue
            forward = _checkpatch(tree, Path(patch).read_bytes())
            reverse = git.run("diff", "HEAD", "HEAD~1").stdout
            before = {(f.type, f.file, f.line) for f in _checkpatch(tree, reverse)}
            new = tuple(f for f in forward if (f.type, f.file, f.line) not in before)
            old = tuple(f for f in forward if (f.type, f.file, f.line) in before)
            results.append(PatchCheck(patch, True, "", new, old))
        return CheckReport(tuple(results), status)
    finally:
        shutil.rmtree(work, ignore_errors=True)
