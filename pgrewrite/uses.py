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
<< PAGE_SHIFT`) that a strong rule decided.

Sound rather than clever:
- only a value that is ONE value in the function: a parameter never
  written, or a local with exactly one source (its initialiser, or one `=`
  outside any loop the declaration is not in), never written again (no
  `+=`, `++`, address taken, a macro that may write its argument: do_div(),
  swap(), WRITE_ONCE()..., a for_each loop variable), declared once, not a
  pointer, an array or a struct;
- never a value used in an asm statement (an output operand writes it),
  nor in a function that fills an array of struct pages per user page
  (GUP: offsets and counts into those pages mix PTE and PG);
- never a size in bytes (see _DIMS): a count, an order, a physical or user
  address have a granularity of their own, a length has none; and an
  address only by the use itself (compared with an address, or a units.yaml
  address argument), never through a sum (`start + len` makes no address
  of len) nor a callee;
- every use that says something must say the same unit (granularity AND
  dimension): one disagreeing use, or one where a PTE and a PG value meet,
  and the value has no unit (never a majority); the meeting stays a logic
  question for the site where it happens;
- a use that bounds or steps a changing variable (`i < nr`, `pfn += nr`)
  is not read: the counter has a unit only as its loop reads it;
- the use being asked about (the site's own operand) is not one of the
  uses read, and a use reads other values' uses only through sinks()'s own
  steps, with the value in `seen`: no chain leads back through itself. A
  family use counts only when a strong rule decided it, never one this
  step decided.
"""
from __future__ import annotations

from .filescope import _CHANGES, _STORES
from .nodes import (COMPARISONS as _COMPARE, PEER_CALLS as _PEERS, TYPED_PEER_CALLS as _TYPED,
                    WRAPPERS as _WRAPPERS, args as _args, callee as _callee, line as _line, operator as _op,
                    other_operand as _other, short as _short, unwrap as _unwrap)
from .rules.units import Fact, Unit

# what a use can say of the value: sinks() is asked once per dimension of
# a count; an address only by the use itself (_address_use).
# Never bytes: a length or a file position has no granularity of its own,
# only where it is cut into pages or rounded has (ioremap(phys, len) and
# dma_alloc_coherent(dev, PAGE_ALIGN(len), ...) in one function; get_order(size)
# beside vmem_altmap_free(altmap, size >> PAGE_SHIFT), a count of PFNs).
# A count, an order, an address have one.
_COUNTS = ("count", "order")
_ADDRESSES = ("phys", "user")
_DECLARATORS = ("init_declarator", "declaration", "pointer_declarator", "array_declarator",
                "parameter_declaration", "attributed_declarator", "parenthesized_declarator")


def unit_of(inf, e, fn, depth: int, seen: frozenset) -> Fact | None:
    """The unit of identifier `e` (a variable of `fn`, an
    inference._Function) whose sources say none: what its page-array uses
    count (Inference._page_index_use, as before), else what its other
    uses expect, when they all agree."""
    # a chain cut short among the uses is not the value's own source cut
    # short: the caller does not learn of it (Inference._tracked)
    return inf._tracked(_unit_of, inf, e, fn, depth, seen)[0]


def _unit_of(inf, e, fn, depth: int, seen: frozenset) -> Fact | None:
    earlier = inf._page_index_use(e, fn)
    name = e.text.decode()
    if earlier is not None or fn is None or name in seen or not inf.from_uses:
        return earlier
    memo = inf._tree.uses
    one = (fn.node.start_byte, name)
    if one not in memo:
        memo[one] = _one_value(inf, name, fn)
    if not memo[one]:
        return None
    if inf._per_user_pages(fn) or (inf._site_fn is not None and inf._per_user_pages(inf._site_fn)):
        return None          # pages filled per user page: offsets and counts into them mix PTE and PG
    key = (fn.node.start_byte, name, e.start_byte, depth, seen)   # a chain cut short by depth is no answer for a shallower question
    if key not in memo:
        memo[key] = _from_uses(inf, name, e, fn, depth, seen | {name})
    return memo[key]


def _from_uses(inf, name: str, e, fn, depth: int, seen: frozenset) -> Fact | None:
    """The agreeing unit of `name`'s uses other than `e`; None if none
    says anything or two say different things."""
    found: list[tuple[Fact, int]] = []
    for use in fn.uses.get(name, ()):
        if use.start_byte == e.start_byte or _declarator(inf, use) or _assigned(inf, use) \
                or _steers_a_counter(inf, use, fn):
            continue
        facts = _converted_use(inf, use) + _address_use(inf, use, fn, depth, seen)
        for dim in _COUNTS:
            facts += inf.sinks(use, fn, dim, depth + 1, seen)
        found += [(f, _line(use)) for f in facts]
    if not found:
        return None
    if len({f.unit for f, _ in found}) != 1 or found[0][0].unit.gran not in ("pte", "pg"):
        return None                      # one use disagrees: no unit, never a majority
    f, line = found[0]
    lines = sorted({ln for _, ln in found})
    where = f"its use at line {line}" if len(lines) == 1 else \
        f"its {len(lines)} uses (lines {', '.join(map(str, lines))}), the first at line {line}"
    return Fact(f.unit, f"{name} is {f.unit} by {where}: {f.why}")


def _converted_use(inf, use) -> list[Fact]:
    """A family conversion of the value into bytes: `use << PAGE_SHIFT`,
    `use * PAGE_SIZE` (the value a count), `PAGE_SIZE << use` (an order).
    Only when a strong rule decided that family use: a count of pages has
    the granularity of its pages. Never when only inference would decide
    it (where its bytes go): that use is a site of its own, whose
    granularity is the question, and alloc_low_pages()'s `num << PAGE_SHIFT`
    into get_order() counts page-table pages. Never the other way (`use >> PAGE_SHIFT`,
    `use / PAGE_SIZE`): a length or a file position is cut into pages of
    either size, and one place that cuts it into PG pages says nothing of
    another that cuts it into PTEs (filemap_invalidate_inode())."""
    p, c = inf._up(use)
    if p is None or p.type != "binary_expression":
        return []
    op = _op(p)
    left, right = _unwrap(p.child_by_field_name("left")), _unwrap(p.child_by_field_name("right"))
    other = right if left is not None and left.start_byte == use.start_byte and c == p.child_by_field_name("left") \
        else left
    if other is None or other.type != "identifier" or other.start_byte == use.start_byte:
        return []
    token = other.text.decode()
    dim = None
    if token == "PAGE_SHIFT" and other is right and op == "<<":
        dim = "count"
    elif token == "PAGE_SIZE" and op == "*":
        dim = "count"
    elif token == "PAGE_SIZE" and op == "<<" and other is left:
        dim = "order"
    if dim is None:
        return []
    g = inf.decided.get(other.start_byte)
    if g not in ("pte", "pg"):
        return []
    return [Fact(Unit(g, dim), f"{token} (line {_line(other)}) is {g}")]


def _steers_a_counter(inf, use, fn) -> bool:
    """The use (through + - and parentheses) bounds or steps a variable that
    changes: `i < nr` with i a loop counter, `pfn += nr`. The counter has a
    unit only as its loop reads it (pages[i] beside PFNs or user pages in
    lock-step: riscv's __set_memory, amdgpu_hmm's pages[] filled per PFN),
    which says nothing of the value it is compared with or stepped by."""
    n, p = use, inf.parent(use)
    while p is not None and (p.type in _WRAPPERS or (p.type == "binary_expression" and _op(p) in ("+", "-"))):
        n, p = p, inf.parent(p)
    if p is None:
        return False
    if p.type == "assignment_expression" and _op(p) in ("+=", "-=") and p.child_by_field_name("right") == n:
        return True
    if p.type == "binary_expression" and _op(p) in _COMPARE:
        other = _unwrap(_other(p, n))
        return other is not None and other.type == "identifier" and _varies(inf, other.text.decode(), fn)
    return False


def _varies(inf, name: str, fn) -> bool:
    """`name` takes more than one value in `fn` (a loop counter, an
    accumulator): ++, +=, two sources, address taken..."""
    if name in fn.changed or len(fn.sources.get(name, ())) > 1:
        return True
    for use in fn.uses.get(name, ()):
        raw = inf.parent(use)
        if raw is not None and raw.type == "update_expression":
            return True
        if _assigned(inf, use) and _op(inf._up(use)[0]) != "=":
            return True
    return False


def _address_use(inf, use, fn, depth: int, seen: frozenset) -> list[Fact]:
    """The value is an address (physical, user) by the use itself: compared
    with one (`addr < vma->vm_end`), min/max with one, or a units.yaml
    argument that is one (ioremap(phys, ...)). Never through a sum, nor
    further (`start + len` makes no address of len; an offset handed to a
    function that adds it to vm_start is no address)."""
    p, c = inf._up(use)
    if p is None:
        return []
    out: list[Fact] = []
    if p.type == "binary_expression" and _op(p) in _COMPARE:
        other = _other(p, c)
        f = inf.source(other, fn, depth + 1, seen)
        if f is not None and f.unit.dim in _ADDRESSES:
            out.append(Fact(f.unit, f"compared with {_short(other)}: {f.why}"))
    elif p.type == "argument_list":
        call = inf.parent(p)
        name = _callee(call) if call is not None else None
        args = _args(call) if call is not None else []
        k = next((i for i, a in enumerate(args) if a == c), None)
        if name is None or k is None:
            return []
        if name in _PEERS:
            for i, a in enumerate(args):
                if i != k and not (name in _TYPED and i == 0):
                    g = inf.source(a, fn, depth + 1, seen)
                    if g is not None and g.unit.dim in _ADDRESSES:
                        out.append(Fact(g.unit, f"{name}() with {_short(a)}: {g.why}"))
        for spec in inf.table.arguments.get((name, k + 1), ()):
            if spec.unit is not None and spec.unit.dim in _ADDRESSES:
                out.append(Fact(spec.unit, f"{name}() argument {k + 1} is {spec.unit}"))
    return out


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
    asm = b"asm" in fn.node.text      # only then can a use be an asm operand
    for use in fn.uses.get(name, ()):
        raw = inf.parent(use)
        if raw is None:
            return False
        if _declarator(inf, use):
            declarators += 1
            continue
        if raw.type == "update_expression" or (asm and _in_asm(inf, use, fn)):
            return False
        if _assigned(inf, use) and _op(inf._up(use)[0]) != "=":
            return False                 # `x += n`: another value
        up, c = inf._up(use)
        if up is not None and up.type == "argument_list":
            call = inf.parent(up)
            callee = _callee(call) if call is not None else None
            if callee in _CHANGES or (callee in _STORES and up.named_children and up.named_children[0] == c):
                return False
    if declarators != (0 if param else 1):
        return False                     # declared twice (shadowing), or not in the body
    up = inf.parent(sources[0]) if not param else None
    if up is not None and up.type == "assignment_expression":
        decl = next((u for u in fn.uses.get(name, ()) if _declarator(inf, u)), None)
        if decl is not None and inf._loop_of(sources[0]) != inf._loop_of(decl):
            return False                 # set afresh on each turn of a loop
    return True


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

