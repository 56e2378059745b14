"""Unit inference: decide a family use from where its value comes from and
where it goes.

A use of PAGE_SIZE is bytes at some granularity, `x << PAGE_SHIFT` turns a
count into bytes, `x >> PAGE_SHIFT` bytes into a count, and so on. The
granularity is what the rename decides, and the values around the use say
it: the operand of the conversion (a PFN is PTE, folio_nr_pages() is PG),
the value it is compared with or added to, the parameter it is passed to
(semantic-rules/units.yaml), the buffer it bounds (memset(buf, 0, PAGE_SIZE)
with buf = page_address(p)), the variable it is stored in and where that
goes. Each piece of evidence carries its derivation.

It stays sound rather than clever, inside one function:
- a local's unit is that of its sources (initialiser, `=`): all of them
  must have one and agree; `x += y` is a constraint, not a source; an
  address-taken local, a local written through `*=`, `<<=`... carries none;
- values behind pointers and globals carry none; a parameter carries the
  callback unit units.yaml lists, or, in a file-local function, the
  agreeing unit of its callers' arguments (function summaries, across
  the calls between the file's functions: summaries.py);
- other family uses count only when a strong rule decided them.
Evidence for both granularities at one site is where a PTE-derived and a
PG-derived value meet: a logic site, never settled by majority.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import extents
from .family import Family
from .summaries import Summaries
from .rules.units import Fact, Unit, UnitTable, normal_type

_WRAPPERS = ("parenthesized_expression", "cast_expression")
_COMPARE = frozenset({"<", ">", "<=", ">=", "==", "!="})
_PEERS_CALLS = frozenset({"min", "max", "min_t", "max_t", "clamp", "clamp_t", "clamp_val", "umin", "umax"})
_TYPED_PEERS = frozenset({"min_t", "max_t", "clamp_t"})   # first argument is a type
_SAME_UNIT_CALLS = frozenset({"ALIGN", "ALIGN_DOWN", "round_up", "round_down", "roundup", "rounddown"})
_DIV_CALLS = frozenset({"DIV_ROUND_UP", "DIV_ROUND_UP_ULL", "div_u64"})
_PAGE_ARRAY = frozenset({"struct page * *", "struct page **"})
_POISON_OPS = frozenset({"*=", "/=", "<<=", ">>=", "%=", "&=", "|=", "^="})
_MAX_DEPTH = 4


@dataclass(frozen=True)
class Evidence:
    gran: str      # pte | pg
    chain: str     # the derivation, one line


class _Function:
    """What one function says about its locals: sources, uses, types."""

    def __init__(self, fn, table: UnitTable):
        self.types: dict[str, str] = {}
        self.sources: dict[str, list] = {}
        self.uses: dict[str, list] = {}
        self.poisoned: set[str] = set()
        self.changed: set[str] = set()   # address-taken, or written by `*=`, `<<=`...
        self.params: dict[str, Fact] = {}
        self.node = fn
        self.returns: list = []          # the function's `return e` statements
        decl = fn.child_by_field_name("declarator")
        while decl is not None and decl.type != "function_declarator":
            decl = decl.child_by_field_name("declarator")
        plist = decl.child_by_field_name("parameters") if decl is not None else None
        sig, names = [], []
        for p in (plist.named_children if plist is not None else ()):
            if p.type != "parameter_declaration":
                continue
            name, ptype = _declared(p)
            sig.append(normal_type(ptype))
            names.append(name)
            if name:
                self.types[name] = ptype
                self.poisoned.add(name)          # a parameter's sources are the callers
        for i, f in table.parameters.get(tuple(sig), {}).items():
            if 0 < i <= len(names) and names[i - 1]:
                self.params[names[i - 1]] = f
        self.param_names = names
        body = fn.child_by_field_name("body")
        if body is not None:
            self._read(body)

    def _read(self, body):
        stack = [body]
        while stack:
            n = stack.pop()
            t = n.type
            if t == "declaration":
                for d in n.children_by_field_name("declarator"):
                    name, ptype = _declared(n, d)
                    if not name:
                        continue
                    if name in self.param_names:
                        self.changed.add(name)       # shadowed: the parameter is not one value throughout
                    self.types[name] = ptype
                    if d.type == "init_declarator":
                        v = d.child_by_field_name("value")
                        if v is not None and v.type != "initializer_list":
                            self.sources.setdefault(name, []).append(v)
                        else:
                            self.poisoned.add(name)
            elif t == "assignment_expression":
                left = _unwrap(n.child_by_field_name("left"))
                op = n.child_by_field_name("operator")
                if left is not None and left.type == "identifier":
                    name = left.text.decode()
                    if op is not None and op.type == "=":
                        self.sources.setdefault(name, []).append(n.child_by_field_name("right"))
                    elif op is not None and op.type in _POISON_OPS:
                        self.poisoned.add(name)
                        self.changed.add(name)
            elif t == "pointer_expression" and n.child_by_field_name("operator") is not None \
                    and n.child_by_field_name("operator").type == "&":
                arg = _unwrap(n.child_by_field_name("argument"))
                if arg is not None and arg.type == "identifier":
                    self.poisoned.add(arg.text.decode())
                    self.changed.add(arg.text.decode())
            elif t == "function_definition" and n is not self.node and _macro_loop(n):
                for name in _macro_loop_names(n):     # the macro may assign its loop variable
                    self.poisoned.add(name)
                    self.changed.add(name)
            elif t == "identifier":
                self.uses.setdefault(n.text.decode(), []).append(n)
            elif t == "return_statement":
                self.returns.append(n)
            stack.extend(n.children)


def _macro_loop_names(fn) -> list[str]:
    """The names a macro loop read as a function_definition is given
    (`list_for_each_entry(pos, head, member)`: pos, head, member)."""
    d = fn.child_by_field_name("declarator")
    out, stack = [], [d] if d is not None else []
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            out.append(n.text.decode())
        stack.extend(n.children)
    return out


def _declared(decl, d=None) -> tuple[str | None, str]:
    """(name, type text) of a parameter or of one declarator of a declaration."""
    base = decl.child_by_field_name("type")
    text = base.text.decode(errors="replace") if base is not None else ""
    for q in decl.children:
        if q.type == "type_qualifier" and q.text == b"const":
            text = "const " + text
    d = d if d is not None else decl.child_by_field_name("declarator")
    stars = 0
    while d is not None and d.type in ("init_declarator", "pointer_declarator", "array_declarator",
                                       "parenthesized_declarator", "attributed_declarator"):
        if d.type in ("pointer_declarator", "array_declarator"):
            stars += 1                         # an array's elements: as behind a pointer
        inner = d.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in d.named_children if c.type.endswith("declarator") or c.type == "identifier"), None)
        d = inner
    name = d.text.decode() if d is not None and d.type == "identifier" else None
    return name, text + " *" * stars


def _unwrap(n):
    while n is not None and n.type in _WRAPPERS:
        n = n.child_by_field_name("value") if n.type == "cast_expression" else (n.named_children[0] if n.named_children else None)
    return n


def _ts_parent(n):
    return n.parent


def _macro_loop(fn, parent=None) -> bool:
    """A function_definition without a function declarator, in a body:
    tree-sitter's reading of a macro loop (`for_each_possible_cpu(cpu) {
    ... }`: a type, a parenthesized declarator and a body), whose statements
    are the enclosing function's. `parent`: look at where fn is (a
    SYSCALL_DEFINE0(f) { ... } at the top level is a function)."""
    if parent is not None and (up := parent(fn)) is not None and (
            up.type in ("translation_unit", "linkage_specification", "declaration_list")
            or up.type.startswith("preproc_")):
        return False
    d = fn.child_by_field_name("declarator")
    while d is not None and d.type in ("pointer_declarator", "attributed_declarator"):
        d = d.child_by_field_name("declarator")
    return d is not None and d.type == "parenthesized_declarator"


def _op(n) -> str | None:
    o = n.child_by_field_name("operator")
    return o.type if o is not None else None


def _callee(call) -> str | None:
    f = call.child_by_field_name("function")
    return f.text.decode() if f is not None and f.type == "identifier" else None


def _args(call) -> list:
    a = call.child_by_field_name("arguments")
    return [c for c in a.named_children if c.type != "comment"] if a is not None else []


class Inference:
    """Unit evidence for the sites of one file (make one per file)."""

    def __init__(self, table: UnitTable, family: Family, data: bytes, decided: dict[int, str] | None = None,
                 path: str | None = None):
        self.table = table
        self.path = path                  # a header's static functions are not file-local
        self.names = frozenset(family.names)
        self.data = data
        self.decided = decided or {}      # site start -> pte|pg of strong rule decisions
        self._functions: dict[int, _Function] = {}
        self._summaries: Summaries | None = None   # the file's functions, when a call or parameter asks
        # tree-sitter's Node.parent walks down from the root each time; the
        # site's Scope remembers parents (sites.Scope.parent), set per site
        self.parent = _ts_parent

    # -- where a site is ------------------------------------------------
    def _up(self, n):
        """The parent of n, through parentheses and casts: (parent, child)."""
        p = self.parent(n)
        while p is not None and p.type in _WRAPPERS:
            n, p = p, self.parent(p)
        return p, n

    def _function(self, n) -> _Function | None:
        fn = n
        while fn is not None and (fn.type != "function_definition" or _macro_loop(fn, self.parent)):
            fn = self.parent(fn)
        return self.function_at(fn) if fn is not None else None

    def function_at(self, fn) -> _Function:
        """The _Function of function_definition node `fn` (read once)."""
        got = self._functions.get(fn.start_byte)
        if got is None:
            got = self._functions[fn.start_byte] = _Function(fn, self.table)
        return got

    def summaries(self, fn: _Function | None) -> Summaries | None:
        """Units across the calls between this file's functions (found
        from the tree of `fn`, the function being read)."""
        if self._summaries is None and fn is not None:
            root = fn.node
            while (up := self.parent(root)) is not None:
                root = up
            self._summaries = Summaries(self, root, self.path)
        return self._summaries

    def _line(self, n) -> int:
        return n.start_point[0] + 1

    def source_at(self, n, scope=None) -> Fact | None:
        """The unit of the value of expression `n`, in its function."""
        self.parent = scope.parent if scope is not None else _ts_parent
        return self.source(n, self._function(n))

    # -- sources: what unit a value has, from where it comes -------------
    def source(self, e, fn: _Function | None, depth: int = 0, seen: frozenset = frozenset()) -> Fact | None:
        e = _unwrap(e)
        if e is None or depth > _MAX_DEPTH:
            return None
        t = e.type
        if t == "identifier":
            name = e.text.decode()
            if name in self.names:
                g = self.decided.get(e.start_byte)
                return Fact(Unit(g, "bytes"), f"{name} (line {self._line(e)}) is {g}") if g and name == "PAGE_SIZE" else None
            if fn is None:
                return None
            if name in fn.params:
                f = fn.params[name]
                return Fact(f.unit, f"{name}: {f.why}")
            if name in fn.param_names:
                return self.summaries(fn).parameter(fn, name)
            if (written := extents.written_length(self, name, fn, depth, seen)) is not None:
                return written
            if name in fn.poisoned or name in seen or name not in fn.sources:
                return None
            facts = [self.source(s, fn, depth + 1, seen | {name}) for s in fn.sources[name]]
            if not facts or any(f is None for f in facts) or len({f.unit for f in facts}) != 1:
                return None
            src = fn.sources[name][0]
            return Fact(facts[0].unit, f"{name} = {_short(src)} (line {self._line(src)}): {facts[0].why}")
        if t == "call_expression":
            name = _callee(e)
            if name is None:
                return None
            if name in self.table.returns:
                return self.table.returns[name]
            args = _args(e)
            k, why = self.table.returns_bounded.get(name, (0, ""))
            if 0 < k <= len(args):                 # strlcat(buf, ...): a length within buf
                f = self.source(args[k - 1], fn, depth + 1, seen)
                return Fact(Unit(f.unit.gran, "bytes"), f"{name}() {why} {_short(args[k - 1])}: {f.why}") \
                    if f is not None and f.unit.dim == "buffer" else None
            if name in _SAME_UNIT_CALLS and args:
                return self.source(args[0], fn, depth + 1, seen)
            if name in _DIV_CALLS and len(args) == 2 and _unwrap(args[1]).text == b"PAGE_SIZE":
                f = self.source(args[0], fn, depth + 1, seen)
                if f is not None and f.unit.dim in ("bytes", "user"):
                    return Fact(Unit(f.unit.gran, "count"), f"{f.why}, {name}(..., PAGE_SIZE) gives a page count")
                return None
            if name in _PEERS_CALLS:
                facts = [self.source(a, fn, depth + 1, seen) for a in args[1 if name in _TYPED_PEERS else 0:]]
                if facts and all(f is not None for f in facts) and len({f.unit for f in facts}) == 1:
                    return facts[0]
                return None
            if name in ("PAGE_ALIGN", "PAGE_ALIGN_DOWN", "offset_in_page") and args:
                f = self.source(args[0], fn, depth + 1, seen)
                return f if f is not None and f.unit.dim in ("bytes", "buffer", "phys", "user") else None
            s = self.summaries(fn)
            return s.returned(name) if s is not None else None
        if t == "field_expression":
            fname = e.child_by_field_name("field")
            if fname is None:
                return None
            base = _unwrap(e.child_by_field_name("argument"))
            btype = None
            if base is not None and base.type == "identifier" and fn is not None:
                btype = fn.types.get(base.text.decode())
                btype = btype.replace("const ", "").rstrip(" *") if btype else None
            return self.table.field_fact(fname.text.decode(), btype)
        if t == "binary_expression":
            op = _op(e)
            left, right = e.child_by_field_name("left"), e.child_by_field_name("right")
            lr = _unwrap(right)
            if op in ("<<", ">>") and lr is not None and lr.type == "identifier" and lr.text == b"PAGE_SHIFT":
                f = self.source(left, fn, depth + 1, seen)
                if f is None:
                    return None
                if op == "<<" and f.unit.dim == "count":
                    return Fact(Unit(f.unit.gran, "bytes"), f"{f.why}, << PAGE_SHIFT gives bytes")
                if op == ">>" and f.unit.dim in ("bytes", "phys", "user"):
                    return Fact(Unit(f.unit.gran, "count"), f"{f.why}, >> PAGE_SHIFT gives a page count")
                return None
            ll = _unwrap(left)
            if op in ("<<", "*") and ll is not None and ll.type == "identifier" and ll.text == b"PAGE_SIZE":
                g = self.decided.get(ll.start_byte)      # PAGE_SIZE << order, decided by a rule
                return Fact(Unit(g, "bytes"), f"PAGE_SIZE (line {self._line(ll)}) is {g}") if g else None
            if op in ("*", "/") and lr is not None and lr.type == "identifier" and lr.text == b"PAGE_SIZE":
                f = self.source(left, fn, depth + 1, seen)
                if f is not None and op == "*" and f.unit.dim == "count":
                    return Fact(Unit(f.unit.gran, "bytes"), f"{f.why}, * PAGE_SIZE gives bytes")
                if f is not None and op == "/" and f.unit.dim in ("bytes", "user"):
                    return Fact(Unit(f.unit.gran, "count"), f"{f.why}, / PAGE_SIZE gives a page count")
                return None
            if op in ("+", "-"):
                a = self.source(left, fn, depth + 1, seen)
                if a is not None and a.unit.dim == "buffer":
                    return a if op == "+" else None     # a pointer into the same page
                b = self.source(right, fn, depth + 1, seen)
                # an address plus or minus an offset, or the distance between
                # two addresses: still at the address's granularity
                addr = [f for f in (a, b) if f is not None and f.unit.dim in ("phys", "user")]
                if addr and all(f is None or f.unit == addr[0].unit for f in (a, b)):
                    return addr[0]
                if a is not None and b is not None and a.unit == b.unit and a.unit.dim in ("bytes", "count"):
                    return a
                return None
            return None
        if t == "conditional_expression":
            a = self.source(e.child_by_field_name("consequence"), fn, depth + 1, seen)
            b = self.source(e.child_by_field_name("alternative"), fn, depth + 1, seen)
            return a if a is not None and b is not None and a.unit == b.unit else None
        return None

    # -- sinks: what unit the context expects of a value ------------------
    def sinks(self, e, fn: _Function | None, dim: str, depth: int = 0, seen: frozenset = frozenset()) -> list[Fact]:
        """Facts saying what the context of expression `e` (of dimension
        `dim`: bytes or count) expects, walking up through + - min max."""
        if depth > _MAX_DEPTH:
            return []
        p, e = self._up(e)
        if p is None:
            return []
        t = p.type
        out: list[Fact] = []
        if t == "binary_expression":
            op = _op(p)
            left, right = p.child_by_field_name("left"), p.child_by_field_name("right")
            other = right if left == e else left
            if op in ("+", "-") and dim == "count" and fn is not None:
                o = _unwrap(other)
                if o is not None and o.type == "identifier" \
                        and fn.types.get(o.text.decode(), "").replace("const ", "") == "struct page *":
                    out.append(Fact(Unit("pg", "count"), f"steps the struct page pointer {o.text.decode()}"))
                    return out
            if op in ("+", "-") or op in _COMPARE:
                f = self.source(other, fn, depth + 1, seen)
                if f is not None and (f.unit.dim == dim or (f.unit.dim == "buffer" and dim == "bytes" and op == "+")):
                    out.append(Fact(Unit(f.unit.gran, dim), f"{'compared with' if op in _COMPARE else 'added to'} "
                                                             f"{_short(other)}: {f.why}"))
                elif f is None and op in _COMPARE and dim == "bytes":
                    out += self._checked_then_used(other, fn, depth, seen)
                if op in ("+", "-"):
                    out += self.sinks(p, fn, dim, depth + 1, seen)
            return out
        if t == "subscript_expression" and p.child_by_field_name("index") == e and dim == "count":
            base = _unwrap(p.child_by_field_name("argument"))
            if base is not None and base.type == "identifier" and fn is not None \
                    and fn.types.get(base.text.decode(), "").replace("const ", "") in _PAGE_ARRAY:
                out.append(Fact(Unit("pg", "count"), f"indexes {base.text.decode()}[], an array of struct page pointers"))
            return out
        if t == "conditional_expression" and p.child_by_field_name("condition") != e:
            return self.sinks(p, fn, dim, depth + 1, seen)
        if t == "return_statement" and fn is not None:
            return self.summaries(fn).return_sinks(fn, dim, depth, seen)
        if t == "argument_list":
            call = self.parent(p)
            name = _callee(call) if call is not None and call.type == "call_expression" else None
            if name is None:
                return []
            args = _args(call)
            k = next((i for i, a in enumerate(args) if a == e or (a.start_byte == e.start_byte and a.end_byte == e.end_byte)), None)
            if k is None:
                return []
            if name in _PEERS_CALLS:
                for i, a in enumerate(args):
                    if i == k or (name in _TYPED_PEERS and i == 0):
                        continue
                    f = self.source(a, fn, depth + 1, seen)
                    if f is not None and f.unit.dim == dim:
                        out.append(Fact(f.unit, f"{name}() with {_short(a)}: {f.why}"))
                return out + self.sinks(call, fn, dim, depth + 1, seen)
            for spec in self.table.arguments.get((name, k + 1), ()):
                if spec.unit is not None:
                    if spec.unit.dim == dim:
                        out.append(Fact(spec.unit, f"{name}() argument {k + 1} is {spec.unit}"))
                    continue
                j = spec.bounded_by - 1
                if dim == "bytes" and 0 <= j < len(args):
                    f = self.source(args[j], fn, depth + 1, seen)
                    if f is not None and f.unit.dim == "buffer":
                        out.append(Fact(Unit(f.unit.gran, "bytes"),
                                        f"bounds {_short(args[j])} via {name}() argument {k + 1}: {f.why}"))
            out += extents.length_after_buffer(self, call, name, args, k, dim, fn, depth, seen)
            s = self.summaries(fn)
            return out + (s.argument_sinks(call, name, k, dim, depth, seen) if s is not None else [])
        if t in ("init_declarator", "assignment_expression") and fn is not None:
            if t == "assignment_expression" and (_op(p) not in ("=", "+=", "-=") or p.child_by_field_name("right") != e):
                return []
            target = _unwrap(p.child_by_field_name("declarator" if t == "init_declarator" else "left"))
            if target is None:
                return []
            if target.type == "field_expression":
                f = self.source(target, fn, depth + 1, seen)
                if f is not None and f.unit.dim == dim:
                    out.append(Fact(f.unit, f"stored in {_short(target)}: {f.why}"))
                return out
            if target.type != "identifier":
                return []
            name = target.text.decode()
            if t == "assignment_expression" and _op(p) in ("+=", "-="):
                # x += e: e is of x's unit, as in x + e (a page pointer
                # steps by a count of PG pages; a buffer by PG bytes)
                if dim == "count" and fn.types.get(name, "").replace("const ", "") == "struct page *":
                    return [Fact(Unit("pg", "count"), f"steps the struct page pointer {name}")]
                if name not in seen:
                    f = self.source(target, fn, depth + 1, seen)
                    if f is not None and (f.unit.dim == dim or (f.unit.dim == "buffer" and dim == "bytes")):
                        out.append(Fact(Unit(f.unit.gran, dim), f"added to {name}: {f.why}"))
                    if f is not None and f.unit.dim == "buffer":
                        return out             # a pointer's uses say nothing of the step
            if name in fn.poisoned or name in seen:
                return out
            found = self._sinks_of_uses(name, target, fn, dim, depth, seen | {name}, _assigned,
                                        lambda line: f"{name} (line {line})")
            return out + found
        return out

    def _sinks_of_uses(self, name: str, at, fn: _Function, dim: str, depth: int, seen: frozenset,
                       skip, says) -> list[Fact]:
        """What the uses of variable `name` other than `at` expect of its
        value (sinks), each chain led by `says(line)`; a use `skip(up, use)`
        names (its parent through parentheses and casts, and itself) is not one."""
        found: list[Fact] = []
        for use in fn.uses.get(name, ()):
            if use.start_byte == at.start_byte:
                continue
            up, _ = self._up(use)
            if up is not None and skip(up, use):
                continue
            for f in self.sinks(use, fn, dim, depth + 1, seen):
                found.append(Fact(f.unit, f"{says(self._line(use))}: {f.why}"))
        return found

    def _checked_then_used(self, other, fn: _Function | None, depth: int, seen: frozenset) -> list[Fact]:
        """`len > PAGE_SIZE` where the function then uses `len` as a length
        (copies `len` bytes into a page): what those uses expect of `len`
        is what the comparison's other side is. Only for a variable that
        holds one value throughout: a parameter never assigned, or a local
        assigned once; never one whose address is taken or that `*=`...
        changes."""
        o = _unwrap(other)
        if fn is None or o is None or o.type != "identifier":
            return []
        name = o.text.decode()
        if name in seen or name in fn.changed or name not in fn.types \
                or len(fn.sources.get(name, ())) > (0 if name in fn.poisoned else 1):
            return []
        return self._sinks_of_uses(name, o, fn, "bytes", depth, seen | {name}, _compared,
                                   lambda line: f"{name} is checked against it, then (line {line})")

    # -- a site -----------------------------------------------------------
    def evidence(self, node, token: str, scope=None) -> list[Evidence]:
        """Evidence about the granularity of the family use at `node` (its
        leaf): one entry per independent fact. `scope`: the site's
        sites.Scope, whose parent look-ups are remembered."""
        if node is None:
            return []
        self.parent = scope.parent if scope is not None else _ts_parent
        fn = self._function(node)
        facts: list[Fact] = []
        p, e = self._up(node)
        call = self.parent(p) if p is not None and p.type == "argument_list" else None
        args = _args(call) if call is not None else []
        if token == "PAGE_SIZE":
            if p is not None and p.type == "binary_expression" and _op(p) == "*":
                other = p.child_by_field_name("right") if p.child_by_field_name("left") == e else p.child_by_field_name("left")
                f = self.source(other, fn)
                if f is not None and f.unit.dim == "count":
                    facts.append(Fact(f.unit, f"multiplies {_short(other)}: {f.why}"))
                facts += self.sinks(p, fn, "bytes")
            elif p is not None and p.type == "binary_expression" and _op(p) == "/" and p.child_by_field_name("right") == e:
                left = p.child_by_field_name("left")
                f = self.source(left, fn)
                if f is not None and f.unit.dim == "bytes":
                    facts.append(Fact(f.unit, f"divides {_short(left)}: {f.why}"))
                facts += self.sinks(p, fn, "count")
            elif p is not None and p.type == "binary_expression" and _op(p) in ("<<", "/", "*", "%", ">>", "&", "|"):
                pass
            elif call is not None and _callee(call) in (_DIV_CALLS | _SAME_UNIT_CALLS) and len(args) == 2 and args[1] == e:
                first = args[0]
                f = self.source(first, fn)
                if f is not None and f.unit.dim == "bytes":
                    facts.append(Fact(f.unit, f"{_callee(call)}() of {_short(first)}: {f.why}"))
                facts += self.sinks(call, fn, "count" if _callee(call) in _DIV_CALLS else "bytes")
            else:
                facts += self.sinks(node, fn, "bytes")
        elif token == "PAGE_SHIFT":
            if p is not None and p.type == "binary_expression" and p.child_by_field_name("right") == e \
                    and _op(p) in ("<<", ">>"):
                left = p.child_by_field_name("left")
                f = self.source(left, fn)
                if _op(p) == "<<":
                    if f is not None and f.unit.dim == "count":
                        facts.append(Fact(f.unit, f"shifts {_short(left)} to bytes: {f.why}"))
                    facts += self.sinks(p, fn, "bytes")
                else:
                    if f is not None and f.unit.dim in ("bytes", "phys", "user"):
                        facts.append(Fact(f.unit, f"shifts {_short(left)} to a page count: {f.why}"))
                    facts += self.sinks(p, fn, "count")
        elif token in ("PAGE_ALIGN", "PAGE_ALIGN_DOWN", "offset_in_page", "PAGE_ALIGNED"):
            call = self.parent(node)
            if call is not None and call.type == "call_expression" and call.child_by_field_name("function") == node:
                args = _args(call)
                f = self.source(args[0], fn) if args else None
                # not a physical address: page_to_phys(page) rounded is a
                # struct page's boundary, not only a frame's
                if f is not None and f.unit.dim in ("bytes", "buffer", "user"):
                    facts.append(Fact(f.unit, f"{token}() of {_short(args[0])}: {f.why}"))
                if token != "PAGE_ALIGNED":
                    facts += self.sinks(call, fn, "bytes")
        elif token == "PAGE_MASK":
            q, e2 = p, e
            if q is not None and q.type == "unary_expression" and _op(q) == "~":
                q, e2 = self._up(q)
            if q is not None and q.type == "binary_expression" and _op(q) == "&":
                other = q.child_by_field_name("right") if q.child_by_field_name("left") == e2 else q.child_by_field_name("left")
                f = self.source(other, fn)
                if f is not None and f.unit.dim in ("bytes", "buffer", "user"):
                    facts.append(Fact(f.unit, f"masks {_short(other)}: {f.why}"))
        return [Evidence(f.unit.gran, f.why) for f in facts if f.unit.gran in ("pte", "pg")]


    # -- a macro's body: its value goes where the code uses the macro --------
    def through_macro(self, found, parsed) -> list[Evidence]:
        """Evidence for a site in an object-like macro's body whose value is
        the macro's value at the site's granularity (`#define BUF_LEN (2 *
        PAGE_SIZE)`, `#define MY_SHIFT PAGE_SHIFT`): what each use of the
        macro in the file's code says of that value, as if the family name
        stood there. Only bytes-preserving arithmetic leads from the site to
        the body (+ -, * or << by other than the family; not / nor sizeof)."""
        scope, node = found.scope, found.node
        macro = found.site.function
        uses = parsed.macro_uses.get(macro) if macro else None
        if not uses or node is None or scope is None or parsed.root is None:
            return []
        token = found.site.token
        n, p = node, scope.parent(node)
        while p is not None and p.type in _WRAPPERS:
            n, p = p, scope.parent(p)
        while token == "PAGE_SIZE" and p is not None and (
                p.type in _WRAPPERS
                or (p.type == "binary_expression" and _op(p) in ("+", "-"))
                or (p.type == "binary_expression" and _op(p) == "*" and not _mentions(p, self.names, n))
                or (p.type == "binary_expression" and _op(p) == "<<" and p.child_by_field_name("left") == n
                    and not _mentions(p, self.names, n))):
            n, p = p, scope.parent(p)
        if p is None or p.type != "expression_statement" or p.named_child_count != 1 \
                or scope.parent(p) != scope.root or scope.root is None:
            return []
        if sum(1 for c in scope.root.children if c.is_named and c.type not in ("comment",)) != 1:
            return []                          # the body is more than one expression
        out: list[Evidence] = []
        for s, e in uses:
            use = parsed.root.descendant_for_byte_range(s, e)
            if use is None or use.type != "identifier" or use.start_byte != s or use.end_byte != e:
                continue
            line = use.start_point[0] + 1
            for ev in self.evidence(use, token, scope=parsed.scope):
                out.append(Evidence(ev.gran, f"{macro} is used at line {line}: {ev.chain}"))
        return out


def _assigned(up, use) -> bool:
    """`use = ...`: a new value, not a use of the old one."""
    return up.type == "assignment_expression" and _unwrap(up.child_by_field_name("left")) == use


def _compared(up, use) -> bool:
    """`use < ...`: another check, not a use."""
    return up.type == "binary_expression" and _op(up) in _COMPARE


def _mentions(n, names, but) -> bool:
    """A family name in `n` other than in its child `but`."""
    stack = [c for c in n.children if c != but]
    while stack:
        c = stack.pop()
        if c.type == "identifier" and c.text.decode() in names:
            return True
        if c.type == "sizeof_expression":
            return True                        # bytes of a type: a count of elements follows
        stack.extend(c.children)
    return False


def _short(n, limit: int = 40) -> str:
    text = " ".join(n.text.decode(errors="replace").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
