"""Just enough symbol knowledge for rules: declared types and assignments.

No preprocessing and no headers: a name's type is what its declaration in
the same function (parameter or local) or at file scope says. That is what
a reviewer sees too, and it is enough for `pte_t *pte`, `phys_addr_t pa`,
`struct page **pages`.
"""
from __future__ import annotations

import re

_DECL_TYPES = ("declaration", "parameter_declaration", "field_declaration")
_WS = re.compile(r"\s+")


def unparen(n):
    """n without redundant parentheses around it."""
    while n.type == "parenthesized_expression" and n.named_child_count == 1:
        n = n.named_children[0]
    return n


def _enclosing(n, types, scope=None):
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

    def _table(self, owner) -> dict[str, str]:
        table = self._types.get(owner.id)
        if table is None:
            table = {}
            stack = [owner]
            while stack:
                n = stack.pop()
                if n.type in _DECL_TYPES:
                    base = _base_type(n)
                    for d in n.children_by_field_name("declarator"):
                        name, stars, array = _declarator_name(d)
                        if name and name not in table:
                            table[name] = type_string(base, stars, array)
                if n.type == "function_definition" and n != owner:
                    continue        # another function's locals are not ours
                stack.extend(n.children)
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
        fn = _enclosing(n, ("function_definition",), scope)
        if fn is not None:
            t = self._table(fn).get(name)
            if t is not None:
                return t
        if scope is not None and scope.macro is not None:
            return None
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

    def assignments(self, n, scope, before):
        """Values assigned to identifier `n` before `before`, nearest first."""
        n = unparen(n)
        if n.type != "identifier":
            return []
        name = n.text.decode(errors="replace")
        owner = _enclosing(n, ("function_definition",), scope) or (scope.root if scope is not None else None)
        if owner is None:
            return []
        pairs = self._assigns.get(owner.id)
        if pairs is None:
            pairs = []
            stack = [owner]
            while stack:
                x = stack.pop()
                if x.type == "init_declarator":
                    dn, _, _ = _declarator_name(x.child_by_field_name("declarator"))
                    v = x.child_by_field_name("value")
                    if dn and v is not None:
                        pairs.append((dn, x.start_byte, v))
                elif x.type == "assignment_expression":
                    left = x.child_by_field_name("left")
                    op = x.child_by_field_name("operator")
                    right = x.child_by_field_name("right")
                    if left is not None and left.type == "identifier" and right is not None and (op is None or op.type == "="):
                        pairs.append((left.text.decode(errors="replace"), x.start_byte, right))
                stack.extend(x.children)
            pairs.sort(key=lambda p: p[1])
            self._assigns[owner.id] = pairs
        limit = before.start_byte
        return [v for (nm, pos, v) in reversed(pairs) if nm == name and pos < limit]
