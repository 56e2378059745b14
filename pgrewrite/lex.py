"""A small C lexer for what tree-sitter cannot be trusted with.

It finds comments, string and character literals, preprocessor directives
(logical lines with continuations and comments) and whole-word uses of a
given set of names. Site discovery takes its candidate tokens from here, so
that no family token can hide from the tree-sitter walk (macro bodies with
comments, ERROR regions, assembly files). The accounting check uses a
different, independent counter (accounting.py).

Only the interesting tokens are matched, never every identifier: the regex
engine skips plain code, which keeps a whole-kernel pass fast.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_COMMENT_OR_LITERAL = (
    rb"""(?P<bc>/\*.*?(?:\*/|\Z))"""                       # block comment; unterminated runs to EOF
    rb"""|(?P<lc>//(?:[^\n\\]|\\\r\n|\\.)*)"""                # line comment, continued by backslash-newline
    rb"""|(?P<str>"(?:[^"\\\n]|\\\r\n|\\.)*(?:"|(?=\n)|\Z))"""  # string; unterminated stops at newline
    rb"""|(?P<chr>'(?:[^'\\\n]|\\\r\n|\\.)*(?:'|(?=\n)|\Z))"""
)
_NOT_IDENT_BEFORE = rb"(?<![A-Za-z0-9_])"
_NOT_IDENT_AFTER = rb"(?![A-Za-z0-9_])"
_LOGICAL_LINE_END = re.compile(rb"(?<!\\)(?<!\\\r)\n|\Z")
_COMMENT_OR_LITERAL_RE = re.compile(_COMMENT_OR_LITERAL, re.S)
_DIRECTIVE_HEAD = re.compile(rb"#[ \t]*([A-Za-z_]*)")
_DEFINE_HEAD = re.compile(rb"#[ \t]*(?:define|undef)[ \t]+([A-Za-z_$][A-Za-z0-9_$]*)(\([^)]*\))?")

CONDITIONAL = frozenset({"if", "ifdef", "ifndef", "elif", "elifdef", "elifndef"})
DIRECTIVE_NAMES = CONDITIONAL | {"", "define", "undef", "include", "include_next", "else", "endif", "error",
                                 "warning", "pragma", "line", "ident", "sccs", "assert", "unassert", "import"}


@dataclass
class Directive:
    start: int            # offset of '#'
    end: int              # offset of the newline ending the logical line (or EOF)
    name: str             # "define", "if", ... ("" for a null directive)
    macro: str | None = None        # for #define / #undef: the macro name
    macro_span: tuple | None = None
    body_start: int | None = None   # for #define: where the replacement list starts
    words: list = field(default_factory=list)   # (start, end, text) names inside it


@dataclass
class Lexed:
    words: list           # (start, end, text): names in code outside directives
    directives: list      # Directive, in file order
    comments: list        # (start, end, text-with-names-count)
    strings: list         # (start, end, names-count)


class Lexer:
    """Finds whole-word uses of `names` in C (or preprocessed assembly)."""

    def __init__(self, names):
        alt = b"|".join(re.escape(n.encode()) for n in sorted(names, key=len, reverse=True))
        self._name = re.compile(_NOT_IDENT_BEFORE + rb"(?:" + alt + rb")" + _NOT_IDENT_AFTER)
        self._scan = re.compile(
            _COMMENT_OR_LITERAL
            + rb"|(?P<dir>^[ \t]*\#)"
            + rb"|(?P<name>" + _NOT_IDENT_BEFORE + rb"(?:" + alt + rb")" + _NOT_IDENT_AFTER + rb")",
            re.S | re.M,
        )

    def count_in(self, data: bytes, start: int = 0, end: int | None = None) -> int:
        return len(self._name.findall(data, start, len(data) if end is None else end))

    def lex(self, data: bytes) -> Lexed:
        words, directives, comments, strings = [], [], [], []
        pos, n = 0, len(data)
        search = self._scan.search
        while pos < n:
            m = search(data, pos)
            if m is None:
                break
            kind = m.lastgroup
            s, e = m.start(), m.end()
            if kind == "name":
                words.append((s, e, m.group().decode()))
            elif kind in ("bc", "lc"):
                comments.append((s, e, self.count_in(data, s, e)))
            elif kind in ("str", "chr"):
                strings.append((s, e, self.count_in(data, s, e)))
            else:  # a directive: take the whole logical line
                d = self._directive(data, s + m.group().index(b"#"), comments, strings)
                directives.append(d)
                e = d.end
            pos = max(e, s + 1)
        return Lexed(words, directives, comments, strings)

    def _directive(self, data: bytes, start: int, comments: list, strings: list) -> Directive:
        """Read one logical directive line starting at '#'."""
        end, pos = None, start + 1
        own = []   # comments and literals inside the directive
        while end is None:
            nl = _LOGICAL_LINE_END.search(data, pos).start()
            lit = _COMMENT_OR_LITERAL_RE.search(data, pos)
            if lit is None or lit.start() >= nl:
                end = nl
            else:
                own.append((lit.start(), lit.end(), lit.lastgroup))
                pos = max(lit.end(), lit.start() + 1)
                if lit.end() > nl:       # a block comment running over the line end
                    continue
        head = _DIRECTIVE_HEAD.match(data, start)
        d = Directive(start=start, end=end, name=head.group(1).decode(errors="replace"))
        for s, e, kind in own:
            target = comments if kind in ("bc", "lc") else strings
            target.append((s, e, self.count_in(data, s, e)))
        # names inside the directive, outside its comments and literals; in a
        # non-directive (`# PAGE_SIZE`) the name after '#' is one of them
        cursor = head.end() if d.name in DIRECTIVE_NAMES else start + 1
        if d.name in ("define", "undef"):
            dm = _DEFINE_HEAD.match(data, start)
            if dm is not None:
                d.macro = dm.group(1).decode(errors="replace")
                d.macro_span = dm.span(1)
                d.body_start = dm.end()
        for s, e in _gaps(cursor, end, [(a, b) for a, b, _ in own]):
            for m in self._name.finditer(data, s, e):
                d.words.append((m.start(), m.end(), m.group().decode()))
        return d


def _gaps(start: int, end: int, holes):
    """Sub-ranges of [start, end) not covered by the sorted `holes`."""
    pos = start
    for s, e in sorted(holes):
        if s > pos:
            yield pos, min(s, end)
        pos = max(pos, e)
    if pos < end:
        yield pos, end


def blank(data: bytes, spans) -> bytes:
    """Replace the bytes of `spans` by spaces, keeping line ends (and length)."""
    buf = bytearray(data)
    for s, e in spans:
        chunk = buf[s:e]
        buf[s:e] = re.sub(rb"[^\r\n]", b" ", bytes(chunk))
    return bytes(buf)
