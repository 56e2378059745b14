"""Rule conditions: compiled from YAML mappings, evaluated at a site or node.

Two places a condition can be evaluated:
- at a *site* (the family token being classified), for the rule's `match`;
- at a *node* (an ancestor from `inside`, a descendant from `has`, or the
  value bound to a metavariable in `where`).

Each condition returns the metavariable bindings it made (a dict) or None.
Bindings flow left to right through `all`, so a later condition sees
`$ADDR` bound by an earlier pattern. Every evaluation can be traced, which
is what `pgrewrite explain` prints.

Each condition class also answers what the engine asks of it before
evaluating it (its children, its kind filter, the literals it needs, what
it reads besides the node) and compiles itself from its YAML value; the
table CONDITIONS at the end maps each key to its class (see there for how
to add a condition).
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

from . import literals, symbols
from .documents import glob_regex
from .units import Unit
from .pattern import ANCHORED, SITE, Matcher, Pattern, PatternError, Probe, compile_pattern

LOOPS = frozenset({"for_statement", "while_statement", "do_statement"})
KINDS = {
    "loop": LOOPS,
    "function": frozenset({"function_definition"}),
    "call": frozenset({"call_expression"}),
    "if": frozenset({"if_statement"}),
    "assignment": frozenset({"assignment_expression"}),
    "return": frozenset({"return_statement"}),
    "declaration": frozenset({"declaration", "init_declarator"}),
    "binary": frozenset({"binary_expression"}),
    # The clause marker: the condition of an if/while/do/switch and the three
    # clauses of a for header are statements of their own for `inside`, so a
    # site in `if (total_vm > limit >> PAGE_SHIFT)` has a nearest statement.
    "statement": frozenset({"expression_statement", "declaration", "return_statement", "<clause>"}),
}
_CONDITION_OWNERS = frozenset({"if_statement", "while_statement", "do_statement", "switch_statement"})


def _is_clause(n, p) -> bool:
    """n (whose parent is p) is the condition of a control statement or a
    clause of a for header."""
    if p is None:
        return False
    if p.type in _CONDITION_OWNERS:
        return p.child_by_field_name("condition") == n
    if p.type == "for_statement":
        return n.is_named and n != p.child_by_field_name("body") and n.type != "comment"
    return False


@dataclass
class Env:
    """What a condition may look at while classifying one site."""

    path: str
    data: bytes
    site: object            # sites.FoundSite
    matcher: Matcher
    symbols: symbols.SymbolCache
    trace: list | None = None
    depth: int = 0
    memo: dict | None = None   # per file: see `_memoised`; None: no memoisation
    chain: list | None = None  # the site's ancestors a site pattern may match (lazily)
    ancestors: list | None = None  # (node, type) above the site up to its scope (lazily)
    units: object | None = None    # inference.Inference of the file, for `unit:` conditions
    of_kinds: dict | None = None   # kinds -> the site's ancestors of those kinds (Inside._at_site)
    calls: list | None = None      # the calls whose arguments hold the site (InsideCall._at_site)


    def note(self, text: str, ok: bool):
        if self.trace is not None:
            self.trace.append((self.depth, text, ok))


class CompileError(Exception):
    """A problem in the condition at `path` of a rule file."""

    def __init__(self, path, message):
        super().__init__(message)
        self.path = tuple(path)
        self.message = message


@dataclass(frozen=True)
class Compiling:
    """What a condition class reads, besides its YAML value, to compile it."""

    names: tuple                 # the family's names
    language: str                # the rule's language: "c" or "asm"
    regex: Callable              # (text, path) -> re.Pattern; reports a bad one at path (loader)
    mode: str = "site"           # where the mapping is evaluated: "site" or "node"
    mapping: dict = field(default_factory=dict)   # the mapping the key is in
    named: object = None         # named.NamedConditions of conditions.yaml (`use: NAME`), or None
    using: tuple = ()            # the named conditions being compiled, outermost first (cycles)

    def cond(self, obj: dict, path, mode: str | None = None) -> Cond:
        """The condition of a nested mapping, at a site or (`mode`) a node."""
        return compile_cond(obj, path, mode or self.mode, self)


class Cond:
    """A compiled condition. A subclass evaluates at a site (`site`), at a
    node (`node`) or both; a key may be used where its class evaluates."""

    label = "?"
    # what evaluating at a node reads besides the node (memo keys): "b" the
    # bindings, "scope" the site's scope, "function" its function name,
    # "site" the site itself; by default all it could
    own_reads = frozenset({"b", "site"})
    kind_filter = None      # node types outside which it surely fails (Has tries only these); None: any
    callee = None           # `call: RE` only: the regex of the callee names (Has reads them once per node)
    reads_code = True       # looks at the code around the site, not only its token, function or line
    in_asm = False          # may be used in an asm rule's match
    regex_at = None         # where in its YAML value a regular expression is: () the value itself
    order = 0               # compiled in this order within a mapping (pattern first, where last)

    @classmethod
    def from_yaml(cls, value, path, c: Compiling) -> Cond | None:
        """The condition `key: value` of the mapping c.mapping at `path`;
        None: nothing of its own (a key another one consumed)."""
        raise NotImplementedError(cls.__name__)

    @property
    def children(self) -> tuple:
        """The conditions this one evaluates."""
        return ()

    @cached_property
    def reads(self) -> frozenset:
        """own_reads, and what its children read."""
        r = self.own_reads
        for child in self.children:
            r = r | child.reads
        return r

    def text_needs(self) -> tuple:
        """literals.Clause list: strings of which one of each must be in the
        text of any node where the condition holds; () nothing is known.
        Only conditions that look at a node's own text and its descendants
        have any."""
        return ()

    @cached_property
    def needs(self) -> tuple:
        """text_needs as screened (ignore_case, byte strings) clauses, for
        a node's text (see _may_contain, literals.screened). A string with
        U+FFFD could stand for bytes that do not decode, so it requires
        nothing."""
        return literals.screened(tuple(
            (clause.ignore_case, tuple(sorted(s.encode() for s in clause))) for clause in self.text_needs()
            if not any("\ufffd" in s or (clause.ignore_case and not s.isascii()) for s in clause)))

    def site(self, env: Env, b: dict):
        raise NotImplementedError(f"{self.label} cannot be evaluated at a site")

    def node(self, env: Env, n, b: dict):
        raise NotImplementedError(f"{self.label} cannot be evaluated at a node")

    def traced(self, env: Env, fn, *args):
        if env.trace is None:       # nothing records depth or notes: skip the bookkeeping
            return fn(*args)
        env.depth += 1
        try:
            r = fn(*args)
        finally:
            env.depth -= 1
        env.note(self.label, r is not None)
        return r


class _Group(Cond):
    """`all` and `any`: a list of conditions (`items`)."""

    own_reads = frozenset()
    in_asm = True

    @classmethod
    def from_yaml(cls, value, path, c):
        return cls([c.cond(item, path + (i,)) for i, item in enumerate(value)])

    @property
    def children(self):
        return tuple(self.items)

    @cached_property
    def reads_code(self):
        return any(item.reads_code for item in self.items)


@dataclass
class All(_Group):
    items: list
    label: str = "all"

    @cached_property
    def kind_filter(self):
        f = None
        for item in self.items:
            g = item.kind_filter
            if g is not None:
                f = g if f is None else f & g
        return f

    def text_needs(self):
        return literals.clauses([c for item in self.items for c in item.text_needs()])

    def site(self, env, b):
        tracing = env.trace is not None
        for c in self.items:
            b = c.traced(env, c.site, env, b) if tracing else c.site(env, b)
            if b is None:
                return None
        return b

    def node(self, env, n, b):
        tracing = env.trace is not None
        for c in self.items:
            b = c.traced(env, c.node, env, n, b) if tracing else c.node(env, n, b)
            if b is None:
                return None
        return b


@dataclass
class Any(_Group):
    items: list
    label: str = "any"

    @cached_property
    def kind_filter(self):
        parts = [item.kind_filter for item in self.items]
        return frozenset().union(*parts) if parts and all(g is not None for g in parts) else None

    def text_needs(self):
        firsts = [literals.strongest(item.text_needs()) for item in self.items]
        if firsts and all(f is not None for f in firsts):
            return literals.clauses([literals.union(firsts)])
        return ()

    def site(self, env, b):
        tracing = env.trace is not None
        for c in self.items:
            r = c.traced(env, c.site, env, b) if tracing else c.site(env, b)
            if r is not None:
                return r
        return None

    def node(self, env, n, b):
        tracing = env.trace is not None
        for c in self.items:
            r = c.traced(env, c.node, env, n, b) if tracing else c.node(env, n, b)
            if r is not None:
                return r
        return None


@dataclass
class Not(Cond):
    item: Cond
    label: str = "not"
    own_reads = frozenset()
    in_asm = True
    # reads_code stays True even for `not: {token: ..}`: so the loader judged
    # `specific` (may an area rule withhold a strong rename) before conditions
    # answered it themselves, and verdicts must not change here

    @classmethod
    def from_yaml(cls, value, path, c):
        return cls(c.cond(value, path))

    @property
    def children(self):
        return (self.item,)

    def site(self, env, b):
        return b if self.item.traced(env, self.item.site, env, b) is None else None

    def node(self, env, n, b):
        return b if self.item.traced(env, self.item.node, env, n, b) is None else None


@dataclass
class Use(Cond):
    """`use: NAME`: the condition NAME of conditions.yaml, as if written
    here. One compiled condition per name, place (site or node) and
    language serves every rule that uses it, so what it asks of a function
    is asked once per file (`has` and `inside` results are memoised per
    condition)."""

    name: str
    item: Cond
    label: str = ""
    own_reads = frozenset()
    in_asm = True

    def __post_init__(self):
        self.label = f"use {self.name}"

    @classmethod
    def from_yaml(cls, value, path, c):
        table = c.named
        if table is None or value not in table.docs:
            known = ", ".join(sorted(table.docs)) if table is not None and table.docs else "none"
            raise CompileError(path, f"no condition named {value!r} in conditions.yaml (it names: {known})")
        if value in c.using:
            raise CompileError(path, f"condition {value!r} uses itself: {' -> '.join(c.using + (value,))}")
        key = (value, c.mode, c.language)
        item = table.compiled.get(key)
        if item is None:
            try:
                item = compile_cond(table.docs[value], (), c.mode, replace(c, using=c.using + (value,)))
            except CompileError as e:
                where = "at a site (a rule's match)" if c.mode == "site" else "at a node"
                raise CompileError(path, f"condition {value!r} ({table.rel}:{table.line(value)}) cannot be "
                                         f"used {where}: {e.message}") from None
            table.compiled[key] = item
        return cls(value, item)

    @property
    def children(self):
        return (self.item,)

    @property
    def kind_filter(self):
        return self.item.kind_filter

    @property
    def callee(self):
        return self.item.callee

    @property
    def reads_code(self):
        return self.item.reads_code

    def text_needs(self):
        return self.item.text_needs()

    def site(self, env, b):
        return self.item.traced(env, self.item.site, env, b)

    def node(self, env, n, b):
        return self.item.traced(env, self.item.node, env, n, b)


@dataclass
class PatternCond(Cond):
    """At a site: an ancestor matches with the anchor on the site token.
    At a node: the node itself matches."""

    pattern: Pattern
    where: dict = field(default_factory=dict)   # "$X" -> Cond (node mode)
    label: str = ""
    own_reads = frozenset({"b"})
    order = -1              # first: its bindings are there for the other keys of the mapping

    def __post_init__(self):
        self.label = f"pattern `{self.pattern.source}`"
        root = self.pattern.root
        # the type an ancestor must have to match (None: any type)
        self._type = None if root.metavar or root.contains else root.type

    @classmethod
    def from_yaml(cls, value, path, c):
        """The pattern, with the mapping's `where` on its metavariables."""
        try:
            pat = compile_pattern(value, c.names)
        except PatternError as e:
            raise CompileError(path, str(e)) from e
        if c.mode == "site" and not pat.anchored:
            raise CompileError(path, "a pattern in a rule's match must contain a family name or $SITE (the site "
                                     "it classifies); use `inside: {pattern: ...}` for the surrounding code")
        at = path[:-1] + ("where",)
        where = c.mapping.get("where")
        check_where_vars(where, bound_metavars(c.mapping), at)
        return cls(pat, {var: c.cond(cond, at + (var,), "node") for var, cond in (where or {}).items()})

    @property
    def children(self):
        return tuple(self.where.values())

    @cached_property
    def kind_filter(self):
        root = self.pattern.root
        # a leaf pattern also matches through casts and other name types;
        # an inner node through the parentheses around it (pattern.Matcher)
        if root.text is None and root.metavar is None and root.contains is None:
            return frozenset({root.type, "parenthesized_expression"})
        return None

    def text_needs(self):
        return literals.clauses([literals.Clause.of({t}) for t in _pattern_words(self.pattern.root)])

    def site(self, env, b):
        leaf = env.site.node
        if leaf is None:
            return None
        chain = env.chain
        if chain is None:
            chain = env.chain = _statement_chain(leaf, site_ancestors(env))
        any_type = self._type is None
        if not any_type and self._type not in chain.by_type:
            return None         # no node of the chain can match (most rules at most sites)
        root = self.pattern.root
        depth = self.pattern.anchor_depth
        if depth is not None and chain.shared and env.memo is not None and env.trace is None:
            at = range(len(chain)) if any_type else chain.at_type.get(root.type, ())
            return self._site_shared(env, b, leaf, chain, at, bisect.bisect_right(chain.levels, depth + 2))
        nodes = [n for n, _ in chain] if any_type else chain.by_type.get(root.type, ())
        for n in nodes:
            r = self._on_site(env.matcher.match(self.pattern, n, b, site=leaf))
            if r is not None:
                r = self._where(env, r)
                if r is not None:
                    return r
        return None

    def _on_site(self, r):
        """A match's bindings if its anchor is the site (README: "with the
        anchor on the site"), without the mark that says so; else None. A
        site inside a metavariable's binding is not matched: the bound of
        `snprintf(buf, PAGE_SIZE, "%lu", n / PAGE_SIZE)` is not the value
        printed."""
        if r is None or not self.pattern.anchored:
            return r
        if ANCHORED not in r:
            return None
        r = dict(r)
        del r[ANCHORED]
        return r

    def _site_shared(self, env, b, leaf, chain, at, near: int):
        """The loop above, for chain indices `at`, with the work shared
        among the sites of one expression. Without it, each of N sites
        matched every pattern at each of its N ancestors (and read their
        text in `where`): N³ steps, minutes for 800 names.

        - Only nodes below chain index `near` can put an anchor of the
          pattern on the site (pattern.anchor_depth, with room for casts
          and parentheses): above them nothing is matched.
        - A match at a node that did not look at the site's place
          (pattern.Probe) is that of every site it did not look at either;
          its anchor is on none of them."""
        memo = env.memo
        spot = (leaf.start_byte, leaf.end_byte)
        bkey = tuple(sorted((k, _node_id(v)) for k, v in b.items())) if b else ()
        for i in at:
            if i >= near:
                break
            n = chain[i][0]
            key = ("match", id(self), n.id, bkey)
            hit = memo.get(key)
            if hit is None:
                probe = Probe(leaf)
                r = env.matcher.match(self.pattern, n, b, site=probe)
                if None not in probe.seen and spot not in probe.seen:
                    memo[key] = probe.seen
                    r = None
            elif None in hit or spot in hit:
                r = env.matcher.match(self.pattern, n, b, site=leaf)
            else:
                r = None
            r = self._on_site(r)
            if r is not None:
                r = self._where(env, r)
                if r is not None:
                    return r
        return None

    def node(self, env, n, b):
        r = env.matcher.match(self.pattern, n, b)
        return None if r is None else self._where(env, r)

    def _where(self, env, b):
        return check_where(env, self.where, b)


class _Chain(list):
    """(node, type) from the site's leaf up to its enclosing block, which a
    site pattern may match: the same for every rule at one site; `by_type`
    holds the nodes of each type, in the same order, `at_type` their
    indices; `levels[i]` how many nodes other than parentheses lie above
    the leaf up to chain[i] (a pattern skips parentheses)."""

    by_type: dict
    at_type: dict
    levels: list
    shared: bool            # worth sharing matches with other sites (PatternCond._site_shared)


def _statement_chain(leaf, ancestors) -> _Chain:
    chain = _Chain()
    by_type: dict = {}
    at_type: dict = {}
    levels = []
    level = 0
    for i, (n, t) in enumerate([(leaf, leaf.type)] + ancestors):
        if i and t != "parenthesized_expression":
            level += 1
        chain.append((n, t))
        levels.append(level)
        by_type.setdefault(t, []).append(n)
        at_type.setdefault(t, []).append(i)
        if t in _CHAIN_ENDS:
            break
    chain.by_type, chain.at_type, chain.levels = by_type, at_type, levels
    # A statement of ordinary size is matched site by site: sharing costs
    # more there than it saves (a third of the analysis of mm/memory.c).
    # Only a long chain or a big statement (many sites, big operands) share.
    top = chain[-2][0] if len(chain) > 1 and chain[-1][1] in _CHAIN_ENDS else chain[-1][0]
    chain.shared = len(chain) > _SHARE_DEPTH or top.end_byte - top.start_byte > _SHARE_BYTES
    return chain


_CHAIN_ENDS = frozenset({"compound_statement", "translation_unit", "function_definition"})
_SHARE_DEPTH = 32
_SHARE_BYTES = 1024


def site_ancestors(env: Env) -> list:
    """(node, type) of the site's ancestors below its scope's root, nearest
    first; walked once per site (a tree-sitter parent is found from the root
    down, so walking up again for every rule was a tenth of the analysis)."""
    a = env.ancestors
    if a is None:
        a = env.ancestors = env.site.scope.ancestors(env.site.node)
    return a


def _upward(env: Env, n):
    """(ancestor, its type, its parent) from n's parent up to, not
    including, the root of the site's scope; for the site itself, from the
    list site_ancestors walked once."""
    if n is None:
        return
    root = env.site.scope.root if env.site.scope else None
    if n is env.site.node:
        up = site_ancestors(env)
        for i, (a, t) in enumerate(up):
            yield a, t, up[i + 1][0] if i + 1 < len(up) else root
        return
    parent = env.site.scope.parent if env.site.scope else _parent
    a = parent(n)
    while a is not None and a != root:
        p = parent(a)
        yield a, a.type, p
        a = p


def _parent(n):
    return n.parent


@dataclass
class Where(Cond):
    """Constraints on metavariables bound by the other keys of a mapping."""

    where: dict
    label: str = "where"
    own_reads = frozenset({"b"})
    order = 1               # last: after every pattern of the mapping bound its metavariables

    @classmethod
    def from_yaml(cls, value, path, c):
        if "pattern" in c.mapping:
            return None         # the pattern's own (PatternCond.from_yaml)
        return cls({var: c.cond(cond, path + (var,), "node") for var, cond in value.items()})

    @property
    def children(self):
        return tuple(self.where.values())

    def site(self, env, b):
        return check_where(env, self.where, b)

    def node(self, env, n, b):
        return check_where(env, self.where, b)


def check_where(env: Env, where: dict, b: dict):
    """Each bound metavariable satisfies its condition (evaluated at the node
    it is bound to); an unbound one, or a `$$$` list, fails."""
    for var, cond in where.items():
        bound = b.get(var)
        if bound is None or isinstance(bound, tuple):
            return None
        b = cond.traced(env, cond.node, env, bound, b)
        if b is None:
            return None
    return b


@dataclass
class Inside(Cond):
    """Some ancestor (of the site, or of a node) satisfies `cond`."""

    cond: Cond | None
    kinds: frozenset | None = None
    nearest: bool = False          # only the nearest ancestor of that kind counts
    label: str = "inside"
    own_reads = frozenset({"scope"})

    @classmethod
    def from_yaml(cls, value, path, c):
        value = dict(value)
        kinds = kinds_of(value.pop("kind", None))
        nearest = bool(value.pop("nearest", False))
        return cls(c.cond(value, path, "node") if value else None, kinds, nearest)

    @property
    def children(self):
        return (self.cond,) if self.cond is not None else ()

    def _ancestors(self, env, n):
        clauses = self.kinds is not None and "<clause>" in self.kinds
        for a, t, p in _upward(env, n):
            if self.kinds is None or t in self.kinds or (clauses and _is_clause(a, p)):
                yield a
                if self.nearest:
                    return

    def site(self, env, b):
        return self.node(env, env.site.node, b) if env.site.node is not None else None

    @cached_property
    def _by_kind(self) -> bool:
        """Asked at a site, only the site's ancestors of `kinds` need be
        tried, and `cond` remembers its own answers per node (Has, Text)."""
        return self.kinds is not None and (self.cond is None or type(self.cond) in (Has, Text))

    def node(self, env, n, b):
        if env.trace is None and n is env.site.node and self._by_kind and env.memo is not None:
            return self._at_site(env, b)
        if env.memo is not None and env.trace is None and "site" not in self.reads:
            # remembered per ancestor: a second question about `n` ends at
            # its parent's entry, so no entry per `n` besides
            return self._shared(env, n, b)
        return _memoised(self, env, n, b, self._node)

    def _at_site(self, env, b):
        """The loop of _node at the site itself, over its ancestors of
        `kinds` only, listed once per site for every `inside` of the same
        kinds (40 rules ask `inside: {kind: function, has: ...}`): no walk
        up through every ancestor with a memo entry at each (_shared),
        since `cond` is remembered per node anyway."""
        lists = env.of_kinds
        if lists is None:
            lists = env.of_kinds = {}
        kinds = self.kinds
        up = lists.get(kinds)
        if up is None:
            clauses = "<clause>" in kinds      # a statement's condition, a for header's clause
            up = lists[kinds] = [a for a, t, p in _upward(env, env.site.node)
                                 if t in kinds or (clauses and _is_clause(a, p))]
        cond = self.cond
        for a in up:
            r = b if cond is None else cond.node(env, a, b)
            if r is not None or self.nearest:
                return r
        return None

    def _node(self, env, n, b):
        trace, env.trace = env.trace, None     # one line per ancestor is noise
        try:
            for a in self._ancestors(env, n):
                r = b if self.cond is None else self.cond.node(env, a, b)
                if r is not None:
                    _note_found(env, trace, "in", a)
                    return r
            return None
        finally:
            env.trace = trace

    def _shared(self, env, n, b):
        """The loop above, remembered per ancestor: what the walk finds from
        an ancestor up is the same for every node under it (N sites in one
        expression each walked their N ancestors, for every `inside`)."""
        clauses = self.kinds is not None and "<clause>" in self.kinds
        memo, pending, found = env.memo, [], None
        what = _memo_key(self, env, n, b)
        what = what[:1] + what[2:]             # all but the node
        for a, t, p in _upward(env, n):
            key = ("up", a.id, what)
            hit = memo.get(key, _MISS)
            if hit is not _MISS:
                found = b if hit is _SAME else hit
                break
            pending.append(key)
            if self.kinds is None or t in self.kinds or (clauses and _is_clause(a, p)):
                r = b if self.cond is None else self.cond.node(env, a, b)
                if r is not None or self.nearest:
                    found = r
                    break
        value = _SAME if found is b else found
        for key in pending:
            memo[key] = value
        return found


# ------------------------------------------------------------ memoisation
#
# Sites of one function re-ask the same questions (`inside: {kind: function,
# has: {call: ...}}`) about the same subtrees. `Has` and `Inside` results are
# memoised per file (Env.memo, one dict per classify call, while every tree of
# the file is alive so node ids are unique). The key holds everything the
# result can depend on: the condition, the node, the incoming bindings when
# the condition reads or binds metavariables, and the parts of the site the
# condition looks at (its scope, its function name, or the site itself).

_MISS = object()
_SAME = object()          # the result was the incoming bindings themselves


def _node_id(v):
    return tuple(x.id for x in v) if isinstance(v, tuple) else v.id


def _memo_key(cond, env, n, b):
    reads = cond.reads
    key = (id(cond), n.id)
    if "b" in reads and b:
        key += (tuple(sorted((k, _node_id(v)) for k, v in b.items())),)
    if "scope" in reads:
        key += (id(env.site.scope),)
    if "function" in reads:
        key += (env.site.site.function,)
    if "site" in reads:
        key += (env.site.site.start,)
    return key


def _memoised(cond, env, n, b, compute):
    """compute(env, n, b), remembered per file (not while tracing: a trace
    must show each evaluation)."""
    memo = env.memo
    if memo is None or env.trace is not None:
        return compute(env, n, b)
    key = _memo_key(cond, env, n, b)
    hit = memo.get(key, _MISS)
    if hit is not _MISS:
        return b if hit is _SAME else hit
    r = compute(env, n, b)
    memo[key] = _SAME if r is b else r
    return r


def _note_found(env, trace, verb, node):
    if trace is not None:
        text = node.text.decode(errors="replace").split("\n")[0].strip()
        trace.append((env.depth + 1, f"{verb} `{text[:70]}`", True))


class _OnOtherNodes(Cond):
    """A condition (`cond`, its YAML value) asked of other nodes than the
    one at hand: its descendants (`has`), the values assigned to it
    (`assigned-from`)."""

    @classmethod
    def from_yaml(cls, value, path, c):
        return cls(c.cond(value, path, "node"))

    @property
    def children(self):
        return (self.cond,)


@dataclass
class Has(_OnOtherNodes):
    """Some descendant of the node satisfies `cond`."""

    cond: Cond
    label: str = "has"
    own_reads = frozenset()

    def text_needs(self):
        return self.cond.text_needs()

    def node(self, env, n, b):
        return _memoised(self, env, n, b, self._node)

    @cached_property
    def _items(self) -> tuple:
        """The alternatives of `has: {any: [...]}`, flattened through nested
        `any` and `use` (a named condition that is an `any`), in order:
        any of them at a descendant is the `any` there."""
        return _alternatives(self.cond)

    @cached_property
    def _split(self) -> bool:
        """`has: {any: [...]}` whose every item can be screened (by the
        kinds it holds at or the strings it needs): each item looks for its
        first descendant on its own (_first_of_any)."""
        items = self._items
        return len(items) > 1 and all(item.kind_filter is not None or item.needs for item in items)

    def _first_of_any(self, env, n, b, desc, text):
        """What the walk finds for `any`: the answer of the first item that
        holds at the first descendant where one holds. Each item walks only
        the descendants of its own kinds, and none if the node's text lacks
        the strings it needs; it stops where an earlier find already is."""
        memo = env.memo
        best = None                      # (place in desc, answer)
        for item in self._items:
            need = item.needs
            if need:
                if text is None:
                    text = node_text(n, memo)
                if not _may_contain(text, need):
                    continue
            kinds = item.kind_filter
            if kinds is not None:
                k = ("descpos", n.id, kinds)
                picked = memo.get(k)
                if picked is None:
                    picked = memo[k] = [(i, d) for i, (d, t) in enumerate(desc) if t in kinds]
            else:
                picked = enumerate(d for d, _ in desc)
            for i, d in picked:
                if best is not None and i >= best[0]:
                    break
                r = item.node(env, d, b)
                if r is not None:
                    best = (i, r)
                    break
        return None if best is None else best[1]

    def _node(self, env, n, b):
        memo = env.memo
        if memo is not None and env.trace is None:
            need = self.cond.needs
            if need:
                # no walk if the text that any match needs is not in the node
                text = node_text(n, memo)
                if not _may_contain(text, need):
                    return None
            # one walk per node, shared by every `has` asked about it
            desc = memo.get(("desc", n.id))
            if desc is None:
                desc = memo[("desc", n.id)] = _descendants(n)
            cond = self.cond
            callee = cond.callee
            if callee is not None:
                # the most common shape, `has: {call: RE}`: the callee names once
                names = memo.get(("calls", n.id))
                if names is None:
                    names = memo[("calls", n.id)] = _call_names(desc)
                return b if any(callee.fullmatch(x) for x in names) else None
            if self._split:
                return self._first_of_any(env, n, b, desc, text if need else None)
            kinds = cond.kind_filter
            if kinds is not None:
                # the descendants of the kinds `cond` can hold at all, listed
                # once per node and filter (rules share a few filters)
                k = ("desc", n.id, kinds)
                picked = memo.get(k)
                if picked is None:
                    picked = memo[k] = [d for d, t in desc if t in kinds]
            else:
                picked = [d for d, _ in desc]
            for d in picked:
                r = cond.node(env, d, b)
                if r is not None:
                    return r
            return None
        trace, env.trace = env.trace, None     # one line per descendant is noise
        try:
            stack = list(reversed(n.children))
            while stack:
                d = stack.pop()
                r = self.cond.node(env, d, b)
                if r is not None:
                    _note_found(env, trace, "found", d)
                    return r
                stack.extend(reversed(d.children))
            return None
        finally:
            env.trace = trace


def _alternatives(cond: Cond) -> tuple:
    """`cond`'s alternatives: the items of an `any`, and of an `any` or a
    `use` among them, in order; a condition of another kind is its own."""
    if type(cond) is Use:
        return _alternatives(cond.item)
    if type(cond) is Any:
        return tuple(alt for item in cond.items for alt in _alternatives(item))
    return (cond,)


def _descendants(n) -> list:
    """(node, type) of every descendant of `n`, in the order Has walks them
    (depth first, children in order). A tree-sitter cursor walks the tree
    in C, without a list of children made at each node: a third faster on
    mm/memory.c's functions than a stack of `children`."""
    out = []
    c = n.walk()
    if not c.goto_first_child():
        return out
    add = out.append
    depth = 1
    while True:
        d = c.node
        add((d, d.type))
        if c.goto_first_child():
            depth += 1
            continue
        while not c.goto_next_sibling():
            depth -= 1
            if depth == 0 or not c.goto_parent():
                return out


def _call_names(desc) -> frozenset:
    """Callee names of the calls among the descendants (a call seen through
    casts or parentheses is also a descendant itself)."""
    names = {callee_name(d) for d, t in desc if t == "call_expression"}
    names.discard(None)
    return frozenset(names)


# A call is seen through the casts and parentheses around it (callee_name)
_CALL_TYPES = frozenset({"call_expression", "parenthesized_expression", "cast_expression"})


def node_text(n, memo: dict) -> bytes:
    """The text of node `n`, read once per file (`memo`: the file's, shared
    by every condition and by classify's screen of a site's region)."""
    text = memo.get(("text", n.id))
    if text is None:
        text = memo[("text", n.id)] = n.text
    return text


def _may_contain(text: bytes, need) -> bool:
    """False if `text` lacks every string of some clause of `need`
    (literals.screened: a group's members are looked for only where its
    screen is). A clause that ignores case is looked for in ASCII text only
    (beyond ASCII, case folding can match other letters: K and the Kelvin
    sign)."""
    lower = None                 # the text in lower case; False: not ASCII
    for ignore_case, groups in need:
        t = text
        if ignore_case:
            if lower is None:
                lower = text.lower() if text.isascii() else False
            if lower is False:
                continue
            t = lower
        for screen, members in groups:
            if screen in t:
                if not members:
                    break
                for s in members:
                    if s in t:
                        break
                else:
                    continue
                break
        else:
            return False
    return True


def pattern_metavars(pattern) -> frozenset:
    """The metavariables a compiled pattern binds to one node each (not
    `$_`, `$SITE` or `$$$` lists)."""
    out, stack = set(), [pattern.root]
    while stack:
        p = stack.pop()
        if p.metavar is not None and p.metavar not in ("$_", SITE):
            out.add(p.metavar)
        if p.contains is not None:
            stack.append(p.contains.root)
        stack.extend(p.children)
    return frozenset(out)


def metavars_bound_once(cond) -> frozenset:
    """The metavariables at most one pattern binds on any way `cond` can
    hold: so none was bound before that pattern matched (the items of an
    `any` are alternatives, whose bindings never meet; the items of an
    `all`, a pattern's `where` and anything else add up)."""
    return frozenset(v for v, k in _bindings(cond).items() if k == 1)


def _bindings(cond) -> dict:
    """Metavariable -> how many patterns may bind it on one way `cond` holds."""
    if isinstance(cond, Any):
        out: dict = {}
        for item in cond.items:
            for var, k in _bindings(item).items():
                out[var] = max(out.get(var, 0), k)
        return out
    out = dict.fromkeys(pattern_metavars(cond.pattern), 1) if isinstance(cond, PatternCond) else {}
    for child in getattr(cond, "children", ()) or ():
        for var, k in _bindings(child).items():
            out[var] = out.get(var, 0) + k
    return out


def _pattern_words(p) -> list:
    """Texts of the pattern's named leaves that match only themselves (not
    metavariables, not family names, which also match their replacements)."""
    if p.contains is not None:
        return _pattern_words(p.contains.root)
    if p.text is not None:
        plain = p.named and p.metavar is None and p.ellipsis is None and p.family is None
        return [p.text] if plain else []
    return [w for c in p.children for w in _pattern_words(c)]


class _RegexCond(Cond):
    """A condition whose YAML value is one regular expression (its only field)."""

    regex_at = ()

    @classmethod
    def from_yaml(cls, value, path, c):
        return cls(c.regex(value, path))


@dataclass
class Kind(Cond):
    kinds: frozenset
    label: str = "kind"
    own_reads = frozenset()

    @classmethod
    def from_yaml(cls, value, path, c):
        return cls(kinds_of(value))

    @property
    def kind_filter(self):
        return self.kinds

    def node(self, env, n, b):
        return b if n.type in self.kinds else None


def _unwrap(n):
    while n.type in ("parenthesized_expression", "cast_expression") and n.named_child_count >= 1:
        n = n.named_children[-1]
    return n


def callee_name(n) -> str | None:
    n = _unwrap(n)
    if n.type != "call_expression":
        return None
    f = n.child_by_field_name("function")
    if f is None:
        return None
    if f.type == "field_expression":
        f = f.child_by_field_name("field")
    return f.text.decode(errors="replace") if f is not None and f.type in ("identifier", "field_identifier") else None


@dataclass
class Call(_RegexCond):
    """The node is a call (through casts and parentheses) to a matching name."""

    name: re.Pattern
    label: str = ""
    own_reads = frozenset()
    kind_filter = _CALL_TYPES

    @property
    def callee(self):
        return self.name

    def text_needs(self):
        return literals.required(self.name)

    def __post_init__(self):
        self.label = f"call /{self.name.pattern}/"

    def node(self, env, n, b):
        name = callee_name(n)
        return b if name is not None and self.name.fullmatch(name) else None


@dataclass
class InsideCall(Cond):
    """The site (or node) lies inside argument `arg` (1-based; 0 = any) of a
    call whose function name matches."""

    name: re.Pattern
    args: frozenset
    nearest: bool = False
    label: str = ""
    own_reads = frozenset({"scope"})
    regex_at = ("name",)

    @classmethod
    def from_yaml(cls, value, path, c):
        arg = value.get("arg", ())
        args = frozenset([arg] if isinstance(arg, int) else arg)
        return cls(c.regex(value["name"], path + ("name",)), args, bool(value.get("nearest", False)))

    def __post_init__(self):
        which = "any argument" if not self.args else "argument " + "/".join(str(a) for a in sorted(self.args))
        self.label = f"inside {which} of /{self.name.pattern}/()"

    def site(self, env, b):
        if env.site.node is None:
            return None
        if env.trace is None:
            return self._at_site(env, b)
        return self.node(env, env.site.node, b)

    def _at_site(self, env, b):
        """The walk of `node` from the site, over the calls whose argument
        lists lie on its way up only (listed once per site for every
        `inside-call`, nearest first), with each callee's name and the
        argument's place found once."""
        calls = env.calls
        if calls is None:
            calls = env.calls = _site_calls(env)
        for entry in calls:
            name = entry[3]
            if name is not None and self.name.fullmatch(name):
                if not self.args:
                    return b
                if entry[4] is None:
                    p, child = entry[0], entry[1]
                    entry[4] = [c.id for c in p.named_children].index(child.id) + 1
                if entry[4] in self.args:
                    return b
            if self.nearest:
                return None
        return None

    def node(self, env, n, b):
        # what the walk up from a child finds is the same for every node
        # under it: remembered per file (env.memo) for each child passed
        memo = env.memo if env.trace is None else None
        pending, found, child = [], False, n
        for p, t, call in _upward(env, n):
            if memo is not None:
                key = ("up-call", id(self), child.id, id(env.site.scope))
                hit = memo.get(key)
                if hit is not None:
                    found = hit
                    break
                pending.append(key)
            if t == "argument_list" and call is not None and call.type == "call_expression":
                name = callee_name(call)
                if name is not None and self.name.fullmatch(name):
                    index = [c.id for c in p.named_children].index(child.id) + 1
                    if not self.args or index in self.args:
                        found = True
                        break
                if self.nearest:
                    break
            child = p
        for key in pending:
            memo[key] = found
        return b if found else None


def _site_calls(env) -> list:
    """[argument list, its child on the way up, the call, the callee's
    name, the argument's place (1-based, found when first needed)] of each
    call whose arguments hold the site, nearest first (InsideCall)."""
    out, child = [], env.site.node
    for p, t, call in _upward(env, child):
        if t == "argument_list" and call is not None and call.type == "call_expression":
            out.append([p, child, call, callee_name(call), None])
        child = p
    return out


@dataclass
class Text(_RegexCond):
    regex: re.Pattern
    label: str = ""
    own_reads = frozenset()

    def text_needs(self):
        return literals.required(self.regex)

    def __post_init__(self):
        self.label = f"text /{self.regex.pattern}/"

    def node(self, env, n, b):
        # remembered per node: the sites of one long expression ask it
        # about the same big operands (reading their text each time: N²)
        memo = env.memo if env is not None else None
        if memo is None:
            return b if self.regex.search(n.text.decode(errors="replace")) else None
        key = ("text", id(self), n.id)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = self.regex.search(n.text.decode(errors="replace")) is not None
        return b if hit else None


@dataclass
class Function(_RegexCond):
    """The enclosing function's (or macro's) name matches."""

    regex: re.Pattern
    label: str = ""
    own_reads = frozenset({"function"})
    reads_code = False
    in_asm = True

    def __post_init__(self):
        self.label = f"function /{self.regex.pattern}/"

    def site(self, env, b):
        fn = env.site.site.function
        return b if fn is not None and self.regex.fullmatch(fn) else None

    def node(self, env, n, b):
        return self.site(env, b)


@dataclass
class Line(_RegexCond):
    """The source line holding the site matches (works in assembly too)."""

    regex: re.Pattern
    label: str = ""
    reads_code = False
    in_asm = True

    def __post_init__(self):
        self.label = f"line /{self.regex.pattern}/"

    def site(self, env, b):
        s = env.site.site.start
        a = env.data.rfind(b"\n", 0, s) + 1
        e = env.data.find(b"\n", s)
        line = env.data[a:e if e >= 0 else len(env.data)].decode(errors="replace")
        return b if self.regex.search(line) else None


@dataclass
class FileText(_RegexCond):
    """The file's source text (comments included) holds a match: what a
    module states of itself once, far from the site (raid5-cache's
    `if (PAGE_SIZE != 4096) return -EINVAL;` in its set-up). It reads
    code, so an area that asks it withholds strong renames too."""

    regex: re.Pattern
    label: str = ""

    def __post_init__(self):
        self.label = f"file-text /{self.regex.pattern}/"

    def site(self, env, b):
        memo = env.memo if env.memo is not None else {}
        key = ("file-text", self.regex.pattern)
        got = memo.get(key)
        if got is None:
            got = memo[key] = self.regex.search(env.data.decode(errors="replace")) is not None
        return b if got else None


@dataclass
class PathCond(Cond):
    """The file's path from the tree root matches one of these globs (as
    `files:`): where the code lives, for a list of places several rules
    share through a named condition (conditions.yaml's
    hw-interface-paths). It reads no code: an area that asks it still
    withholds only weak renames."""

    globs: tuple
    regex: re.Pattern
    label: str = "path"
    reads_code = False
    in_asm = True

    @classmethod
    def from_yaml(cls, value, path, c):
        return cls(tuple(value), glob_regex(value))

    def site(self, env, b):
        return b if self.regex.match(env.path) else None


@dataclass
class ContextCond(Cond):
    contexts: frozenset
    label: str = "context"
    reads_code = False

    @classmethod
    def from_yaml(cls, value, path, c):
        return cls(frozenset(value))

    def site(self, env, b):
        return b if env.site.site.context.value in self.contexts else None


@dataclass
class TokenCond(Cond):
    tokens: frozenset
    label: str = "token"
    reads_code = False
    in_asm = True

    @classmethod
    def from_yaml(cls, value, path, c):
        for i, t in enumerate(value):
            if t not in c.names:
                raise CompileError(path + (i,), f"{t!r} is not a family name")
        return cls(frozenset(value))

    def site(self, env, b):
        return b if env.site.site.token in self.tokens else None


@dataclass
class TypeCond(_RegexCond):
    """The identifier's declared type (parameter, local or file-scope
    variable), or a cast's type, matches. Types are normalised as
    `struct page *`, `pte_t *`, `unsigned long`."""

    regex: re.Pattern
    label: str = ""
    own_reads = frozenset({"scope"})

    def __post_init__(self):
        self.label = f"type /{self.regex.pattern}/"

    def node(self, env, n, b):
        t = env.symbols.type_of(n, env.site.scope)
        return b if t is not None and self.regex.fullmatch(t) else None


@dataclass
class UnitCond(Cond):
    """What unit inference knows of the expression's value, from where it
    comes (semantic-rules/units.yaml): `unit: pg-count`."""

    unit: Unit
    text: str = ""
    label: str = ""

    @classmethod
    def from_yaml(cls, value, path, c):
        return cls(Unit.parse(value), value)

    def __post_init__(self):
        self.label = f"unit {self.text}"

    def node(self, env, n, b):
        if env.units is None:
            return None
        f = env.units.source_at(n, env.site.scope)
        if f is not None:
            env.note(f"{self.text}? {f.why}", f.unit == self.unit)
        return b if f is not None and f.unit == self.unit else None


@dataclass
class UserPages(Cond):
    """`user-pages: true`: the site's function works on user pages, as unit
    inference sees it: it fills an array of struct pages per user page (a
    units.yaml argument of unit user-pages, get_user_pages()...), calls a
    function of its file that does, or reads a field of unit user-pages.
    There a page's size, its contents and a user page's size meet."""

    label: str = "user-pages"
    own_reads = frozenset({"scope", "site"})

    @classmethod
    def from_yaml(cls, value, path, c):
        if value is not True:
            raise CompileError(path, "user-pages takes `true` (negate it with `not`)")
        return cls()

    def site(self, env, b):
        if env.units is None or env.site.node is None:
            return None
        return b if env.units.on_user_pages(env.site.node, env.site.scope) else None


@dataclass
class AssignedFrom(_OnOtherNodes):
    """The identifier was assigned, earlier in the same function, from an
    expression that satisfies `cond` (def-use within a function)."""

    cond: Cond
    label: str = "assigned-from"
    own_reads = frozenset({"scope", "site"})

    def node(self, env, n, b):
        for value in env.symbols.assignments(n, env.site.scope, before=env.site.node or n):
            r = self.cond.traced(env, self.cond.node, env, value, b)
            if r is not None:
                return r
        return None


# what the value of an expression climbs through to where it is stored or used whole
_VALUE_UP = frozenset({"parenthesized_expression", "cast_expression", "unary_expression", "binary_expression",
                       "conditional_expression"})


@dataclass
class UsedAs(_OnOtherNodes):
    """Where the value of the node's expression goes satisfies `cond`
    (def-use forward, within a function): the value is the largest
    expression the node is part of (through parentheses, casts, unary and
    binary operators, and as a call's callee: `offset_in_page(a)`); when it
    is stored in a local (`T x = E;`, `x = E;`), some later use of `x` in the
    function satisfies `cond`, else the node itself does."""

    cond: Cond
    label: str = "used-as"
    own_reads = frozenset({"scope"})

    def node(self, env, n, b):
        for use in _uses_of_value(env, n):
            r = self.cond.traced(env, self.cond.node, env, use, b)
            if r is not None:
                return r
        return None

    def site(self, env, b):
        return self.node(env, env.site.node, b) if env.site.node is not None else None


def _uses_of_value(env, n) -> list:
    """The nodes where the value of n's expression is used (UsedAs)."""
    parent = env.site.scope.parent if env.site.scope else _parent
    e, up = n, parent(n)
    while up is not None and (up.type in _VALUE_UP or (up.type == "call_expression"
                                                        and up.child_by_field_name("function") == e)):
        e, up = up, parent(up)
    name = None
    if up is not None and up.type == "init_declarator" and up.child_by_field_name("value") == e:
        d = up.child_by_field_name("declarator")
        name = d.text if d is not None and d.type == "identifier" else None
    elif up is not None and up.type == "assignment_expression" and up.child_by_field_name("right") == e:
        op, left = up.child_by_field_name("operator"), up.child_by_field_name("left")
        if op is not None and op.type == "=" and left is not None and left.type == "identifier":
            name = left.text
    fn = up
    while fn is not None and fn.type != "function_definition":
        fn = parent(fn)
    if name is None or fn is None:
        return [n]
    return [i for i in env.symbols.identifiers(fn, name) if i.start_byte >= e.end_byte]


@dataclass
class Syscall(_RegexCond):
    """The site (or node) lies in the body of `SYSCALL_DEFINEn(name, ...)`
    or `COMPAT_SYSCALL_DEFINEn(name, ...)` whose name fully matches. The C
    grammar reads such a body as a bare block after a call statement, so it
    has no function name of its own."""

    regex: re.Pattern
    label: str = ""
    own_reads = frozenset()

    def __post_init__(self):
        self.label = f"syscall /{self.regex.pattern}/"

    def site(self, env, b):
        return self.node(env, env.site.node, b) if env.site.node is not None else None

    def node(self, env, n, b):
        parent = env.site.scope.parent if env.site.scope else _parent
        while n is not None and not (n.type == "compound_statement" and parent(n) is not None
                                     and parent(n).type == "translation_unit"):
            n = parent(n)
        prev = n.prev_named_sibling if n is not None else None
        while prev is not None and prev.type == "comment":
            prev = prev.prev_named_sibling
        if prev is None or prev.type != "expression_statement" or not prev.named_children:
            return None
        call = prev.named_children[0]
        if call.type != "call_expression" or not re.fullmatch(r"(COMPAT_)?SYSCALL_DEFINE\d", callee_name(call) or ""):
            return None
        args = call.child_by_field_name("arguments")
        first = args.named_children[0] if args is not None and args.named_children else None
        return b if first is not None and self.regex.fullmatch(first.text.decode(errors="replace")) else None


# ------------------------------------------------------------ compilation
#
# How to add a condition `foo: VALUE`:
# 1. a class here: a dataclass deriving from Cond (or _RegexCond if VALUE is
#    one regular expression), with `node` and/or `site` (the key may be used
#    where the class evaluates), `from_yaml` (VALUE -> the condition), and
#    what differs from Cond's defaults: own_reads, children, kind_filter,
#    text_needs, reads_code, in_asm;
# 2. one entry "foo": Foo in CONDITIONS below.
# The YAML contract is data beside it: `foo` in semantic-rules/schema.json
# (`condition`, and `inside` if it evaluates at a node; a test holds the
# schema to this table), a row of the Conditions table of
# semantic-rules/README.md, and a rule or fixture that uses it.

CONDITIONS: dict[str, type[Cond]] = {
    "all": All,
    "any": Any,
    "not": Not,
    "pattern": PatternCond,
    "where": Where,
    "inside": Inside,
    "inside-call": InsideCall,
    "has": Has,
    "kind": Kind,
    "call": Call,
    "text": Text,
    "regex": Text,
    "function": Function,
    "line": Line,
    "file-text": FileText,
    "path": PathCond,
    "context": ContextCond,
    "token": TokenCond,
    "type": TypeCond,
    "unit": UnitCond,
    "user-pages": UserPages,
    "assigned-from": AssignedFrom,
    "used-as": UsedAs,
    "syscall": Syscall,
    "use": Use,
}


def _evaluates(cls, mode: str) -> bool:
    return getattr(cls, mode) is not getattr(Cond, mode)


SITE_KEYS = frozenset(key for key, cls in CONDITIONS.items() if _evaluates(cls, "site"))
NODE_KEYS = frozenset(key for key, cls in CONDITIONS.items() if _evaluates(cls, "node"))
ASM_KEYS = frozenset(key for key, cls in CONDITIONS.items() if cls.in_asm)


def compile_cond(obj: dict, path, mode: str, c: Compiling) -> Cond:
    """The condition of a YAML mapping at `path`, evaluated at a site or a
    node (`mode`); CompileError if a key cannot be used there."""
    allowed = SITE_KEYS if mode == "site" else NODE_KEYS
    if c.language == "asm" and mode == "site":
        allowed = ASM_KEYS
    for key in obj:
        if key not in allowed:
            where = "at a site (the rule's match)" if mode == "site" else "at a node"
            if c.language == "asm":
                where = "in an asm rule (only line, function, token, all/any/not)"
            raise CompileError(path + (key,), f"{key!r} cannot be used {where}")
    if "where" in obj and not {"pattern", "all", "any", "has", "inside"} & obj.keys():
        raise CompileError(path + ("where",), "'where' needs a 'pattern' (or all/any/has/inside with patterns) "
                                              "in the same mapping to bind its metavariables")
    here = replace(c, mode=mode, mapping=obj)
    items = [CONDITIONS[key].from_yaml(obj[key], path + (key,), here)
             for key in sorted(obj, key=lambda key: CONDITIONS[key].order)]
    items = [item for item in items if item is not None]
    return items[0] if len(items) == 1 else All(items)


def kinds_of(value) -> frozenset | None:
    """The node types of `kind: K` (a name of KINDS or a tree-sitter type, or a list)."""
    if value is None:
        return None
    out = set()
    for k in [value] if isinstance(value, str) else value:
        out |= KINDS.get(k, {k})
    return frozenset(out)


_METAVAR = re.compile(r"\$+[A-Za-z_][A-Za-z_0-9]*")


def bound_metavars(obj) -> set[str]:
    """The metavariables the patterns of a YAML condition (and of the
    conditions inside it) bind."""
    out: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "pattern" and isinstance(value, str):
                out |= set(_METAVAR.findall(value))
            elif key != "where":
                out |= bound_metavars(value)
    elif isinstance(obj, list):
        for c in obj:
            out |= bound_metavars(c)
    return out


def check_where_vars(where, bound: set[str], path) -> None:
    """CompileError if `where` constrains a metavariable nothing binds."""
    for var in where or ():
        if var not in bound:
            raise CompileError(path + (var,), (
                f"{var} is not a metavariable of the pattern"
                + (f" (it binds {', '.join(sorted(bound))})" if bound else " (it binds none)")
                + "; a condition on it would never hold, so the rule would never match"))
