"""Small readings of parsed C nodes that unit inference and its steps
(inference.py, extents.py, summaries.py, filescope.py) share, and sites.py
with them: an expression without its parentheses and casts, a call's
arguments, an operator and the other operand, a call's callee, a function's declarator, a declaration's name and type, a
node's line and a one-line excerpt for a derivation. They read nodes
parsing.py made; none imports tree-sitter."""
from __future__ import annotations

WRAPPERS = ("parenthesized_expression", "cast_expression")
COMPARISONS = frozenset({"<", ">", "<=", ">=", "==", "!="})
# calls whose value is one of their arguments; the _t forms take a type first
PEER_CALLS = frozenset({"min", "max", "min_t", "max_t", "clamp", "clamp_t", "clamp_val", "umin", "umax"})
TYPED_PEER_CALLS = frozenset({"min_t", "max_t", "clamp_t"})


def unwrap(n):
    """`n` without the parentheses and casts around it."""
    while n is not None and n.type in WRAPPERS:
        n = n.child_by_field_name("value") if n.type == "cast_expression" else (n.named_children[0] if n.named_children else None)
    return n


def args(call) -> list:
    """The arguments of call expression `call`, comments left out."""
    a = call.child_by_field_name("arguments")
    return [c for c in a.named_children if c.type != "comment"] if a is not None else []


def operator(n) -> str | None:
    """The operator of an expression node (`+`, `<<=`, `&`...), or None."""
    o = n.child_by_field_name("operator")
    return o.type if o is not None else None


def other_operand(n, this):
    """The operand of binary expression `n` that is not its child `this`."""
    left = n.child_by_field_name("left")
    return n.child_by_field_name("right") if left == this else left


def callee(call) -> str | None:
    """The name a call expression calls, when it calls a plain name."""
    f = call.child_by_field_name("function")
    return f.text.decode() if f is not None and f.type == "identifier" else None


def function_declarator(fn):
    """The function_declarator (name and parameters) of function_definition
    `fn`, through the pointer and attribute declarators around it; None if
    it has none."""
    d = fn.child_by_field_name("declarator")
    while d is not None and d.type != "function_declarator":
        d = d.child_by_field_name("declarator")
    return d


def line(n) -> int:
    """The 1-based line `n` starts on."""
    return n.start_point[0] + 1


def short(n, limit: int = 40) -> str:
    """`n`'s text on one line, cut to `limit` characters."""
    text = " ".join(n.text.decode(errors="replace").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


# the declarators around a declared name: `*const *pages[4] = ...`
DECLARATOR_WRAPPERS = frozenset({"init_declarator", "pointer_declarator", "array_declarator",
                                 "parenthesized_declarator", "attributed_declarator"})


def declared(decl, d=None) -> tuple[str | None, str]:
    """(name, type text) of a parameter or of one declarator of a declaration."""
    base = decl.child_by_field_name("type")
    text = base.text.decode(errors="replace") if base is not None else ""
    for q in decl.children:
        if q.type == "type_qualifier" and q.text == b"const":
            text = "const " + text
    d = d if d is not None else decl.child_by_field_name("declarator")
    stars = 0
    while d is not None and d.type in DECLARATOR_WRAPPERS:
        if d.type in ("pointer_declarator", "array_declarator"):
            stars += 1                         # an array's elements: as behind a pointer
        inner = d.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in d.named_children if c.type.endswith("declarator") or c.type == "identifier"), None)
        d = inner
    name = d.text.decode() if d is not None and d.type == "identifier" else None
    return name, text + " *" * stars
