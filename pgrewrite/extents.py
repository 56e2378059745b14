"""Buffer extents: lengths beside a buffer of one allocated page.

Unit inference (inference.py) knows buffers of one PG page (units.yaml
`pg-buffer`: __get_free_page(), page_address(), kmap*(), a sysfs show()
argument) and uses them where units.yaml says a callee's argument is
"bounded by argument K". Two more steps reach lengths it cannot name:

- **the (pointer, length) convention**: a call `f(..., buf, PAGE_SIZE)`
  (or `PAGE_SIZE - c`) whose argument K is the *start* of a one-page buffer
  and whose argument K+1 is that size: the size is the buffer's length,
  whatever f is (`file_path(file, buf, PAGE_SIZE - 1)` in a show()).
  `f(buf + off, PAGE_SIZE - off)` is the rest of the same page (off not
  an address or the offset of one: offset_in_page(uaddr) into a kmapped
  page is a logic site); in `f(buf, PAGE_SIZE - n)` n is a constant or a
  length of known unit (a mixed one makes the site logic). It refuses
  when units.yaml gives f a meaning for argument K+1, or says another
  argument is the length of buf (the table knows f better), or lists
  argument K+1 in `not-lengths` (`PTR_ALIGN(buf, PAGE_SIZE)` aligns; a
  checksum's length is a disk format's block), when f's body is in the
  file (its own use of the parameter decides, summaries.py), when the
  size is not exactly one page (`2 * PAGE_SIZE`, a variable), and when the
  pointer is not known to be the page's start: any visible step
  (`buf + n`, `&buf[n]`, `buf++`, `buf += n`) not matched by the same `- n`
  in the size, a local assigned more than one kind of value, an
  address-taken local, or a buffer whose address goes to a physical-address
  call of units.yaml in the function (`__pa(buf)`: hardware may read it as
  a 4K page). A parameter of a file-local function is the start of a page
  when every call passes the start of a page (summaries.py,
  Summaries.parameter_as: the same refusals as for numeric parameters).
- **lengths written into a page**: a local that starts at 0 and only ever
  grows by what writers into a one-page buffer return (`len +=
  sysfs_emit_at(buf, len, ...)`, `len += scnprintf(buf + len, ...)`: units.yaml
  `returns: bounded-by`) is a length within that page, so `if (len >=
  PAGE_SIZE)` bounds the page. Any other write to it (`len++`, `len -= n`,
  `len = n`, its address taken) refuses.
- **a buffer by where it goes**: a pointer handed whole, unstepped, to a
  callee units.yaml says takes the start of a one-page buffer (`arguments:
  unit: pg-buffer`: sysfs_emit() and sysfs_emit_at() WARN unless their
  buffer is the start of the sysfs page) is that page, whatever passed it
  in (pac1921's helper that formats into the buffer of an iio read()).
  Not a pointer written in the function (`buf = ...`, `buf += n`, `buf++`,
  its address taken) nor one given to a physical-address call.
Everything here is inside one file; no verdict depends on another file.
"""
from __future__ import annotations

import re

from . import filescope
from .nodes import args as _args, callee as _callee, line as _line, short as _short, unwrap as _unwrap
from .rules.units import Fact, Unit


def _text(n) -> str:
    return " ".join(n.text.decode(errors="replace").split()) if n is not None else ""


def _page_size_less(size):
    """`PAGE_SIZE` -> (PAGE_SIZE node, None); `PAGE_SIZE - c` -> (PAGE_SIZE
    node, c); anything else -> (None, None)."""
    s = _unwrap(size)
    if s is not None and s.type == "identifier" and s.text == b"PAGE_SIZE":
        return s, None
    if s is not None and s.type == "binary_expression" and s.child_by_field_name("operator").type == "-":
        left = _unwrap(s.child_by_field_name("left"))
        if left is not None and left.type == "identifier" and left.text == b"PAGE_SIZE":
            return left, s.child_by_field_name("right")
    return None, None


def _constant(n) -> bool:
    """A number, a character or sizeof, or arithmetic of them."""
    n = _unwrap(n)
    if n is None:
        return False
    if n.type in ("number_literal", "char_literal", "sizeof_expression"):
        return True
    if n.type == "binary_expression":
        return _constant(n.child_by_field_name("left")) and _constant(n.child_by_field_name("right"))
    return False


def _offset(ptr):
    """`base + off` or `&base[off]` -> (base, off); else (ptr, None)."""
    p = _unwrap(ptr)
    if p is not None and p.type == "binary_expression" and p.child_by_field_name("operator").type == "+":
        return p.child_by_field_name("left"), p.child_by_field_name("right")
    if p is not None and p.type == "pointer_expression" and p.child_by_field_name("operator").type == "&":
        a = _unwrap(p.child_by_field_name("argument"))
        if a is not None and a.type == "subscript_expression":
            return a.child_by_field_name("argument"), a.child_by_field_name("index")
    return ptr, None


# -- the (pointer, length) convention -----------------------------------------
def length_after_buffer(inf, call, name: str, args: list, k: int, dim: str, fn, depth: int,
                        seen: frozenset) -> list[Fact]:
    """What argument k (0-based) of `call` to `name` is when it is the
    length after a one-page buffer (module docstring): [] or one fact."""
    if dim != "bytes" or k < 1 or fn is None or (name, k + 1) in inf.table.not_lengths:
        return []
    page_size, less = _page_size_less(args[k])
    if page_size is None:
        return []
    table = inf.table
    if (name, k + 1) in table.arguments or (name, k) in table.arguments \
            or any(spec.bounded_by == k for specs in table.arguments_of(name) for spec in specs):
        return []                              # units.yaml says what these arguments are
    s = inf.summaries(fn)
    if s is not None and s.callee(name) is not None:
        return []                              # its body says what the length is
    base, off = _offset(args[k - 1])
    if off is not None and (less is None or _text(less) != _text(off)):
        return []                              # buf + n, bounded by more than what is left after n
    if less is not None and not _constant(less):
        # PAGE_SIZE - n: n must be a length in the page, not (an offset of) an address
        f = inf.source(less, fn, depth + 1, seen)
        if (f is None and off is None) or (f is not None and f.unit.dim != "bytes"):
            return []
    f = page_start(inf, base, fn, depth + 1, seen)
    if f is None:
        return []
    what = _short(base) if off is None else f"{_short(base)} + {_short(off, 20)}"
    return [Fact(Unit(f.unit.gran, "bytes"), f"bounds {what} as the length after it in {name}(): {f.why}")]


def page_start(inf, e, fn, depth: int = 0, seen: frozenset = frozenset()) -> Fact | None:
    """A pg-buffer fact when the value of `e` is the start of a buffer of
    one allocated page: a units.yaml buffer (a call's return, a field, a
    callback's parameter), a local assigned only such values and never
    stepped, or a file-local function's parameter every call passes one."""
    e = _unwrap(e)
    if e is None or depth > 4 or fn is None:
        return None
    t = e.type
    if t in ("identifier", "field_expression") and (g := filescope.page_start(inf, e, fn, depth, seen, page_start))[0]:
        return g[1]                              # a file-scope variable or a field of the file's struct
    if t == "identifier":
        name = e.text.decode()
        if name in inf.names or name in seen or _stepped(inf, fn, name) or _to_phys(inf, fn, name):
            return None
        if name in fn.params:
            f = fn.params[name]
            return Fact(f.unit, f"{name}: {f.why}") if f.unit.dim == "buffer" else None
        if name in fn.param_names:
            s = inf.summaries(fn)
            got = s.parameter_as(fn, name, "page-start",
                                 lambda arg, caller: page_start(inf, arg, caller, depth + 1, seen)) \
                if s is not None else None
            return got or buffer_by_use(inf, fn, name)
        if name in fn.poisoned or name in fn.changed or name not in fn.sources:
            return None
        facts = [page_start(inf, src, fn, depth + 1, seen | {name}) for src in fn.sources[name]]
        if not facts or any(f is None for f in facts) or len({f.unit for f in facts}) != 1:
            return None
        src = fn.sources[name][0]
        return Fact(facts[0].unit, f"{name} = {_short(src)} (line {_line(src)}): {facts[0].why}")
    if t == "call_expression":
        f = e.child_by_field_name("function")
        got = inf.table.returns.get(f.text.decode()) if f is not None and f.type == "identifier" else None
        return got if got is not None and got.unit.dim == "buffer" else None
    if t == "field_expression":
        got = inf.source(e, fn, depth + 1, seen)
        return got if got is not None and got.unit.dim == "buffer" else None
    return None


def buffer_by_use(inf, fn, name: str) -> Fact | None:
    """A pg-buffer fact when variable `name` of `fn` is handed whole to a
    callee whose units.yaml argument is a one-page buffer, and is never
    written in the function (module docstring), else None."""
    if fn is None or not inf.table.buffer_arguments or name in inf.names or name in fn.changed \
            or not _memo(fn, "buffer-callee", lambda: any(
                c.encode() in _function_text(inf, fn) for c in inf.table.buffer_argument_callees)) \
            or _stepped(inf, fn, name) or _to_phys(inf, fn, name):
        return None                               # (cheapest first: most functions call none of them)
    return _memo(fn, ("by-use", name), lambda: _buffer_by_use(inf, fn, name))


def _buffer_by_use(inf, fn, name: str) -> Fact | None:
    found = None
    for use in reversed(fn.uses.get(name, ())):      # in the text's order: the first such call is named
        up, whole = inf._up(use)                     # through parentheses and casts
        if up is not None and up.type == "assignment_expression" and up.child_by_field_name("left") == whole:
            return None                              # written here: not one value
        if found is not None or up is None or up.type != "argument_list":
            continue                                 # buf + n, &buf[n]: not the start
        call = inf.parent(up)
        callee = _callee(call) if call is not None else None
        k = next((i for i, a in enumerate(_args(call)) if a == whole), None) if callee is not None else None
        spec = inf.table.buffer_arguments.get((callee, k + 1)) if k is not None else None
        if spec is not None:
            found = Fact(spec.unit, f"{name} is given to {callee}() (line {_line(use)}), "
                                    f"whose argument {k + 1} {spec.why}")
    return found


def _function_text(inf, fn) -> bytes:
    return inf.data[fn.node.start_byte:fn.node.end_byte]


def _memo(fn, key, compute):
    """compute(), kept on the inference._Function for the file's run."""
    memo = fn.__dict__.setdefault("_extents", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _stepped(inf, fn, name: str) -> bool:
    """`name++`, `--name`, `name += n`, `name -= n` anywhere in the function
    (a comment or a string saying so too: refusing there costs nothing)."""
    n = re.escape(name.encode())
    return _memo(fn, ("stepped", name), lambda: re.search(
        rb"(?:\+\+|--)\s*" + n + rb"\b|\b" + n + rb"\s*(?:\+\+|--|[-+]=)", _function_text(inf, fn)) is not None)


def _to_phys(inf, fn, name: str) -> bool:
    """`name` is given to a call units.yaml says returns a physical address
    (`__pa(buf)`, `virt_to_phys(buf)`): hardware may take the buffer for a
    4K page."""
    def compute() -> bool:
        text = _function_text(inf, fn)
        for callee, fact in inf.table.returns.items():
            if fact.unit.dim == "phys" and callee.encode() in text and re.search(
                    rb"\b" + re.escape(callee.encode()) + rb"\s*\([^;]*\b" + re.escape(name.encode()) + rb"\b", text):
                return True
        return False
    return _memo(fn, ("phys", name), compute)


# -- lengths written into a page -----------------------------------------------
def written_length(inf, name: str, fn, depth: int, seen: frozenset) -> Fact | None:
    """The unit of local `name` when it starts at 0 and only grows by what
    writers into one-page buffers return (module docstring), else None."""
    if fn is None or name in seen or name in fn.poisoned or name in fn.changed or name in fn.param_names \
            or name not in fn.types or not all(_zero(s) for s in fn.sources.get(name, ())):
        return None
    grows = _memo(fn, ("grows", name), lambda: _grows(inf, fn, name))
    if not grows:
        return None
    first = None
    for right in grows:
        r = _unwrap(right)
        callee = r.child_by_field_name("function") if r is not None and r.type == "call_expression" else None
        if callee is None or callee.text.decode() not in inf.table.returns_bounded:
            return None
        f = inf.source(r, fn, depth + 1, seen | {name})
        if f is None or f.unit.dim != "bytes" or (first is not None and f.unit != first[1].unit):
            return None
        first = first or (r, f)
    r, f = first
    also = "" if len(grows) == 1 else f", as its {len(grows)} additions all are"
    return Fact(f.unit, f"{name} sums lengths written into a page, from 0: += {_short(r)} (line {_line(r)}){also}: "
                        f"{f.why}")


def _grows(inf, fn, name: str) -> list:
    """The right sides of `name += e` when the function has none of `name++`,
    `name--`, `name -= n` (its `=` writes are 0: written_length), else []."""
    text = _function_text(inf, fn)
    n = re.escape(name.encode())
    if not re.search(rb"\b" + n + rb"\s*\+=", text) or re.search(
            rb"(?:\+\+|--)\s*" + n + rb"\b|\b" + n + rb"\s*(?:\+\+|--|-=)", text):
        return []
    return _added(fn.node, name)


def _zero(n) -> bool:
    z = _unwrap(n)
    return z is not None and z.type == "number_literal" and z.text == b"0"


def _added(root, name: str) -> list:
    """The right sides of `name += e` in the function `root`."""
    out, stack = [], [root]
    target = name.encode()
    while stack:
        n = stack.pop()
        if n.type == "assignment_expression":
            op, left = n.child_by_field_name("operator"), _unwrap(n.child_by_field_name("left"))
            if op is not None and op.type == "+=" and left is not None and left.type == "identifier" \
                    and left.text == target:
                out.append(n.child_by_field_name("right"))
        stack.extend(n.children)
    return sorted(out, key=lambda r: r.start_byte)
