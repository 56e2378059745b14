"""The only module that imports tree_sitter.

Everything else sees tree-sitter nodes through their plain attributes (`type`,
`children`, `start_byte`, ...) and calls the helpers here to parse files,
macro bodies and rule patterns. When py-tree-sitter changes its API again
(it did in 0.25 and 0.26), this is the file to touch.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import tree_sitter
import tree_sitter_c

# A macro body or pattern is parsed inside this wrapper so that expressions,
# statements and do-while bodies all become statements of a function. The
# body follows the brace on its line: with the body's row of newlines before
# the wrapper, the fragment's nodes are on the file's lines.
_FN_PREFIX = b"void __pgrewrite_fragment__(void) { "
_FN_SUFFIX = b"\n;}\n"


@lru_cache(maxsize=1)
def _language() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_c.language())


def _parser() -> tree_sitter.Parser:
    # Parsers are cheap; one per call keeps worker processes independent.
    return tree_sitter.Parser(_language())


def parse(data: bytes, skip=()):
    """Parse a whole C file; returns the root node.

    `skip`: sorted, disjoint (start, end) byte ranges the parser must not
    read at all (tree-sitter's included ranges are the gaps between them).
    The tree is that of the file with those bytes left out; its nodes keep
    the file's byte offsets and line/column points."""
    parser = _parser()
    if skip:
        parser.included_ranges = _included(data, skip)
    return parser.parse(data).root_node


def _included(data: bytes, skip) -> list:
    """The tree_sitter.Range list of the gaps between the `skip` ranges."""
    ranges, pos, row, row_start = [], 0, 0, 0

    def point(off):
        nonlocal row, row_start
        row += data.count(b"\n", row_start, off)      # rows counted from the last point on
        nl = data.rfind(b"\n", 0, off)
        row_start = off
        return row, off - (nl + 1)

    last = (0, 0)
    for s, e in skip:
        ranges.append(tree_sitter.Range(last, point(s), pos, s))
        pos, last = e, point(e)
    ranges.append(tree_sitter.Range(last, point(len(data)), pos, len(data)))
    return ranges


def reparse_functions(data: bytes, fns) -> dict:
    """Parse again only the function definitions `fns` of `data` (nodes of
    a tree that left their bodies out): start byte -> the function_definition
    of the new tree (None if the parse put none there). The nodes keep the
    file's offsets and lines; a tree with errors is returned as it is."""
    todo = sorted({fn.start_byte: fn for fn in fns}.values(), key=lambda f: f.start_byte)
    parser = _parser()
    # the functions' own spans and points are the included ranges: no
    # counting of the file's lines for each reparse (a file is reparsed a
    # piece at a time, as its callees are asked for)
    ranges, end = [], 0
    for fn in todo:
        if fn.start_byte >= end:            # one inside another is parsed with it
            ranges.append(tree_sitter.Range(fn.start_point, fn.end_point, fn.start_byte, fn.end_byte))
            end = fn.end_byte
    parser.included_ranges = ranges
    found = {c.start_byte: c for c in parser.parse(data).root_node.children if c.type == "function_definition"}
    return {fn.start_byte: found.get(fn.start_byte) for fn in todo}


@lru_cache(maxsize=8)
def _kinds_query(kinds: tuple) -> tree_sitter.Query:
    return tree_sitter.Query(_language(), " ".join(f"({k}) @{k}" for k in kinds))


def nodes_of_kinds(node, kinds: tuple) -> dict:
    """Every named node under `node` (itself included) of each type in
    `kinds`, kind -> nodes (in the order the query engine met them, which
    is not the text's: sort what needs an order), found without a Python
    walk over the nodes in between."""
    return tree_sitter.QueryCursor(_kinds_query(kinds)).captures(node)


def count_errors(node) -> int:
    """Number of ERROR and MISSING nodes below `node` (a walk with a
    stack, not recursion: 50,000 nested parentheses are valid C)."""
    n, stack = 0, [node]
    while stack:
        x = stack.pop()
        if x.has_error:
            n += 1 if (x.is_error or x.is_missing) else 0
            stack.extend(x.children)
    return n


@dataclass(frozen=True)
class Fragment:
    """A parsed piece of code (macro body, pattern) inside a wrapper.

    `nodes` are the top-level nodes that came from the fragment itself;
    `offset` must be subtracted from node byte positions to get positions
    within the fragment text.
    """

    nodes: tuple
    offset: int
    errors: int


def parse_fragment(text: bytes, row: int = 0) -> Fragment:
    """Parse a fragment as function-body statements, or as top-level code.

    Macro bodies may be expressions, statements, declarations or whole
    function definitions; we keep whichever reading has fewer parse errors.
    `row`: the 0-based line of the file the fragment starts on, which its
    nodes' start_point then says (a derivation names file lines).
    """
    best = None
    pad = b"\n" * row
    for prefix, suffix in ((pad + _FN_PREFIX, _FN_SUFFIX), (pad, b"\n")):
        root = _parser().parse(prefix + text + suffix).root_node
        if prefix != pad:
            fn = root.children[0] if root.children else None
            body = fn.child_by_field_name("body") if fn is not None and fn.type == "function_definition" else None
            if body is None:
                continue
            nodes = tuple(c for c in body.children if c.start_byte >= len(prefix) and c.start_byte < len(prefix) + len(text))
        else:
            nodes = tuple(c for c in root.children if c.start_byte < len(prefix) + len(text))
        errors = count_errors(root)
        if best is None or errors < best.errors:
            best = Fragment(nodes=nodes, offset=len(prefix), errors=errors)
        if errors == 0:
            break
    return best


def parse_expression_or_statement(text: str):
    """Parse a rule pattern; returns (node, errors).

    A pattern is a C expression (`$X >> PAGE_SHIFT`) or a statement
    (`for (...) {...}`); an expression is returned without its statement.
    """
    # An expression first, inside parentheses, so that `$N * PAGE_SIZE` is
    # not read as the declaration of a pointer named PAGE_SIZE.
    wrapped = b"void __pgrewrite_fragment__(void) {\n__pgrewrite_lhs__ = (" + text.encode() + b");\n}\n"
    root = _parser().parse(wrapped).root_node
    if count_errors(root) == 0:
        body = root.children[0].child_by_field_name("body")
        stmt = body.named_children[0] if body is not None and body.named_children else None
        expr = stmt.named_children[0] if stmt is not None and stmt.named_children else None
        right = expr.child_by_field_name("right") if expr is not None and expr.type == "assignment_expression" else None
        if right is not None and right.type == "parenthesized_expression" and right.named_child_count == 1:
            return right.named_children[0], 0
    frag = parse_fragment(text.encode())
    nodes = [n for n in frag.nodes if n.type not in ("comment", ";")]
    if len(nodes) != 1:
        return None, max(frag.errors, 1)
    node = nodes[0]
    if node.type == "expression_statement" and node.named_child_count == 1:
        node = node.named_children[0]
    return node, frag.errors
