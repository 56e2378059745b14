"""Struct fields that hold one allocated page, tree-wide (issue 17: "through
struct fields tree-wide").

filescope.py knows a field of a struct its own `.c` file defines. A struct
of a header is written in many files: `mcdi->logging_buffer = (char
*)__get_free_page(GFP_KERNEL)` in one, `scnprintf(buf + bytes, PAGE_SIZE -
bytes, ...)` through that field in another. `pgrewrite mine` (mining.py)
reads every file of the tree; here each file says what it writes into
fields, and `agree()` keeps a field `f` of `struct T` as a one-page buffer
(units.yaml `pg-buffer`, in units-mined.yaml `fields`) only when the whole
tree agrees:

- every write of a field named `f` whose base is a `struct T` (a local,
  parameter or array of that type), or whose base's type is not known
  (it may be a T), is a plain `=` (or a designated `.f =`) of the start of
  one allocated page (a units.yaml pg-buffer return: __get_free_page(),
  get_zeroed_page(), page_address(), kmap*(); a show() buffer...), read as
  a local's source is, or of 0/NULL; and there is at least one such page;
- a write is any text of the tree that can store into `f`, found by
  regular expressions over the raw bytes (comments, `#define` bodies,
  code tree-sitter could not parse, other architectures included):
  `->f =`, `.f =`, `->f += ...` and every other assignment operator, `++`
  or `--` on it, `&...->f` (its address may be written through),
  WRITE_ONCE(), rcu_assign_pointer(), swap(), xchg()... of it. A write the
  parsed code does not account for (a macro body, a comment, a file that
  did not parse) is a write of no unit, so the field is refused: nothing is
  mined from what was not read;
- units.yaml wins: a field it lists is not mined.
Only pg-buffer: a page's start is what a later `PAGE_SIZE` bound on the
field needs, and what an allocation says without doubt; counts and sizes
stored in fields mix units too often to be taken tree-wide.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import extents
from .filescope import _struct_of
from .nodes import line as _line, short as _short, unwrap as _unwrap
from .parsing import nodes_of_kinds

PAGE = "pg-buffer"
ZERO = "zero"
# a field stored into by an assignment operator (or a designated initializer)
_ASSIGNED = re.compile(rb"(?:->|\.)[ \t]*([A-Za-z_]\w*)[ \t]*(?:<<|>>|[-+*/%&|^])?=(?!=)")
# ++/-- after it
_STEPPED_AFTER = re.compile(rb"(?:->|\.)[ \t]*([A-Za-z_]\w*)[ \t]*(?:\+\+|--)")
# ++/--, & or a storing macro before a chain of fields: each field of the chain
_BEFORE = re.compile(rb"(?:\+\+|--|&(?!&)|\b(?:WRITE_ONCE|rcu_assign_pointer|RCU_INIT_POINTER|smp_store_release|"
                     rb"smp_store_mb|swap|xchg\w*|cmpxchg\w*|try_cmpxchg\w*|get_user|__get_user)[ \t]*\()"
                     rb"[ \t(]*[A-Za-z_]\w*((?:[ \t]*(?:->|\.)[ \t]*[A-Za-z_]\w*|[ \t]*\[[^\]\n]*\])+)")
_FIELD_IN_CHAIN = re.compile(rb"(?:->|\.)[ \t]*([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Write:
    """One store into a field named `field`: of `struct` ("struct T"; None:
    the base's type is not known), of `unit` (PAGE, ZERO, or None: anything
    else, or a store the parsed code did not account for)."""

    field: str
    struct: str | None
    unit: str | None
    path: str
    line: int
    text: str


def textual(data: bytes) -> tuple[dict[int, str], set[str]]:
    """(start byte of the field name -> name, for every `->f =`/`.f =`;
    the names stored into by anything else: ++, --, &, storing macros)."""
    assigned = {m.start(1): m.group(1).decode() for m in _ASSIGNED.finditer(data)}
    other = {m.group(1).decode() for m in _STEPPED_AFTER.finditer(data)}
    for m in _BEFORE.finditer(data):
        other |= {f.decode() for f in _FIELD_IN_CHAIN.findall(m.group(1))}
    return assigned, other


def file_writes(inf, summ, root, path: str, data: bytes) -> list[Write]:
    """Every store into a field in the file `data` (see the module
    docstring): the parsed ones with their unit, the others of no unit.
    `summ`: the file's Summaries with every body read (read_all)."""
    assigned, other = textual(data)
    if not assigned and not other:
        return []
    out: list[Write] = []
    seen: set[int] = set()
    # file scope (initializers of variables), then each function's body
    scopes = [(root, None)]
    for fns in summ.definitions().values():
        for fn in fns:
            # a body the parse read with errors elsewhere still has statements
            # it read whole (an #ifdef around a goto label): those count
            body = summ.read_with_errors(fn)
            if body is not None:
                scopes.append((body, inf.function_at(body)))
    for node, fn in scopes:
        found = nodes_of_kinds(node, ("assignment_expression", "initializer_pair"))
        for n in found.get("assignment_expression", ()):
            if n.has_error:
                continue                          # not read whole: left unaccounted, so it refuses
            left = _unwrap(n.child_by_field_name("left"))
            if left is None or left.type != "field_expression":
                continue
            name = left.child_by_field_name("field")
            if name is None or name.start_byte not in assigned or name.start_byte in seen:
                continue
            if fn is None and summ._enclosing(n.start_byte) is not None:
                continue                          # a body the file's parse left out: read with its function
            seen.add(name.start_byte)
            op = n.child_by_field_name("operator")
            unit = _stored(inf, n.child_by_field_name("right"), fn) if op is not None and op.type == "=" else None
            out.append(Write(name.text.decode(), _base_struct(left, fn), unit, path, _line(n), _short(n, 60)))
        for n in found.get("initializer_pair", ()):
            if n.has_error:
                continue
            for d in n.children_by_field_name("designator"):
                if d.type != "field_designator" or not d.named_children:
                    continue
                name = d.named_children[0]
                if name.start_byte not in assigned or name.start_byte in seen:
                    continue
                if fn is None and summ._enclosing(n.start_byte) is not None:
                    continue
                seen.add(name.start_byte)
                out.append(Write(name.text.decode(), None, _stored(inf, n.child_by_field_name("value"), fn),
                                 path, _line(n), _short(n, 60)))
    for start, name in assigned.items():
        if start not in seen:
            out.append(Write(name, None, None, path, data.count(b"\n", 0, start) + 1, "(not in parsed code)"))
    out += [Write(name, None, None, path, 0, "(++, --, & or a storing macro)") for name in sorted(other)]
    kept: dict = {}                 # one store per field, struct and unit is all Tally needs: the first
    for w in sorted(out, key=lambda w: w.line):
        kept.setdefault((w.field, w.struct, w.unit), w)
    return list(kept.values())


def _stored(inf, value, fn) -> str | None:
    """PAGE when `value` is the start of one allocated page, ZERO for 0 or
    NULL, else None."""
    v = _unwrap(value)
    if v is None:
        return None
    if extents._zero(v) or (v.type in ("identifier", "null") and v.text == b"NULL"):
        return ZERO
    if fn is None:
        return None
    f = extents.page_start(inf, v, fn)     # the page-start reading of a local's source
    return PAGE if f is not None and f.unit.gran == "pg" and f.unit.dim == "buffer" else None


def _base_struct(left, fn) -> str | None:
    """"struct T" when the base of field expression `left` is a local,
    parameter or array declared `struct T` (or a pointer to one)."""
    base = _unwrap(left.child_by_field_name("argument"))
    if base is not None and base.type == "subscript_expression":
        base = _unwrap(base.child_by_field_name("argument"))
    if fn is None or base is None or base.type != "identifier":
        return None
    t = _struct_of(fn.types.get(base.text.decode()))
    return f"struct {t}" if t else None


class Tally:
    """What the tree's stores into fields say, kept small while the files
    stream in: (name, struct or None) -> [stores of a page, a store of no
    unit seen, the first store of a page (by path and line)]."""

    def __init__(self):
        self.by_key: dict[tuple[str, str | None], list] = {}
        self.unread = False           # a file could not be read: any field may be stored into there

    def add(self, writes) -> None:
        """The stores of one file; None: the file could not be read at all."""
        if writes is None:
            self.unread = True
            return
        for w in writes:
            t = self.by_key.setdefault((w.field, w.struct), [0, False, None])
            if w.unit == PAGE:
                t[0] += 1
                if t[2] is None or (w.path, w.line) < (t[2].path, t[2].line):
                    t[2] = w
            elif w.unit != ZERO:
                t[1] = True

    def agree(self, hand_fields: dict) -> list[dict]:
        """The units-mined.yaml `fields` entries the tree's stores agree on."""
        if self.unread:
            return []
        out = []
        for (name, struct), (pages, bad, first) in sorted(self.by_key.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            if struct is None or not pages or bad or name in hand_fields:
                continue                              # units.yaml says what a field it lists is
            unknown = self.by_key.get((name, None))
            if unknown is not None and unknown[1]:
                continue                              # a store of no unit that may be into this T's field
            n = pages + (unknown[0] if unknown is not None else 0)
            if unknown is not None and unknown[2] is not None and (unknown[2].path, unknown[2].line) < (first.path, first.line):
                first = unknown[2]
            more = f", as all {n} stores of a page do" if n > 1 else ""
            out.append({"field": name, "of": [struct], "unit": PAGE,
                        "why": f"is mined: every store into it in the tree is the start of one allocated page "
                               f"or 0: {first.path}:{first.line} `{first.text}`{more}"})
        return out
