"""Just enough symbol knowledge for rules: declared types and assignments.

No preprocessing and no headers: a name's type is what its declaration in
the same function (parameter or local) or at file scope says. That is what
a reviewer sees too, and it is enough for `pte_t *pte`, `phys_addr_t pa`,
`struct page **pages`.
"""
from __future__ import annotations

import re

from ..parsing import nodes_of_kinds

_DECL_TYPES = ("declaration", "parameter_declaration", "field_declaration")
_QUERIED = _DECL_TYPES + ("function_definition",)
_ASSIGNING = ("init_declarator", "assignment_expression")


def _walk_order(n):
    """Sort key: the order in which a walk from the top that takes the
    last child first meets the nodes (the reverse of post-order): the node
    that ends last first, an ancestor before its descendants."""
    return (-n.end_byte, n.start_byte)
_WS = re.compile(r"\s+")


def unparen(n):
    """n without redundant parentheses around it."""
    while n.type == "parenthesized_expression" and n.named_child_count == 1:
        n = n.named_children[0]
    return n


def enclosing(n, types, scope=None):
    """The nearest of n and its ancestors of one of `types`; `scope`
    (sites.Scope) knows the parents of its tree."""
    parent = scope.parent if scope is not None else _parent
    while n is not None:
        if n.type in types:
            return n
        n = parent(n)
    return None


def _parent(n):
    return n.parent


def _declarator_name(d):
    """(name, stars, array) of a declarator such as `*const *pages[4]`."""
    stars, array = 0, False
    while d is not None:
        t = d.type
        if t in ("identifier", "field_identifier"):
            return d.text.decode(errors="replace"), stars, array
        if t == "pointer_declarator":
            stars += 1
        elif t == "array_declarator":
            array = True
        elif t == "function_declarator":
            return None, 0, False
        nxt = d.child_by_field_name("declarator")
        if nxt is None:
            named = [c for c in d.named_children if c.type != "type_qualifier"]
            nxt = named[0] if named else None
        d = nxt
    return None, 0, False


def _base_type(decl) -> str:
    t = decl.child_by_field_name("type")
    return _WS.sub(" ", t.text.decode(errors="replace")).strip() if t is not None else ""


def type_string(base: str, stars: int, array: bool) -> str:
    s = base + (" " + "*" * stars if stars else "")
    return s + ("[]" if array else "")


class SymbolCache:
    def __init__(self):
        self._types: dict[int, dict[str, str]] = {}
        self._assigns: dict[int, list] = {}
        self._idents: dict[int, dict[bytes, list]] = {}    # function -> name -> its identifiers

    def _table(self, owner) -> dict[str, str]:
        """Name -> declared type of the declarations in `owner` (not in
        another function inside it); of a name declared twice, the first
        met by a walk that takes the last child first: the one that
        ends last, an enclosing declaration before those in it."""
        table = self._types.get(owner.id)
        if table is None:
            table = {}
            # tree-sitter's query engine finds them, not a walk in Python
            # over every node of the function
            found = nodes_of_kinds(owner, _QUERIED)
            decls = [n for t in _DECL_TYPES for n in found.get(t, ())]
            others = [f for f in found.get("function_definition", ()) if f != owner]
            if others:          # another function's locals are not ours
                decls = [n for n in decls if not any(f.start_byte <= n.start_byte and n.end_byte <= f.end_byte
                                                     and n != f for f in others)]
            decls.sort(key=_walk_order)
            for n in decls:
                base = _base_type(n)
                for d in n.children_by_field_name("declarator"):
                    name, stars, array = _declarator_name(d)
                    if name and name not in table:
                        table[name] = type_string(base, stars, array)
            self._types[owner.id] = table
        return table

    def type_of(self, n, scope) -> str | None:
        n = unparen(n)
        if n.type == "cast_expression":
            t = n.child_by_field_name("type")
            return _WS.sub(" ", t.text.decode(errors="replace")).strip().replace(" *", " *") if t is not None else None
        if n.type != "identifier":
            return None
        name = n.text.decode(errors="replace")
        fn = enclosing(n, ("function_definition",), scope)
        if fn is not None:
            t = self._table(fn).get(name)
            if t is not None:
                return t
        if scope is not None and scope.macro is not None:
            return None
        if scope is not None and scope.top is not None and scope.top is scope.root:
            top = scope.top          # the file's scope: its root is the tree's (sites.find_sites)
        else:
            parent = scope.parent if scope is not None else _parent
            top = n
            while parent(top) is not None:
                top = parent(top)
        return self._table_file(top).get(name)

    def _table_file(self, root) -> dict[str, str]:
        table = self._types.get(root.id)
        if table is None:
            table = {}
            for n in root.children:
                if n.type == "declaration":
                    base = _base_type(n)
                    for d in n.children_by_field_name("declarator"):
                        name, stars, array = _declarator_name(d)
                        if name:
                            table.setdefault(name, type_string(base, stars, array))
            self._types[root.id] = table
        return table

    def identifiers(self, owner, name: bytes) -> list:
        """The identifiers spelled `name` in function `owner`, in text order."""
        table = self._idents.get(owner.id)
        if table is None:
            table = self._idents[owner.id] = {}
            for i in sorted(nodes_of_kinds(owner, ("identifier",)).get("identifier", ()), key=lambda x: x.start_byte):
                table.setdefault(i.text, []).append(i)
        return table.get(name, [])

    def assignments(self, n, scope, before):
        """Values assigned to identifier `n` before `before`, nearest first."""
        n = unparen(n)
        if n.type != "identifier":
            return []
        name = n.text.decode(errors="replace")
        owner = enclosing(n, ("function_definition",), scope) or (scope.root if scope is not None else None)
        if owner is None:
            return []
        pairs = self._assignments_of(owner)
        limit = before.start_byte
        return [v for (nm, pos, v) in reversed(pairs) if nm == name and pos < limit]

    def _assignments_of(self, owner) -> list:
        """(name, start, value) of the initialised declarators and plain
        assignments to a name in `owner`, by start."""
        pairs = self._assigns.get(owner.id)
        if pairs is None:
            pairs = []
            # by tree-sitter's query engine, in the order a walk from the
            # top taking the last child first met them (then sorted by start)
            found = nodes_of_kinds(owner, _ASSIGNING)
            for x in sorted([*found.get("init_declarator", ()), *found.get("assignment_expression", ())],
                            key=_walk_order):
                if x.type == "init_declarator":
                    dn, _, _ = _declarator_name(x.child_by_field_name("declarator"))
                    v = x.child_by_field_name("value")
                    if dn and v is not None:
                        pairs.append((dn, x.start_byte, v))
                else:
                    left = x.child_by_field_name("left")
                    op = x.child_by_field_name("operator")
                    right = x.child_by_field_name("right")
                    if left is not None and left.type == "identifier" and right is not None and (op is None or op.type == "="):
                        pairs.append((left.text.decode(errors="replace"), x.start_byte, right))
            pairs.sort(key=lambda p: p[1])
            self._assigns[owner.id] = pairs
        return pairs
