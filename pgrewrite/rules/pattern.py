"""C patterns with metavariables, compiled once and matched against trees.

A pattern is C as you would write it: `$ADDR += PAGE_SIZE * $N`,
`memset($P, 0, PAGE_SIZE)`, `kmalloc($$$ARGS)`. Metavariables:

- `$X`      any one expression / name; the same `$X` twice must match the same text
- `$_`      any one node, not bound
- `$$$X`    zero or more items of a list (arguments, parameters, statements)
- `$SITE`   the site being classified (any family name)
- `<+... P ...+>`  any expression that contains a match of pattern P

A family name written in a pattern is the site's anchor when the pattern
is matched at a site; elsewhere it also matches its PTE_/PG_ replacement,
so that a rule reads the same before and after the rewrite.

Matching is structural with Coccinelle-like isomorphisms: redundant
parentheses in the code are ignored, and the operands of commutative
operators (+ * & | ^ == !=) may appear in either order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from .. import parsing
from .symbols import unparen

COMMUTATIVE = frozenset({"+", "*", "&", "|", "^", "==", "!="})
NAME_TYPES = frozenset({"identifier", "type_identifier", "field_identifier", "statement_identifier"})
_CONTAINS = re.compile(r"<\+\.\.\.(.*?)\.\.\.\+>", re.S)
_PLACEHOLDER = "__pgrewrite_contains_{}__"
SITE = "$SITE"
# Put in a match's bindings when an anchor of the pattern (a family name or
# $SITE) matched the site itself: a site-anchored match counts only then
# (conditions.PatternCond takes it out). Failed alternatives drop their
# bindings, so the mark survives only on the path that matched.
ANCHORED = "$SITE@"


class PatternError(ValueError):
    pass


@dataclass(frozen=True)
class PNode:
    type: str
    text: str | None                 # leaves only
    children: tuple = ()
    named: bool = True
    metavar: str | None = None       # "$X", "$_", "$SITE"
    ellipsis: str | None = None      # "$$$X"
    family: str | None = None        # a family name (anchor candidate)
    contains: "Pattern | None" = None

    @cached_property
    def has_ellipsis_child(self) -> bool:
        return any(c.ellipsis for c in self.children)

    @cached_property
    def tokens(self) -> tuple:
        """(index, type) of the unnamed children (operators, punctuation): a
        node whose token differs fails before any child is matched."""
        return tuple((i, c.type) for i, c in enumerate(self.children) if not c.named and c.metavar is None)

    @cached_property
    def operands(self) -> tuple:
        """(index, child) of the children matched recursively."""
        return tuple((i, c) for i, c in enumerate(self.children) if c.named or c.metavar is not None)


@dataclass(frozen=True)
class Pattern:
    source: str
    root: PNode
    anchored: bool        # has a family name or $SITE to anchor at a site

    @property
    def root_type(self) -> str:
        return self.root.type

    @cached_property
    def anchor_depth(self) -> int | None:
        """How many levels below the matched node the deepest place is
        where the site itself decides the match (a family name, `$SITE`);
        -1: none; None: no bound (`<+... +>` looks at every descendant).
        Matching at a node further above the site than that gives the same
        answer for every site under it (conditions.PatternCond)."""
        return _anchor_depth(self.root)


def compile_pattern(source: str, family_names) -> Pattern:
    subs = []

    def _sub(m):
        subs.append(m.group(1).strip())
        return _PLACEHOLDER.format(len(subs) - 1)

    text = _CONTAINS.sub(_sub, source.strip())
    inner = [compile_pattern(s, family_names) for s in subs]
    node, errors = parsing.parse_expression_or_statement(text)
    if node is None or errors:
        raise PatternError(f"pattern does not parse as one C expression or statement: {source.strip()!r}")
    root = _convert(node, frozenset(family_names), inner)
    return Pattern(source=source.strip(), root=root, anchored=_anchored(root))


def _anchor_depth(p: PNode) -> int | None:
    if p.contains is not None:
        return None
    deepest = 0 if (p.metavar == SITE or p.family) else -1
    for c in p.children:
        d = _anchor_depth(c)
        if d is None:
            return None
        if d >= 0:
            deepest = max(deepest, d + 1)
    return deepest


def _anchored(p: PNode) -> bool:
    if p.metavar == SITE or p.family:
        return True
    if p.contains is not None and p.contains.anchored:
        return True
    return any(_anchored(c) for c in p.children)


def _convert(node, family, inner) -> PNode:
    if node.child_count == 0 or node.type in ("string_literal", "char_literal", "number_literal"):
        text = node.text.decode()
        if node.type in NAME_TYPES or node.type == "primitive_type":
            if text.startswith("$$$"):
                return PNode(node.type, text, ellipsis=text)
            if text.startswith("$"):
                return PNode(node.type, text, metavar=text)
            m = re.fullmatch(r"__pgrewrite_contains_(\d+)__", text)
            if m:
                return PNode(node.type, text, contains=inner[int(m.group(1))])
            if text in family:
                return PNode(node.type, text, family=text)
        return PNode(node.type, text, named=node.is_named)
    kids = tuple(_convert(c, family, inner) for c in node.children if c.type != "comment")
    # `kmalloc($$$)` reads as a call with one identifier argument; `$$$`
    # inside an expression_statement of a block is also a list item.
    return PNode(node.type, None, kids, named=node.is_named)


# ---------------------------------------------------------------- matching

def _uncast(n):
    """The family name under a cast (and parentheses), or n itself."""
    if n.type != "cast_expression":
        return n
    v = n.child_by_field_name("value")
    v = unparen(v) if v is not None else None
    return v if v is not None and v.child_count == 0 else n


class Probe:
    """A site that records where the match looked for a site: `seen` holds
    the byte ranges of the nodes where a site decides (a family name's or
    `$SITE`'s place; None: anywhere, `<+... +>`). When the site's own place
    is not among them, the answer is that of every site the match did not
    look at: conditions.PatternCond shares one match at a node among the
    sites below it this way."""

    def __init__(self, site):
        self.start_byte, self.end_byte = site.start_byte, site.end_byte
        self.seen: set = set()


class Matcher:
    """Matches compiled patterns against tree-sitter nodes.

    `site` is the leaf a site-anchored match must bind its anchor to (or
    None); `equivalents` maps a family name to the names it also matches.
    """

    def __init__(self, equivalents: dict[str, frozenset[str]]):
        self.equivalents = equivalents
        self._kids: dict = {}
        self._bare: dict = {}

    def new_file(self) -> None:
        """Forget the children lists (and unwrapped nodes) kept for the
        previous file's nodes (node ids are only unique while their tree lives)."""
        self._kids = {}
        self._bare = {}

    def _unparen(self, n):
        """unparen(n), remembered for n and every parenthesis under it: a
        site's chain of d nested parentheses is matched at each of them,
        and unwrapping each to the bottom again cost d² steps."""
        bare = self._bare
        r = bare.get(n.id)
        if r is not None:
            return r
        wrapped, m = [], n
        while m.type == "parenthesized_expression" and m.named_child_count == 1:
            r = bare.get(m.id)
            if r is not None:
                break
            wrapped.append(m)
            m = m.named_children[0]
        else:
            r = m
        for w in wrapped:
            bare[w.id] = r
        return r

    def match(self, pat: Pattern, node, bindings: dict, site=None):
        return self._m(pat.root, node, bindings, site)

    def _m(self, p: PNode, n, b, site):
        if p.metavar is not None:
            if p.metavar == SITE:
                if site.__class__ is Probe:
                    site.seen.add((n.start_byte, n.end_byte))
                return {**b, ANCHORED: True} if site is not None and _same(n, site) else None
            if not n.is_named:
                return None
            if p.metavar == "$_":
                return b
            bound = b.get(p.metavar)
            if bound is not None:
                return b if _norm(bound) == _norm(n) else None
            return {**b, p.metavar: n}
        if p.contains is not None:
            return self._contains(p.contains, n, b, site)
        if p.type != "parenthesized_expression" and n.type == "parenthesized_expression":
            n = self._unparen(n)
        if p.text is not None:      # a leaf
            if p.family is not None:
                n = _uncast(n)      # `(u64)PAGE_SIZE << order` is still PAGE_SIZE << order
                if site.__class__ is Probe:
                    site.seen.add((n.start_byte, n.end_byte))
                if site is not None and _overlaps(n, site):
                    return {**b, ANCHORED: True} if _same(n, site) else None
                return b if n.child_count == 0 and n.text.decode() in self.equivalents[p.family] else None
            if n.child_count != 0 and n.type not in ("string_literal", "char_literal", "number_literal"):
                return None
            if p.type in NAME_TYPES and n.type in NAME_TYPES or p.type == n.type:
                return b if n.text.decode() == p.text else None
            return None
        if p.type != n.type:
            return None
        # the same nodes are matched against every pattern of every rule:
        # their children (one C call and a Python object each) are listed once
        kids = self._kids.get(n.id)
        if kids is None:
            kids = self._kids[n.id] = [c for c in n.children if c.type != "comment"]
        if p.has_ellipsis_child:
            return self._seq([c for c in p.children if c.named], [c for c in kids if c.is_named], b, site, 0, 0)
        if len(kids) != len(p.children):
            return None
        for i, t in p.tokens:       # operators first: the cheap way to fail
            k = kids[i]
            if k.is_named or k.type != t:
                return None
        r = self._pairs(p.operands, kids, b, site)
        if r is None and p.type == "binary_expression" and len(kids) == 3 and kids[1].type in COMMUTATIVE:
            r = self._pairs(p.operands, [kids[2], kids[1], kids[0]], b, site)
        return r

    def _pairs(self, operands, ns, b, site):
        for i, p in operands:
            b = self._m(p, ns[i], b, site)
            if b is None:
                return None
        return b

    def _seq(self, ps, ns, b, site, i, j):
        """ps[i:] against ns[j:] (indices, not slices: a call with N
        arguments was N² steps per match, at each of its N sites)."""
        if i == len(ps):
            return b if j == len(ns) else None
        p = ps[i]
        if p.ellipsis is not None:
            fixed = sum(1 for q in ps[i + 1:] if q.ellipsis is None)   # items the rest needs at least
            # without another list after it, only one length can fit (and
            # trying the others looked at every item: at every site's place)
            exact = not any(q.ellipsis is not None for q in ps[i + 1:])
            # a named list is bound once the rest matched (building the
            # tuple for every split tried was N² too), unless its name
            # comes again, where the binding must be there first
            lazy = p.ellipsis != "$$$" and p.ellipsis not in b and not any(q.ellipsis == p.ellipsis
                                                                            for q in ps[i + 1:])
            room = len(ns) - j - fixed                  # the most this list can take
            if room < 0:
                return None
            for k in ((room,) if exact else range(room + 1)):
                if p.ellipsis == "$$$" or lazy:
                    r = self._seq(ps, ns, b, site, i + 1, j + k)
                    if r is not None and lazy:
                        out = dict(b)
                        out[p.ellipsis] = tuple(ns[j:j + k])
                        out.update(r)
                        r = out
                else:
                    r = self._seq(ps, ns, {**b, p.ellipsis: tuple(ns[j:j + k])}, site, i + 1, j + k)
                if r is not None:
                    return r
            return None
        if j == len(ns):
            return None
        nb = self._m(p, ns[j], b, site)
        return None if nb is None else self._seq(ps, ns, nb, site, i + 1, j + 1)

    def _contains(self, inner: Pattern, n, b, site):
        if site.__class__ is Probe:
            site.seen.add(None)
        if site is not None and inner.anchored and not _overlaps(n, site):
            return None
        for d in _descendants(n):
            r = self._m(inner.root, d, b, site)
            if r is not None:
                return r
        return None

    def find(self, pat: Pattern, node, bindings: dict):
        """First descendant-or-self of `node` matching `pat` (no anchor)."""
        for d in _descendants(node):
            if d.type == pat.root.type or pat.root.metavar or pat.root.contains or d.type == "parenthesized_expression":
                r = self._m(pat.root, d, bindings, None)
                if r is not None:
                    return d, r
        return None, None


def _descendants(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _same(a, b) -> bool:
    return a.start_byte == b.start_byte and a.end_byte == b.end_byte


def _overlaps(n, site) -> bool:
    return n.start_byte <= site.start_byte and site.end_byte <= n.end_byte


_WS = re.compile(rb"\s+")


def _norm(n) -> bytes:
    if isinstance(n, tuple):
        return b",".join(_norm(x) for x in n)
    return _WS.sub(b"", n.text)
