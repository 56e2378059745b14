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
- values behind pointers carry none, globals as filescope.py says; a parameter carries the
  callback unit units.yaml lists, or, in a file-local function, the
  agreeing unit of its callers' arguments (function summaries, across
  the calls between the file's functions: summaries.py);
- other family uses count only when a strong rule decided them;
- `x << (PAGE_SHIFT - K)` turns a count of pages into units of 2^K bytes
  (KiB, blocks, a device's frames) at the count's granularity, and
  `x >> (PAGE_SHIFT - K)` such units into a count read where it goes;
- `1 << order` counts the pages of a buddy block at the order's granularity;
  `PAGE_SIZE / sizeof(T)` counts things per page, and what dividing by it
  gives is a count of pages, read where it goes;
- struct pages (the `pages` step): an index into an array of struct page
  pointers counts PG pages, and a counter with no unit of its own takes
  the count its uses say (pages[i], page + i, nth_page(p, i)), read inside
  its loop; a length passed with an allocated struct page (pg-page) is PG;
  offset_in_page(X) handed on beside virt_to_page(X) is PG. Never where
  GUP fills the array (one entry per user page) or the loop walks PFNs.
A user address stepped by PAGE_SIZE (`vmf->address + PAGE_SIZE`, `addr +=
PAGE_SIZE` with addr = vma->vm_start) steps by one PTE, unless the
"address" may be a length (a distance between two addresses) or the loop
also turns struct pages into PFNs (one page mapped per step: logic).
Evidence for both granularities at one site is where a PTE-derived and a
PG-derived value meet: a logic site, never settled by majority.
Where source() gives a value cut into pages no unit (issue 17, `nested`):
- `a->b->f`, `a->b.f`, `a.b.f`: b's struct type is a header's, read from
  units-mined.yaml `members` (pgrewrite/members.py: every definition of
  the struct in the tree agrees on it), so f's units.yaml field unit
  holds; a's own type is that of a local or parameter, never a cast, call
  or index on the way;
- `(A + d) >> PAGE_SHIFT` (and masked, divided, offset_in_page()): a byte
  position of known unit displaced by integer locals or parameters of
  none keeps its unit (_displaced); never a difference, never when a term
  is an address or a local whose sources disagree;
- `X & (PAGE_SIZE - 1)` masks X as `X & ~PAGE_MASK` does;
- `n * (PAGE_SIZE >> K)`, `n * (PAGE_SIZE / K)` (K a number or constant):
  n pages counted in fractions of a page, at n's granularity.
Refused (gold round 7): a parameter's sinks through a cap (min(), clamp(),
`if (x > len) x = len;`):
the chunk is a page length, the parameter is not (summaries.CAPPED, down
nested summaries); a PFN return (PHYS_PFN()) of a length: a page count of
the length's unit, or nothing for a difference; `buffer + off` where off is
the offset of A in A's own page: A's unit, not the buffer's, says the page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter

from . import extents, filescope, once, parsing, uses
from .family import Family
from .nodes import (COMPARISONS as _COMPARE, PEER_CALLS as _PEERS_CALLS, TYPED_PEER_CALLS as _TYPED_PEERS,
                    WRAPPERS as _WRAPPERS, args as _args, callee as _callee, declared, function_declarator,
                    line as _line, operator as _op, other_operand as _other, short as _short, unwrap as _unwrap)
from .summaries import CAPPED, Summaries
from .rules.units import Fact, Unit, UnitTable, normal_type

# the integer types of a displacement (_displaced): never a pointer-sized
# one (long, u64: kernel, physical and DMA addresses are kept in them)
_DISPLACEMENT_TYPES = frozenset({"unsigned", "signed", "int", "short", "char", "size_t", "ssize_t",
                                 "loff_t", "off_t", "u8", "u16", "u32", "s8", "s16", "s32",
                                 "__u32", "__s32", "uint"})
_SAME_UNIT_CALLS = frozenset({"ALIGN", "ALIGN_DOWN", "round_up", "round_down", "roundup", "rounddown"})
_DIV_CALLS = frozenset({"DIV_ROUND_UP", "DIV_ROUND_UP_ULL", "div_u64"})
_PAGE_ARRAY = frozenset({"struct page * *", "struct page **"})
_POISON_OPS = frozenset({"*=", "/=", "<<=", ">>=", "%=", "&=", "|=", "^="})
_START = attrgetter("start_byte")
_READ_KINDS = ("declaration", "assignment_expression", "pointer_expression", "function_definition",
               "return_statement")     # what _Function._read looks at; identifiers only when asked
_MAX_DEPTH = 4
_ADDED_TO = "is added to "   # _counts: a counter added to a count, which may veto but never decide
MEET = "pte+pg"     # the granularity of a value where a PTE and a PG value met
_MISS = object()    # no answer kept (None is one)


@dataclass(frozen=True)
class Evidence:
    gran: str      # pte | pg
    chain: str     # the derivation, one line


@dataclass
class _TreeMemo:
    """What Inference keeps of one tree (keyed by node offsets)."""

    functions: dict = field(default_factory=dict)     # function start -> _Function
    summaries: Summaries | None = None                # its functions, when a call or parameter asks
    page_index: dict = field(default_factory=dict)    # (function, variable, loop) -> what its uses count
    gup: dict = field(default_factory=dict)           # function start -> fills a page array per user page
    pfn: dict = field(default_factory=dict)           # loop/function start -> walks PFNs beside pages
    uses: dict = field(default_factory=dict)          # uses.py: (function, name[, asked at, seen]) -> one value?, unit
    pinned_fields: frozenset | None = None            # fields the tree hands to GUP as its page array
    gup_named: frozenset | None = None                # its definitions whose text names a GUP call


class _Function:
    """What one function says about its locals: sources, uses, types."""

    def __init__(self, fn, table: UnitTable):
        self.types: dict[str, str] = {}
        self.sources: dict[str, list] = {}
        self._uses: dict[str, list] | None = None    # `uses`, listed when first asked for
        self.poisoned: set[str] = set()
        self.changed: set[str] = set()   # address-taken, or written by `*=`, `<<=`...
        self.sums: dict[str, list] = {}   # name -> what `+=`/`-=` add to or take from it
        self.params: dict[str, Fact] = {}
        self.node = fn
        self.returns: list = []          # the function's `return e` statements
        decl = function_declarator(fn)
        plist = decl.child_by_field_name("parameters") if decl is not None else None
        sig, names = [], []
        for p in (plist.named_children if plist is not None else ()):
            if p.type != "parameter_declaration":
                continue
            name, ptype = declared(p)
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

    @property
    def uses(self) -> dict[str, list]:
        """Name -> its identifiers in the body, last first. Listed when first
        asked for: many functions are read for their sources and types only."""
        if self._uses is None:
            uses = self._uses = {}
            body = self.node.child_by_field_name("body")
            found = parsing.nodes_of_kinds(body, ("identifier",)).get("identifier", ()) if body is not None else ()
            for n in sorted(found, key=_START, reverse=True):
                uses.setdefault(n.text.decode(), []).append(n)
        return self._uses

    def _read(self, body):
        found = parsing.nodes_of_kinds(body, _READ_KINDS)     # kind -> nodes, in no useful order
        # in the order of a walk that visits a node before what it holds,
        # and a later sibling before an earlier one (a local's sources and
        # uses are listed in that order, and derivations name the first)
        writes = sorted(found.get("declaration", []) + found.get("assignment_expression", []),
                        key=lambda n: (-n.end_byte, n.start_byte))
        for n in writes:
            if n.type == "declaration":
                for d in n.children_by_field_name("declarator"):
                    name, ptype = declared(n, d)
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
            else:
                left = _unwrap(n.child_by_field_name("left"))
                op = n.child_by_field_name("operator")
                if left is not None and left.type == "identifier":
                    name = left.text.decode()
                    if op is not None and op.type == "=":
                        self.sources.setdefault(name, []).append(n.child_by_field_name("right"))
                    elif op is not None and op.type in ("+=", "-="):
                        self.sums.setdefault(name, []).append(n.child_by_field_name("right"))
                    elif op is not None and op.type in _POISON_OPS:
                        self.poisoned.add(name)
                        self.changed.add(name)
        for n in found.get("pointer_expression", ()):
            op = n.child_by_field_name("operator")
            if op is not None and op.type == "&":
                arg = _unwrap(n.child_by_field_name("argument"))
                if arg is not None and arg.type == "identifier":
                    self.poisoned.add(arg.text.decode())
                    self.changed.add(arg.text.decode())
        for n in found.get("function_definition", ()):
            if n is not self.node and _macro_loop(n):
                for name in _macro_loop_names(n):     # the macro may assign its loop variable
                    self.poisoned.add(name)
                    self.changed.add(name)
        self.returns = sorted(found.get("return_statement", []), key=lambda n: (-n.end_byte, n.start_byte))


def _updated(use, parent) -> bool:
    """`use` is the operand of `++` or `--`."""
    up = parent(use)
    while up is not None and up.type == "parenthesized_expression":
        up = parent(up)
    return up is not None and up.type == "update_expression"


def _number(e) -> bool:
    e = _unwrap(e)
    return e is not None and e.type == "number_literal"


def _zero(e) -> bool:
    e = _unwrap(e)
    return e is not None and e.type == "number_literal" and e.text.rstrip(b"uUlL") in (b"0", b"0x0")


def _distance(e, fn: _Function) -> bool:
    """`e` may be the distance between two addresses (`vm_end - vm_start`,
    or a local set from a difference), a length rather than an address: a
    length grown by PAGE_SIZE is not an address stepped by one."""
    e = _unwrap(e)
    if e is not None and e.type == "identifier":
        return any(_distance(s, fn) for s in fn.sources.get(e.text.decode(), ()))
    return e is not None and e.type == "binary_expression" and _op(e) == "-"


def _macro_loop_names(fn) -> list[str]:
    """The names a macro loop read as a function_definition is given
    (`list_for_each_entry(pos, head, member)`: pos, head, member)."""
    d = fn.child_by_field_name("declarator")
    return [n.text.decode() for n in _identifiers(d)] if d is not None else []


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


class Inference:
    """Unit evidence for the sites of one file (make one per file)."""

    def __init__(self, table: UnitTable, family: Family, data: bytes, decided: dict[int, str] | None = None,
                 path: str | None = None):
        self.table = table
        self.path = path                  # a header's static functions are not file-local
        self.names = frozenset(family.names)
        self.data = data
        self.decided = decided or {}      # site start -> pte|pg of strong rule decisions
        # a value's unit from its other uses (uses.py) reads the strong
        # decisions: off until they are known (while rules ask `unit:`,
        # "from where it comes"), on for the evidence
        self.from_uses = decided is not None
        # what is read of one tree, by node offsets: the file's, or a macro
        # body's, parsed alone, whose offsets (and wrapper function) every
        # other body's share: each tree keeps its own (see _enter)
        self._trees: dict[int | None, _TreeMemo] = {}
        self._enter(None)
        self._site_fn: _Function | None = None    # the function of the site asked about
        self._answers: dict = {}          # source() and sinks() answers (_kept), with their _cut
        # whether an answer being computed met the depth limit (its chain was
        # cut short): then a local whose sources said nothing may be a local
        # whose sources were not read to the end, and its uses do not decide it
        self._cut = False
        self._gup_text: bool | None = None  # the file names a GUP call (_gup_in_file)
        # tree-sitter's Node.parent walks down from the root each time; the
        # site's Scope remembers parents (sites.Scope.parent), set per site
        self.parent = _ts_parent

    def close(self) -> None:
        """Drop what was read of the file's trees, once its sites are
        decided: the trees' memos, summaries and file-scope tables refer
        back to this object, and without the cycle reference counting frees
        the file's analysis at once (runner.py collects cycles only every
        few dozen files)."""
        self._trees.clear()
        self._tree = None
        self.__dict__.pop("_filescope", None)       # filescope.py keeps its table here
        self._answers.clear()
        self._site_fn = None
        self.parent = _ts_parent

    def know(self, decided: dict[int, str]) -> None:
        """The strong rule decisions of the file's sites, once all are made:
        facts from now on (the functions already read stay read)."""
        self.decided = decided
        self.from_uses = True
        self._answers.clear()             # computed from fewer facts

    def _enter(self, scope) -> None:
        """Read the tree of `scope` (a sites.Scope; None: the file's) from
        now on: its parents and its own memos."""
        self.parent = scope.parent if scope is not None else _ts_parent
        key = scope.delta if scope is not None and scope.macro is not None else None
        # a macro body's nodes sit at fragment offsets: strong decisions are
        # keyed by file offsets (file offset = node offset + delta)
        self._delta = scope.delta if scope is not None else 0
        m = self._trees.get(key)
        if m is None:
            m = self._trees[key] = _TreeMemo()
        self._tree = m

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
        got = self._tree.functions.get(fn.start_byte)
        if got is None:
            got = self._tree.functions[fn.start_byte] = _Function(fn, self.table)
        return got

    def summaries(self, fn: _Function | None) -> Summaries | None:
        """Units across the calls between this file's functions (found
        from the tree of `fn`, the function being read)."""
        if self._tree.summaries is None and fn is not None:
            root = fn.node
            while (up := self.parent(root)) is not None:
                root = up
            self._tree.summaries = Summaries(self, root, self.path)
        return self._tree.summaries

    def file_summaries(self, root) -> Summaries:
        """The Summaries of the file's tree `root` (mining.py asks about
        every function of a file, not from a site)."""
        self._enter(None)
        if self._tree.summaries is None:
            self._tree.summaries = Summaries(self, root, self.path)
        return self._tree.summaries

    def source_at(self, n, scope=None) -> Fact | None:
        """The unit of the value of expression `n`, in its function."""
        self._enter(scope)
        self._site_fn = self._function(n)
        return self.source(n, self._site_fn)

    def on_user_pages(self, n, scope=None) -> bool:
        """The function around `n` works on user pages (_per_user_pages):
        the rule language's `user-pages` condition."""
        self._enter(scope)
        fn = self._function(n)
        return fn is not None and self._per_user_pages(fn)

    # -- remembered answers ---------------------------------------------
    # Sites of one function ask the same source() and sinks() questions
    # (a fifth of the calls, with their whole derivations below them). An
    # answer is kept when no Once guard is open (once.nothing_open): then it
    # is what the same question asked again with nothing open computes. The
    # key holds what an answer depends on besides the question itself: the
    # tree read (its memo), the site's function (page-array facts) and the
    # facts known (know() forgets every kept answer).

    def _kept(self, key):
        if not once.nothing_open():
            return None, None
        key = (id(self._tree), id(self._site_fn)) + key
        return key, self._answers.get(key, _MISS)

    def source(self, e, fn: _Function | None, depth: int = 0, seen: frozenset = frozenset()) -> Fact | None:
        key, hit = self._kept(("source", e.id if e is not None else None, id(fn), depth, seen))
        if key is None:
            return self._source(e, fn, depth, seen)
        if hit is _MISS:
            hit = self._answers[key] = self._tracked(self._source, e, fn, depth, seen)
        self._cut |= hit[1]
        return hit[0]

    def sinks(self, e, fn: _Function | None, dim: str, depth: int = 0, seen: frozenset = frozenset()) -> list[Fact]:
        """Facts saying what the context of expression `e` (of dimension
        `dim`: bytes, count, or per: things per page) expects, walking up
        through + - min max."""
        key, hit = self._kept(("sinks", e.id if e is not None else None, id(fn), dim, depth, seen))
        if key is None:
            return self._sinks(e, fn, dim, depth, seen)
        if hit is _MISS:
            hit = self._answers[key] = self._tracked(lambda *a: tuple(self._sinks(*a)), e, fn, dim, depth, seen)
        self._cut |= hit[1]
        return list(hit[0])

    def _tracked(self, compute, *args):
        """compute(*args) and whether it met the depth limit."""
        outer, self._cut = self._cut, False
        try:
            answer = compute(*args)
            return answer, self._cut
        finally:
            self._cut = outer

    # -- sources: what unit a value has, from where it comes -------------
    def _source(self, e, fn: _Function | None, depth: int = 0, seen: frozenset = frozenset()) -> Fact | None:
        e = _unwrap(e)
        if e is None:
            return None
        if depth > _MAX_DEPTH:
            f = self._looked_up(e, fn)
            self._cut |= f is None
            return f
        t = e.type
        if t == "identifier":
            name = e.text.decode()
            if name in self.names:
                g = self.decided.get(e.start_byte + self._delta)
                return Fact(Unit(g, "bytes"), f"{name} (line {_line(e)}) is {g}") if g and name == "PAGE_SIZE" else None
            if fn is None:
                return None
            if name in fn.params:
                f = fn.params[name]
                return Fact(f.unit, f"{name}: {f.why}")
            if name in fn.param_names:
                return self.summaries(fn).parameter(fn, name) or uses.unit_of(self, e, fn, depth, seen) \
                    or extents.buffer_by_use(self, fn, name)
            if name not in fn.types:                 # a file-scope variable: its writes in the file
                return filescope.variable(self, fn, name, depth, seen)
            if (written := extents.written_length(self, name, fn, depth, seen)) is not None:
                return written
            summed = name in fn.sums and name not in fn.param_names
            pure = summed and all(_zero(v) for v in fn.sources.get(name, ()))
            if pure:
                got = self._summed(name, fn, depth, seen)
                if got is not False:
                    return got
            if name in fn.poisoned or name in seen or name not in fn.sources:
                return None if name in seen else uses.unit_of(self, e, fn, depth, seen)
            facts, cut = self._tracked(lambda: [self.source(s, fn, depth + 1, seen | {name})
                                                for s in fn.sources[name]])
            self._cut |= cut
            if not facts or any(f is None for f in facts) or len({f.unit for f in facts}) != 1:
                if any(f is not None for f in facts) or cut:
                    return None      # or its sources were not read to the end: its uses would contradict them unseen
                return uses.unit_of(self, e, fn, depth, seen) or extents.buffer_by_use(self, fn, name)
            if summed and not pure:
                # added to in place: a part of another known unit takes the
                # unit away, or is where a PTE and a PG value meet (a + b)
                parts = self._added(name, fn, depth, seen)
                if parts is None or len({f.unit for f in parts}) > 1:
                    return None
                if parts and parts[0].unit != facts[0].unit:
                    a, b = facts[0], parts[0]
                    if a.unit.dim == b.unit.dim and a.unit.dim in ("bytes", "count") \
                            and {a.unit.gran, b.unit.gran} == {"pte", "pg"}:
                        src = fn.sources[name][0]
                        return Fact(Unit(MEET, a.unit.dim), f"{name} = {_short(src)} (line {_line(src)}) is "
                                                            f"{a.unit.gran} ({a.why}) but is added to "
                                                            f"{b.unit.gran} ({b.why})")
                    return None
            src = fn.sources[name][0]
            return Fact(facts[0].unit, f"{name} = {_short(src)} (line {_line(src)}): {facts[0].why}")
        if t == "call_expression":
            name = _callee(e)
            if name is None:
                return None
            args = _args(e)
            if name in self.table.returns:
                f = self.table.returns[name]
                if f.unit.gran == "pte" and f.unit.dim == "count" and len(args) == 1:
                    return self._frames_of(name, f, args[0], fn, depth, seen)
                return f
            k, why = self.table.returns_bounded.get(name, (0, ""))
            if 0 < k <= len(args):                 # strlcat(buf, ...): a length within buf
                f = self.source(args[k - 1], fn, depth + 1, seen)
                return Fact(Unit(f.unit.gran, "bytes"), f"{name}() {why} {_short(args[k - 1])}: {f.why}") \
                    if f is not None and f.unit.dim == "buffer" else None
            if name in _SAME_UNIT_CALLS and args:
                return self.source(args[0], fn, depth + 1, seen)
            if name in _DIV_CALLS and len(args) == 2 and _unwrap(args[1]).text == b"PAGE_SIZE":
                f = self.source(args[0], fn, depth + 1, seen)
                if f is not None and f.unit.dim in ("bytes", "user", "span"):
                    return Fact(Unit(f.unit.gran, "count"), f"{f.why}, {name}(..., PAGE_SIZE) gives a page count")
                return None
            if name in _PEERS_CALLS:
                facts = [self.source(a, fn, depth + 1, seen) for a in args[1 if name in _TYPED_PEERS else 0:]]
                if facts and all(f is not None for f in facts) and len({f.unit for f in facts}) == 1:
                    return facts[0]
                return None
            if name in ("PAGE_ALIGN", "PAGE_ALIGN_DOWN", "offset_in_page") and args:
                f = self.source(args[0], fn, depth + 1, seen)
                return f if f is not None and f.unit.dim in ("bytes", "buffer", "phys", "user", "span") else None
            s = self.summaries(fn)
            return s.returned(name) if s is not None else None
        if t == "field_expression":
            return self._table_field(e, fn) or filescope.field(self, e, fn, depth, seen)
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
                if op == ">>" and f.unit.dim in ("bytes", "phys", "user", "span"):
                    return Fact(Unit(f.unit.gran, "count"), f"{f.why}, >> PAGE_SHIFT gives a page count")
                return None
            ll = _unwrap(left)
            if op == "<<" and ll is not None and ll.type == "number_literal" \
                    and ll.text.decode().rstrip("uUlL") == "1":
                f = self.source(right, fn, depth + 1, seen)    # 1 << order: the pages of a buddy block
                return Fact(Unit(f.unit.gran, "count"), f"{f.why}, 1 << order counts its pages") \
                    if f is not None and f.unit.dim == "order" else None
            if op in ("<<", "*") and ll is not None and ll.type == "identifier" and ll.text == b"PAGE_SIZE":
                g = self.decided.get(ll.start_byte + self._delta)    # PAGE_SIZE << order, decided by a rule
                return Fact(Unit(g, "bytes"), f"PAGE_SIZE (line {_line(ll)}) is {g}") if g else None
            if op in ("*", "/") and lr is not None and lr.type == "identifier" and lr.text == b"PAGE_SIZE":
                f = self.source(left, fn, depth + 1, seen)
                if f is not None and op == "*" and f.unit.dim == "count":
                    return Fact(Unit(f.unit.gran, "bytes"), f"{f.why}, * PAGE_SIZE gives bytes")
                if f is not None and op == "/" and f.unit.dim in ("bytes", "user", "span"):
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
                if op == "-" and len(addr) == 2 and a.unit == b.unit:
                    # end - start: no address but the length of a range. Shifted
                    # or divided, it counts the range's pages; compared or added,
                    # it says nothing (an mmap() of one allocated page checks its
                    # VMA's length against that page)
                    return Fact(Unit(a.unit.gran, "span"), f"{_short(left)} - {_short(right)} is the length "
                                                           f"of an address range ({a.why})")
                if addr and all(f is None or f.unit == addr[0].unit for f in (a, b)):
                    return addr[0]
                if a is not None and b is not None and a.unit == b.unit and a.unit.dim in ("bytes", "count"):
                    return a
                # a plain number added or taken away keeps the unit: pfn + 1 is a
                # PFN, nr_pages - 1 a count of the same pages
                lit = _unwrap(right)
                if a is not None and a.unit.dim in ("bytes", "count") and lit is not None \
                        and lit.type == "number_literal":
                    return a
                if a is not None and b is not None and a.unit.dim == b.unit.dim and a.unit.dim in ("bytes", "count") \
                        and {a.unit.gran, b.unit.gran} == {"pte", "pg"}:
                    # a PFN plus a count of allocated pages, a page-cache index
                    # minus vm_pgoff: the units meet here, and whatever uses
                    # the value is a logic site
                    return Fact(Unit(MEET, a.unit.dim), f"{_short(left)} is {a.unit.gran} ({a.why}) "
                                                         f"but {_short(right)} is {b.unit.gran} ({b.why})")
                return None
            return None
        if t == "pointer_expression" and _op(e) == "&":
            sub = _unwrap(e.child_by_field_name("argument"))
            if sub is not None and sub.type == "subscript_expression":
                # &buf[len] is buf + len: a pointer into the same page
                f = self.source(sub.child_by_field_name("argument"), fn, depth + 1, seen)
                return f if f is not None and f.unit.dim == "buffer" else None
            return None
        if t == "conditional_expression":
            a = self.source(e.child_by_field_name("consequence"), fn, depth + 1, seen)
            b = self.source(e.child_by_field_name("alternative"), fn, depth + 1, seen)
            return a if a is not None and b is not None and a.unit == b.unit else None
        return None

    def _looked_up(self, e, fn: _Function | None) -> Fact | None:
        """Past the depth limit, what the table says of `e` itself when it
        is the start of one allocated page (a units.yaml or mined pg-buffer
        field, a call returning one), with no step further. The limit bounds
        the cost of following values, and a lookup costs nothing more: a
        length written into `buf = log->buf` is five steps from the site.
        Only buffers: a longer chain to a count or a size (a VMA's offset
        compared with a buffer's size in an mmap() handler) is where units
        meet more often than not."""
        f = None
        if e.type == "field_expression":
            f = self._table_field(e, fn)
        elif e.type == "call_expression" and (name := _callee(e)) is not None:
            f = self.table.returns.get(name)
        return f if f is not None and f.unit.dim == "buffer" else None

    def _added(self, name: str, fn: _Function, depth: int, seen: frozenset, every: bool = False) -> list | None:
        """The known units of what `+=`/`-=` add to or take from local
        `name` (plain numbers left out); None when a `++`/`--` steps it too
        or it is not one value otherwise (address taken, ...). `every`: only
        if every part has a unit (None at the first that has none)."""
        if name in fn.poisoned or name in seen or name in fn.changed or any(
                _updated(u, self.parent) for u in fn.uses.get(name, ())):
            return None
        parts = [t for t in fn.sums[name] if not _number(t)]
        facts = []
        for t in parts:
            f = self.source(t, fn, depth + 1, seen | {name})
            if f is not None:
                facts.append(f)
            elif every:
                return None
        return facts

    def _summed(self, name: str, fn: _Function, depth: int, seen: frozenset) -> Fact | None | bool:
        """A local started from 0 (or not set) and grown or shrunk in place
        (`len += sysfs_emit_at(buf, len, ...)`, `pages += folio_nr_pages(f)`),
        as `a + b` is read: the unit every part has, a count or bytes, when
        all are known and alike (a plain number added to a count has none
        of its own; one added to or taken from bytes leaves no unit: no
        longer only what was written). False: the sum says nothing.
        (A local set from a value and then added to: source() checks the
        parts against the value's unit, `_added`.)"""
        terms = [t for t in fn.sums[name] if not _number(t)]
        known = self._added(name, fn, depth, seen, every=True)    # a unit for every term, or None
        if not terms or known is None or len({f.unit for f in known}) != 1 \
                or known[0].unit.dim not in ("bytes", "count"):
            return False
        if known[0].unit.dim != "count" and len(terms) != len(fn.sums[name]):
            return False
        t, f = terms[0], known[0]
        return Fact(f.unit, f"{name} adds up {_short(t)} (line {_line(t)})"
                            + (f" and {len(terms) - 1} more of the same unit" if len(terms) > 1 else "")
                            + f": {f.why}")

    def _frames_of(self, name: str, f: Fact, arg, fn: _Function | None, depth: int, seen: frozenset) -> Fact | None:
        """`PHYS_PFN(arg)` and other calls said to give a PFN (f): a frame
        number only of an address. Of a length (a value of bytes, or a
        difference of two values: a distance), the same shift counts the
        frames the length spans: pages of the length's granularity, or
        nothing when the length has none."""
        a = self.source(arg, fn, depth + 1, seen)
        if a is not None and a.unit.dim == "bytes":
            return Fact(Unit(a.unit.gran, "count"), f"{name}() of {_short(arg)}, a length: {a.why}, "
                                                    f"counted in pages")
        if a is None:
            u = _unwrap(arg)
            if u is not None and u.type == "binary_expression" and _op(u) == "-" \
                    and not _constant(u.child_by_field_name("right")):
                return None            # a distance between two values: a length, not an address
        return f

    # -- sinks: what unit the context expects of a value ------------------
    def _sinks(self, e, fn: _Function | None, dim: str, depth: int = 0, seen: frozenset = frozenset()) -> list[Fact]:
        if depth > _MAX_DEPTH:
            return []
        p, e = self._up(e)
        if p is None:
            return []
        t = p.type
        out: list[Fact] = []
        if dim == "per" and t not in ("init_declarator", "assignment_expression"):
            return self._per_page_sinks(p, e, fn, depth, seen)
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
                out += self._page_array_step(p, other, fn)
            if op in ("+", "-") or op in _COMPARE:
                f = self.source(other, fn, depth + 1, seen)
                if f is not None and f.unit.dim == "buffer" and dim == "bytes" and op == "+" \
                        and not self._offset_of_buffer(e, f, fn, depth, seen):
                    f = None
                if f is not None and (f.unit.dim == dim or (f.unit.dim == "buffer" and dim == "bytes" and op == "+")
                                      or (f.unit.dim == "user" and dim == "bytes" and op in ("+", "-") and e == right
                                          and self._user_step(other, e, p, fn))):
                    how = "bounds the loop over" if self._loop_bound(p, other) else \
                        "compared with" if op in _COMPARE else "added to"
                    out.append(Fact(Unit(f.unit.gran, dim), f"{how} {_short(other)}: {f.why}"))
                elif f is None and op in _COMPARE and dim == "bytes":
                    out += self._checked_then_used(other, fn, depth, seen)
                if op == "-" and left == e and f is None and not _constant(other):
                    # `PAGE_SIZE - off`: the rest of the page `off` lies in. Which
                    # page that is (an allocated page, or a frame a user address
                    # maps) depends on where `off` comes from, not on where the
                    # length goes: an unknown offset settles nothing
                    return out
                if op in ("+", "-"):
                    out += self.sinks(p, fn, dim, depth + 1, seen)
            return out
        if t == "subscript_expression" and p.child_by_field_name("index") == e and dim == "count":
            base = _unwrap(p.child_by_field_name("argument"))
            if fn is not None and self._per_user_pages(fn):
                return out                     # a GUP array: its index counts PTEs and pages at once
            if base is not None and base.type == "identifier" and fn is not None \
                    and fn.types.get(base.text.decode(), "").replace("const ", "") in _PAGE_ARRAY:
                out.append(Fact(Unit("pg", "count"), f"indexes {base.text.decode()}[], an array of struct page pointers"))
            elif fn is not None and (why := self._page_element(p, fn)):
                out.append(Fact(Unit("pg", "count"), f"indexes {_short(base)}[], {why}"))
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
                if CAPPED in seen:
                    return []      # a parameter capped (floored) here: the result is not what it is
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
                        mined = f" ({spec.why})" if spec.mined else ""
                        out.append(Fact(spec.unit, f"{name}() argument {k + 1} is {spec.unit}{mined}"))
                    continue
                j = spec.bounded_by - 1
                if dim == "bytes" and 0 <= j < len(args):
                    f = self.source(args[j], fn, depth + 1, seen)
                    if f is not None and f.unit.dim in ("buffer", "page"):     # page: dma_map_page(dev, page, 0, len)
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
                return out + filescope.sinks(self, target, fn, dim, depth, seen)
            if target.type != "identifier":
                return []
            name = target.text.decode()
            if CAPPED in seen and _cap(p, target, e):
                return []          # `if (x > len) x = len;`: x is len only when len is the smaller
            if t == "assignment_expression" and _op(p) in ("+=", "-="):
                # x += e: e is of x's unit, as in x + e (a page pointer
                # steps by a count of PG pages; a buffer by PG bytes)
                if dim == "count" and fn.types.get(name, "").replace("const ", "") == "struct page *":
                    return [Fact(Unit("pg", "count"), f"steps the struct page pointer {name}")]
                if name not in seen:
                    f = self.source(target, fn, depth + 1, seen)
                    if f is not None and f.unit.dim == "buffer" and dim == "bytes" \
                            and not self._offset_of_buffer(p.child_by_field_name("right"), f, fn, depth, seen):
                        return out             # an offset into another page: nothing of the step
                    if f is not None and (f.unit.dim == dim or (f.unit.dim == "buffer" and dim == "bytes")
                                          or (f.unit.dim == "user" and dim == "bytes"
                                              and self._user_step(target, p.child_by_field_name("right"), p, fn))):
                        out.append(Fact(Unit(f.unit.gran, dim), f"added to {name}: {f.why}"))
                    if f is not None and f.unit.dim == "buffer":
                        return out             # a pointer's uses say nothing of the step
            if name in fn.poisoned or name in seen:
                return out
            out += filescope.sinks(self, target, fn, dim, depth, seen) if t == "assignment_expression" else []
            found = self._sinks_of_uses(name, target, fn, dim, depth, seen | {name}, _assigned,
                                        lambda line: f"{name} (line {line})")
            return out + found
        return out

    def _per_page_sinks(self, p, e, fn: _Function | None, depth: int, seen: frozenset) -> list[Fact]:
        """`e` counts things per page (PAGE_SIZE / sizeof(T)): what dividing
        by it gives is a count of those pages, and a count of pages times it
        counts things; nothing else says which page it is."""
        count = None
        if p.type == "binary_expression" and _op(p) == "/" and p.child_by_field_name("right") == e:
            count = p
        elif p.type == "argument_list":
            call = self.parent(p)
            args = _args(call) if call is not None and call.type == "call_expression" else []
            if _callee(call) in _DIV_CALLS and len(args) == 2 and args[1] == e:
                count = call
        if count is not None:
            return [Fact(f.unit, f"{_short(count)} counts pages: {f.why}")
                    for f in self.sinks(count, fn, "count", depth + 1, seen)]
        if p.type == "binary_expression" and _op(p) == "*":
            return self._times_a_count(p, e, fn, depth + 1, seen)
        return []

    def _times_a_count(self, p, e, fn: _Function | None, depth: int = 0, seen: frozenset = frozenset()) -> list[Fact]:
        """`e * n` (p): n's unit when n is a count of pages (the bytes, or
        the things, of n pages)."""
        other = _other(p, e)
        f = self.source(other, fn, depth, seen)
        return [Fact(f.unit, f"multiplies {_short(other)}: {f.why}")] if f is not None and f.unit.dim == "count" else []

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
                found.append(Fact(f.unit, f"{says(_line(use))}: {f.why}"))
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

    # -- values tied to struct page: page-array indexes and steps ----------
    def _page_index_use(self, e, fn: _Function | None) -> Fact | None:
        """The unit of integer variable `e` (an identifier) whose sources
        say none (a loop counter from 0, a parameter), from what its uses
        count: an index into an array of struct page pointers (`pages[i]`),
        the step of a struct page pointer or of a page array (`page + i`),
        an argument units.yaml gives a count of (nth_page(page, i): PG;
        pfn_to_page(i): PTE). Every such use must agree. Only the uses that
        see the same counter as `e`: those inside the innermost loop around
        `e`; outside a loop, every use of a variable assigned at most once
        (a parameter never assigned). Never a pointer, a global, a variable
        declared twice in the function, address-taken or changed by `*=`..."""
        if fn is None:
            return None
        name = e.text.decode()
        ptype = fn.types.get(name)
        if ptype is None or "*" in ptype or name in fn.changed:
            return None
        loop = self._loop_of(e)
        if loop is None and len(fn.sources.get(name, ())) > (0 if name in fn.param_names else 1):
            return None
        if self._site_fn is not None and self._per_user_pages(self._site_fn):
            return None
        key = (fn.node.start_byte, name, loop.start_byte if loop is not None else -1)
        if key not in self._tree.page_index:
            self._tree.page_index[key] = self._page_index_of(name, fn, loop)
        return self._tree.page_index[key]

    def _page_index_of(self, name: str, fn: _Function, loop) -> Fact | None:
        if self._per_user_pages(fn):
            return None
        facts: list[tuple[Fact, int]] = []
        declared = 0
        for use in fn.uses.get(name, ()):
            if loop is not None and not (loop.start_byte <= use.start_byte and use.end_byte <= loop.end_byte):
                continue
            raw = self.parent(use)
            if raw is not None and raw.type in ("init_declarator", "declaration", "pointer_declarator",
                                                "array_declarator", "parameter_declaration") \
                    and raw.child_by_field_name("declarator") == use:
                declared += 1
                continue
            up, c = self._up(use)
            if up is not None and up.type == "update_expression":      # pages[i++]
                up, c = self._up(up)
            f = self._counts(up, c, fn) if up is not None else None
            if f is not None:
                facts.append((f, _line(use)))
        if declared > 1 or not facts or len({f.unit for f, _ in facts}) != 1:
            return None
        # a counter only added to a count (pgoff + i) may contradict its other
        # uses, never decide alone: its loop may be bounded in another unit
        # (i over a folio's pages added to the folio's PFN)
        facts = [(f, line) for f, line in facts if not f.why.startswith(_ADDED_TO)]
        if not facts:
            return None
        if facts[0][0].unit.gran == "pg" and self._pfn_beside(loop if loop is not None else fn.node):
            return None                        # struct pages and PFNs in lock-step: where the units meet
        f, line = facts[0]
        return Fact(f.unit, f"{name} {f.why} (line {line})")

    def _counts(self, up, c, fn: _Function) -> Fact | None:
        """What count the context `up` takes its child `c` for, by types and
        units.yaml only: an index of a page array, a step of a struct page
        pointer or page array, a units.yaml count argument."""
        t = up.type
        if t == "subscript_expression" and up.child_by_field_name("index") == c:
            base = _unwrap(up.child_by_field_name("argument"))
            if base is not None and base.type == "identifier" \
                    and fn.types.get(base.text.decode(), "").replace("const ", "") in _PAGE_ARRAY:
                return Fact(Unit("pg", "count"), f"indexes {base.text.decode()}[], an array of struct page pointers")
            why = self._page_element(up, fn)
            return Fact(Unit("pg", "count"), f"indexes {_short(base)}[], {why}") if why else None
        if t == "binary_expression" and _op(up) in ("+", "-"):
            other = _other(up, c)
            o = _unwrap(other)
            if o is not None and o.type == "identifier" \
                    and fn.types.get(o.text.decode(), "").replace("const ", "") == "struct page *":
                return Fact(Unit("pg", "count"), f"steps the struct page pointer {o.text.decode()}")
            steps = self._page_array_step(up, other, fn)
            if steps:
                return steps[0]
            up2, c2 = self._up(up)                 # base + i: a count of what the sum counts
            f = self._counts(up2, c2, fn) if up2 is not None else None
            if f is None and _op(up) == "+" and (b := self._counted_local(o, fn)) is not None:
                # pgoff + i: i steps the count it is added to (dax's
                # page->index = pgoff + i beside pfn_to_page(pfn + i): the two
                # disagree, and the counter is no page index)
                return Fact(b.unit, f"{_ADDED_TO}{o.text.decode()}, {b.why}")
            return f
        if t == "assignment_expression" and _op(up) in ("+=", "-=") and up.child_by_field_name("right") == c:
            left = _unwrap(up.child_by_field_name("left"))
            if left is not None and left.type == "identifier":
                ltype = fn.types.get(left.text.decode(), "").replace("const ", "")
                if ltype == "struct page *":
                    return Fact(Unit("pg", "count"), f"steps the struct page pointer {left.text.decode()}")
                if ltype in _PAGE_ARRAY:
                    return Fact(Unit("pg", "count"), f"steps {left.text.decode()}, an array of struct page pointers")
            return None
        if t == "argument_list":
            call = self.parent(up)
            name = _callee(call) if call is not None and call.type == "call_expression" else None
            if name is None:
                return None
            k = next((i for i, a in enumerate(_args(call)) if a == c), None)
            specs = [s for s in self.table.arguments.get((name, k + 1), ()) if s.unit is not None] \
                if k is not None else []
            units = {s.unit for s in specs}
            if len(units) == 1 and next(iter(units)).dim == "count":
                u = next(iter(units))
                mined = next((f" ({s.why})" for s in specs if s.mined), "")
                return Fact(u, f"is {name}() argument {k + 1}, {u}{mined}")
        return None

    def _counted_local(self, o, fn: _Function) -> Fact | None:
        """A local `o` set once, from a call whose return units.yaml gives
        as a count (pgoff = linear_page_index(...)): by the table only, as
        _counts reads, never by following values."""
        if o is None or o.type != "identifier":
            return None
        name = o.text.decode()
        srcs = fn.sources.get(name, ())
        if name not in fn.types or name in fn.param_names or name in fn.changed or len(srcs) != 1:
            return None
        src = _unwrap(srcs[0])
        callee = _callee(src) if src is not None and src.type == "call_expression" else None
        f = self.table.returns.get(callee) if callee else None
        if f is None or f.unit.dim != "count":
            return None
        return Fact(f.unit, f"{name} = {callee}() (line {_line(src)}): {callee}() {f.why}")

    def _page_element(self, sub, fn: _Function) -> str | None:
        """Why the array subscripted by `sub` (X[k], X not a typed local)
        holds struct page pointers: its element is stored in, or set from,
        a local declared `struct page *`, or is an argument units.yaml says
        is a struct page (put_page(), kmap()...), with no cast in between."""
        up = self.parent(sub)
        if up is None:
            return None
        if up.type == "init_declarator" and up.child_by_field_name("value") == sub:
            d = up.child_by_field_name("declarator")
            while d is not None and d.type == "pointer_declarator":
                d = d.child_by_field_name("declarator")
            if d is not None and d.type == "identifier" \
                    and fn.types.get(d.text.decode(), "").replace("const ", "") == "struct page *":
                return f"whose element initialises {d.text.decode()}, a struct page pointer"
            return None
        if up.type == "assignment_expression" and _op(up) == "=":
            left, right = up.child_by_field_name("left"), up.child_by_field_name("right")
            other = right if left == sub else left
            if other is not None and other.type == "identifier" \
                    and fn.types.get(other.text.decode(), "").replace("const ", "") == "struct page *":
                return f"whose element is assigned {'from' if left == sub else 'to'} {other.text.decode()}, a struct page pointer"
            if left == sub and other is not None and other.type == "call_expression" \
                    and (name := _callee(other)) is not None \
                    and (f := self.table.returns.get(name)) is not None and f.unit.dim == "page":
                # pages[i] = alloc_page(gfp): one allocated page per element
                return f"whose element is set from {name}(), one allocated page each"
        if up.type == "argument_list":                 # put_page(obj->pages[i]): units.yaml, a struct page argument
            call = self.parent(up)
            name = _callee(call) if call is not None and call.type == "call_expression" else None
            k = next((i for i, a in enumerate(_args(call)) if a == sub), None) if name else None
            if k is not None and any(a.unit is not None and a.unit.dim == "page"
                                     for a in self.table.arguments.get((name, k + 1), ())):
                return f"whose element is {name}() argument {k + 1}, a struct page"
        return None

    def _page_array_step(self, p, other, fn: _Function) -> list[Fact]:
        """`pages + n` (binary + or - `p`, n of dimension count): n steps an
        array of struct page pointers when `other` is a local so declared or
        the sum is stored, with no cast, in one (`ppages = buf->pages + n`)."""
        if self._per_user_pages(fn) or (self._site_fn is not None and self._per_user_pages(self._site_fn)):
            return []
        o = _unwrap(other)
        if o is not None and o.type == "identifier" \
                and fn.types.get(o.text.decode(), "").replace("const ", "") in _PAGE_ARRAY:
            return [Fact(Unit("pg", "count"), f"steps {o.text.decode()}, an array of struct page pointers")]
        up = self.parent(p)
        target = None
        if up is not None and up.type == "init_declarator" and up.child_by_field_name("value") == p:
            target = up.child_by_field_name("declarator")
            while target is not None and target.type == "pointer_declarator":
                target = target.child_by_field_name("declarator")
        elif up is not None and up.type == "assignment_expression" and _op(up) == "=" \
                and up.child_by_field_name("right") == p:
            target = _unwrap(up.child_by_field_name("left"))
        if target is not None and target.type == "identifier" \
                and fn.types.get(target.text.decode(), "").replace("const ", "") in _PAGE_ARRAY:
            return [Fact(Unit("pg", "count"), f"steps {_short(other)} into {target.text.decode()}, "
                                              f"an array of struct page pointers")]
        return []

    def _own_unit(self, x, fn: _Function | None, how: str) -> list[Fact]:
        """The unit of X where a site takes X apart by a page (masks it, takes
        it modulo a page): X's own, from where it comes or where it stood."""
        f = self.source(x, fn) or self._displaced(x, fn)
        return [Fact(f.unit, f"{how}: {f.why}")] \
            if f is not None and f.unit.dim in ("bytes", "buffer", "user", "span") else []

    def _into_page(self, off, x, fn: _Function | None) -> list[Fact]:
        """What page the offset `off` of X in its page is into: the struct
        page of X beside it, or the page index of the same split of X."""
        return self._offset_in_its_page(off, x, fn) + self._split_with(off, x, fn)

    def _offset_in_its_page(self, off, x, fn: _Function | None) -> list[Fact]:
        """The offset `off` (offset_in_page(X), X & ~PAGE_MASK) given beside
        the struct page holding X (virt_to_page(X), units.yaml `contains`):
        the two are arguments of one call (dma_map_page(dev,
        virt_to_page(p), offset_in_page(p), len, dir)), or the values of
        two adjacent statements (page = virt_to_page(p); off =
        offset_in_page(p);). That is the offset into that struct page, PG.
        X is the same expression at both (same text, no call, assignment or
        ++ in it, no variable of it written in the function)."""
        x = _unwrap(x)
        if fn is None or x is None or not self.table.containing or not _plain(x):
            return []
        slot = self._slot(off)
        text = _squeeze(x)
        names = {n.text.decode() for n in _identifiers(x)}
        if slot is None or names & fn.changed or any(self._written(name, fn) for name in names):
            return []
        for callee, (k, why) in sorted(self.table.containing.items()):
            for use in fn.uses.get(callee, ()):
                call = self.parent(use)
                if call is None or call.type != "call_expression" or call.child_by_field_name("function") != use:
                    continue
                args = _args(call)
                if len(args) < k or _squeeze(_unwrap(args[k - 1])) != text:
                    continue
                other = self._slot(call)
                if other is None or other[0] != slot[0]:
                    continue
                if slot[0] == "call" and other[1] == slot[1]:
                    where = "the same call"
                elif slot[0] == "statement" and _adjacent(other[1], slot[1]):
                    where = "the statement beside it"
                else:
                    continue
                return [Fact(Unit("pg", "bytes"), f"the offset of {_short(x)} into {callee}({_short(x)}) in "
                                                  f"{where} (line {_line(call)}), which {why}")]
        return []

    def _split_with(self, off, x, fn: _Function | None) -> list[Fact]:
        """The offset `off` of X in its page (X % PAGE_SIZE, X & ~PAGE_MASK,
        offset_in_page(X)) where the same function also cuts X into pages
        (X / PAGE_SIZE, X >> PAGE_SHIFT): one split of X, tied by X = index *
        PAGE_SIZE + offset, so both halves have one granularity, the one the
        index's use says (`__bio_add_page(bio, folio_page(folio, off /
        PAGE_SIZE), len, off % PAGE_SIZE)`). X is the same expression at
        both (no call, assignment or ++ in it, no variable of it written in
        the function); an index used at the other granularity makes the
        offset a meeting (logic), never a majority. A PFN index says
        nothing where the function maps pages (a units.yaml pg-buffer
        return: kmap*(), page_address()): pfn_to_page() then kmap, the
        offset goes into the page (domain.md "PFN <-> struct page")."""
        x = _unwrap(x)
        if fn is None or x is None or not _plain(x):
            return []
        ids = _identifiers(x)
        names = {n.text.decode() for n in ids}
        if not ids or names & self.names or names & fn.changed or any(self._written(n, fn) for n in names):
            return []
        text = _squeeze(x)
        out: list[Fact] = []
        for use in fn.uses.get(ids[0].text.decode(), ()):
            split = self._split_at(use, text)
            if split is None or split.start_byte <= off.start_byte < split.end_byte \
                    or off.start_byte <= split.start_byte < off.end_byte:
                continue
            for f in self.sinks(split, fn, "count"):
                if f.unit.gran == "pte" and self._calls(fn, self.table.buffer_returns):
                    continue    # pages mapped here (kmap): the offset of a PFN may go into one (meets)
                if f.unit.gran in ("pte", "pg"):
                    out.append(Fact(Unit(f.unit.gran, "bytes"),
                                    f"{_short(x)} is also cut into pages at line {_line(split)} "
                                    f"({_short(split)}), the page index: {f.why}"))
        return out

    def _split_at(self, use, text: str):
        """The `X / PAGE_SIZE` or `X >> PAGE_SHIFT` around identifier `use`
        whose X reads `text`, else None."""
        n = use
        for _ in range(6):
            p = self.parent(n)
            if p is None or p.type not in ("binary_expression", "parenthesized_expression", "cast_expression",
                                           "field_expression", "subscript_expression", "pointer_expression"):
                return None
            if p.type == "binary_expression" and _op(p) in ("/", ">>") and p.child_by_field_name("left") == n:
                r = _unwrap(p.child_by_field_name("right"))
                if r is not None and r.type == "identifier" and r.text in (b"PAGE_SIZE", b"PAGE_SHIFT") \
                        and (r.text == b"PAGE_SIZE") == (_op(p) == "/"):
                    return p if _squeeze(_unwrap(n)) == text else None
            n = p
        return None

    def _offset_of_buffer(self, off, buf: Fact, fn: _Function | None, depth: int, seen: frozenset) -> bool:
        """`buffer + off` (buf: the buffer's fact) says off is an offset
        into that buffer's page, unless off is the offset of some address A
        within A's own page (A & ~PAGE_MASK, offset_in_page(A), A - (A &
        PAGE_MASK), through locals set once): which page that is depends on
        A, not on where the offset goes. A user address's offset added to a
        page's contents is where the units meet (domain.md), a rename never;
        so A must be of the buffer's granularity itself."""
        a = _in_page_offset_of(off, fn)
        if a is None:
            return True
        f = self.source(a, fn, depth + 1, seen)
        return f is not None and f.unit.gran == buf.unit.gran and f.unit.dim in ("bytes", "buffer")

    def _slot(self, n):
        """Where value `n` goes directly: ("call", the call it is an
        argument of) or ("statement", the declaration or `x = n;` it
        initialises or assigns), else None."""
        up, c = self._up(n)
        if up is None:
            return None
        if up.type == "argument_list":
            call = self.parent(up)
            return ("call", call) if call is not None and call.type == "call_expression" else None
        if up.type == "init_declarator" and up.child_by_field_name("value") == c:
            decl = self.parent(up)
            return ("statement", decl) if decl is not None and decl.type == "declaration" else None
        if up.type == "assignment_expression" and _op(up) == "=" and up.child_by_field_name("right") == c:
            stmt = self.parent(up)
            return ("statement", stmt) if stmt is not None and stmt.type == "expression_statement" else None
        return None

    def _written(self, name: str, fn: _Function) -> bool:
        """`name` is assigned (=, +=...) or stepped (++) in the function."""
        for use in fn.uses.get(name, ()):
            up = self.parent(use)
            if up is not None and (up.type == "update_expression"
                                   or (up.type == "assignment_expression" and up.child_by_field_name("left") == use)):
                return True
        return False

    def _per_user_pages(self, fn: _Function) -> bool:
        """The function fills an array of struct pages per user page (a
        units.yaml argument of unit user-pages: get_user_pages()...), calls
        a function of its file that does, or reads such an array kept in a
        field of unit user-pages: there a page array's index counts PTEs and
        pages at once (domain.md, GUP)."""
        got = self._tree.gup.get(fn.node.start_byte)
        if got is None:
            # a file whose text names no GUP call has no function that makes one
            got = (self._gup_in_file() and self._calls(fn, self.table.user_pages_calls)) \
                or self._reads_user_pages(fn)
            if not got and self._gup_in_file() and (summ := self.summaries(fn)) is not None:
                # or calls a function of this file that does, in any of its
                # definitions (rds_pin_pages() around pin_user_pages_fast(),
                # gold round 12: rds/rdma.c:967; exec.c's get_arg_page())
                gup, named = self.table.user_pages_calls, self._gup_named(summ)
                got = any(d.start_byte != fn.node.start_byte
                          and self._calls(self.function_at(d), gup)
                          for name in fn.uses
                          if name in named and self._calls(fn, (name,))
                          for d in summ.bodies(name))
            self._tree.gup[fn.node.start_byte] = got
        return got

    def _table_field(self, e, fn: _Function | None) -> Fact | None:
        """What units.yaml says of field expression `e` (`a->b`, `a->b->c`:
        the base's struct type from its declaration or the mined members)."""
        fname = e.child_by_field_name("field")
        if fname is None:
            return None
        base = _unwrap(e.child_by_field_name("argument"))
        btype = None
        if base is not None and base.type == "identifier" and fn is not None:
            btype = fn.types.get(base.text.decode())
            btype = btype.replace("const ", "").rstrip(" *") if btype else None
        elif base is not None and base.type == "field_expression" and self.table.members:
            got = self._member_type(base, fn)
            if got is not None:
                f = self.table.field_fact(fname.text.decode(), got[0])
                if f is not None:
                    return Fact(f.unit, f"{_short(base)} is a {got[0]} ({got[1]}): {f.why}")
        return self.table.field_fact(fname.text.decode(), btype)

    def _reads_user_pages(self, fn: _Function) -> bool:
        """fn reads a field of unit user-pages (an array of struct pages a
        GUP call filled elsewhere: xdp_umem's pgs)."""
        names = self.table.user_pages_fields
        pinned = self._pinned_fields(fn)
        text = fn.node.text
        if not any(n.encode() in text for n in names | pinned):
            return False
        for fe in parsing.nodes_of_kinds(fn.node, ("field_expression",)).get("field_expression", ()):
            f = fe.child_by_field_name("field")
            if f is None:
                continue
            if f.text.decode() in pinned:
                return True
            if f.text.decode() in names \
                    and (got := self._table_field(fe, fn)) is not None and got.unit.dim == "pages":
                return True
        return False

    def _pinned_fields(self, fn: _Function) -> frozenset:
        """The fields this file hands whole to a call as its user-pages
        argument (pin_user_pages_fast(..., bufmap->page_array)): arrays of
        struct pages filled per user page, wherever else in the file they
        are read (orangefs copies them out as whole pages elsewhere: LOGIC
        in gold round 44). By field name, in this file only."""
        got = self._tree.pinned_fields
        if got is None:
            found = set()
            if self._gup_in_file() and (summ := self.summaries(fn)) is not None:
                gup, page_arrays = self.table.user_pages_calls, self.table.user_pages_arguments
                # fn itself, and the functions whose text names a GUP call
                # (their bodies read: the file's tree may have left them out)
                for body in [fn.node, *(d for name in self._gup_named(summ) for d in summ.bodies(name))]:
                    for call in parsing.nodes_of_kinds(body, ("call_expression",)).get("call_expression", ()):
                        name = _callee(call)
                        if name not in gup:
                            continue
                        for k, a in enumerate(_args(call)):
                            a = _unwrap(a)
                            if (name, k + 1) in page_arrays and a is not None and a.type == "field_expression" \
                                    and (f := a.child_by_field_name("field")) is not None:
                                found.add(f.text.decode())
            got = self._tree.pinned_fields = frozenset(found)
        return got

    def _gup_named(self, summ: Summaries) -> frozenset:
        """The names of the file's definitions whose text names a GUP call
        (only those are read for one: _per_user_pages, _pinned_fields)."""
        got = self._tree.gup_named
        if got is None:
            needles = self.table.user_pages_needles
            got = self._tree.gup_named = frozenset(
                name for name, raws in summ.definitions().items()
                if any(g in raw.text for raw in raws for g in needles))
        return got

    def _gup_in_file(self) -> bool:
        """The file's text names a call of unit user-pages at all (else no
        function of it can pin pages for another)."""
        got = self._gup_text
        if got is None:
            got = self._gup_text = any(g in self.data for g in self.table.user_pages_needles)
        return got

    def _calls(self, fn: _Function, names) -> bool:
        """fn calls one of `names` (as the callee of a direct call)."""
        uses = fn.uses
        return any(self.parent(u) is not None and self.parent(u).type == "call_expression"
                   and self.parent(u).child_by_field_name("function") == u
                   for name in uses.keys() & names for u in uses[name])     # the few names it has

    def _pfn_beside(self, scope) -> bool:
        """`scope` (a loop, else a function) also turns PFNs into pages or
        pages into PFNs (a units.yaml PTE-count argument or return:
        pfn_to_page(), page_to_pfn()...): the page array is walked in
        lock-step with PFNs, where the two units meet (domain.md)."""
        got = self._tree.pfn.get(scope.start_byte)
        if got is None:
            pfn_calls = self.table.pfn_calls
            got, stack = False, [scope]
            while stack and not got:
                n = stack.pop()
                if n.type == "call_expression" and _callee(n) in pfn_calls:
                    got = True
                stack.extend(n.children)
            self._tree.pfn[scope.start_byte] = got
        return got

    def _user_step(self, addr, step, at, fn: _Function) -> bool:
        """`step` added at `at` to user address `addr` steps it by one PTE:
        only PAGE_SIZE itself (a count turned into bytes, `i * PAGE_SIZE`,
        `n << PAGE_SHIFT`, is as often a count of pages: what the count is
        decides, not where the bytes go); not when `addr` may be a length
        (a distance between addresses), nor where the loop (or function)
        also turns pages into PFNs or back: there each step maps one struct
        page (remap_pfn_range(vma, addr, page_to_pfn(page), PAGE_SIZE)),
        the logic case of domain.md."""
        step = _unwrap(step)
        if step is None or step.type != "identifier" or step.text != b"PAGE_SIZE" or _distance(addr, fn):
            return False
        return not self._pfn_beside(self._loop_of(at) or fn.node)

    def _loop_bound(self, cond, counter) -> bool:
        """`cond` (a comparison) is the condition of a for loop that starts
        `counter` (an identifier) at 0 and steps it by one: the value
        compared with it is how many times the loop runs, so it counts what
        the counter counts (mining.py takes that as a callee's argument unit,
        which a plain comparison is not)."""
        loop = self.parent(cond)
        c = _unwrap(counter)
        if loop is None or loop.type != "for_statement" or loop.child_by_field_name("condition") != cond \
                or c is None or c.type != "identifier" or _op(cond) not in ("<", "<=", ">", ">="):
            return False
        if (cond.child_by_field_name("left") == counter) != (_op(cond) in ("<", "<=")):
            return False                   # n > i, i >= n: the counter on the other side
        name = c.text
        init, update = loop.child_by_field_name("initializer"), loop.child_by_field_name("update")
        if init is None or update is None or update.type != "update_expression" \
                or update.child_by_field_name("argument") is None \
                or update.child_by_field_name("argument").text != name or b"++" not in update.text:
            return False
        if init.type == "assignment_expression":
            target, value = init.child_by_field_name("left"), init.child_by_field_name("right")
        elif init.type == "declaration" and (d := init.child_by_field_name("declarator")) is not None \
                and d.type == "init_declarator":
            target, value = d.child_by_field_name("declarator"), d.child_by_field_name("value")
        else:
            return False
        return target is not None and target.text == name and value is not None and _zero(value)

    def _loop_of(self, n):
        """The innermost loop statement around `n`, inside its function."""
        p = self.parent(n)
        while p is not None and p.type != "function_definition":
            if p.type in ("for_statement", "while_statement", "do_statement"):
                return p
            p = self.parent(p)
        return None

    # -- a site -----------------------------------------------------------
    def evidence(self, node, token: str, scope=None) -> list[Evidence]:
        """Evidence about the granularity of the family use at `node` (its
        leaf): one entry per independent fact. `scope`: the site's
        sites.Scope, whose parent look-ups are remembered."""
        if node is None:
            return []
        self._enter(scope)
        fn = self._function(node)
        self._site_fn = fn                 # a page-array fact needs no GUP here either (_per_user_pages)
        facts: list[Fact] = []
        p, e = self._up(node)
        call = self.parent(p) if p is not None and p.type == "argument_list" else None
        args = _args(call) if call is not None else []
        if token == "PAGE_SIZE":
            if p is not None and p.type == "binary_expression" and _op(p) == "*":
                facts += self._times_a_count(p, e, fn)
                facts += self.sinks(p, fn, "bytes")
            elif p is not None and p.type == "binary_expression" and _op(p) == "/" and p.child_by_field_name("right") == e:
                left = p.child_by_field_name("left")
                f = self.source(left, fn) or self._displaced(left, fn)
                if f is not None and f.unit.dim == "bytes":
                    facts.append(Fact(f.unit, f"divides {_short(left)}: {f.why}"))
                facts += self.sinks(p, fn, "count")
            elif p is not None and p.type == "binary_expression" and _op(p) == "/" \
                    and p.child_by_field_name("left") == e and _size_of_type(p.child_by_field_name("right"), self.names):
                facts += self.sinks(p, fn, "per")          # PAGE_SIZE / sizeof(T): things per page
            elif p is not None and p.type == "binary_expression" and _op(p) in (">>", "/") \
                    and p.child_by_field_name("left") == e and _fraction(p.child_by_field_name("right"), self.names) \
                    and (m := self._up(p))[0] is not None and m[0].type == "binary_expression" and _op(m[0]) == "*":
                # x * (PAGE_SIZE >> N), x * (PAGE_SIZE / N): a page count in units of a fraction of a page
                facts += [Fact(f.unit, f"counts in units of {_short(p)} bytes, {f.why}") for f in self._times_a_count(m[0], m[1], fn)]
            elif (q := self._less_one(p, e)) is not None:
                # X & (PAGE_SIZE - 1): the offset of X in its page, as X & ~PAGE_MASK
                other = _other(q, self._up(p)[1])
                facts += self._own_unit(other, fn, f"masks {_short(other)}") + self._into_page(q, other, fn)
            elif p is not None and p.type == "binary_expression" and _op(p) == "%" and p.child_by_field_name("right") == e:
                # X % PAGE_SIZE: the offset of X in its page, as X & ~PAGE_MASK
                other = p.child_by_field_name("left")
                facts += self._own_unit(other, fn, f"takes {_short(other)} modulo a page") + self._into_page(p, other, fn)
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
            scaled = _shift_less(p, e, self.names)
            if scaled is not None:
                shift, via = self._up(p)
                if shift is not None and shift.type == "binary_expression" and _op(shift) in ("<<", ">>") \
                        and shift.child_by_field_name("right") == via:
                    facts += self._scaled_shift(shift, scaled, fn)
            elif p is not None and p.type == "binary_expression" and p.child_by_field_name("right") == e \
                    and _op(p) in ("<<", ">>"):
                left = p.child_by_field_name("left")
                f = self.source(left, fn)
                if _op(p) == "<<":
                    if f is not None and f.unit.dim == "count":
                        facts.append(Fact(f.unit, f"shifts {_short(left)} to bytes: {f.why}"))
                    facts += self.sinks(p, fn, "bytes")
                else:
                    f = f or self._displaced(left, fn)
                    if f is not None and f.unit.dim == "span" and self._against_unknown(p, fn):
                        f = None
                    if f is not None and f.unit.dim in ("bytes", "phys", "user", "span"):
                        facts.append(Fact(f.unit, f"shifts {_short(left)} to a page count: {f.why}"))
                    facts += self.sinks(p, fn, "count")
        elif token in ("PAGE_ALIGN", "PAGE_ALIGN_DOWN", "offset_in_page", "PAGE_ALIGNED"):
            call = self.parent(node)
            if call is not None and call.type == "call_expression" and call.child_by_field_name("function") == node:
                args = _args(call)
                f = (self.source(args[0], fn) or (self._displaced(args[0], fn) if token == "offset_in_page" else None)) \
                    if args else None
                # not a physical address: page_to_phys(page) rounded is a
                # struct page's boundary, not only a frame's
                if f is not None and f.unit.dim in ("bytes", "buffer", "user", "span"):
                    facts.append(Fact(f.unit, f"{token}() of {_short(args[0])}: {f.why}"))
                if token != "PAGE_ALIGNED":
                    facts += self.sinks(call, fn, "bytes")
                if token == "offset_in_page" and len(args) == 1:
                    facts += self._into_page(call, args[0], fn)
        elif token == "PAGE_MASK":
            q, e2 = p, e
            if q is not None and q.type == "unary_expression" and _op(q) == "~":
                q, e2 = self._up(q)
            if q is not None and q.type == "binary_expression" and _op(q) == "&":
                other = _other(q, e2)
                facts += self._own_unit(other, fn, f"masks {_short(other)}")
                if e2 == e:                   # x & PAGE_MASK: rounded down, as PAGE_ALIGN_DOWN()
                    facts += self.sinks(q, fn, "bytes")
                else:                         # X & ~PAGE_MASK beside virt_to_page(X)
                    facts += self._into_page(q, other, fn)
        out = []
        if fn is not None and any(f.unit.gran == "pg" for f in facts) and self._per_user_pages(fn):
            # the function fills pages per user page (get_user_pages()...):
            # its pages, their counts and their contents are where a user
            # (PTE) page and an allocated page meet, so no PG fact decides
            # a use there (domain.md: GUP; gold round 12: radeon_ttm.c:363,
            # ttm->num_pages pinned by get_user_pages() and sized for an sg table)
            # (a PTE fact beside them still makes the site a meeting: logic)
            if not any(f.unit.gran == "pte" for f in facts):
                facts = [f for f in facts if f.unit.gran != "pg"]
        for f in facts:
            if f.unit.gran in ("pte", "pg"):
                out.append(Evidence(f.unit.gran, f.why))
            elif f.unit.gran == MEET:                 # evidence for both: a logic site
                out += [Evidence("pte", f.why), Evidence("pg", f.why)]
        return out

    def _against_unknown(self, x, fn: _Function | None) -> bool:
        """`x` (a range's length in pages) is compared with an object's count
        of no known unit: an mmap() handler checking its VMA against a buffer
        (`size >> PAGE_SHIFT != msc->nr_pages`), where the VMA's PTEs and the
        buffer's allocated pages meet, so the range's side decides nothing
        (gold round 12: intel_th/msu.c:1644, labelled LOGIC)."""
        up, via = self._up(x)
        if up is None or up.type != "binary_expression" or _op(up) not in _COMPARE:
            return False
        other = _unwrap(_other(up, via))
        # the object's size (a field, a call): not a local computed from the
        # same range (vm_iomap_memory()'s `pages`, PFNs of the I/O memory)
        return other is not None and other.type in ("field_expression", "call_expression") \
            and self.source(other, fn) is None

    def _less_one(self, p, e):
        """The `&` whose operand is `PAGE_SIZE - 1` (p, e: PAGE_SIZE on its
        left), else None."""
        if p is None or p.type != "binary_expression" or _op(p) != "-" or p.child_by_field_name("left") != e:
            return None
        one = _unwrap(p.child_by_field_name("right"))
        if one is None or one.type != "number_literal" or one.text.decode().rstrip("uUlL") != "1":
            return None
        q, _ = self._up(p)
        return q if q is not None and q.type == "binary_expression" and _op(q) == "&" else None

    def _member_type(self, e, fn: _Function | None, hops: int = 3) -> tuple[str, str] | None:
        """(struct T, why) of field expression `e` (`a->b`, `a.b`, `a->b.c`...):
        the base's struct type (a local or parameter so declared, or a member
        of one, down the chain), and member b of that struct a struct T or a
        pointer to one in every definition the tree has (units-mined.yaml
        `members`, members.py). Never through a cast, a call, an index or a
        typedef: the base must be names and members only."""
        if fn is None or hops == 0:
            return None
        base = e.child_by_field_name("argument")
        member = e.child_by_field_name("field")
        if base is None or member is None:
            return None
        if base.type == "identifier":
            s = fn.types.get(base.text.decode())
            s = " ".join(s.replace("const ", "").replace("volatile ", "").replace("*", " ").split()) if s else None
            if not s or not s.startswith("struct ") or len(s.split()) != 2:
                return None
            owner, via = s, f"{base.text.decode()} is a {s}"
        elif base.type == "field_expression":
            got = self._member_type(base, fn, hops - 1)
            if got is None:
                return None
            owner, via = got
        else:
            return None
        t = self.table.member_type(owner, member.text.decode())
        if t is None:
            return None
        return t[0], f"{via}, whose member {member.text.decode()} is a {t[0]} ({t[1]})"

    def _displaced(self, e, fn: _Function | None) -> Fact | None:
        """`A + d` (e; terms joined by `+`, and a number taken away), a value
        cut into pages where it is asked (shifted right by PAGE_SHIFT, masked
        by PAGE_MASK, ~PAGE_MASK or PAGE_SIZE - 1, divided by PAGE_SIZE,
        offset_in_page()) that source() gives no unit: a byte position A of
        unit U (bytes at one granularity) displaced by terms d of no unit is
        a position of U, as a byte offset into pages plus a displacement
        within the same data is (`(offset + buf->page_base) & (PAGE_SIZE -
        1)`). Every term with a unit must agree, at least one must have one,
        every other term is a displacement (_unitless). Never a difference
        of two values (`end - start` is a length between them, of no
        granularity of its own), never a count, an address or a buffer."""
        terms = _sum_terms(e)
        if terms is None or len(terms) < 2:
            return None
        known, bare = [], []
        for t in terms:
            u = _unwrap(t)
            if u is not None and u.type == "number_literal":
                continue
            if u is None or (u.type == "identifier" and u.text.decode() in self.names):
                return None                 # X + PAGE_SIZE - 1: a round-up, not a displacement
            f = self.source(t, fn)
            if f is not None:
                known.append((t, f))
            elif self._unitless(t, fn):
                bare.append(t)
            else:
                return None
        if not known or not bare or len({f.unit for _, f in known}) != 1:
            return None
        t, f = known[0]
        if f.unit.dim != "bytes" or f.unit.gran not in ("pte", "pg"):
            return None
        others = ", ".join(_short(b, 24) for b in bare)
        return Fact(f.unit, f"{_short(t)} displaced by {others} (no unit): {f.why}")

    def _unitless(self, t, fn: _Function | None) -> bool:
        """Term `t` (source() gave it no unit) is a displacement of none: a
        local or parameter of an integer type that holds no address (not a
        pointer, phys_addr_t, dma_addr_t, nor long or u64, where the kernel
        keeps addresses: a base the offset is added to has a page of its
        own), and, a local, none of its sources has a
        unit (sources that disagree are no absence of one)."""
        u = _unwrap(t)
        if fn is None or u is None or u.type != "identifier" or u.text.decode() in self.names:
            return False
        name = u.text.decode()
        ptype = fn.types.get(name)
        if ptype is None or "*" in ptype or "[" in ptype \
                or not set(ptype.replace("const ", "").split()) <= _DISPLACEMENT_TYPES:
            return False
        if name not in fn.param_names:
            return all(self.source(src, fn, 1, frozenset({name})) is None for src in fn.sources.get(name, ()))
        return True

    def _scaled_shift(self, shift, k, fn) -> list[Fact]:
        """`x << (PAGE_SHIFT - K)`: a count of pages turned into units of
        2^K bytes (KiB, file-system blocks, a device's 4K frames), at the
        count's granularity; `x >> (PAGE_SHIFT - K)`: units of 2^K bytes
        turned into a count of pages, at the granularity of where it goes.
        Neither side is bytes, so only the count says anything."""
        left = shift.child_by_field_name("left")
        if _op(shift) == ">>":
            return self.sinks(shift, fn, "count")
        f = self.source(left, fn)
        if f is not None and f.unit.dim == "count":
            return [Fact(f.unit, f"shifts {_short(left)} to units of 2^{_short(k)} bytes: {f.why}")]
        return []

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


def _fraction(d, names) -> bool:
    """`d` of `PAGE_SIZE >> d` or `PAGE_SIZE / d`: a number, or an upper-case
    name that is no family name (a constant), never sizeof (things per page)."""
    d = _unwrap(d)
    if d is None:
        return False
    if d.type == "number_literal":
        return True
    return d.type == "identifier" and d.text.decode().isupper() and d.text.decode() not in names


def _sum_terms(e) -> list | None:
    """The terms of `a + b + ... - 1` (e, through parentheses): None when
    e is no sum, or takes away anything but a number."""
    e = _unwrap(e)
    if e is None or e.type != "binary_expression" or _op(e) not in ("+", "-"):
        return None
    out, stack = [], [e]
    while stack:
        n = _unwrap(stack.pop())
        if n is not None and n.type == "binary_expression" and _op(n) == "+":
            stack += [n.child_by_field_name("right"), n.child_by_field_name("left")]
        elif n is not None and n.type == "binary_expression" and _op(n) == "-":
            r = _unwrap(n.child_by_field_name("right"))
            if r is None or r.type != "number_literal":
                return None
            stack.append(n.child_by_field_name("left"))
        elif n is not None:
            out.append(n)
        else:
            return None
    return out


def _shift_less(p, e, names):
    """K of `PAGE_SHIFT - K` (p, with e the family use on its left), when K
    is a number or a name that is no family name; else None."""
    if p is None or p.type != "binary_expression" or _op(p) != "-" or p.child_by_field_name("left") != e:
        return None
    k = _unwrap(p.child_by_field_name("right"))
    if k is None or k.type not in ("number_literal", "identifier") or k.text.decode() in names:
        return None
    return k


def _size_of_type(d, names) -> bool:
    """`d` is `sizeof(...)` naming no family name: PAGE_SIZE / d counts
    things per page (PAGE_SIZE / 2 is half a page: bytes)."""
    d = _unwrap(d)
    return d is not None and d.type == "sizeof_expression" and not _mentions(d, names, None)


_ROUND_DOWN = frozenset({"PAGE_ALIGN_DOWN", "round_down", "rounddown", "ALIGN_DOWN"})


def _one_value(n, fn: _Function | None, hops: int = 3):
    """`n` without the parentheses and casts around it, and, for a local
    set once (never changed), the value it is set to."""
    n = _unwrap(n)
    while hops and fn is not None and n is not None and n.type == "identifier":
        name = n.text.decode()
        srcs = fn.sources.get(name, ())
        if name in fn.poisoned or name in fn.changed or len(srcs) != 1:
            break
        n, hops = _unwrap(srcs[0]), hops - 1
    return n


def _masked(n, fn: _Function | None, down: bool):
    """A, when n is `A & PAGE_MASK` (down) or `A & ~PAGE_MASK`, `A &
    (PAGE_SIZE - 1)`, offset_in_page(A) (not down); through locals set once."""
    n = _one_value(n, fn)
    if n is None:
        return None
    if n.type == "call_expression":
        a = _args(n)
        name = _callee(n)
        if len(a) >= 1 and ((down and name in _ROUND_DOWN) or (not down and name == "offset_in_page")):
            return a[0]
        return None
    if n.type != "binary_expression" or _op(n) != "&":
        return None
    for side, mask in (("left", "right"), ("right", "left")):
        m = _squeeze(_unwrap(n.child_by_field_name(mask)))
        if (down and m == "PAGE_MASK") or (not down and m in ("~PAGE_MASK", "(PAGE_SIZE-1)", "PAGE_SIZE-1")):
            return n.child_by_field_name(side)
    return None


def _in_page_offset_of(off, fn: _Function | None):
    """A, when `off` is the offset of A within its page: A & ~PAGE_MASK,
    offset_in_page(A), A - (A & PAGE_MASK) (through locals set once)."""
    a = _masked(off, fn, False)
    if a is not None:
        return a
    n = _one_value(off, fn)
    if n is not None and n.type == "binary_expression" and _op(n) == "-":
        left = n.child_by_field_name("left")
        a = _masked(n.child_by_field_name("right"), fn, True)
        if a is not None and _squeeze(_one_value(a, fn)) == _squeeze(_one_value(left, fn)):
            return left
    return None


def _cap(assign, target, e) -> bool:
    """`x = e` (assign) is a cap: the statement an `if` runs when its
    condition compares x with e (`if (bytes > len) bytes = len;`)."""
    stmt = assign.parent
    while stmt is not None and stmt.type in ("expression_statement", "compound_statement"):
        stmt = stmt.parent
    if stmt is None or stmt.type != "if_statement":
        return False
    cond = _unwrap(stmt.child_by_field_name("condition"))
    if cond is None or cond.type != "binary_expression" or _op(cond) not in _COMPARE:
        return False
    sides = {_squeeze(_unwrap(cond.child_by_field_name("left"))), _squeeze(_unwrap(cond.child_by_field_name("right")))}
    return sides == {_squeeze(target), _squeeze(_unwrap(e))}


def _assigned(up, use) -> bool:
    """`use = ...`: a new value, not a use of the old one."""
    return up.type == "assignment_expression" and _unwrap(up.child_by_field_name("left")) == use


def _compared(up, use) -> bool:
    """`use < ...`: another check, not a use."""
    return up.type == "binary_expression" and _op(up) in _COMPARE


def _adjacent(a, b) -> bool:
    """Statements a and b follow each other in one block (comments aside)."""
    if a.parent is None or b.parent is None or a.parent != b.parent:
        return False
    kids = [c for c in a.parent.named_children if c.type != "comment"]
    i = next((j for j, c in enumerate(kids) if c == a), None)
    k = next((j for j, c in enumerate(kids) if c == b), None)
    return i is not None and k is not None and abs(i - k) == 1


def _plain(n) -> bool:
    """An expression that names one value: no call, assignment or ++ in it."""
    stack = [n]
    while stack:
        c = stack.pop()
        if c.type in ("call_expression", "assignment_expression", "update_expression", "comma_expression"):
            return False
        stack.extend(c.children)
    return True


def _identifiers(n) -> list:
    out, stack = [], [n]
    while stack:
        c = stack.pop()
        if c.type == "identifier":
            out.append(c)
        stack.extend(c.children)
    return out


def _squeeze(n) -> str:
    return "".join(n.text.decode(errors="replace").split()) if n is not None else ""


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


def _constant(n) -> bool:
    """A value fixed at compile time: literals, sizeof, upper-case macros."""
    stack = [n]
    while stack:
        c = stack.pop()
        if c.type in ("sizeof_expression", "number_literal", "char_literal"):
            continue
        if c.type == "identifier":
            if not c.text.decode().isupper():
                return False
            continue
        if c.type in ("call_expression", "field_expression", "subscript_expression", "pointer_expression"):
            return False
        stack.extend(c.children)
    return True

