"""Facts across the functions of one file: file-scope variables and the
fields of structs the file defines.

inference.py follows a value inside a function and summaries.py across
the calls between the file's functions; a value stored in a file-scope
variable or a struct field by one function and read in another is what
this step adds (`chsc_page = (void *)get_zeroed_page(...)` in an init
function, `memset(chsc_page, 0, PAGE_SIZE)` elsewhere). A read of such a
storage place has the agreeing unit of **every write to it in the file**
(each write's right side read in its own function, as a local's source);
its chain names the write (`chsc_page = (void *)get_zeroed_page(...)
(line 44, in chsc_init())`).

It stays sound, one file at a time (no fact from another file):
- **variables**: only a `static` variable of a `.c` file, declared at the
  file's top level (never `extern` or declared without `static` there:
  other files may write it), not an array, and no function of the file
  declares a local or parameter of that name (a shadowed name is not the
  variable throughout);
- **fields**: `T.f` of a `struct T` defined exactly once in the `.c` file
  (no other file can name its fields), keyed by T when the base's type is
  known (a local, parameter or file-scope variable declared `struct T` or
  `struct T *`); a write to a field of that name whose base type is not
  known counts as a write to `T.f`, so it refuses. Never a field inside a
  union, never a struct the file typedefs (a base of the typedef's name is
  not recognised), never one copied whole (`*p = ...`, `x = y` of a
  struct T, memcpy()/copy_from_user()... given a struct T, or
  `sizeof(struct T)`);
- **every occurrence** of the name in the file is read (the bodies the
  file's parse left out are parsed when needed, as summaries.py does) and
  must be a plain read, a `v = e` (or a designated initializer `.f = e`,
  WRITE_ONCE(v, e), rcu_assign_pointer(v, e)); any other refuses: its
  address taken (`&v`, `&p->f`), `+=`, `++`, a write through a macro that
  can write its argument (swap(), do_div(), get_user(), a for_each loop,
  ...), a positional or unreadable initializer, a mention in a directive
  (a macro that may write it), at the file's top level other than its
  own declaration (an initializer of another variable may take its
  address), or anywhere the tree does not hold it as a name;
- a static variable with no initializer starts at 0, a struct allocated
  zeroed has 0 fields: zero has every unit, so only the writes count;
  there must be at least one, each with a unit, all the same.
The table of one name is made once per file, when a read first asks.
"""
from __future__ import annotations

import re

from .lex import _IDENT_BYTES as _WORD, whole_words     # _WORD: re's \w in bytes
from .nodes import WRAPPERS, args as _args, declared, function_declarator, line as _line, short as _short, unwrap as _unwrap
from .once import Once
from .parsing import nodes_of_kinds
from .rules.units import Fact
from .summaries import _name_of

_CONTAINERS = frozenset({"translation_unit", "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif",
                         "preproc_elifdef", "linkage_specification", "declaration_list"})
_FRAGMENT = b"__pgrewrite_fragment__"     # parsing.py's wrapper of a macro body
# macros that store their second argument in their first
_STORES = frozenset({"WRITE_ONCE", "rcu_assign_pointer", "RCU_INIT_POINTER", "smp_store_release"})
# macros (and calls) that may change what they are given
_CHANGES = frozenset({"swap", "do_div", "get_user", "__get_user", "unsafe_get_user", "xchg", "cmpxchg",
                      "try_cmpxchg", "xchg_relaxed", "cmpxchg_relaxed", "smp_store_mb", "div64_u64_rem",
                      "kstrtoul", "kstrtouint", "kstrtoint", "sscanf"})
# calls given the size of a struct that do not fill it with outside bytes
_ALLOCATORS = frozenset({"kzalloc", "kmalloc", "kvzalloc", "kvmalloc", "kcalloc", "kmalloc_array", "kvcalloc",
                         "devm_kzalloc", "devm_kmalloc", "devm_kcalloc", "kzalloc_node", "kmalloc_node", "vzalloc",
                         "vmalloc", "memset", "kfree_sensitive", "memzero_explicit", "kmem_cache_create"})
# calls that write raw bytes into the memory they are given
_RAW_WRITERS = frozenset({"memcpy", "memmove", "__memcpy", "memcpy_fromio", "copy_from_user", "__copy_from_user",
                          "copy_struct_from_user", "copy_from_sockptr", "copy_from_iter", "copy_from_kernel_nofault",
                          "memcpy_and_pad", "unsafe_memcpy", "copy_from_user_nofault", "_copy_from_user",
                          "kernel_read", "sg_copy_to_buffer", "read_from_oldmem"})


def _struct_of(ptype: str | None) -> str | None:
    """`struct T *` / `const struct T` -> T; anything else -> None."""
    if not ptype:
        return None
    t = ptype.replace("const ", "").replace("volatile ", "").replace("*", " ").split()
    return t[1] if len(t) == 2 and t[0] == "struct" else None


# -- the hooks: inference.py's and extents.py's reads of a name or field --------
def of(inf, fn) -> "FileScope | None":
    """The FileScope of the file of `inf` (an inference.Inference), made
    when a read first asks (from the tree of function `fn`)."""
    if fn is None or not _of_file(inf, fn):      # a macro body's names are those where it is used
        return None
    got = inf.__dict__.get("_filescope")
    if got is None:
        if inf.path is None or not inf.path.endswith(".c"):
            return None
        s = inf.summaries(fn)
        if s is None:
            return None
        got = inf.__dict__["_filescope"] = FileScope(inf, s)
    return got


def _of_file(inf, fn) -> bool:
    """`fn` is a function of the file, not the wrapper a macro body is
    parsed in (parsing.parse_fragment): a macro's names are those of
    where it is used, and the file's Summaries is made from the tree of
    the first function that asks."""
    d = function_declarator(fn.node)
    name = d.child_by_field_name("declarator") if d is not None else None
    return name is None or name.text != _FRAGMENT


def variable(inf, fn, name: str, depth: int, seen: frozenset) -> Fact | None:
    """The unit of a read of `name` in function `fn` when it is a
    file-scope variable of the file (not a local or parameter of fn)."""
    if fn is None or name in fn.types or depth > 4:
        return None
    fs = of(inf, fn)
    return fs.variable(name, lambda e, at: inf.source(e, at, depth + 1, seen), asked=(depth, seen)) \
        if fs is not None else None


def field(inf, e, fn, depth: int, seen: frozenset) -> Fact | None:
    """The unit of a read of field expression `e` (`p->f`, `x.f`) whose
    base is a struct the file defines."""
    fs = of(inf, fn) if fn is not None and depth <= 4 else None
    if fs is None:
        return None
    f = e.child_by_field_name("field")
    t = fs.base_struct(_unwrap(e.child_by_field_name("argument")), fn)
    return fs.field(t, f.text.decode(), lambda x, at: inf.source(x, at, depth + 1, seen), asked=(depth, seen)) \
        if f is not None and t is not None else None


def page_start(inf, e, fn, depth: int, seen: frozenset, judge):
    """(True, fact or None) when `e` (an identifier or field expression)
    reads a file-scope variable or a field of a struct the file defines:
    whether every write stores the start of a one-page buffer (`judge`:
    extents.page_start); (False, None) when it reads neither."""
    if fn is None or depth > 4:
        return False, None
    fs = of(inf, fn)
    if fs is None:
        return False, None
    loop = inf._loop_of(e) is not None          # a length in a loop may be the loop's stride
    if e.type == "identifier":
        name = e.text.decode()
        if name in fn.types or fs.variable_type(name) is None:
            return False, None
        if _to_phys(inf, name) or loop:
            return True, None
        return True, fs.variable(name, lambda x, at: judge(inf, x, at, depth + 1, seen), "page-start", (depth, seen))
    f = e.child_by_field_name("field")
    t = fs.base_struct(_unwrap(e.child_by_field_name("argument")), fn)
    if f is None or t is None or not fs._struct_ok(t) or inf.table.field_fact(f.text.decode(), t) is not None:
        return False, None
    if _to_phys(inf, f.text.decode()) or loop:
        return True, None
    return True, fs.field(t, f.text.decode(), lambda x, at: judge(inf, x, at, depth + 1, seen), "page-start",
                          (depth, seen))


def sinks(inf, target, fn, dim: str, depth: int, seen: frozenset) -> list[Fact]:
    """What the reads of file-scope variable or field `target` (the left
    side of `target = e`, in function `fn`) in the file's other places
    expect of its value: e goes wherever a read of it goes. Not when any
    occurrence refuses (as for sources), and only reads whose base is
    known to be the same struct; a variable's reads in `fn` itself are
    inference's (its uses)."""
    if fn is None or depth > 4:
        return []
    fs = of(inf, fn)
    if fs is None:
        return []
    if target.type == "identifier":
        name = target.text.decode()
        if name in fn.types or fs.variable_type(name) is None:
            return []
        key, what = ("var", name), name
    else:
        f = target.child_by_field_name("field")
        t = fs.base_struct(_unwrap(target.child_by_field_name("argument")), fn)
        if f is None or t is None or not fs._struct_ok(t):
            return []
        key, what = ("field", t, f.text.decode()), f"{t}.{f.text.decode()}"
    if key in seen:
        return []
    reads = fs.reads(key, fn if key[0] == "var" else None, target)
    out: list[Fact] = []
    parent, inf.parent = inf.parent, _parent          # nodes of trees parsed again
    try:
        for r, rfn in reads:
            at = inf.function_at(rfn)
            for g in inf.sinks(r, at, dim, depth + 1, seen | {key}):
                out.append(Fact(g.unit, f"stored in {what}, read at line {_line(r)} in {_fn_name(rfn)}(): {g.why}"))
    finally:
        inf.parent = parent
    return out


def _to_phys(inf, name: str) -> bool:
    """`name` given to a call that returns a physical address anywhere in
    the file (`__pa(chsc_page)`): hardware may read the buffer as 4K."""
    memo = inf.__dict__.setdefault("_filescope_phys", {})
    if name not in memo:
        text = inf.data
        memo[name] = any(fact.unit.dim == "phys" and callee.encode() in text and re.search(
            rb"\b" + re.escape(callee.encode()) + rb"\s*\([^;]*\b" + re.escape(name.encode()) + rb"\b", text)
            for callee, fact in inf.table.returns.items())
    return memo[name]


class FileScope:
    """The file-scope variables and locally defined structs of one file,
    and the units of their reads (make one per Inference, with the file's
    Summaries, whose left-out bodies it shares)."""

    def __init__(self, inf, summaries):
        self.inf = inf
        self.s = summaries
        self.data = inf.data
        self.local = inf.path is not None and inf.path.endswith(".c")
        self._decls = None           # (statics: name -> type, others: names, structs: T -> ok)
        self._writes: dict = {}      # ("var", name) | ("field", T, f) -> list of writes, or None: refused
        self._once_memo = Once(inf.decided)
        self._placed: dict = {}      # word -> [its occurrences placed, those in bodies not parsed yet]

    # -- the file's top level ----------------------------------------------
    def _top(self):
        if self._decls is None:
            statics: dict[str, str] = {}
            others: set[str] = set()
            structs: dict[str, int] = {}     # T -> definitions seen (-1: unusable)
            stack = [self.s._root]
            while stack:
                n = stack.pop()
                for c in n.children:
                    if c.type in _CONTAINERS:
                        stack.append(c)
                    elif c.type in ("declaration", "struct_specifier", "type_definition"):
                        self._top_item(c, statics, others, structs)
            self._decls = ({k: v for k, v in statics.items() if k not in others}, structs)
        return self._decls

    def _top_item(self, c, statics, others, structs):
        spec = c if c.type == "struct_specifier" else c.child_by_field_name("type")
        stack = [spec] if spec is not None else []
        while stack:                                 # struct definitions, nested ones too
            s = stack.pop()
            if s.type == "struct_specifier":
                name, body = s.child_by_field_name("name"), s.child_by_field_name("body")
                if name is not None and body is not None:
                    structs[name.text.decode()] = structs.get(name.text.decode(), 0) + 1
                if name is not None and c.type == "type_definition":
                    structs[name.text.decode()] = -1    # a typedef's name may stand for it
            stack.extend(s.named_children)
        if c.type != "declaration":
            return
        static = any(k.type == "storage_class_specifier" and k.text == b"static" for k in c.children)
        for d in c.children_by_field_name("declarator"):
            name, ptype = declared(c, d)
            if not name:
                continue
            inner = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
            if not static or not self.local or inner is None or inner.type in ("array_declarator", "function_declarator") \
                    or _has(inner, "function_declarator") or _has(inner, "array_declarator"):
                others.add(name)
            elif name in statics:
                others.add(name)                     # declared twice: keep it simple
            else:
                statics[name] = ptype

    def variable_type(self, name: str) -> str | None:
        return self._top()[0].get(name)

    def _struct_ok(self, t: str) -> bool:
        return self.local and self._top()[1].get(t) == 1

    # -- reads ------------------------------------------------------------------
    def variable(self, name: str, judge, kind: str = "unit", asked=()) -> Fact | None:
        """The unit of a read of file-scope variable `name` (a `judge(e,
        fn)` of every write's right side agreeing), or None. `asked`: the
        depth and the names on the way of the question (see _once)."""
        if not self.local or name not in self._top()[0]:
            return None
        return self._once((kind, "var", name), lambda: self._staged(name, lambda r: self._var_writes(name, r), judge),
                          asked)

    def field(self, struct: str | None, fname: str, judge, kind: str = "unit", asked=()) -> Fact | None:
        """The unit of a read of `T.f` (T: the base's struct), or None."""
        if struct is None or not self._struct_ok(struct):
            return None
        return self._once((kind, "field", struct, fname),
                          lambda: self._staged(f"->{fname}", lambda r: self._field_writes(struct, fname, r), judge),
                          asked)

    def _staged(self, what: str, writes_of, judge) -> Fact | None:
        """The writes in the bodies the file's parse read first: most often
        one of them refuses or says nothing, and the others need not be
        parsed; then all of them."""
        early = writes_of(False)
        if early is None or (early and self._agree(what, early, judge) is None):
            return None
        return self._agree(what, writes_of(True), judge)

    def _once(self, key, compute, asked=()):
        # An answer is kept per `asked` (the question's depth and the names
        # on its way): one cut short by the depth limit, asked deep inside
        # another site's chain, is not the answer for a site that asks it
        # first hand, and the verdict must not depend on which asked first.
        # A read of it inside a write of it gives up (None).
        return self._once_memo.get(key, compute, asked, facts=self.inf.decided)

    def _agree(self, what: str, writes, judge) -> Fact | None:
        if not writes:
            return None
        first = None
        parent, self.inf.parent = self.inf.parent, _parent      # nodes of trees parsed again
        try:
            for target, right, fn in writes:
                at = self.inf.function_at(fn)
                f = judge(right, at)
                if f is None or (first is not None and f.unit != first[1].unit):
                    return None
                first = first or ((target, right, fn), f)
        finally:
            self.inf.parent = parent
        (target, right, fn), f = first
        fname = _fn_name(fn)
        also = "" if len(writes) == 1 else f", as its {len(writes)} writes in the file all are"
        return Fact(f.unit, f"{_short(target)} = {_short(right)} (line {_line(right)}, in {fname}()){also}: {f.why}")

    def reads(self, key, skip_fn, target) -> list:
        """[(read expression, function_definition)] of the storage place
        `key` in the file (none if any occurrence refuses): plain reads,
        not in function `skip_fn`, not `target` itself."""
        early = self._var_writes(key[1], False) if key[0] == "var" else self._field_writes(key[1], key[2], False)
        writes = None if early is None else \
            self._var_writes(key[1]) if key[0] == "var" else self._field_writes(key[1], key[2])
        if writes is None:
            return []
        out = []
        word = key[1] if key[0] == "var" else key[2]
        for a, b, node, fn in self._occurrences(word):
            if fn is None or node is None or node is _DIRECTIVE_READ or node.start_byte != a or node.end_byte != b \
                    or (skip_fn is not None and fn.start_byte == skip_fn.node.start_byte) or a == target.start_byte \
                    or (target.type == "field_expression" and target.child_by_field_name("field").start_byte == a):
                continue
            if key[0] == "var":
                if node.type != "identifier" or _use(node) is not None:
                    continue
                out.append((node, fn))
            else:
                up = node.parent
                if node.type != "field_identifier" or up is None or up.type != "field_expression":
                    continue
                at = self.inf.function_at(fn)
                if self.base_struct(_unwrap(up.child_by_field_name("argument")), at) != key[1] or _use(up) is not None:
                    continue
                out.append((up, fn))
        return out

    # -- writes -----------------------------------------------------------------
    def _occurrences(self, word: str, resolve: bool = True):
        """Each whole-word `word` of the file placed in a tree (with
        `resolve`, the bodies the file's parse left out parsed again,
        parse errors and all: a node in an ERROR region is no name, and
        refuses): (start, end, node or None, function_definition or None)."""
        got = self._placed.get(word)
        if got is None:
            s = self.s
            out, pending = [], []
            for a, b in whole_words(self.data, word.encode()):
                node = s._root.descendant_for_byte_range(a, b)
                fn = s._enclosing(a)
                if node is not None and node.type == "compound_statement" and node.named_child_count == 0 \
                        and fn is not None and fn.child_by_field_name("body") == node:
                    pending.append((a, b, fn))
                    continue
                out.append(self._checked(a, b, node, fn))
            got = self._placed[word] = [out, pending]
        out, pending = got
        if resolve and pending:
            self.s.reparse([fn for _, _, fn in pending])
            for a, b, fn in pending:
                again = self.s.reparsed.get(fn.start_byte)
                out.append(self._checked(a, b, again.descendant_for_byte_range(a, b) if again is not None else None, again))
            got[1] = []
        return out

    def _checked(self, a, b, node, fn):
        if _in_directive(self.data, a) and _read_in_text(self.data, a, b):
            return a, b, _DIRECTIVE_READ, fn
        return a, b, (node if node is None or _clean(node) else None), fn

    def _read(self, fn):
        """`fn` with its body read (parsed again if the file's parse left it out)."""
        body = fn.child_by_field_name("body")
        if body is None or body.named_child_count or not self.data[body.start_byte + 1:body.end_byte - 1].strip():
            return fn
        self.s.reparse([fn])
        return self.s.reparsed.get(fn.start_byte)

    def _var_writes(self, name: str, resolve: bool = True):
        """[(target, right side, function_definition)] of every write of
        file-scope variable `name`, or None if any use refuses."""
        key = ("var", name, resolve)
        if key in self._writes:
            return self._writes[key]
        writes: list | None = []
        for a, b, node, fn in self._occurrences(name, resolve):
            if node is _DIRECTIVE_READ:
                continue                             # read by a macro of the file
            if node is not None and node.type in ("comment", "string_content", "string_literal", "char_literal"):
                continue
            if node is None or node.start_byte != a or node.end_byte != b or node.type != "identifier":
                writes = None
                break
            if fn is None:                           # the top level: only its own declaration
                if not _declares(node):
                    writes = None
                    break
                d = node.parent
                if d is not None and d.type == "init_declarator":
                    v = d.child_by_field_name("value")
                    if v is None or v.type == "initializer_list":
                        writes = None
                        break
                    writes.append((node, v, None))
                continue
            if name in self.inf.function_at(fn).types:
                writes = None                        # a local or parameter of that name somewhere
                break
            got = _use(node)
            if got is False:
                writes = None
                break
            if got is not None:
                writes.append((node, got, fn))
        if writes is not None and any(w[2] is None for w in writes):
            writes = None                            # an initializer is read at no function: refuse
        self._writes[key] = writes
        return writes

    def _field_writes(self, struct: str, fname: str, resolve: bool = True):
        key = ("field", struct, fname, resolve)
        if key in self._writes:
            return self._writes[key]
        writes: list | None = []
        for a, b, node, fn in self._occurrences(fname, resolve):
            if node is _DIRECTIVE_READ:
                continue                             # read by a macro of the file
            if node is not None and node.type in ("comment", "string_content", "string_literal", "char_literal"):
                continue
            if node is None or node.start_byte != a or node.end_byte != b:
                writes = None
                break
            if node.type in ("identifier", "type_identifier", "statement_identifier"):
                up = node.parent                     # a local, function or label of that name
                if up is not None and up.type == "argument_list":
                    call = up.parent
                    f = call.child_by_field_name("function") if call is not None else None
                    if f is not None and b"offsetof" in f.text:
                        writes = None                # offsetof(struct T, f): its address
                        break
                continue
            if node.type != "field_identifier":
                writes = None
                break
            up = node.parent
            if up is not None and up.type == "field_declaration":
                if _in_union(up) and _struct_name(up) == struct:
                    writes = None
                    break
                continue
            if up is not None and up.type in ("pointer_declarator", "array_declarator", "function_declarator",
                                              "bitfield_clause", "parenthesized_declarator"):
                continue                             # a field's declarator in some struct
            if fn is None:
                writes = None                        # a file-scope initializer may set it
                break
            at = self.inf.function_at(fn)
            if up is not None and up.type == "field_designator":
                pair = up.parent
                lst = pair.parent if pair is not None else None
                t = _list_struct(lst, at, self)
                if t is not None and t != struct:
                    continue
                if t is None or pair.type != "initializer_pair" or len(pair.children_by_field_name("designator")) != 1:
                    writes = None
                    break
                v = pair.child_by_field_name("value")
                if v is None or v.type == "initializer_list":
                    writes = None
                    break
                writes.append((up, v, fn))
                continue
            if up is None or up.type != "field_expression" or up.child_by_field_name("field") != node:
                writes = None
                break
            base = _unwrap(up.child_by_field_name("argument"))
            t = self.base_struct(base, at)
            if t is not None and t != struct:
                continue
            got = _use(up)
            if got is False or (t is None and got is not None):
                writes = None                        # a write of unknown base may be T's
                break
            if got is not None:
                writes.append((up, got, fn))
        if writes is not None and resolve and not self._struct_whole(struct):
            writes = None                            # a struct T filled with outside bytes
        self._writes[key] = writes
        return writes

    def base_struct(self, base, at) -> str | None:
        """T when `base` (an identifier) is declared struct T (or a pointer
        to one) in function `at` or at the file's top level."""
        if base is None or base.type != "identifier":
            return None
        name = base.text.decode()
        ptype = at.types.get(name) if at is not None else None
        if ptype is None and (at is None or name not in at.types):
            ptype = self.variable_type(name)
        return _struct_of(ptype)

    def _struct_whole(self, struct: str) -> bool:
        """No struct T may be filled whole with outside bytes in the file
        (_whole_ok), read in the functions naming `struct T` or a
        file-scope variable of that type."""
        key = ("whole", struct)
        if key in self._writes:
            return self._writes[key]
        ok = True
        statics = {n: "*" in t for n, t in self._top()[0].items() if _struct_of(t) == struct}
        fns = {}
        starts = _struct_tags(self.data, struct.encode())
        for n in statics:
            starts += [a for a, _ in whole_words(self.data, n.encode())]
        for a in starts:
            fn = self.s._enclosing(a)
            if fn is not None:
                fns[fn.start_byte] = fn
        for fn in fns.values():
            fn = self._read(fn)
            if fn is None:
                ok = False
                break
            at = self.inf.function_at(fn)
            names = {n: v for n, v in statics.items() if n not in at.types}
            names.update({n: "*" in t for n, t in at.types.items() if _struct_of(t) == struct})
            if not _whole_ok(fn, names, struct, self, at):
                ok = False
                break
        self._writes[key] = ok
        return ok


def _struct_tags(data: bytes, name: bytes) -> list[int]:
    """Where `re.finditer(rb"\\bstruct\\s+NAME\\b", data)` matches (the
    offset of `struct`), found from the name's occurrences (bytes.find):
    a regex that starts with \\b scans every byte of the file."""
    out = []
    i, n = data.find(name), len(name)
    while i >= 0:
        e = i + n
        if e >= len(data) or data[e] not in _WORD:
            j = i
            while j and data[j - 1] in _SPACE:
                j -= 1
            k = j - 6
            if j < i and k >= 0 and data[k:j] == b"struct" and (k == 0 or data[k - 1] not in _WORD):
                out.append(k)
        i = data.find(name, e)
    return out


_SPACE = frozenset(b" \t\n\r\f\v")      # re's \s in bytes


def _whole_ok(fn, names: dict, struct: str, scope: "FileScope", at) -> bool:
    """No struct T in function `fn` may be filled with bytes from
    elsewhere (`names`: the function's names of type struct T, or a
    pointer to one, -> whether a pointer):
    - a raw writer (memcpy(), copy_from_user()...) given one, or with
      `sizeof(struct T)` in its arguments;
    - any other call but an allocator or memset() given the size of one
      (`i2c_master_recv(c, (char *)p, sizeof(*p))`, `sizeof(x)`);
    - the address of a whole struct T object (`&x`) anywhere but as an
      argument of a function the file defines (asm, a callee elsewhere);
    - a positional initializer list of a struct T (other than zeros).
    A struct T copied whole from another (`*p = *q`) keeps the fields'
    values."""
    tag = re.compile(rb"\bstruct\s+" + re.escape(struct.encode()) + rb"\b")
    local = scope.s._defs
    # any one node refuses, so the order they are looked at in does not
    # matter: the query engine lists them without a Python walk of the rest
    found = nodes_of_kinds(fn, _WHOLE_KINDS)
    for n in (n for k in _WHOLE_KINDS for n in found.get(k, ())):
        t = n.type
        if t == "call_expression":
            f = n.child_by_field_name("function")
            callee = f.text.decode() if f is not None else ""
            for a in _args(n):
                x = _unwrap(a)
                if x is not None and x.type == "pointer_expression" and x.child_by_field_name("operator").type == "&":
                    x = _unwrap(x.child_by_field_name("argument"))
                if callee in _RAW_WRITERS and ((x is not None and x.type == "identifier" and x.text.decode() in names)
                                               or tag.search(a.text)):
                    return False
                if callee not in _ALLOCATORS and _size_of(a, names, tag):
                    return False
        elif t == "pointer_expression" and n.child_by_field_name("operator").type == "&":
            x = _unwrap(n.child_by_field_name("argument"))
            if x is not None and x.type == "identifier" and names.get(x.text.decode()) is False:
                up = n.parent
                while up is not None and up.type in WRAPPERS:
                    up = up.parent
                call = up.parent if up is not None and up.type == "argument_list" else None
                f = call.child_by_field_name("function") if call is not None else None
                if f is None or f.text.decode() not in local:
                    return False
        elif t == "initializer_list" and _list_struct(n, at, scope) == struct:
            if any(c.type not in ("initializer_pair", "comment") and c.text != b"0" for c in n.named_children):
                return False
    return True


_WHOLE_KINDS = ("call_expression", "pointer_expression", "initializer_list")   # what _whole_ok looks at


def _size_of(a, names: dict, tag) -> bool:
    """Argument `a` is the size of a struct T: sizeof(struct T),
    sizeof(*p) with p a pointer to one, sizeof(x) with x one."""
    x = _unwrap(a)
    if x is None or x.type != "sizeof_expression":
        return False
    if tag.search(x.text):
        return True
    v = _unwrap(x.child_by_field_name("value"))
    if v is not None and v.type == "pointer_expression" and v.child_by_field_name("operator").type == "*":
        v = _unwrap(v.child_by_field_name("argument"))
        return v is not None and v.type == "identifier" and names.get(v.text.decode()) is True
    return v is not None and v.type == "identifier" and names.get(v.text.decode()) is False


def _use(node):
    """What the occurrence `node` (an identifier, or a field_expression) of
    a storage place does: None (a read), the right side of a write, or
    False (refuse: address taken, changed in place, maybe written by a
    macro)."""
    n, up = node, node.parent
    while up is not None and up.type in WRAPPERS:
        n, up = up, up.parent
    if up is None:
        return False
    t = up.type
    if t == "assignment_expression" and up.child_by_field_name("left") == n:
        op = up.child_by_field_name("operator")
        return up.child_by_field_name("right") if op is not None and op.type == "=" else False
    if t == "update_expression":
        return False
    if t == "pointer_expression" and up.child_by_field_name("operator").type == "&":
        return False
    if t == "init_declarator" and up.child_by_field_name("value") == n:
        return None                                  # `T *x = v;`: a read
    if t.endswith("declarator") or t in ("parameter_declaration", "declaration", "field_designator"):
        return False                                 # a declarator, a macro loop's, ...
    if t == "argument_list":
        call = up.parent
        f = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
        name = f.text.decode() if f is not None and f.type == "identifier" else None
        a = _args(call) if call is not None else []
        if name is None or name in _CHANGES or "for_each" in name:
            return False
        if name in _STORES:
            return a[1] if len(a) == 2 and a[0] == n else (False if a and a[0] == n else None)
        stmt = call.parent
        if stmt is not None and stmt.type == "expression_statement" and not stmt.text.rstrip().endswith(b";"):
            return False                             # `loop(v) {...}`: a macro loop read as a call
    return None


_DIRECTIVE_READ = object()      # an occurrence in a #define body that only reads the name
_WRITE_AFTER = re.compile(rb"\s*\)*\s*(?:=(?!=)|\+\+|--|(?:[-+*/%&|^]|<<|>>)=)")
_ENDS = re.compile(rb"[ \t)]*(?:/\*.*?\*/[ \t]*)?(?:\n|$)")
_WRITE_BEFORE = re.compile(rb"(?:&|\+\+|--)[\s(]*$")


def _in_directive(data: bytes, at: int) -> bool:
    """Offset `at` is on a preprocessor directive's (logical) line."""
    start = data.rfind(b"\n", 0, at) + 1
    while start > 1 and data[start - 2:start] == b"\\\n":
        start = data.rfind(b"\n", 0, start - 2) + 1
    return data[start:at].lstrip().startswith(b"#")


def _read_in_text(data: bytes, a: int, b: int) -> bool:
    """The name at a..b of a directive only reads: no `=`, `op=`, `++` or
    `--` after it, no `&`, `++` or `--` before it, not an argument of a
    call that may change it (swap(), a for_each loop...)."""
    if _WRITE_AFTER.match(data, b) or _WRITE_BEFORE.search(data[max(0, a - 16):a]) or _ENDS.match(data, b):
        return False                   # ends the body: the macro's use may be assigned
    head = data[max(0, a - 200):a]
    depth, i = 0, len(head) - 1
    while i >= 0:                      # the call the name is an argument of, if any
        c = head[i]
        if c == 0x29:
            depth += 1
        elif c == 0x28:
            if depth == 0:
                m = re.search(rb"([A-Za-z_][A-Za-z0-9_]*)\s*$", head[:i])
                name = m.group(1).decode() if m else ""
                return not (name in _CHANGES or name in _STORES or "for_each" in name)
            depth -= 1
        elif c in (0x3B, 0x7B, 0x7D):
            break
        i -= 1
    return True


def _clean(node) -> bool:
    """No ERROR node holds `node` (inside its function, or at the top level)."""
    n = node
    while n is not None:
        if n.type == "ERROR" or n.is_missing:
            return False
        if n.type == "function_definition" and n.parent is not None and n.parent.type in _CONTAINERS:
            return True
        n = n.parent
    return True


def _declares(node) -> bool:
    """`node` is the name a top-level declaration declares."""
    up = node.parent
    while up is not None and up.type in ("pointer_declarator", "init_declarator", "attributed_declarator",
                                         "parenthesized_declarator"):
        if up.type == "init_declarator" and up.child_by_field_name("declarator") != node \
                and not _has(up.child_by_field_name("declarator"), node=node):
            return False
        node, up = up, up.parent
    return up is not None and up.type == "declaration"


def _has(n, kind: str | None = None, node=None) -> bool:
    stack = [n] if n is not None else []
    while stack:
        c = stack.pop()
        if (kind is not None and c.type == kind) or (node is not None and c == node):
            return True
        stack.extend(c.children)
    return False


def _in_union(decl) -> bool:
    p = decl.parent
    while p is not None and p.type != "struct_specifier":
        if p.type == "union_specifier":
            return True
        p = p.parent
    return False


def _struct_name(decl) -> str | None:
    p = decl.parent
    while p is not None and p.type != "struct_specifier":
        p = p.parent
    name = p.child_by_field_name("name") if p is not None else None
    return name.text.decode() if name is not None else None


def _list_struct(lst, at, scope: FileScope) -> str | None:
    """The struct an initializer list initialises: `struct T x = {...}`,
    `(struct T){...}`; None if not known."""
    if lst is None or lst.type != "initializer_list":
        return None
    up = lst.parent
    if up is not None and up.type == "init_declarator" and up.child_by_field_name("value") == lst:
        d = up.parent
        ty = d.child_by_field_name("type") if d is not None and d.type == "declaration" else None
        inner = up.child_by_field_name("declarator")
        if ty is not None and ty.type == "struct_specifier" and inner is not None and inner.type == "identifier":
            name = ty.child_by_field_name("name")
            return name.text.decode() if name is not None else None
        return None
    if up is not None and up.type == "compound_literal_expression":
        ty = up.child_by_field_name("type")
        return _struct_of(ty.text.decode()) if ty is not None else None
    return None


def _fn_name(fn) -> str:
    return (_name_of(fn) if fn is not None else None) or "?"


def _parent(n):
    return n.parent
