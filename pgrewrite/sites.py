"""Find every family token in a file: code, macro bodies, #if, attributes, asm.

Candidates come from the lexer (so none can hide); tree-sitter gives each
one its structure. A #define body is re-parsed on its own, with positions
mapped back to the file, because tree-sitter reads macro bodies as raw text
(and stumbles over comments inside them). The bodies of functions without a
family name in code are left out of the file's parse (_parse).
"""
from __future__ import annotations

import hashlib
from bisect import bisect_right
import re
from dataclasses import dataclass, field, replace

from . import parsing
from .lex import CONDITIONAL, Lexed, Lexer, blank
from .model import Context, Mentions, Site
from .nodes import function_declarator

# Leaves whose text is a name (tree-sitter reads `__aligned(PAGE_SIZE)` as a
# declarator with a type_identifier parameter, so type names count too).
NAME_LEAVES = frozenset({"identifier", "type_identifier", "field_identifier", "statement_identifier"})
ASM_SUFFIXES = (".S", ".s", ".lds", ".asm")
ATTRIBUTE_CALLS = frozenset({"__aligned", "__attribute__", "__attribute", "aligned", "__section", "__page_aligned_data"})
KEEP_FOR_PARSER = CONDITIONAL | {"else", "endif"}
# Nodes that end the "statement" used for a site's stable id.
_BLOCKS = frozenset({
    "compound_statement", "translation_unit", "function_definition", "field_declaration_list",
    "if_statement", "for_statement", "while_statement", "do_statement", "switch_statement",
    "case_statement", "labeled_statement", "preproc_if", "preproc_ifdef", "preproc_else",
    "preproc_elif", "enumerator_list", "initializer_list", "ERROR",
})


@dataclass(eq=False)
class Scope:
    """Where a site's node lives: the file's tree or a macro body's. Also
    the parents of that tree's nodes, kept while the tree lives (see
    `parent`)."""

    root: object            # tree-sitter node bounding the scope
    delta: int              # file offset = node offset + delta
    macro: str | None = None
    top: object = None      # the root of the whole tree (root, or above it)
    _up: dict = field(default_factory=dict, repr=False)    # node id -> parent
    _path: list = field(default_factory=list, repr=False)  # the last path placed, top first

    def parent(self, n):
        """n.parent, remembered. tree-sitter finds a parent by walking down
        from the root on every call, so a walk up d levels cost d² steps
        (20,000 nested parentheses: minutes); here the path from the top
        down to n is found once (from the last path placed, when n is near
        it: sites come in file order) and every node on it keeps its parent."""
        p = self._up.get(n.id, _NO_PARENT)
        if p is _NO_PARENT:
            self._place(n)
            p = self._up.get(n.id, _NO_PARENT)
            if p is _NO_PARENT:              # not below the top: ask tree-sitter
                p = self._up[n.id] = n.parent
        return p

    def _place(self, n) -> None:
        top = self.top if self.top is not None else self.root
        if top is None:
            return
        s, e = n.start_byte, n.end_byte
        path = self._path
        # the deepest node of the last path whose bytes hold n's (the
        # first ones of a path hold what the later ones do)
        lo, hi = 0, len(path)
        while lo < hi:
            mid = (lo + hi) // 2
            if path[mid].start_byte <= s and e <= path[mid].end_byte:
                lo = mid + 1
            else:
                hi = mid
        starts = ([path[:lo]] if lo > 1 else []) + [[top]]
        for down in starts:
            at = down[-1]
            while at is not None and at != n:
                at = at.child_with_descendant(n)
                if at is not None:
                    down.append(at)
            if at is None:
                continue                     # not below that node after all
            if down[0].id not in self._up:
                self._up[down[0].id] = down[0].parent
            for a, b in zip(down, down[1:]):
                self._up[b.id] = a
            self._path = down
            return

    def ancestors(self, n) -> list:
        """(node, type) of n's ancestors below the scope's root, nearest first."""
        out, root = [], self.root
        a = self.parent(n)
        while a is not None and a != root:
            out.append((a, a.type))
            a = self.parent(a)
        return out


_NO_PARENT = object()


@dataclass
class FoundSite:
    site: Site
    node: object | None     # the tree-sitter leaf, when tree-sitter read the token
    scope: Scope | None


@dataclass
class ParsedFile:
    path: str
    data: bytes
    root: object | None
    sites: list[FoundSite]
    mentions: Mentions
    parse_errors: bool
    lexed: Lexed
    fragments: list = field(default_factory=list)
    # object-like macros whose body holds a family name -> where the code
    # uses them (unit inference follows a macro's value to its uses)
    macro_uses: dict = field(default_factory=dict)
    scope: Scope | None = None      # the scope of the file's own tree


def is_asm_path(path: str) -> bool:
    return path.endswith(ASM_SUFFIXES)


def find_sites(path: str, data: bytes, lexer: Lexer, lexed: Lexed | None = None,
               always_parse: bool = True) -> ParsedFile:
    """Every family token of the file, placed in its tree. `lexed`:
    lexer.lex(data), if the caller already made it. Without `always_parse`,
    a file whose names are all in directives, macro bodies (of macros the
    code does not use), comments and literals is not parsed as a whole (a
    tenth of the candidates' bytes in 6.12): nothing would look at the
    tree, and its parse_errors is False."""
    lexed = lexed if lexed is not None else lexer.lex(data)
    mentions = Mentions(comments=sum(c for _, _, c in lexed.comments),
                        strings=sum(c for _, _, c in lexed.strings))
    lines = _LineIndex(data)
    found: list[FoundSite] = []

    def add(s, e, token, context, node=None, scope=None, function=None, parse_error=False):
        line, col = lines.position(s)
        site = Site(path=path, start=s, end=e, line=line, col=col, token=token, context=context,
                    function=function, parse_error=parse_error, pasted=_pasted(data, s, e))
        found.append(FoundSite(site, node, scope))

    if is_asm_path(path):
        for s, e, t in lexed.words:
            add(s, e, t, Context.ASM_FILE)
        for d in lexed.directives:
            _directive_sites(d, add, asm=True)
        return ParsedFile(path, data, None, _with_ids(found, data), mentions, False, lexed)

    uses = macro_uses(data, lexed)
    if lexed.words or uses or always_parse:
        hidden = [(d.start, d.end) for d in lexed.directives if d.name not in KEEP_FOR_PARSER]
        root = _parse(blank(data, hidden) if hidden else data, lexed,
                      sorted(s for spans in uses.values() for s, _ in spans))
    else:
        root = None
    file_scope = Scope(root=root, delta=0, top=root)
    for s, e, t in lexed.words:
        node = root.descendant_for_byte_range(s, e)
        if node is not None and _is_name_leaf(node, s, e):
            ctx, fn, err = _classify_position(node, file_scope)
            add(s, e, t, ctx, node, file_scope, fn, err)
        else:
            add(s, e, t, Context.CODE, None, None, None, True)

    fragments = []
    row, at = 0, 0                        # the line of each body, counted on (directives in file order)
    for d in lexed.directives:
        if d.name == "define" and d.body_start is not None and any(w[0] >= d.body_start for w in d.words):
            row, at = row + data.count(b"\n", at, d.body_start), d.body_start
            fragments.append(_macro_sites(data, d, add, row))
        _directive_sites(d, add, asm=False)
    return ParsedFile(path, data, root, _with_ids(found, data), mentions, root is not None and root.has_error,
                      lexed, fragments, uses if root is not None else {}, file_scope if root is not None else None)


def macro_uses(data: bytes, lexed: Lexed) -> dict[str, list[tuple[int, int]]]:
    """Where the file's code uses its object-like macros whose bodies hold
    a family name (`#define BUF_LEN (2 * PAGE_SIZE)` ... `kmalloc(BUF_LEN)`),
    outside comments, literals and directives (the lexer's words of those
    names). Not a macro the file #undefs: a use after a redefinition is
    another body's."""
    names = {d.macro for d in lexed.directives
             if d.name == "define" and d.macro and d.body_start is not None and d.macro_span is not None
             and data[d.macro_span[1]:d.macro_span[1] + 1] != b"(" and any(w[0] >= d.body_start for w in d.words)}
    names -= {d.macro for d in lexed.directives if d.name == "undef"}
    out: dict[str, list[tuple[int, int]]] = {}
    for s, e, name in (Lexer(names).lex(data).words if names else ()):
        out.setdefault(name, []).append((s, e))
    return out


def _parse(text: bytes, lexed: Lexed, also=()):
    """The file's tree, without the function bodies and initializers
    nothing will look into.

    Everything a site's analysis reads is in its own function (or macro
    body) and the file's top-level declarations, so the bodies of other
    functions need not be parsed: they are ~60% of the candidates' bytes
    and ~70% of the parse time (6.12); nor need the initializers of other
    file-scope variables. They are left out of the parse (tree-sitter's
    included ranges), and each shows up as an empty `{}`: the body of its
    function_definition or, after a macro such as SYSCALL_DEFINE3(...), a
    block of its own, as in a whole parse; an empty initializer_list. If
    one does not, the file is parsed whole (unread_bodies says which).
    `also`: more offsets whose bodies must be read (uses of macros)."""
    skip = unread_bodies(text, lexed, also)
    if skip:
        root = parsing.parse(text, skip)
        if all(_is_block(root, s, e) for s, e in skip):
            return root
    return parsing.parse(text)


def unread_bodies(data: bytes, lexed: Lexed, also=()) -> list[tuple[int, int]]:
    """Insides of the top-level `{...}` blocks that follow a `)` (function
    bodies) or a `=` (initializers of file-scope variables) and hold no
    family name in code, in a declaration without one either (a site in
    `f(char buf[PAGE_SIZE])` looks into its function's body, one in
    `int a[PAGE_SIZE] = {...}` into the initializer). Braces in comments,
    literals and directives do not count. A block with conditional directives in it
    is left out only if every #if in it ends in it and each of its branches
    (#if, #elif, #else up to #endif) holds balanced braces: then the braces
    say where the body ends whichever branch is compiled. (The other
    directives are blanked before parsing.) `also`: sorted offsets that
    count as names too."""
    holes = sorted([(s, e, None) for s, e, _ in lexed.comments] + [(s, e, None) for s, e, _ in lexed.strings]
                   + [(d.start, d.end, d.name if d.name in KEEP_FOR_PARSER else None) for d in lexed.directives])
    inside = _Holes(holes)
    words = [s for s, _, _ in lexed.words]
    if also:
        words = sorted(words + list(also))
    out, depth, h, w, start, clean = [], 0, 0, 0, None, False
    opened: list[int] = []      # the brace depth at each #if open in the current body
    after = 0                   # where the code after the last top-level block starts
    for p in _braces(data):
        while h < len(holes) and holes[h][1] <= p:
            name = holes[h][2]
            if start is not None and name is not None and clean:
                clean = _branch_balanced(name, depth, opened)
            h += 1
        if h < len(holes) and holes[h][0] <= p:
            continue                         # in a comment, literal or directive
        if data[p] == 0x7B:                  # '{'
            if depth == 0:
                q = p - 1
                while q >= 0 and data[q] in _BLANK_BYTES:
                    q -= 1
                before = data[q] if q >= 0 else None
                start, clean = (p, True) if before in (0x29, 0x3D) else (None, False)   # ')' or '='
                initializer = before == 0x3D
                opened.clear()
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0 and start is not None:
                # no name in the body, nor in the head before it
                while w < len(words) and words[w] < after:
                    w += 1
                if w < len(words) and words[w] < start:
                    after = _head_start(data, after, start, inside)
                    while w < len(words) and words[w] < after:
                        w += 1
                if clean and not opened and not (w < len(words) and words[w] < p) and p > start + 1 and (
                        not initializer or _tail_is_clean(data, p, inside, words, w)):
                    out.append((start + 1, p))
                start = None
            if depth == 0:
                after = p + 1
        else:
            return out                       # unbalanced: stop here
    return out


def _tail_is_clean(data: bytes, close: int, holes: _Holes, words, w: int) -> bool:
    """No family name between an initializer's `}` at `close` and the `;`
    that ends its declaration (`= {...}, b = PAGE_SIZE;`); words[w:] are
    the names at or after the initializer's start."""
    p = data.find(b";", close)
    while p >= 0 and p in holes:
        p = data.find(b";", p + 1)
    return p >= 0 and not (w < len(words) and words[w] < p)


def _head_start(data: bytes, after: int, start: int, holes: _Holes) -> int:
    """Where the declaration whose body opens at `start` begins: after the
    last `;` between `after` (the end of the previous top-level block) and
    `start` that is code, not a comment, literal or directive. (A K&R
    definition, `int f(a) int a; {`, would start later than this says;
    the kernel has none.)"""
    p = data.rfind(b";", after, start)
    while p >= 0 and p in holes:
        p = data.rfind(b";", after, p)
    return p + 1 if p >= 0 else after


class _Holes:
    """`p in holes`: whether offset p is in a comment, literal or directive
    of `holes` ((start, end, _) sorted by start; a directive's comments lie
    inside it), by bisection in the union of their spans, made when first
    asked (a scan of every hole for each `;` around a declaration cost
    a few percent of site discovery)."""

    def __init__(self, holes):
        self._holes = holes
        self._starts: list[int] | None = None
        self._ends: list[int] = []

    def __contains__(self, p: int) -> bool:
        if self._starts is None:
            starts, ends = self._starts, self._ends = [], []
            for s, e, _ in self._holes:
                if ends and s <= ends[-1]:
                    ends[-1] = max(ends[-1], e)      # overlaps or touches the last span
                else:
                    starts.append(s)
                    ends.append(e)
        i = bisect_right(self._starts, p) - 1
        return i >= 0 and p < self._ends[i]


_IF = frozenset({"if", "ifdef", "ifndef"})


def _branch_balanced(name: str, depth: int, opened: list[int]) -> bool:
    """Account for a conditional directive met at brace depth `depth`
    inside a body; False if it belongs to an #if outside the body or ends a
    branch whose braces do not balance."""
    if name in _IF:
        opened.append(depth)
        return True
    if not opened or opened[-1] != depth:
        return False
    if name == "endif":
        opened.pop()
    return True


def _braces(data: bytes) -> list[int]:
    """Offsets of every `{` and `}`, in order (two bytes.find scans, 5x
    faster than a regex for either)."""
    out = []
    find = data.find
    for brace in (b"{", b"}"):
        p = find(brace)
        while p >= 0:
            out.append(p)
            p = find(brace, p + 1)
    out.sort()
    return out


_BLANK_BYTES = frozenset(b" \t\r\n\f\v")


def _is_block(root, s: int, e: int) -> bool:
    """Whether s-1 and e are the braces of one (now empty) compound
    statement or initializer list."""
    brace = root.descendant_for_byte_range(s - 1, s)
    block = brace.parent if brace is not None and brace.type == "{" else None
    return block is not None and block.type in _BRACED and block.start_byte == s - 1 and block.end_byte == e + 1


_BRACED = frozenset({"compound_statement", "initializer_list"})


def _is_name_leaf(node, s: int, e: int) -> bool:
    return node.start_byte == s and node.end_byte == e and node.child_count == 0 and node.type in NAME_LEAVES


def _classify_position(node, scope: Scope):
    """Context, enclosing function (or macro) and parse-error flag of a leaf."""
    context, function, error = Context.CODE, None, node.is_missing
    n = scope.parent(node)
    while n is not None and n != scope.root:
        t = n.type
        if t == "ERROR":
            error = True
        elif t == "gnu_asm_expression" and context is Context.CODE:
            context = Context.ASM
        elif t == "attribute_specifier" or t == "attribute_declaration":
            context = Context.ATTRIBUTE
        elif t in ("call_expression", "function_declarator") and context is Context.CODE:
            callee = n.children[0] if n.children else None
            if callee is not None and callee.type == "identifier" and callee.text.decode() in ATTRIBUTE_CALLS:
                context = Context.ATTRIBUTE
        elif t == "function_definition" and function is None:
            function = function_name(n)
        n = scope.parent(n)
    if scope.macro is not None:
        function = scope.macro
        if context is Context.CODE:
            context = Context.MACRO
    return context, function, error


def function_name(fn) -> str | None:
    d = function_declarator(fn)
    if d is None:
        return None
    name = d.child_by_field_name("declarator")
    while name is not None and name.type not in ("identifier", "field_identifier"):
        name = name.child_by_field_name("declarator") or (name.named_children[0] if name.named_child_count else None)
    return name.text.decode(errors="replace") if name is not None else None


def _macro_sites(data: bytes, d, add, row: int = 0):
    """Re-parse a #define body (starting on 0-based line `row`) and give its
    family tokens their structure."""
    body = data[d.body_start:d.end]
    frag = parsing.parse_fragment(body, row)
    delta = d.body_start - frag.offset
    scope_root = frag.nodes[0].parent if frag.nodes else None
    tree_root = scope_root
    while tree_root is not None and tree_root.parent is not None:
        tree_root = tree_root.parent
    scope = Scope(root=scope_root, delta=delta, macro=d.macro, top=tree_root)
    for s, e, t in [w for w in d.words if w[0] >= d.body_start]:
        node = tree_root.descendant_for_byte_range(s - delta, e - delta) if tree_root is not None else None
        if node is not None and _is_name_leaf(node, s - delta, e - delta):
            ctx, _, err = _classify_position(node, scope)
            add(s, e, t, ctx, node, scope, d.macro, err)
        else:
            add(s, e, t, Context.MACRO, None, None, d.macro, True)
    return frag


def _directive_sites(d, add, asm: bool):
    """Family tokens in directive lines other than #define bodies."""
    for s, e, t in d.words:
        if d.name == "define" and d.body_start is not None and s >= d.body_start:
            if asm:
                add(s, e, t, Context.ASM_FILE, function=d.macro)
            continue          # handled by _macro_sites
        if d.name in ("define", "undef") and d.macro_span == (s, e):
            add(s, e, t, Context.DEFINITION, function=d.macro)
        elif d.name in CONDITIONAL:
            add(s, e, t, Context.CONDITION)
        else:
            add(s, e, t, Context.DIRECTIVE, function=d.macro)


def _pasted(data: bytes, s: int, e: int) -> bool:
    before = data[max(0, s - 8):s].rstrip(b" \t")
    after = data[e:e + 8].lstrip(b" \t")
    return before.endswith(b"#") or after.startswith(b"##")


def statement_text(found: FoundSite, data: bytes) -> bytes:
    """Text of the statement around a site, for ids and for display."""
    node = found.node
    if node is None:
        line_start = data.rfind(b"\n", 0, found.site.start) + 1
        line_end = data.find(b"\n", found.site.end)
        return data[line_start:line_end if line_end >= 0 else len(data)]
    parent = found.scope.parent
    up = parent(node)
    while up is not None and up != found.scope.root and up.type not in _BLOCKS:
        node, up = up, parent(up)
    return node.text


_SPACE = re.compile(rb"\s+|\\\r?\n")


def _with_ids(found: list[FoundSite], data: bytes) -> list[FoundSite]:
    """Give each site a stable id: path, function, token, normalised statement.

    Line numbers are left out on purpose so that ids survive edits above the
    site; identical statements in one function are told apart by their order.
    """
    found.sort(key=lambda f: f.site.start)
    seen: dict[str, int] = {}
    out = []
    for f in found:
        text = _SPACE.sub(b"", statement_text(f, data))
        h = hashlib.blake2s(text, digest_size=4).hexdigest()
        base = f"{f.site.path}:{f.site.function or '-'}:{f.site.token}:{h}"
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.append(FoundSite(replace(f.site, site_id=base if k == 0 else f"{base}.{k}"), f.node, f.scope))
    return out


class _LineIndex:
    """1-based (line, byte column) of offsets. Counted from the previous
    answer (sites come mostly in file order): a file has a few sites, and
    a table of every line start cost more than all the counting."""

    def __init__(self, data: bytes):
        self._data = data
        self._at, self._line = 0, 1

    def position(self, offset: int) -> tuple[int, int]:
        data = self._data
        if offset < self._at:
            self._at, self._line = 0, 1
        self._line += data.count(b"\n", self._at, offset)
        self._at = offset
        return self._line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1
