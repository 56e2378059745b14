"""A value's unit from its own other uses (unit inference, issue 17).

Inference.source() gives an operand the unit of where it comes from. When
that says nothing (a parameter of a function whose callers are in other
files, a local set from an unknown value), the value's OTHER uses in the
function may say what it is: `order` handed to alloc_pages() is a buddy
order, `pfn` handed to remap_pfn_range() a PFN, `npages` compared with a
folio_nr_pages() a count of PG pages. What each use expects of the value is
what Inference.sinks() reads (units.yaml arguments, the callee of a call
in the file, a comparison or sum with a value of known unit, a local it is
stored in and where that goes), plus a conversion of it into bytes (`npages
<< PAGE_SHIFT`): what a strong rule decided there, or where the bytes go.

Sound rather than clever:
- only a value that is ONE value in the function: a parameter never
  written, or a local with exactly one source (its initialiser, or one `=`
  outside any loop the declaration is not in), never written again (no
  `+=`, `++`, address taken, a macro that may write its argument: do_div(),
  swap(), WRITE_ONCE()..., a for_each loop variable), declared once, not a
  pointer, an array or a struct;
- never a value used in an asm statement (an output operand writes it),
  nor in a function that fills an array of struct pages per user page
  (GUP: offsets and counts into those pages mix PTE and PG), nor a local
  set to an offset into a page (`a & ~PAGE_MASK`): the address decides
  which page, not where the offset goes;
- every use that says something must say the same unit (granularity AND
  dimension): one disagreeing use, or one where a PTE and a PG value meet,
  and the value has no unit (never a majority); the meeting stays a logic
  question for the site where it happens;
- the use being asked about (the site's own operand) is not one of the
  uses read, and a use reads other values' uses only through sinks()'s own
  steps, with the value in `seen`: no chain leads back through itself. A
  family use counts only when a strong rule decided it, never one this
  step decided.
"""
from __future__ import annotations

from .filescope import _CHANGES, _STORES
from .nodes import line as _line, short as _short, unwrap as _unwrap
from .rules.units import Fact, Unit

# what a use can expect of the value: sinks() is asked once per dimension
_DIMS = ("count", "bytes", "order", "phys", "user")
_LOOPS = ("for_statement", "while_statement", "do_statement")
_DISAGREE = Fact(Unit("", ""), "its uses disagree")     # not a unit: a veto
_DECLARATORS = ("init_declarator", "declaration", "pointer_declarator", "array_declarator",
                "parameter_declaration", "attributed_declarator", "parenthesized_declarator")


def unit_of(inf, e, fn, depth: int, seen: frozenset) -> Fact | None:
    """The unit of identifier `e` (a variable of `fn`, an
    inference._Function) whose sources say none: what its page-array uses
    count (Inference._page_index_use), else what its other uses expect.
    A value that is one value in the function and has a use that
    disagrees with the rest has none, whichever step found it."""
    earlier = inf._page_index_use(e, fn)
    name = e.text.decode()
    if fn is None or name in seen or not _one_value(inf, name, fn):
        return earlier
    if inf._per_user_pages(fn) or (inf._site_fn is not None and inf._per_user_pages(inf._site_fn)):
        return earlier       # pages filled per user page: offsets and counts into them mix PTE and PG
    key = (fn.node.start_byte, name, e.start_byte, seen)
    memo = inf._tree.uses
    if key not in memo:
        memo[key] = _from_uses(inf, name, e, fn, depth, seen | {name})
    mine = memo[key]
    if mine is _DISAGREE or (earlier is not None and mine is not None and mine.unit != earlier.unit):
        return None
    return earlier or mine


def _from_uses(inf, name: str, e, fn, depth: int, seen: frozenset) -> Fact | None:
    """The agreeing unit of `name`'s uses other than `e`; None if none
    says anything, _DISAGREE if two say different things."""
    found: list[tuple[Fact, int]] = []
    for use in fn.uses.get(name, ()):
        if use.start_byte == e.start_byte or _declarator(inf, use) or _assigned(inf, use):
            continue
        facts = _converted_use(inf, use, fn, depth, seen)
        for dim in _DIMS:
            facts += inf.sinks(use, fn, dim, depth + 1, seen)
        found += [(f, _line(use)) for f in facts]
    if not found:
        return None
    if len({f.unit for f, _ in found}) != 1 or found[0][0].unit.gran not in ("pte", "pg"):
        return _DISAGREE
    f, line = found[0]
    lines = sorted({ln for _, ln in found})
    where = f"its use at line {line}" if len(lines) == 1 else \
        f"its {len(lines)} uses (lines {', '.join(map(str, lines))}), the first at line {line}"
    return Fact(f.unit, f"{name} is {f.unit} by {where}: {f.why}")


def _converted_use(inf, use, fn, depth: int, seen: frozenset) -> list[Fact]:
    """A family conversion of the value into bytes: `use << PAGE_SHIFT`,
    `use * PAGE_SIZE` (the value a count), `PAGE_SIZE << use` (an order).
    Its facts are those of the family use when a strong rule decided it
    (never when only inference did), else what the bytes' own context
    expects (sinks()), at the same granularity: a count of pages has the
    granularity of its pages. Never the other way (`use >> PAGE_SHIFT`,
    `use / PAGE_SIZE`): a length or a file position is cut into pages of
    either size, and one place that cuts it into PG pages says nothing of
    another that cuts it into PTEs (filemap_invalidate_inode())."""
    p, c = inf._up(use)
    if p is None or p.type != "binary_expression":
        return []
    op = p.child_by_field_name("operator")
    op = op.type if op is not None else None
    left, right = _unwrap(p.child_by_field_name("left")), _unwrap(p.child_by_field_name("right"))
    other = right if left is not None and left.start_byte == use.start_byte and c == p.child_by_field_name("left") \
        else left
    if other is None or other.type != "identifier" or other.start_byte == use.start_byte:
        return []
    token = other.text.decode()
    dim = out = None
    if token == "PAGE_SHIFT" and other is right and op == "<<":
        dim, out = "count", "bytes"
    elif token == "PAGE_SIZE" and op == "*":
        dim, out = "count", "bytes"
    elif token == "PAGE_SIZE" and op == "<<" and other is left:
        dim, out = "order", "bytes"
    if dim is None:
        return []
    g = inf.decided.get(other.start_byte)
    if g in ("pte", "pg"):
        return [Fact(Unit(g, dim), f"{token} (line {_line(other)}) is {g}")]
    return [Fact(Unit(f.unit.gran, dim), f"{_short(p)} (line {_line(p)}): {f.why}")
            for f in inf.sinks(p, fn, out, depth + 1, seen) if f.unit.dim == out]


def _one_value(inf, name: str, fn) -> bool:
    """`name` holds one value throughout `fn` (see the module docstring)."""
    ptype = fn.types.get(name)
    if ptype is None or "*" in ptype or "[" in ptype or ptype.replace("const ", "").startswith(("struct ", "union ")):
        return False
    if name in fn.changed:
        return False
    param = name in fn.param_names
    sources = fn.sources.get(name, ())
    if len(sources) != (0 if param else 1):
        return False
    declarators = 0
    for use in fn.uses.get(name, ()):
        raw = inf.parent(use)
        if raw is None:
            return False
        if _declarator(inf, use):
            declarators += 1
            continue
        if raw.type == "update_expression" or _in_asm(inf, use, fn):
            return False
        if _assigned(inf, use) and inf._up(use)[0].child_by_field_name("operator").type != "=":
            return False                 # `x += n`: another value
        up, c = inf._up(use)
        if up is not None and up.type == "argument_list":
            call = inf.parent(up)
            f = call.child_by_field_name("function") if call is not None else None
            callee = f.text.decode() if f is not None and f.type == "identifier" else None
            if callee in _CHANGES or (callee in _STORES and up.named_children and up.named_children[0] == c):
                return False
    if declarators != (0 if param else 1):
        return False                     # declared twice (shadowing), or not in the body
    if not param and _page_offset(sources[0]):
        return False                     # an offset into the page its address lies in: the address decides
    up = inf.parent(sources[0]) if not param else None
    if up is not None and up.type == "assignment_expression":
        decl = next((u for u in fn.uses.get(name, ()) if _declarator(inf, u)), None)
        if decl is not None and _loop(inf, sources[0], fn) != _loop(inf, decl, fn):
            return False                 # set afresh on each turn of a loop
    return True


def _page_offset(src) -> bool:
    """`src` takes an address's offset into its page (`a & ~PAGE_MASK`,
    offset_in_page(a), `a & (PAGE_SIZE - 1)`, `a % PAGE_SIZE`): which page
    that is (an allocated page, or a frame a user address maps) is the
    address's unit, and where the offset goes cannot say it (a user
    address's offset used in a struct page is where the two meet)."""
    stack = [src]
    while stack:
        n = stack.pop()
        if n.type == "identifier" and n.text in (b"PAGE_MASK", b"offset_in_page"):
            return True
        if n.type == "binary_expression":
            op = n.child_by_field_name("operator")
            if op is not None and op.type in ("&", "%") and b"PAGE_SIZE" in n.text:
                return True
        stack.extend(n.children)
    return False


def _declarator(inf, use) -> bool:
    raw = inf.parent(use)
    return raw is not None and raw.type in _DECLARATORS and raw.child_by_field_name("declarator") == use


def _assigned(inf, use) -> bool:
    """`use = ...`: the value's one source, not a use of it."""
    up, c = inf._up(use)
    return up is not None and up.type == "assignment_expression" and up.child_by_field_name("left") == c


def _in_asm(inf, n, fn) -> bool:
    p = inf.parent(n)
    while p is not None and p.start_byte != fn.node.start_byte:
        if p.type == "gnu_asm_expression":
            return True
        p = inf.parent(p)
    return False


def _loop(inf, n, fn):
    """The innermost loop around `n` in `fn` (its start), else None."""
    p = inf.parent(n)
    while p is not None and p.start_byte != fn.node.start_byte:
        if p.type in _LOOPS:
            return p.start_byte
        p = inf.parent(p)
    return None
