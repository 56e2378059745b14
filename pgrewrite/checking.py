"""Check patches and diffs for the family uses they add: `pgrewrite check`
and `pgrewrite scan --diff`.

Each patch is applied in memory on top of the tree's files (and of the
patches before it in the same run, as `git am` would apply a series); the
source files it leaves are analysed whole, through api.ContentScanner, so a
use gets the verdict `scan` would give it in the resulting tree (same
rules, decisions file, collision index). Only uses on lines the patch adds
are reported, and not those on a line the same patch deletes elsewhere
(code that only moved).
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import api
from .output import site_entry
from .files import is_source
from .patches import FileDiff, Patch, PatchError, read_patches
from .patches.apply import Applied, apply_file, split_lines
from .patches.fix import Fixer


@dataclass(frozen=True)
class Finding:
    site: dict                 # the scan document's entry for the site (output.site_entry)
    patch: str | None = None   # the patch file, for `check`
    patch_line: int | None = None
    subject: str = ""

    @property
    def needs_person(self) -> bool:
        return self.site["verdict"] not in ("pte", "pg")


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)      # one line each: patches that could not be read or applied
    notes: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)      # files that could not be analysed
    accounting_difference: int = 0
    moved: int = 0             # uses on added lines that the same patch deleted elsewhere
    patches: int = 0
    fixed: dict[str, bytes] = field(default_factory=dict)   # input name -> corrected patch

    @property
    def renames(self) -> int:
        return sum(not f.needs_person for f in self.findings)

    @property
    def for_person(self) -> int:
        return sum(f.needs_person for f in self.findings)


class _Tree:
    """The tree's files as patches leave them, in memory; read on first use."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self.files: dict[str, list[bytes] | None] = {}

    def lines(self, name: str, line: int, path: str) -> list[bytes] | None:
        if path in self.files:
            return self.files[path]
        full = (self.root / path)
        try:
            real = full.resolve()
            real.relative_to(self.root)
        except (ValueError, OSError, RuntimeError):
            raise PatchError(name, line, f"{path} leads outside the tree (a symbolic link); refused") from None
        try:
            data = real.read_bytes()
        except FileNotFoundError:
            data = None
        except IsADirectoryError:
            raise PatchError(name, line, f"{path} is a directory in the tree, not a file") from None
        except OSError as e:
            raise PatchError(name, line, f"{path}: cannot read: {e.strerror or e}") from None
        self.files[path] = split_lines(data) if data is not None else None
        return self.files[path]


def check_patches(inputs, scanner: api.ContentScanner, ruleset, decisions: Path | None = None,
                  use_decisions: bool = True, fix: bool = False) -> CheckResult:
    """Check each input ((name, bytes), in order, a series applied one
    after the other) against the tree at scanner.root."""
    out = CheckResult()
    tree = _Tree(scanner.root)
    fixer = Fixer(tree) if fix else None
    for name, data in inputs:
        try:
            patches = read_patches(name, data)
        except PatchError as e:
            out.errors.append(str(e))
            continue
        if fixer is not None:
            fixer.start(name, data)
        for patch in patches:
            if not patch.files:
                continue
            out.patches += 1
            try:
                pairs = _apply(patch, tree, out)
            except PatchError as e:
                out.errors.append(str(e))
                continue
            findings = _analyse(patch, pairs, scanner, ruleset, decisions, use_decisions, out)
            if fixer is not None:
                fixer.patch(pairs, findings)
            for fd, a in pairs:
                if fd.old_path is not None and fd.old_path != fd.new_path:
                    tree.files[fd.old_path] = None
                if fd.new_path is not None:
                    tree.files[fd.new_path] = a.new
            out.findings.extend(findings)
        if fixer is not None:
            out.fixed[name] = fixer.finish()
    return out


def _apply(patch: Patch, tree: _Tree, out: CheckResult) -> list[tuple[FileDiff, Applied]]:
    """Apply every file diff of the patch, in memory; all or nothing (raises
    PatchError, and the tree is left as it was)."""
    pairs = []
    staged: dict[str, list[bytes] | None] = {}

    def current(path, line):
        return staged[path] if path in staged else tree.lines(patch.name, line, path)

    for fd in patch.files:
        if fd.binary:
            where = fd.new_path or fd.old_path
            if any(p is not None and is_source(p) for p in (fd.old_path, fd.new_path)):
                raise PatchError(patch.name, fd.patch_line,
                                 f"binary patch for {where}: a source file changed as binary data cannot be checked")
            out.notes.append(f"{patch.name}:{fd.patch_line}: {where}: a binary file, not source; not checked")
            continue
        a = apply_file(patch.name, fd, current(fd.old_path or fd.new_path, fd.patch_line))
        if fd.old_path is not None and fd.old_path != fd.new_path:
            staged[fd.old_path] = None
        if fd.new_path is not None:
            staged[fd.new_path] = a.new
        pairs.append((fd, a))
    return pairs


def _norm(text: bytes) -> bytes:
    return b" ".join(text.split())


def added_lines(patch: Patch, pairs, names) -> tuple[dict[str, dict[int, int]], int]:
    """Per new path, 1-based line in the new file -> line in the patch, of
    each added line that mentions a family name and did not only move; and
    how many such lines only moved (the same text, spaces aside, deleted
    elsewhere in the same patch)."""
    removed = Counter()
    for fd, _ in pairs:
        for h in fd.hunks:
            removed.update(_norm(ln.text) for ln in h.lines if ln.kind == "-")
    out: dict[str, dict[int, int]] = {}
    moved = 0
    for fd, a in pairs:
        if a.new is None or not fd.source:
            continue
        lines = out.setdefault(fd.new_path, {})
        for h, ni in zip(fd.hunks, a.new_index):
            for ln, j in zip(h.lines, ni):
                if ln.kind != "+" or not any(n in ln.text for n in names):
                    continue
                key = _norm(ln.text)
                if removed[key] > 0:
                    removed[key] -= 1
                    moved += 1
                    continue
                lines[j + 1] = ln.patch_line
    return out, moved


def _analyse(patch: Patch, pairs, scanner, ruleset, decisions, use_decisions,
             out: CheckResult) -> list[Finding]:
    names = tuple(n.encode() for n in ruleset.family.names)
    wanted, moved = added_lines(patch, pairs, names)
    out.moved += moved
    new = {fd.new_path: a.new for fd, a in pairs if fd.new_path is not None}
    contents = {p: b"".join(new[p]) for p, lines in wanted.items() if lines}
    if not contents:
        return []
    result = _scan(scanner, contents, ruleset, decisions, use_decisions, out)
    findings = []
    for f in result.files:
        if f.error is not None:
            out.failed.append(f"{patch.name}: {f.path} (as the patch leaves it): {f.error}")
            continue
        out.accounting_difference += f.accounting_difference
        lines = wanted[f.path]
        for d in f.decisions:
            if d.site.line in lines:
                findings.append(Finding(site_entry(f, d), patch.name, lines[d.site.line], patch.subject))
    findings.sort(key=lambda x: (x.patch_line, x.site["col"]))
    return findings


def _scan(scanner, contents, ruleset, decisions, use_decisions, out: CheckResult):
    result = scanner.scan(contents)
    out.notes.extend(n for f in result.files for n in f.notes)
    if use_decisions:
        result, problems = api.apply_person_decisions(result, ruleset, path=decisions)
        out.notes.extend(f"decisions: {p}" for p in problems)
    return result


def check_diff(diff: bytes, name: str, scanner: api.ContentScanner, ruleset, decisions: Path | None = None,
               use_decisions: bool = True) -> CheckResult:
    """`scan --diff`: the uses a diff of the work tree (`git diff BASE`) adds.
    The files are the work tree's, so they are read, not patched; findings
    name the file and line, not the diff."""
    out = CheckResult()
    try:
        patches = read_patches(name, diff) if diff.strip() else []
    except PatchError as e:
        out.errors.append(str(e))
        return out
    tree = _Tree(scanner.root)
    for patch in patches:
        out.patches += 1
        pairs = []
        for fd in patch.files:
            if fd.binary or not fd.source:
                continue
            try:
                lines = tree.lines(name, fd.patch_line, fd.new_path)
            except PatchError as e:
                out.errors.append(str(e))
                continue
            if lines is None:
                out.errors.append(f"{fd.new_path}: in the diff but not in the work tree")
                continue
            new_index = [[(ln_no - 1) if ln.kind != "-" else None for ln, ln_no in _numbered(h)] for h in fd.hunks]
            pairs.append((fd, Applied(fd.new_path, None, lines, [], new_index, [])))
        findings = _analyse(patch, pairs, scanner, ruleset, decisions, use_decisions, out)
        out.findings.extend(dataclasses.replace(f, patch=None, patch_line=None) for f in findings)
    out.findings.sort(key=lambda f: (f.site["path"], f.site["line"], f.site["col"]))
    return out


def _numbered(h):
    """(hunk line, its 1-based line in the new file or 0) for a diff of the work tree."""
    j = h.new_start
    for ln in h.lines:
        if ln.kind == "-":
            yield ln, 0
        else:
            yield ln, j
            j += 1

