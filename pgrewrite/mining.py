"""Cross-file function facts, mined from a whole tree as data (issue 17).

summaries.py carries a unit across a call only between the functions of
one file. Here, as smatch's cross-function database does, a pass over a
whole tree computes the same summaries for the functions other files call
(non-static functions, and a header's inline functions), and writes them
as a units file in the language of units.yaml: semantic-rules/units-mined.yaml
(`pgrewrite mine TREE -o FILE`). The scan reads it as it reads units.yaml
(rules/units.py), so a verdict still depends only on its file's text and the
rules data, and costs no analysis at scan time.

Each file is read as the scan reads it (sites.find_sites, the strong rule
decisions of its sites as facts, inference.Inference), and each function
it defines is summarised by summaries.Summaries, the in-file machinery:
- **returns**: the agreeing unit of every `return e` (Summaries.returned);
- **arguments**: what the body does with parameter K, never assigned, of a
  dimension (bytes, count): the sinks of its uses (Summaries.parameter_sinks),
  all of one unit, and at least one of them a chain where the value never
  meets another value (a comparison, a sum, min/max: _PEER), which are
  evidence at one site, not for every caller. Only parameters that are not
  pointers, arrays or structs, never written in the body (not even `+=`,
  `++`), never an argument of min()/max()/clamp() (what the result is, a
  length capped at a page, is not what the parameter is).
A name is mined only when the tree agrees on it:
- every definition of the name anywhere in the tree (other arches, #ifdef
  variants, static functions of that name in other files) gives a fact, and
  all of them the same unit (a stub `return 0;` gives none: nothing);
- one of them is visible to other files (non-static, or in a header);
- a definition that is `__weak`, defined twice in its file, or named by a
  macro in its file refuses (Summaries.callee), and so does a name that any
  file of the tree #defines (a call may be the macro's);
- the parameter lists of the definitions have the same length;
- units.yaml wins: a name it lists (returns; or any argument of a callee)
  is not mined again (rules/units.py drops such entries when loading, and
  the miner does not write them).
A mined fact is never more than the in-file summary would say had caller
and callee been in one file: the same code computes it, from the callee's
file alone. One round: the mined facts are not used while mining (a second
round would carry facts one more call away).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import fieldwrites
from .classify import Classifier
from .inference import Inference
from .lex import Lexer
from .nodes import PEER_CALLS, callee as _callee
from .rules.units import Unit
from .sites import find_sites
from .summaries import Summaries, _static, _variadic

FILE = "units-mined.yaml"
_DIMS = ("bytes", "count")
_SUFFIXES = (".c", ".h")
# the steps of a derivation where a value meets another value (a comparison,
# a sum, min/max, a check before a use): evidence at one site, too weak to
# say what every caller's argument is (mining 6.12: a size compared with
# PAGE_SIZE << order, a user address added to a folio's bytes, a file
# offset rounded up to a page). A mined argument needs one chain without
# any (a units.yaml callee, a buffer it bounds, a field it is stored in...).
_PEER = re.compile(r"\b(?:compared with|added to|is checked against|\(\) with) ")


@dataclass
class Definition:
    """What one definition of a function says (a row of the mining)."""

    name: str
    path: str
    line: int
    visible: bool                 # non-static, or in a header: other files call it
    params: int                   # the parameter count (-1: variadic or unread)
    returns: tuple | None         # (unit text, why) or None
    args: dict = field(default_factory=dict)   # (k, dim) -> (unit text, why), k 1-based


def unit_text(u: Unit) -> str:
    return {("pte", "phys"): "phys-addr", ("pte", "user"): "user-addr",
            ("pte", "pages"): "user-pages"}.get((u.gran, u.dim), f"{u.gran}-{u.dim}")


def _plain_value(ptype: str | None) -> bool:
    """A parameter type that can hold a length or a count."""
    return bool(ptype) and "*" not in ptype and "[" not in ptype and not ptype.startswith(
        ("struct ", "union ", "const struct ", "const union "))


class Miner:
    """Reads files of one tree with one rule set (one per process)."""

    def __init__(self, ruleset):
        self.ruleset = ruleset
        self.table = ruleset.units
        self.lexer = Lexer(ruleset.family.names)
        self.classifier = Classifier(ruleset)

    def file(self, path: str, data: bytes) -> tuple[list[Definition], set[str], list[fieldwrites.Write]]:
        """The definitions of `data` (the file at `path`, relative to the
        tree), the names it #defines and its stores into struct fields."""
        lexed = self.lexer.lex(data)
        macros = {d.macro for d in lexed.directives if d.name == "define" and d.macro}
        if b"{" not in data:
            return [], macros, unparsed_writes(path, data)
        parsed = find_sites(path, data, self.lexer, lexed, always_parse=True)
        if parsed.root is None:
            return [], macros, unparsed_writes(path, data)
        decided = self.classifier.strong_decisions(parsed) if parsed.sites else {}
        inf = Inference(self.table, self.ruleset.family, data, decided=decided, path=path)
        summ = inf.file_summaries(parsed.root)
        summ.read_all()
        out = []
        header = not path.endswith(".c")
        for name, fns in sorted(summ.definitions().items()):
            for fn in fns:
                out.append(self._definition(summ, inf, path, header, name, fn, len(fns)))
        return out, macros, fieldwrites.file_writes(inf, summ, parsed.root, path, data)

    def _definition(self, summ: Summaries, inf: Inference, path: str, header: bool, name: str, fn,
                    count: int) -> Definition:
        d = Definition(name, path, fn.start_point[0] + 1, header or not _static(fn), -1, None)
        body = summ.callee(name) if count == 1 else None
        if body is None:
            return d                      # weak, defined twice here, a macro names it: nothing
        f = summ.returned(name)
        if f is not None and f.unit.gran in ("pte", "pg", "") and f.unit.dim != "span":
            d.returns = (unit_text(f.unit), f.why)
        if _variadic(body):
            return d
        callee = inf.function_at(body)
        d.params = len(callee.param_names)
        for k, pname in enumerate(callee.param_names):
            if not pname or not _plain_value(callee.types.get(pname)) or inf._written(pname, callee) \
                    or _in_peer_call(inf, callee, pname):
                continue
            for dim in _DIMS:
                facts = summ.parameter_sinks(name, k, dim)
                units = {g.unit for g in facts}
                said = [g for g in facts if not _PEER.search(g.why)]
                if len(units) == 1 and said and said[0].unit.gran in ("pte", "pg") and said[0].unit.dim == dim:
                    d.args[(k + 1, dim)] = (unit_text(said[0].unit), said[0].why)
        return d


def unparsed_writes(path: str, data: bytes) -> list[fieldwrites.Write]:
    """The field stores of a file that was not parsed: all of no unit."""
    assigned, other = fieldwrites.textual(data)
    return [fieldwrites.Write(name, None, None, path, 0, "(file not parsed)")
            for name in sorted(set(assigned.values()) | other)]


def _in_peer_call(inf: Inference, fn, pname: str) -> bool:
    """`pname` is an argument of min(), max(), clamp()...: what the result
    is (a length capped at a page) is not what the parameter is."""
    for use in fn.uses.get(pname, ()):
        up, _ = inf._up(use)
        call = inf.parent(up) if up is not None and up.type == "argument_list" else None
        if call is not None and call.type == "call_expression" and _callee(call) in PEER_CALLS:
            return True
    return False


def tree_files(root: Path) -> list[str]:
    """The C files and headers of the tree, relative, sorted (no hidden directories)."""
    out = []
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = os.path.relpath(top, root)
        for f in files:
            if f.endswith(_SUFFIXES):
                out.append(f if rel == "." else f"{rel}/{f}")
    return sorted(out)


_MINER: Miner | None = None


def _init(rules_dir: str) -> None:
    global _MINER
    _MINER = Miner(hand_written(rules_dir))


def _one(job: tuple[str, str]):
    root, path = job
    try:
        data = (Path(root) / path).read_bytes()
    except OSError:
        return path, [], set(), None, True          # no stores known: fields refuse (Tally.add)
    try:
        defs, macros, writes = _MINER.file(path, data)
    except RecursionError:
        return path, [], set(), unparsed_writes(path, data), True
    return path, defs, macros, writes, False


def mine(root: Path, rules_dir: Path, jobs: int = 1, progress=None) -> tuple[dict, list[str]]:
    """The mined document for the tree at `root`, read with the rules of
    `rules_dir` (its units.yaml; units-mined.yaml is not used), and the
    files that could not be read or parsed (nothing was mined from them)."""
    files = tree_files(root)
    rows: dict[str, list[Definition]] = {}
    macros: set[str] = set()
    unread: set[str] = set()
    writes = fieldwrites.Tally()
    jobs_list = [(str(root), p) for p in files]
    if jobs > 1:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(jobs, _init, (str(rules_dir),)) as pool:
            results = pool.imap(_one, jobs_list, chunksize=16)
            _collect(results, rows, macros, unread, writes, progress, len(files))
    else:
        _init(str(rules_dir))
        _collect(map(_one, jobs_list), rows, macros, unread, writes, progress, len(files))
    table = hand_written(rules_dir).units
    doc = agree(rows, macros, table)
    fields = writes.agree(table.fields if table is not None else {})
    if fields:
        doc["fields"] = fields
    return doc, sorted(unread)


def hand_written(rules_dir) -> object:
    """The rule set of `rules_dir` with the units of units.yaml only (what
    is mined is not a source of more mining: one round)."""
    import dataclasses
    from .rules.loader import load_ruleset
    ruleset = load_ruleset(Path(rules_dir))
    return dataclasses.replace(ruleset, units=ruleset.units.hand_written()) if ruleset.units is not None \
        else ruleset


def _collect(results, rows, macros, unread, writes, progress, total) -> None:
    for i, (path, defs, m, w, bad) in enumerate(results):
        macros |= m
        writes.add(w)
        if bad:
            unread.add(path)
        for d in defs:
            rows.setdefault(d.name, []).append(d)
        if progress is not None and i % 500 == 0:
            progress(i, total)


def agree(rows: dict[str, list[Definition]], macros: set[str], table) -> dict:
    """The document of the facts all definitions of a name agree on."""
    returns, arguments = [], []
    hand_args = table.argument_callees() if table is not None else set()
    hand_returns = table.return_names() if table is not None else set()
    for name in sorted(rows):
        defs = sorted(rows[name], key=lambda d: (d.path, d.line))
        if name in macros or not any(d.visible for d in defs):
            continue
        first = defs[0]
        agree_text = "" if len(defs) == 1 else f", {len(defs)} definitions agree"
        if name not in hand_returns and all(d.returns is not None for d in defs) \
                and len({d.returns[0] for d in defs}) == 1:
            why = first.returns[1]
            why = why[len(name) + 3:] if why.startswith(f"{name}() ") else why
            returns.append({"calls": [name], "unit": first.returns[0],
                            "why": f"is mined from {first.path}:{first.line}{agree_text}: it {why}"})
        if name in hand_args or len({d.params for d in defs}) != 1 or first.params < 0:
            continue
        for key in sorted(first.args):
            if all(key in d.args for d in defs) and len({d.args[key][0] for d in defs}) == 1:
                k, _ = key
                arguments.append({"calls": [name], "arg": k, "unit": first.args[key][0],
                                  "why": f"mined from {first.path}:{first.line}{agree_text}: "
                                         f"{first.args[key][1]}"})
    doc: dict = {}
    if returns:
        doc["returns"] = returns
    if arguments:
        doc["arguments"] = arguments
    return doc


_HEADER = """\
# Units mined from a tree by `pgrewrite mine` (pgrewrite/mining.py): the
# return units and argument units of functions other files call, that every
# definition of the name in the tree agrees on, and the struct fields every
# store of the tree fills with one allocated page. Generated: do not edit; mine
# again (semantic-rules/README.md, "Mined units"). units.yaml wins over it.
# Mined from: {tree}
"""


def render(doc: dict, tree: str) -> str:
    """The mined document as YAML, one entry per fact, sorted: the same
    facts give the same bytes."""
    import yaml
    text = yaml.safe_dump(doc, sort_keys=False, width=100000, allow_unicode=True, default_flow_style=None) \
        if doc else ""
    return _HEADER.format(tree=tree) + ("\n" + text if text else "")
