"""`pgrewrite explain FILE:LINE[:COL]`: which rules were tried and why.

The verdict shown is the one every command gives (`scan`, `coverage`,
`apply`, `series`): the file is scanned as `scan` scans it and the decisions
file applied, so a site a person decided says so, with the entry's line.
Then the rules: those that matched first (the deciding one at the top), with
the trace of their conditions; the others folded to their names unless
asked for (`--all`, or `--rule ID` for one of them).
"""
from __future__ import annotations

from dataclasses import dataclass

from .api import Engine
from .classify import UNITS
from .model import Decision, FileResult
from .rules import conditions as C

LEGEND = "  (trace: + a condition that held, - one that failed; nested lines are the parts of the one above)"


class ExplainError(Exception):
    """The location does not exist in the file (past its end)."""


@dataclass(frozen=True)
class Decided:
    """Who decided a site, when it was a person: the decisions file and line."""

    path: str
    line: int | None


def check_location(path: str, data: bytes, line: int, col: int | None) -> None:
    """A line past the end of the file (or a column past the end of the line)
    is an error, not "no family token here"."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    if line < 1 or line > len(lines):
        raise ExplainError(f"{path}:{line}: the file has {len(lines)} line(s); give a line "
                           f"between 1 and {len(lines)}")
    if col is not None and (col < 1 or col > len(lines[line - 1]) + 1):
        raise ExplainError(f"{path}:{line}:{col}: line {line} has {len(lines[line - 1])} "
                           "byte(s); columns are 1-based byte columns")


def explain(engine: Engine, tree_path: str, data: bytes, line: int, col: int | None, *,
            scanned: FileResult | None = None, by_rules: FileResult | None = None,
            decided: dict[str, Decided] | None = None, rule: str | None = None,
            show_all: bool = False, printed: str | None = None) -> str:
    """The explanation of the sites at `line` (and `col`) of a file analysed
    under its path from the tree root. `scanned`: the file's result as scan
    gives it (decisions applied); `by_rules`: the same before the decisions;
    `decided`: site id -> where a person decided it; `printed`: the file's
    path as scan prints it (default: the scanned result's path)."""
    printed = printed or (scanned.path if scanned else tree_path)
    check_location(printed, data, line, col)
    result, parsed = engine.analyse(tree_path, data, keep_parse=True)
    own = {d.site.start: d for d in result.decisions}
    shown = {d.site.start: d for d in (scanned.decisions if scanned else ())}
    rules_say = {d.site.start: d for d in (by_rules.decisions if by_rules else ())}
    sites = [f for f in parsed.sites if f.site.line == line
             and (col is None or f.site.col <= col < f.site.col + len(f.site.token))]
    if not sites:
        return f"{printed}:{line}{':' + str(col) if col else ''}: no family token here\n"
    out = []
    for found in sites:
        s = found.site
        d = shown.get(s.start) or own[s.start]
        out.append(f"{printed}:{s.line}:{s.col}: {s.token} ({s.context.value}"
                   f"{', in ' + s.function if s.function else ''}{', parse error' if s.parse_error else ''})")
        out.append(f"  site id: {s.site_id}")
        out.append(f"  verdict: {_verdict(d)}")
        person = (decided or {}).get(s.site_id)
        if person is not None and d.rule == "person":
            at = f"{person.path}:{person.line}" if person.line else person.path
            before = rules_say.get(s.start) or own[s.start]
            out.append(f"  decided by: a person ({at})")
            out.append(f"  the rules alone say: {_verdict(before)}")
        else:
            out.append(f"  decided by: {'rule ' + d.rule if d.rule else 'no rule'}")
        out += _units(d)
        out += _rules(engine, found, data, d, rule, show_all)
    return "\n".join(out) + "\n"


def _verdict(d: Decision) -> str:
    return (f"{d.verdict.value}{' -> ' + d.replacement if d.replacement else ''}"
            f" [{d.rule or '-'}] {d.reason}")


def _rules(engine: Engine, found, data: bytes, d: Decision, only: str | None, show_all: bool) -> list[str]:
    s = found.site
    tried = engine.classifier.rules_for(found)
    units = engine.classifier.unit_facts(data, s.path)
    results = []
    for r in tried:
        if only is not None and r.id != only:
            continue
        trace: list = []
        env = C.Env(s.path, data, found, engine.classifier.matcher, C.symbols.SymbolCache(), trace=trace,
                    units=units)
        results.append((r, engine.classifier.evaluate(r, env), trace))
    # the deciding rule first, then the other matches, then the rest
    results.sort(key=lambda x: (x[0].id != d.rule, x[1] is None))
    matched = [x for x in results if x[1] is not None]
    failed = [x for x in results if x[1] is None]
    out = []
    if only is not None and not results:
        known = any(r.id == only for r in engine.ruleset.rules)
        return [f"  rule {only}: {'not tried here (token, path filter or language)' if known else 'no such rule'}"]
    out.append(f"  rules that matched: {len(matched)}" + ("" if matched else " (none)"))
    for x in matched:
        out += _one(*x)
    if failed and (show_all or only is not None):
        out.append(f"  rules tried that did not match: {len(failed)}")
        for x in failed:
            out += _one(*x)
    elif failed:
        out.append(f"  rules tried that did not match ({len(failed)}; --all for their traces, "
                   f"--rule ID for one): {', '.join(r.id for r, _, _ in failed)}")
    if only is None:
        skipped = sorted(r.id for r in engine.ruleset.rules if r not in tried
                         and (r.tokens is None or s.token in r.tokens))
        if skipped:
            out.append(f"  not tried (path filter or language): {', '.join(skipped)}")
    out.append(LEGEND)
    return out


def _units(d: Decision) -> list[str]:
    """Unit inference's chain, one step a line (both sides where units meet)."""
    out = []
    for m in d.matches:
        if m.rule != UNITS:
            continue
        out.append(f"  unit inference ({m.meaning}), step by step:")
        sides = m.reason.removeprefix("units: ").split("; but ")
        for i, part in enumerate(sides):
            if len(sides) > 1:
                out.append(f"      {'PTE side' if i == 0 else 'PG side'}:")
            out += [f"      - {step}" for step in part.removeprefix("PTE and PG units meet: ").split(": ")]
    return out


def _one(rule, bindings, trace) -> list[str]:
    status = "MATCH" if bindings is not None else "no match"
    out = [f"  {status}: {rule.id} ({rule.meaning}, priority {rule.priority}, {rule.strength}) - {rule.reason}"]
    for depth, text, ok in _tree(trace):
        out.append(f"      {'  ' * depth}{'+' if ok else '-'} {text}")
    if bindings:
        shown = {k: (v.text.decode(errors='replace') if hasattr(v, 'text') else '...') for k, v in bindings.items()}
        out.append(f"      bindings: {shown}")
    return out


def _tree(trace):
    """Trace entries are appended when a condition finishes (children first);
    reorder them so parents print before their children."""
    out, stack = [], []
    for depth, text, ok in trace:
        children = []
        while stack and stack[-1][0] > depth:
            children.insert(0, stack.pop())
        stack.append((depth, text, ok, children))

    def emit(node):
        d, t, o, ch = node
        out.append((d, t, o))
        for c in ch:
            emit(c)
    for n in stack:
        emit(n)
    return out
