"""`pgrewrite explain FILE:LINE[:COL]`: which rules were tried and why."""
from __future__ import annotations

from .api import Engine
from .classify import UNITS
from .rules import conditions as C


def explain(engine: Engine, path: str, data: bytes, line: int, col: int | None) -> str:
    result, parsed = engine.analyse(path, data, keep_parse=True)
    decisions = {d.site.start: d for d in result.decisions}
    out = []
    sites = [f for f in parsed.sites if f.site.line == line and (col is None or f.site.col <= col < f.site.col + len(f.site.token))]
    if not sites:
        return f"{path}:{line}{':' + str(col) if col else ''}: no family token here\n"
    units = engine.classifier.unit_facts(data)
    for found in sites:
        s = found.site
        d = decisions[s.start]
        out.append(f"{s.path}:{s.line}:{s.col}: {s.token} ({s.context.value}"
                   f"{', in ' + s.function if s.function else ''}{', parse error' if s.parse_error else ''})")
        out.append(f"  site id: {s.site_id}")
        out.append(f"  verdict: {d.verdict.value}{' -> ' + d.replacement if d.replacement else ''}"
                   f" [{d.rule or '-'}] {d.reason}")
        tried = engine.classifier.rules_for(found)
        skipped_rules = [r for r in engine.ruleset.rules if r not in tried]
        for rule in tried:
            trace = []
            env = C.Env(s.path, data, found, engine.classifier.matcher, C.symbols.SymbolCache(), trace=trace,
                        units=units)
            b = engine.classifier.evaluate(rule, env)
            status = "MATCH" if b is not None else "no match"
            out.append(f"  {status}: {rule.id} ({rule.meaning}, priority {rule.priority}, {rule.strength}) - {rule.reason}")
            for depth, text, ok in _tree(trace):
                out.append(f"      {'  ' * depth}{'+' if ok else '-'} {text}")
            if b:
                shown = {k: (v.text.decode(errors='replace') if hasattr(v, 'text') else '...') for k, v in b.items()}
                out.append(f"      bindings: {shown}")
        for m in d.matches:
            if m.rule == UNITS:
                out.append(f"  unit inference ({m.meaning}), step by step:")
                steps = m.reason.removeprefix("units: ").split("; but ")
                for i, part in enumerate(steps):
                    if len(steps) > 1:
                        out.append(f"      {'PTE side' if i == 0 else 'PG side'}:")
                    for step in part.removeprefix("PTE and PG units meet: ").split(": "):
                        out.append(f"      - {step}")
        names = sorted(r.id for r in skipped_rules if r.tokens is None or s.token in r.tokens)
        if names:
            out.append(f"  not tried (path filter or language): {', '.join(names)}")
    return "\n".join(out) + "\n"


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
