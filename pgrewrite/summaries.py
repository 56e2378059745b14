"""Function summaries: units across the calls between one file's functions.

inference.py carries units inside one function. Here a value crosses a
call to a function defined in the same file (a summary is what the callee's
body says, computed when first asked and kept for the file):
- the **return** unit of `f()`: the agreeing unit of every `return e` of f
  (all known and equal, else none);
- the **sink** of an argument: what f's body does with the parameter (gives
  it to a units.yaml callee, bounds a buffer with it, ...), when the body
  never assigns the parameter;
- the **source** of a parameter, only in a *file-local* function: the
  agreeing unit of the argument at every call in the file (all known and
  equal, else none).
Return units and sinks hold for any caller, so they need f defined exactly
once in the file, not `__weak` (another definition may replace it), and no
macro naming f (`#define f other_f`, or calls hidden in a macro body).
Parameter sources need every caller in sight: f is `static`, in a `.c` file
(a header's static inline functions have callers in every file that
includes it), and its name occurs in the code only as the callee of direct
calls and in its own declarators: never address-taken (`.open = f`,
`&f`), exported or passed on.
Recursion and cycles give up: a summary asked again while it is being
computed is nothing (no unit). Each summary is computed once per file (and
again once strong rule decisions are known), so the work is bounded.
"""
from __future__ import annotations

import re
from bisect import bisect_right

from dataclasses import dataclass, field

from . import parsing
from .lex import whole_words
from .nodes import args as _args, function_declarator, line as _line, short as _short
from .once import Once
from .rules.units import Fact

# where function definitions live: the file's top level, #if branches, extern "C"
_CONTAINERS = frozenset({"translation_unit", "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif",
                         "preproc_elifdef", "linkage_specification", "declaration_list"})
_TEXT = frozenset({"comment", "string_literal", "string_content", "char_literal", "escape_sequence",
                   "system_lib_string", "raw_string_literal", "raw_string_content", "character"})
_WEAK = re.compile(rb"\b(?:__weak|weak)\b")     # __weak, __attribute__((weak))
# in `seen`: the sinks asked are those of a parameter, which every caller's
# argument must be; a use where the value is capped (min(), clamp(), `if (x >
# len) x = len;`) says what the cap is, not what the parameter is. It stays
# in `seen` down every nested summary (a callee's parameter capped in its
# own callee is capped for the caller too)
CAPPED = "\0capped"


@dataclass
class _Uses:
    """Where a file uses the name of a function it defines."""

    calls: list = field(default_factory=list)    # (call_expression, the caller's definition)
    other: bool = False      # used other than as the callee of a direct call or a declarator
    macro: bool = False      # in a directive, or where the tree has no name
    pending: list = field(default_factory=list)  # (start, end, definition): in bodies left out


class Summaries:
    """The functions of one file, what their calls are, and their summaries.
    `inference`: the file's inference.Inference (its source() and sinks
    read the callers' and callees' bodies).

    The file's tree leaves out the bodies that hold no family name
    (sites._parse); a summary that needs one (a callee's, a caller's)
    parses just those functions again (tree-sitter's included ranges: the
    nodes keep the file's offsets and lines), when first asked."""

    def __init__(self, inference, root, path: str | None):
        self.inf = inference
        self.data = inference.data
        self.header = path is None or not path.endswith(".c")
        self._defs: dict[str, list] = {}
        stack = [root]
        while stack:
            n = stack.pop()
            for c in n.children:
                if c.type == "function_definition":
                    name = _name_of(c)
                    if name:
                        self._defs.setdefault(name, []).append(c)
                elif c.type in _CONTAINERS:
                    stack.append(c)
        spans = sorted((fn.start_byte, fn.end_byte, i, fn) for i, fn in
                       enumerate(f for fns in self._defs.values() for f in fns))
        self._starts = [s for s, _, _, _ in spans]
        self._spans = spans
        self._words: dict[str, _Uses] = {}  # name -> where the file uses it (when first asked)
        # start -> function_definition parsed again, errors kept (None: not found);
        # shared with filescope.FileScope, so that a body both ask for is parsed once
        self.reparsed: dict[int, object] = {}
        self._root = root
        self._once_memo = Once(inference.decided)

    def _uses(self, name: str, resolve: bool = False) -> _Uses:
        """Where the file uses `name` (a function it defines): each whole
        word outside comments and literals, placed by the tree. `resolve`:
        place the words in bodies the tree left out too (parse them)."""
        u = self._words.get(name)
        if u is None:
            u = self._words[name] = _Uses()
            for s, e in whole_words(self.data, name.encode()):
                node = self._root.descendant_for_byte_range(s, e)
                if node is not None and node.type == "compound_statement" and node.named_child_count == 0:
                    fn = self._enclosing(s)
                    if fn is not None and fn.child_by_field_name("body") == node:
                        u.pending.append((s, e, fn))
                        continue
                self._place(u, node, s, e, self._enclosing(s))
        if resolve and u.pending:
            pending, u.pending = u.pending, []
            self.reparse([fn for _, _, fn in pending])
            for s, e, fn in pending:
                again = self._clean(fn.start_byte)
                if again is None:
                    u.other = True
                else:
                    self._place(u, again.descendant_for_byte_range(s, e), s, e, again)
        return u

    @staticmethod
    def _place(u: _Uses, node, s: int, e: int, caller) -> None:
        if node is None:
            u.macro = True
        elif node.type in _TEXT:
            pass                                   # a comment or a literal
        elif node.start_byte != s or node.end_byte != e:
            # not a name of the tree: a directive (left out of the parse),
            # an initializer left out (data naming it: address taken), ...
            if node.type == "initializer_list" and node.named_child_count == 0:
                u.other = True
            else:
                u.macro = True
        elif node.type != "identifier":
            u.other = True                         # a field or type of that name
        else:
            up = node.parent
            if up is not None and up.type.startswith("preproc"):
                u.macro = True                     # `#ifndef f`: a macro may stand for it
            elif up is not None and up.type == "call_expression" and up.child_by_field_name("function") == node:
                u.calls.append((up, caller))
            elif not (up is not None and up.type == "function_declarator"
                      and up.child_by_field_name("declarator") == node):
                u.other = True

    def _read(self, fn):
        """fn (a function_definition of the file's tree) with its body read."""
        body = fn.child_by_field_name("body")
        if body is None or body.named_child_count or not self.data[body.start_byte + 1:body.end_byte - 1].strip():
            return fn
        self.reparse([fn])
        return self._clean(fn.start_byte)

    def read_with_errors(self, fn):
        """fn with its body read, even when the parse of the body found
        errors (None only if it found no function there): for readers that
        look at statements one by one and skip those with errors."""
        return self._read(fn) or self.reparsed.get(fn.start_byte)

    def _clean(self, start: int):
        """The function re-parsed at `start`, None if the parse found none
        or read it with errors (a summary is never built on a guess)."""
        got = self.reparsed.get(start)
        return got if got is not None and not got.has_error else None

    def reparse(self, fns) -> None:
        """Parse again the bodies of `fns` the file's parse left out, into
        `reparsed` (trees with errors kept; each reader checks for them)."""
        todo = [fn for fn in fns if fn.start_byte not in self.reparsed]
        if todo:
            self.reparsed.update(parsing.reparse_functions(self.data, todo))

    def _enclosing(self, at: int):
        i = bisect_right(self._starts, at) - 1
        if i >= 0 and self._spans[i][0] <= at < self._spans[i][1]:
            return self._spans[i][3]
        return None

    # -- which functions ---------------------------------------------------
    def definitions(self) -> dict[str, list]:
        """Name -> the file's function_definition nodes of that name."""
        return self._defs

    def read_all(self) -> None:
        """Parse the bodies the file's tree left out, all at once (mining.py
        asks about every function)."""
        self.reparse([fn for fns in self._defs.values() for fn in fns
                     if (b := fn.child_by_field_name("body")) is not None and not b.named_child_count
                     and self.data[b.start_byte + 1:b.end_byte - 1].strip()])

    def callee(self, name: str):
        """The definition of `name` when a call to it is a call of that
        body: defined once here, not weak, no macro naming it."""
        fns = self._defs.get(name)
        if not fns or len(fns) != 1 or self._uses(name).macro:
            return None
        fn = fns[0]
        body = fn.child_by_field_name("body")
        head = self.data[fn.start_byte:body.start_byte if body is not None else fn.end_byte]
        return None if _WEAK.search(head) else self._read(fn)

    def bodies(self, name: str) -> list:
        """Every definition of `name` in this file (`#ifdef` variants too),
        each with its body read; none when a macro may stand for it."""
        if self._uses(name).macro:
            return []
        return [d for d in (self._read(fn) for fn in self._defs.get(name, ())) if d is not None]

    def file_local(self, name: str, resolve: bool = True) -> bool:
        """Every call of `name` is in this file, in sight (module docstring).
        `resolve=False`: not known to be otherwise in the parsed bodies."""
        fn = self.callee(name)
        if fn is None or self.header or not _static(fn):
            return False
        u = self._uses(name, resolve)
        return not (u.other or u.macro)

    def _once(self, key, compute):
        return self._once_memo.get(key, compute, facts=self.inf.decided)

    # -- summaries -----------------------------------------------------------
    def parameter(self, fn, pname: str) -> Fact | None:
        """The unit of parameter `pname` of the function `fn` (an
        inference._Function): the agreeing unit of its argument at every
        call, if fn is file-local and never assigns it."""
        name = _name_of(fn.node)
        if not name or pname in fn.sources or pname in fn.changed or not self.file_local(name, resolve=False) \
                or _variadic(fn.node):
            return None
        k = fn.param_names.index(pname)
        return self._once(("param", fn.node.start_byte, k), lambda: self._parameter(name, pname, k))

    def parameter_as(self, fn, pname: str, kind: str, judge) -> Fact | None:
        """As parameter(), with `judge(argument, caller)` (caller: an
        inference._Function or None) saying what each call passes, a Fact
        or None; `kind` names the judge (extents.py: "page-start")."""
        name = _name_of(fn.node)
        if not name or pname in fn.sources or pname in fn.changed or not self.file_local(name, resolve=False) \
                or _variadic(fn.node):
            return None
        k = fn.param_names.index(pname)
        return self._once((kind, fn.node.start_byte, k), lambda: self._parameter(name, pname, k, judge))

    def _parameter(self, name: str, pname: str, k: int, judge=None) -> Fact | None:
        # the calls in the parsed bodies first: most often one of them
        # says nothing, and the bodies left out need not be parsed
        first, done = None, 0
        for resolve in (False, True):
            if resolve and not self.file_local(name):
                return None
            calls = self._uses(name, resolve).calls
            for call, caller in calls[done:]:
                args = _args(call)
                if len(args) <= k:
                    return None
                at = self.inf.function_at(caller) if caller is not None else None
                f = judge(args[k], at) if judge is not None else self.inf.source(args[k], at)
                if f is None or (first is not None and f.unit != first[1].unit):
                    return None
                first = first or (call, f, args[k])
            done = len(calls)
        if first is None:
            return None
        call, f, arg = first
        every = "its one call passes" if len(calls) == 1 else f"its {len(calls)} calls agree, the first passes"
        line = _line(call)
        return Fact(f.unit, f"{pname} is argument {k + 1} of {name}(), {every} {_short(arg)} (line {line})"
                            f": {f.why}")

    def returned(self, name: str) -> Fact | None:
        """The unit of a call of `name`: the agreeing unit of every
        `return e` of its body."""
        fn = self.callee(name)
        if fn is None:
            return None
        return self._once(("return", fn.start_byte), lambda: self._returned(name, self.inf.function_at(fn)))

    def _returned(self, name: str, fn) -> Fact | None:
        first = None
        for r in fn.returns:
            e = next((c for c in r.named_children if c.type != "comment"), None)
            f = self.inf.source(e, fn) if e is not None else None
            if f is None or (first is not None and f.unit != first[1].unit):
                return None
            first = first or (e, f)
        if first is None:
            return None
        e, f = first
        n = len(fn.returns)
        also = "" if n == 1 else f", as its {n} returns all do"
        return Fact(f.unit, f"{name}() returns {_short(e)} (line {_line(e)}){also}: {f.why}")

    def argument_sinks(self, call, name: str, k: int, dim: str, depth: int, seen: frozenset) -> list[Fact]:
        """What `name`'s body does with its parameter k+1 (0-based k), when
        it never assigns it: what the argument at `call` is expected to be."""
        line = _line(call)
        return self._parameter_sinks(name, k, dim, depth, seen,
                                     lambda pname, at: f"passed to {name}() argument {k + 1} (line {line}), "
                                                       f"its {pname} (line {at})")

    def parameter_sinks(self, name: str, k: int, dim: str) -> list[Fact]:
        """What the body of `name` (a function of this file, defined once,
        not weak) does with its parameter k+1, as argument_sinks() says it
        to a call of the file: what any caller's argument is expected to
        be (mining.py). Each chain starts at the parameter's use."""
        return self._parameter_sinks(name, k, dim, 0, frozenset(),
                                     lambda pname, at: f"its {pname} (line {at})")

    def _parameter_sinks(self, name: str, k: int, dim: str, depth: int, seen: frozenset, says) -> list[Fact]:
        fn = self.callee(name)
        if fn is None or _variadic(fn):
            return []
        callee = self.inf.function_at(fn)
        pname = callee.param_names[k] if k < len(callee.param_names) else None
        key = ("sink", fn.start_byte, k)
        if not pname or pname in callee.sources or pname in callee.changed or key in seen:
            return []
        # the callee's nodes may be of a tree parsed again, which the site's
        # Scope does not know: their parents from tree-sitter
        parent, self.inf.parent = self.inf.parent, _parent
        try:
            return self.inf._sinks_of_uses(pname, fn, callee, dim, depth, seen | {key, CAPPED}, _never,
                                           lambda at: says(pname, at))
        finally:
            self.inf.parent = parent

    def return_sinks(self, fn, dim: str, depth: int, seen: frozenset) -> list[Fact]:
        """What the calls of the file-local function `fn` (an
        inference._Function) do with the value it returns: `return e`
        hands e to every call, and each call's context is evidence."""
        name = _name_of(fn.node)
        key = ("return", fn.node.start_byte)
        if not name or key in seen or not self.file_local(name):
            return []
        out: list[Fact] = []
        parent, self.inf.parent = self.inf.parent, _parent      # as in argument_sinks
        try:
            for call, caller in self._uses(name).calls:
                at = self.inf.function_at(caller) if caller is not None else None
                line = _line(call)
                for f in self.inf.sinks(call, at, dim, depth + 1, seen | {key}):
                    out.append(Fact(f.unit, f"returned by {name}() to its call at line {line}: {f.why}"))
        finally:
            self.inf.parent = parent
        return out


def _name_of(fn) -> str | None:
    d = function_declarator(fn)
    d = d.child_by_field_name("declarator") if d is not None else None
    while d is not None and d.type in ("parenthesized_declarator", "attributed_declarator"):
        d = next((c for c in d.named_children if c.type.endswith("declarator") or c.type == "identifier"), None)
    return d.text.decode() if d is not None and d.type == "identifier" else None


def _static(fn) -> bool:
    return any(c.type == "storage_class_specifier" and c.text == b"static" for c in fn.children)


def _variadic(fn) -> bool:
    d = function_declarator(fn)
    params = d.child_by_field_name("parameters") if d is not None else None
    return params is None or any(c.type == "variadic_parameter" or c.text == b"..." for c in params.children)


def _parent(n):
    return n.parent


def _never(up, use) -> bool:
    return False                  # the parameter is never assigned: every use is one

