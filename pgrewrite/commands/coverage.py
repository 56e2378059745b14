"""`pgrewrite coverage PATH...`: how much of a tree the rules decide, and what to write next.

For every row (each path given and each subdirectory of it; for the tree
root, a top-level directory, with `arch/x86`, `include/linux` and
`include/asm-generic` rows of their own) it prints the count of each
verdict and the share of sites decided (pte + pg + logic). Then, to tell rule
authors where to go next, the most common:

- reasons (and rules) of `unknown`, `conflict` and `skipped` sites;
- for `unknown` sites: the call whose argument holds the site (`memset() arg 3`)
  and the shape of the expression right around it (`$ >> PAGE_SHIFT`,
  `$ += PAGE_SIZE`, `PAGE_ALIGN($)`), with one example location each.

Everything comes from the library: `api.scan_paths` gives the verdicts, and
`sites.find_sites` (the same parse the engine uses) gives the structure around
the unknown sites. Nothing is classified here.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import click

from pgrewrite.commands.common import (EXIT_INPUT, decisions_option, jobs_option, load_rules_or_exit, rules_option,
                                       run_scan, with_cache_options, with_decisions)
from pgrewrite.lex import Lexer
from pgrewrite.model import Verdict
from pgrewrite.shownpaths import entering, path_view
from pgrewrite.sites import find_sites

OWN_ROWS = ("arch/x86", "include/linux", "include/asm-generic")
DECIDED = (Verdict.PTE.value, Verdict.PG.value, Verdict.LOGIC.value)
VERDICTS = tuple(v.value for v in Verdict)


def row_of(rel: str) -> str:
    """The report row of a path relative to the tree root."""
    for r in OWN_ROWS:
        if rel == r or rel.startswith(r + "/"):
            return r
    return rel.split("/", 1)[0] if "/" in rel else "."


def row_in(rel: str, given: list[str]) -> str:
    """The row of a file among the paths given (relative to the tree root):
    the path that holds it, or its subdirectory there (`coverage mm` has a
    row `mm` for mm/*.c and `mm/kasan` for mm/kasan/); the tree's usual rows
    (`row_of`) for the tree root itself."""
    holders = [g for g in given if g in ("", ".") or rel == g or rel.startswith(g + "/")]
    g = max(holders, key=len, default="")
    if g in ("", "."):
        return row_of(rel)
    rest = rel[len(g) + 1:]
    return f"{g}/{rest.split('/', 1)[0]}" if "/" in rest else g


def tree_relative(display: str, root: Path | None, cwd: Path) -> str:
    if root is None:
        return display
    p = Path(display)
    p = p if p.is_absolute() else cwd / p
    rel = os.path.relpath(p, root)
    return display if rel.startswith("..") else rel


# ------------------------------------------------------------------ shapes

_SKIP_UP = frozenset({"parenthesized_expression", "cast_expression"})
_SPACE = re.compile(r"\s+")


def _leaf_text(n) -> str:
    return _SPACE.sub(" ", n.text.decode(errors="replace"))


def _operand(n, names) -> str:
    """How an operand other than the site is shown in a shape: literals and
    family names as they are, everything else as `$`."""
    while n.type == "parenthesized_expression" and n.named_child_count == 1:
        n = n.named_children[0]
    if n.type == "number_literal" or (n.child_count == 0 and _leaf_text(n) in names):
        return _leaf_text(n)
    return "$"


def enclosing_call(node) -> str | None:
    """`name() arg N` of the innermost call whose argument holds `node`."""
    child, p = node, node.parent
    while p is not None:
        if p.type == "argument_list" and p.parent is not None and p.parent.type == "call_expression":
            f = p.parent.child_by_field_name("function")
            if f is not None and f.type == "field_expression":
                f = f.child_by_field_name("field")
            name = _leaf_text(f) if f is not None and f.child_count == 0 else "(expr)"
            index = [c.id for c in p.named_children].index(child.id) + 1
            return f"{name}() arg {index}"
        if p.type in ("compound_statement", "function_definition", "translation_unit"):
            return None
        child, p = p, p.parent
    return None


def shape(node, token: str, names) -> str:
    """The expression right around the site, other operands abstracted."""
    n = node
    p = n.parent
    if p is not None and p.type == "call_expression" and p.child_by_field_name("function") == n:
        n, p = p, p.parent          # a function-like family name: shape of the call
        me = f"{token}($)"
    else:
        me = token
    while p is not None and p.type in _SKIP_UP:
        n, p = p, p.parent
    if p is None:
        return me
    t = p.type
    if t == "binary_expression" or t == "assignment_expression":
        left, right = p.child_by_field_name("left"), p.child_by_field_name("right")
        op = p.child_by_field_name("operator")
        op = _leaf_text(op) if op is not None else "?"
        lhs = me if left is not None and left.id == n.id else _operand(left, names) if left is not None else "?"
        rhs = me if right is not None and right.id == n.id else _operand(right, names) if right is not None else "?"
        return f"{lhs} {op} {rhs}"
    if t == "unary_expression":
        op = p.child_by_field_name("operator")
        return f"{_leaf_text(op) if op is not None else '?'}{me}"
    if t == "argument_list":
        call = p.parent
        f = call.child_by_field_name("function") if call is not None else None
        name = _leaf_text(f) if f is not None and f.child_count == 0 else "(expr)"
        args = [me if a.id == n.id else "$" for a in p.named_children if a.type != "comment"]
        return f"{name}({', '.join(args)})"
    if t == "init_declarator":
        return f"T $ = {me}"
    if t == "return_statement":
        return f"return {me}"
    if t == "conditional_expression":
        return f"$ ? .. : .. with {me}"
    if t == "subscript_expression" or t == "array_declarator":
        return f"[{me}]"
    if t in ("initializer_list", "initializer_pair"):
        return f"{{ .. {me} .. }}"
    if t == "expression_statement":
        return f"{me};"
    return f"{me} in {t}"


def _shapes_of_file(task):
    """(call, shape, location) of each unknown site of one file."""
    display, path, starts, names = task
    try:
        data = Path(path).read_bytes()
    except OSError:
        return []
    parsed = find_sites(display, data, Lexer(names))
    wanted = set(starts)
    out = []
    for f in parsed.sites:
        s = f.site
        if s.start not in wanted:
            continue
        loc = f"{s.path}:{s.line}:{s.col}"
        if f.node is None:
            out.append((None, f"{s.token} (no parse)", loc))
            continue
        sh = shape(f.node, s.token, names)
        if s.context.value == "macro":
            sh = "#define: " + sh
        out.append((enclosing_call(f.node), sh, loc))
    return out


def unknown_shapes(result, names, cwd: Path, jobs: int):
    tasks = []
    by_path = defaultdict(list)
    for f in result.files:
        for d in f.decisions:
            if d.verdict is Verdict.UNKNOWN:
                by_path[f.path].append(d.site.start)
    for display, starts in sorted(by_path.items()):
        p = Path(display)
        tasks.append((display, str(p if p.is_absolute() else cwd / p), starts, tuple(names)))
    if jobs <= 1 or len(tasks) < 8:
        return [x for t in tasks for x in _shapes_of_file(t)]
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    with ctx.Pool(jobs) as pool:
        return [x for part in pool.imap(_shapes_of_file, tasks, chunksize=16) for x in part]


# ------------------------------------------------------------------ report

_COLLISION = re.compile(r"^(name collision: \S+ is already defined at \S+?)(?: \(.*?\))?[,;] .*$", re.S)


def _normalise_reason(reason: str) -> str:
    # a collision names its definition; the verdict the rules wanted varies per site
    return _COLLISION.sub(r"\1", reason)


def build_report(result, names, cwd: Path, top: int = 10, jobs: int = 1, shapes: bool = True,
                 given=(".",)) -> dict:
    """`given`: the paths the user gave, as given (a row each, then their
    subdirectories; see row_in)."""
    given = [tree_relative(g.rstrip("/") or "/", result.root, cwd) for g in given]
    rows: dict[str, Counter] = defaultdict(Counter)
    reasons = {v: Counter() for v in ("unknown", "conflict", "skipped")}
    rules = {v: Counter() for v in ("unknown", "conflict", "skipped")}
    decided_by = Counter()
    areas = Counter()
    for f in result.files:
        row = row_in(tree_relative(f.path, result.root, cwd), given)
        for d in f.decisions:
            v = d.verdict.value
            rows[row][v] += 1
            if d.area:
                areas[f"{d.area} ({v})"] += 1
            if v in reasons:
                reasons[v][_normalise_reason(d.reason)] += 1
                for m in d.matches:
                    rules[v][f"{m.rule} ({m.meaning}, {m.strength})"] += 1
            elif d.rule:
                decided_by[f"{d.rule} ({v})"] += 1
    table = []
    for row in sorted(rows):
        table.append(_row(row, rows[row]))
    total = Counter()
    for c in rows.values():
        total.update(c)
    doc = {
        "root": str(result.root) if result.root is not None else None,
        "rows": table,
        "total": _row("total", total),
        "top": {v: _top(reasons[v], top) for v in reasons},
        "top_rules": {v: _top(rules[v], top) for v in rules},
        "decided_by": _top(decided_by, top),
        "areas": _top(areas, 10 * top),
        "files_failed": len(result.failed),
        "problems": [f"{p.display}: {p.message}" for p in result.problems],
    }
    view = path_view(result.root, cwd)
    if view.base is not None:       # the examples' paths: see shownpaths
        doc = {"paths_relative_to": str(view.base), **doc}
    if shapes:
        found = unknown_shapes(result, names, cwd, jobs)
        calls, forms, example = Counter(), Counter(), {}
        for call, sh, loc in found:
            path, line, col = loc.rsplit(":", 2)
            loc = f"{view(path)}:{line}:{col}"
            if call is not None:
                calls[call] += 1
                example.setdefault(("call", call), loc)
            forms[sh] += 1
            example.setdefault(("shape", sh), loc)
        doc["unknown_calls"] = [dict(x, example=example[("call", x["what"])]) for x in _top(calls, top)]
        doc["unknown_shapes"] = [dict(x, example=example[("shape", x["what"])]) for x in _top(forms, top)]
    return doc


def _row(name: str, c: Counter) -> dict:
    sites = sum(c.values())
    decided = sum(c[v] for v in DECIDED)
    return {"row": name, **{v: c.get(v, 0) for v in VERDICTS}, "sites": sites,
            "decided_pct": round(100.0 * decided / sites, 1) if sites else 0.0}


def _top(c: Counter, n: int) -> list[dict]:
    return [{"what": k, "count": v} for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def render_text(doc: dict) -> str:
    out = [entering(doc["paths_relative_to"])] if doc.get("paths_relative_to") else []
    if doc["root"]:
        out.append(f"tree: {doc['root']}")
    head = ["row", *VERDICTS, "sites", "decided"]
    rows = [*doc["rows"], doc["total"]]
    width = max([len(h) for h in head[:1]] + [len(r["row"]) for r in rows])
    fmt_head = f"{{:<{width}}}" + "".join(f" {{:>{max(len(h), 7)}}}" for h in head[1:])
    out.append(fmt_head.format(*head))
    for r in rows:
        if r is doc["total"]:
            out.append("-" * len(fmt_head.format(*head)))
        out.append(fmt_head.format(r["row"], *(r[v] for v in VERDICTS), r["sites"], f"{r['decided_pct']:.1f}%"))
    sections = [
        ("decided by (top rules)", doc["decided_by"]),
        ("review areas (verdict)", doc.get("areas", ())),
        ("unknown: reasons", doc["top"]["unknown"]),
        ("unknown: rules that matched alone (weak)", doc["top_rules"]["unknown"]),
        ("conflict: reasons", doc["top"]["conflict"]),
        ("skipped: reasons", doc["top"]["skipped"]),
        ("skipped: rules that matched anyway", doc["top_rules"]["skipped"]),
    ]
    if "unknown_calls" in doc:
        sections += [("unknown: enclosing calls", doc["unknown_calls"]),
                     ("unknown: expression shapes", doc["unknown_shapes"])]
    for title, items in sections:
        out.append("")
        out.append(f"{title}:")
        if not items:
            out.append("  (none)")
        for x in items:
            ex = f"  e.g. {x['example']}" if "example" in x else ""
            out.append(f"  {x['count']:>7}  {x['what']}{ex}")
    if doc["files_failed"] or doc["problems"]:
        out.append("")
        out.append(f"files that could not be analysed: {doc['files_failed']}")
        out.extend(f"  {p}" for p in doc["problems"])
    return "\n".join(out) + "\n"


@click.command("coverage")
@click.argument("paths", nargs=-1, required=True)
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many reasons, rules, calls and shapes to list per section.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--no-shapes", is_flag=True, help="Do not re-read files to list the calls and shapes around unknown sites.")
@rules_option
@jobs_option
@with_cache_options
@click.option("--no-decisions", is_flag=True, help="Count the rules' verdicts only, ignoring pgrewrite-decisions.yaml.")
@decisions_option
def coverage_command(paths, top, fmt, no_shapes, rules_dir, jobs, cache_dir, no_cache, no_decisions,
                     decisions_file):
    """Verdict counts per directory of PATHS, share decided, and what is left undecided."""
    ruleset = load_rules_or_exit(rules_dir)
    result = run_scan(paths, ruleset, jobs, cache_dir, no_cache)
    if not no_decisions:      # the verdicts every other command shows
        result = with_decisions(result, ruleset, decisions_file)
    cwd = Path.cwd()
    doc = build_report(result, ruleset.family.names, cwd, top=top, jobs=jobs or os.cpu_count() or 1,
                       shapes=not no_shapes, given=paths)
    click.echo(json.dumps(doc, indent=2) + "\n" if fmt == "json" else render_text(doc), nl=False)
    if result.failed or result.problems:
        sys.exit(EXIT_INPUT)
