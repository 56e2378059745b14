"""Rule examples and fixtures: what `pgrewrite test` and the pytest suite run.

- Every rule's `examples.match` snippets must make the rule match at least
  one site, and its `examples.no-match` snippets none. A snippet that is not
  a complete file is wrapped in a function body.
- Every rule has `fixtures/<rule-id>/` with C input written for it, and
  every fixture directory names an existing rule. The expected scan output
  and patch live in `fixtures/<rule-id>/snapshots/` (pytest-snapshot).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from . import parsing
from .api import Engine
from .classify import UNITS
from .edits import rewrite, write_atomically
from .output import site_line, site_entry
from .rules import conditions as C
from .rules.loader import Rule


@dataclass(frozen=True)
class ExampleFailure:
    rule: str
    kind: str        # "match" | "no-match"
    index: int
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: examples.{self.kind}[{self.index}]: {self.message}"


def example_source(snippet: str) -> bytes:
    data = snippet.encode()
    if parsing.count_errors(parsing.parse(data)) == 0 and b"(" in data and b"{" in data:
        return data
    if data.lstrip().startswith((b"SYSCALL_DEFINE", b"COMPAT_SYSCALL_DEFINE")):
        return data      # a syscall body: the grammar never reads its head cleanly
    return b"void __pgrewrite_example(void)\n{\n" + data + b"\n}\n"


def rule_matches_in(engine: Engine, rule: Rule, path: str, data: bytes) -> list:
    """Sites of `data` where `rule` matches (whatever other rules say)."""
    _, parsed = engine.analyse(path, data, keep_parse=True)
    hits = []
    for found in parsed.sites:
        if found.site.context.value not in ("code", "macro", "attribute", "asm", "asm-file"):
            continue
        if found.site.parse_error or found.site.pasted:
            continue
        if rule not in engine.classifier.rules_for(found):
            continue
        env = C.Env(path, data, found, engine.classifier.matcher, C.symbols.SymbolCache(),
                    units=engine.classifier.unit_facts(data, path))
        if engine.classifier.evaluate(rule, env) is not None:
            hits.append(found.site)
    return hits


def check_examples(engine: Engine, only: str | None = None) -> list[ExampleFailure]:
    failures = []
    for rule in engine.ruleset.rules:
        if only is not None and rule.id != only:
            continue
        path = "example.S" if rule.language == "asm" else "example.c"
        for i, snippet in enumerate(rule.examples_match):
            data = snippet.encode() if rule.language == "asm" else example_source(snippet)
            if not rule_matches_in(engine, rule, _example_path(rule, path), data):
                failures.append(ExampleFailure(rule.id, "match", i, "the rule does not match this example"))
        for i, snippet in enumerate(rule.examples_no_match):
            data = snippet.encode() if rule.language == "asm" else example_source(snippet)
            hits = rule_matches_in(engine, rule, _example_path(rule, path), data)
            if hits:
                failures.append(ExampleFailure(rule.id, "no-match", i,
                                               f"the rule matches {hits[0].token} at line {hits[0].line}"))
    return failures


def _example_path(rule: Rule, default: str) -> str:
    """Examples of a rule limited to some files (`files:`, or a `path:`
    condition its match requires) pretend to live there."""
    globs = rule.files or _required_path(rule.match)
    if globs:
        g = globs[0].replace("**/", "").replace("**", "x").replace("*", "x")
        return g if g.endswith((".c", ".h", ".S")) else g.rstrip("/") + "/" + default
    return default


def _required_path(cond) -> tuple:
    """The globs of a `path:` condition that `cond` requires: itself, or one
    of an `all` or a named condition (`use`); never one under a `not` or an
    `any`, which a site elsewhere may satisfy."""
    if isinstance(cond, C.PathCond):
        return cond.globs
    if isinstance(cond, C.Use):
        return _required_path(cond.item)
    if isinstance(cond, C.All):
        for item in cond.items:
            if (globs := _required_path(item)):
                return globs
    return ()


# ------------------------------------------------------------------ fixtures

def fixture_dirs(fixtures: Path) -> list[Path]:
    return sorted(p for p in fixtures.iterdir() if p.is_dir()) if fixtures.is_dir() else []


def fixture_sources(d: Path) -> list[Path]:
    return sorted(p for p in d.rglob("*") if p.is_file() and p.suffix in (".c", ".h", ".S") and "snapshots" not in p.parts)


def render_fixture(engine: Engine, d: Path) -> tuple[str, str]:
    """(scan text, patch) for a fixture directory, paths relative to it."""
    lines, patch = [], []
    for src in fixture_sources(d):
        rel = str(src.relative_to(d))
        data = src.read_bytes()
        result = engine.analyse(rel, data)
        for dec in result.decisions:
            lines.append(site_line(site_entry(result, dec)))
        for n in result.notes:
            lines.append(f"note: {n}")
        if result.accounting_difference:
            lines.append(f"{rel}: accounting difference {result.accounting_difference}")
        if result.edits:
            new = rewrite(data, result.edits)
            patch.extend(difflib.unified_diff(
                data.decode("utf-8", "surrogateescape").splitlines(keepends=True),
                new.decode("utf-8", "surrogateescape").splitlines(keepends=True),
                fromfile=f"a/{rel}", tofile=f"b/{rel}"))
    return "\n".join(lines) + "\n", "".join(patch)


def coverage_problems(engine: Engine, fixtures: Path) -> list[str]:
    ids = {r.id for r in engine.ruleset.rules}
    if engine.ruleset.units is not None:
        ids.add(UNITS)           # unit inference has fixtures like a rule
    dirs = {p.name for p in fixture_dirs(fixtures)}
    problems = [f"rule {i} has no fixture: add fixtures/{i}/ with C input" for i in sorted(ids - dirs)]
    problems += [f"fixtures/{n}/ names no rule (no semantic-rules/**/{n}.yaml)" for n in sorted(dirs - ids)]
    for n in sorted(ids & dirs):
        d = fixtures / n
        if not fixture_sources(d):
            problems.append(f"fixtures/{n}/ has no .c/.h/.S input")
        elif not any(n in {m.rule for m in dec.matches} for dec in _all_decisions(engine, d)):
            problems.append(f"fixtures/{n}/: rule {n} matches nothing in its own fixture")
    return problems


def _all_decisions(engine: Engine, d: Path):
    for src in fixture_sources(d):
        yield from engine.analyse(str(src.relative_to(d)), src.read_bytes()).decisions


UPDATE = "pgrewrite test --update"


def _snapshot_diff(snap: Path, old: str, new: str) -> str:
    """The unified diff from the stored snapshot to the current output."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"{snap} (stored)", tofile=f"{snap} (now)"))


def _snapshots(engine: Engine, fixtures: Path, only=None):
    """(snapshot path, stored text or None, current text) of every fixture
    (or of the fixtures named in `only`)."""
    for d in fixture_dirs(fixtures):
        if only and d.name not in only:
            continue
        scan, patch = render_fixture(engine, d)
        for name, text in (("scan.txt", scan), ("patch.diff", patch)):
            snap = d / "snapshots" / name
            old = snap.read_text(encoding="utf-8", errors="surrogateescape") if snap.exists() else None
            yield snap, old, text


def compare_snapshots(engine: Engine, fixtures: Path) -> list[str]:
    """Differences between fixtures and their stored snapshots (for `pgrewrite
    test`), each with its diff."""
    problems = []
    for snap, old, text in _snapshots(engine, fixtures):
        if old is None:
            problems.append(f"{snap}: missing snapshot (run: {UPDATE} {snap.parent.parent.name})")
        elif old != text:
            problems.append(f"{snap}: differs from the current output (if the diff is right: "
                            f"{UPDATE} {snap.parent.parent.name})\n" + _snapshot_diff(snap, old, text).rstrip("\n"))
    return problems


def update_snapshots(engine: Engine, fixtures: Path, only=None) -> list[str]:
    """Write the current output as the snapshots of the fixtures (all, or
    those named in `only`); the diff of each one that changed."""
    diffs = []
    for snap, old, text in _snapshots(engine, fixtures, only):
        if old == text:
            continue
        snap.parent.mkdir(parents=True, exist_ok=True)
        before = snap.read_bytes() if snap.exists() else None
        write_atomically(snap, text.encode("utf-8", "surrogateescape"), before)
        diffs.append(_snapshot_diff(snap, old or "", text))
    return diffs
