"""Explicit converters between the model's values and plain data (lists,
strings, numbers) for the cache (pgrewrite/cachefile.py).

Loading constructs only the classes named here, field by field; data of
another shape raises one of cachefile.SHAPE_ERRORS (a cache miss). The
lists are positional, in the dataclasses' field order: a field added to a
model class must be added here and cachefile.FORMAT bumped
(tests/test_cache_format.py checks the field lists against the classes).
"""
from __future__ import annotations

import itertools

from .rules.clashes import Clash
from .definitions import ClashRename, Definition, LocalRename, Preparation
from .model import Context, Decision, Edit, FileResult, Mentions, RuleMatch, Site, Verdict

_VERDICTS = {v.value: v for v in Verdict}
_CONTEXTS = {c.value: c for c in Context}

SITE_FIELDS = ("path", "start", "end", "line", "col", "token", "context", "function", "parse_error",
               "pasted", "site_id")
MATCH_FIELDS = ("rule", "meaning", "priority", "strength", "reason", "overrides", "area", "withholds",
                "specific", "withholds_evidence")
DECISION_FIELDS = ("site", "verdict", "replacement", "rule", "reason", "matches", "area", "area_reason")
EDIT_FIELDS = ("start", "end", "old", "new", "rule", "kind", "verdict")
RESULT_FIELDS = ("path", "decisions", "edits", "mentions", "lexical_count", "parse_errors", "error",
                 "notes", "digest", "consulted")
MENTIONS_FIELDS = ("comments", "strings")
FIELDS = {Site: SITE_FIELDS, RuleMatch: MATCH_FIELDS, Decision: DECISION_FIELDS, Edit: EDIT_FIELDS,
          FileResult: RESULT_FIELDS, Mentions: MENTIONS_FIELDS}


_object_new = object.__new__


def _new(cls, names, values):
    """An instance of the frozen dataclass `cls` with `names` = `values`,
    without running __init__ (the caller has checked the values)."""
    obj = object.__new__(cls)
    obj.__dict__.update(zip(names, values))
    return obj


def _signatures(*options) -> frozenset:
    """The tuples of types a row may have: `options` gives each position's
    allowed types. A row is checked with one `tuple(map(type, row)) in ...`."""
    return frozenset(itertools.product(*options))


_S, _I, _B, _L, _N = str, int, bool, list, type(None)
_SITE = _signatures((_N, _S), (_I,), (_I,), (_I,), (_I,), (_S,), (_S,), (_N, _S), (_B,), (_B,), (_S,))
_MATCH = _signatures((_S,), (_S,), (_I,), (_S,), (_S,), (_L,), (_N, _S), (_L,), (_B,), (_S,))
_DECISION = _signatures((_L,), (_S,), (_N, _S), (_N, _S), (_S,), (_L,), (_N, _S), (_S,))
_EDIT = _signatures((_I,), (_I,), (_S,), (_S,), (_N, _S), (_S,), (_N, _S))
_MENTIONS = _signatures((_I,), (_I,))
_RESULT = _signatures((_S,), (_L,), (_L,), (_L,), (_I,), (_B,), (_N, _S), (_L,), (_S,), (_L,), (_L,))


def _row(v, signatures):
    if type(v) is not list or tuple(map(type, v)) not in signatures:
        raise TypeError("a cached value of another shape")
    return v


def strs(values) -> tuple:
    """`values` (a list of strings) as a tuple, else TypeError."""
    if type(values) is not list or not all(type(v) is str for v in values):
        raise TypeError("not a list of strings")
    return tuple(values)


# ------------------------------------------------------------------ to data

def site_data(s: Site, path: str):
    return [None if s.path == path else s.path, s.start, s.end, s.line, s.col, s.token, s.context.value,
            s.function, s.parse_error, s.pasted, s.site_id]


def match_data(m: RuleMatch):
    return [m.rule, m.meaning, m.priority, m.strength, m.reason, list(m.overrides), m.area,
            list(m.withholds), m.specific, m.withholds_evidence]


def decision_data(d: Decision, path: str, table: dict):
    """`table`: RuleMatch -> its number in the result's table of matches
    (a file's thousand sites share a few dozen)."""
    return [site_data(d.site, path), d.verdict.value, d.replacement, d.rule, d.reason,
            [table.setdefault(m, len(table)) for m in d.matches], d.area, d.area_reason]


def edit_data(e: Edit):
    return [e.start, e.end, e.old, e.new, e.rule, e.kind, e.verdict]


def result_data(r: FileResult):
    """`r` as plain data: a list of its fields in order, then the table of
    the rule matches its decisions refer to by number. A site's path is
    left out (None) where it is the file's."""
    table: dict = {}
    decisions = [decision_data(d, r.path, table) for d in r.decisions]
    return [r.path, decisions, [edit_data(e) for e in r.edits],
            [r.mentions.comments, r.mentions.strings], r.lexical_count, r.parse_errors, r.error,
            list(r.notes), r.digest, sorted(r.consulted), [match_data(m) for m in table]]


# ---------------------------------------------------------------- from data

# The three below run for every site of a warm re-run: no helper calls.

def site_from(v, path: str) -> Site:
    if v.__class__ is not list or tuple(map(type, v)) not in _SITE:
        raise TypeError("not a site")
    s = _object_new(Site)
    d = s.__dict__
    d.update(zip(SITE_FIELDS, v))
    if v[0] is None:
        d["path"] = path
    d["context"] = _CONTEXTS[v[6]]
    return s


def match_from(v) -> RuleMatch:
    if v.__class__ is not list or tuple(map(type, v)) not in _MATCH:
        raise TypeError("not a rule match")
    m = _object_new(RuleMatch)
    d = m.__dict__
    d.update(zip(MATCH_FIELDS, v))
    d["overrides"], d["withholds"] = strs(v[5]), strs(v[7])
    return m


def decision_from(v, path: str, table: list) -> Decision:
    if v.__class__ is not list or tuple(map(type, v)) not in _DECISION:
        raise TypeError("not a decision")
    x = _object_new(Decision)
    d = x.__dict__
    d.update(zip(DECISION_FIELDS, v))
    d["site"], d["verdict"] = site_from(v[0], path), _VERDICTS[v[1]]
    d["matches"] = tuple(map(table.__getitem__, v[5]))    # numbers in the result's table
    return x


def edit_from(v) -> Edit:
    return _new(Edit, EDIT_FIELDS, _row(v, _EDIT))


def result_from(v) -> FileResult:
    """The FileResult `result_data` made `v` from; raises one of
    cachefile.SHAPE_ERRORS for anything else."""
    (path, decisions, edits, mentions, lexical_count, parse_errors, error, notes, digest, consulted,
     matches) = _row(v, _RESULT)
    comments, strings = _row(mentions, _MENTIONS)
    table = [match_from(m) for m in matches]
    return _new(FileResult, RESULT_FIELDS, (
        path, tuple(decision_from(d, path, table) for d in decisions), tuple(edit_from(e) for e in edits),
        _new(Mentions, MENTIONS_FIELDS, (comments, strings)), lexical_count, parse_errors, error,
        strs(notes), digest, frozenset(strs(consulted))))


# ------------------------------------------- the plan of preparatory renames
# (definitions.Preparation, cached by the preparation stage)

def _tree_paths(values) -> tuple:
    """`values` as a tuple of paths inside the tree (apply writes to them):
    relative, without `..`; else ValueError."""
    out = strs(values)
    for p in out:
        if not p or p.startswith("/") or ".." in p.split("/"):
            raise ValueError(f"{p!r} is not a path inside the tree")
    return out


def _definition_data(d) -> list:
    return [d.path, d.line, d.name, d.text, d.compatible]


def _definition_from(v):
    path, line, name, text, compatible = v
    if not (type(path) is str and type(line) is int and type(name) is str and type(text) is str
            and type(compatible) is bool):
        raise TypeError("not a definition")
    return Definition(_tree_paths([path])[0], line, name, text, compatible)


def _clash_data(c) -> list:
    return [c.name, list(c.defined_in), c.rename_to, list(c.scope), c.why, c.source, c.index,
            [[key, line] for key, line in c.lines]]


def _clash_from(v):
    name, defined_in, rename_to, scope, why, source, index, lines = v
    if not (type(name) is str and type(rename_to) is str and type(why) is str and type(source) is str
            and type(index) is int):
        raise TypeError("not a clash")
    pairs = tuple((key, line) for key, line in lines)
    if not all(type(key) is str and type(line) is int for key, line in pairs):
        raise TypeError("not a clash's lines")
    return Clash(name, strs(defined_in), rename_to, strs(scope), why, source, index, pairs)


def preparation_data(p) -> dict:
    return {"definitions": [_definition_data(d) for d in p.definitions],
            "blocked": [[name, [_definition_data(d) for d in ds]] for name, ds in p.blocked.items()],
            "renames": [[_definition_data(r.definition), r.new_name, list(r.files)] for r in p.renames],
            "reasons": list(p.reasons),
            "clash_renames": [[_clash_data(c.clash), [_definition_data(d) for d in c.definitions],
                               list(c.files)] for c in p.clash_renames],
            "new_names": list(p.new_names)}


def preparation_from(v):
    """The Preparation `preparation_data` made `v` from, else one of
    cachefile.SHAPE_ERRORS."""
    def defs(rows):
        return tuple(_definition_from(d) for d in rows)

    blocked = {}
    for name, ds in v["blocked"]:
        if type(name) is not str:
            raise TypeError("not a name")
        blocked[name] = defs(ds)
    renames = []
    for d, new_name, files in v["renames"]:
        if type(new_name) is not str:
            raise TypeError("not a name")
        renames.append(LocalRename(_definition_from(d), new_name, _tree_paths(files)))
    return Preparation(defs(v["definitions"]), blocked, tuple(renames), strs(v["reasons"]),
                       tuple(ClashRename(_clash_from(c), defs(ds), _tree_paths(files))
                             for c, ds, files in v["clash_renames"]), strs(v["new_names"]))
