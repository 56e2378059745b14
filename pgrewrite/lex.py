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

import os
import re
from bisect import bisect_left
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

    @property
    def empty(self) -> bool:
        """No name anywhere: not in code, a directive, a comment or a literal."""
        return not (self.words or any(d.words for d in self.directives)
                    or any(c for _, _, c in self.comments) or any(c for _, _, c in self.strings))


class Lexer:
    """Finds whole-word uses of `names` in C (or preprocessed assembly)."""

    def __init__(self, names):
        alt = b"|".join(re.escape(n.encode()) for n in sorted(names, key=len, reverse=True))
        # No lookbehind in the regex: with one, re cannot skip ahead to the
        # names' first letters and runs 4x slower; the byte before is checked
        # by hand (_words), with the same meaning as _NOT_IDENT_BEFORE.
        # One regex per first letter, each starting with its names' common
        # prefix: re then scans for that literal (memchr speed) instead of
        # testing every byte against a set of first letters (5x slower).
        self._names = _by_first_letter(names)
        self._alt = re.compile(rb"(?:" + alt + rb")")
        # The scan looks for a few literal needles with bytes.find (memchr
        # speed) and remembers where each one next occurs; the checks that need
        # context (a '#' at the start of a line, word boundaries around a name)
        # are made in Python on the few hits. A single alternation regex (with
        # an anchored `^[ \t]*#` under re.M) ran at ~15 MB/s, slower than
        # tree-sitter's parse of the same file.
        heads = sorted({n.encode() for n in names})
        heads = [h for h in heads if not any(h != o and h.startswith(o) for o in heads)]
        self._needles = ((b"/*", _BLOCK), (b"//", _LINE), (b'"', _STR), (b"'", _STR), (b"#", _DIR),
                         *((h, _NAME) for h in heads))

    def _words(self, data: bytes, start: int = 0, end: int | None = None):
        """Whole-word matches of the names in data[start:end] (the byte
        before `start` counts as context, as for a regex lookbehind)."""
        end = len(data) if end is None else end
        if len(self._names) == 1:
            found = self._names[0].finditer(data, start, end)
        else:      # names with other first letters never overlap a whole-word match
            found = sorted((m for r in self._names for m in r.finditer(data, start, end)), key=_START)
        for m in found:
            s = m.start()
            if not (s and data[s - 1] in _IDENT_BYTES):
                yield m

    def mentions(self, data: bytes) -> bool:
        """A whole-word name anywhere (code, comment or literal)."""
        return next(self._words(data), None) is not None

    def count_in(self, data: bytes, start: int = 0, end: int | None = None) -> int:
        return sum(1 for _ in self._words(data, start, end))

    def lex(self, data: bytes) -> Lexed:
        words, directives, comments, strings = [], [], [], []
        n = len(data)
        # Every whole-word name of the file, found once (a regex scan per
        # first letter, at memchr speed): those between the comments,
        # literals and directives are the words in code; the others are
        # counted in the comment, literal or directive they lie in. (No name
        # runs over the end of one: each ends before a newline, a quote, a
        # slash or the end of the file, and a name cannot straddle them.)
        hits = [(m.start(), m.end(), m.group()) for m in self._words(data)]
        starts = [h[0] for h in hits]
        nhits = len(hits)
        h = 0                      # the first hit not yet placed
        # the next '/', quote and '#' (bytes.find: memchr speed; one regex
        # for the four ran at a tenth of that)
        find = data.find
        nxt = [find(b) for b in _OPENERS]
        nxt = [p if p >= 0 else n for p in nxt]
        pos = 0
        while True:
            s = min(nxt)
            if s >= n:
                break
            while h < nhits and starts[h] < s:      # names in code
                hs, he, text = hits[h]
                words.append((hs, he, text.decode()))
                h += 1
            c = data[s]
            e = s + 1              # where scanning resumes; s + 1 when nothing was taken
            if c == 0x23:          # '#': a directive when only blanks precede it on its line
                ls = s
                while ls and data[ls - 1] in _BLANKS:
                    ls -= 1
                if not (ls and data[ls - 1] != 0x0A) and ls >= pos:
                    d = self._directive(data, s, comments, strings, starts, hits)
                    directives.append(d)
                    e = max(d.end, s + 1)
            elif c == 0x2F:
                c2 = data[s + 1] if s + 1 < n else None
                if c2 == 0x2A:     # '/*': unterminated, it runs to EOF
                    close = find(b"*/", s + 2)
                    e = n if close < 0 else close + 2
                    comments.append((s, e, bisect_left(starts, e, h) - h))
                elif c2 == 0x2F:   # '//'
                    lit = _COMMENT_OR_LITERAL_RE.match(data, s)
                    e = lit.end()
                    comments.append((s, e, bisect_left(starts, e, h) - h))
                    e = max(e, s + 1)
            else:                  # '"' or "'"
                lit = _COMMENT_OR_LITERAL_RE.match(data, s)
                if lit is not None:    # None: e.g. a quote before a backslash at EOF
                    le = lit.end()
                    e = max(le, s + 1)
                    strings.append((s, le, bisect_left(starts, le, h) - h))
            pos = e
            h = bisect_left(starts, e, h)           # names in what was taken are not in code
            for i in range(4):
                if nxt[i] < e:
                    p = find(_OPENERS[i], e)
                    nxt[i] = p if p >= 0 else n
        for hs, he, text in hits[h:]:
            words.append((hs, he, text.decode()))
        return Lexed(words, directives, comments, strings)

    def _directive(self, data: bytes, start: int, comments: list, strings: list,
                   starts: list | None = None, hits: list | None = None) -> Directive:
        """Read one logical directive line starting at '#'; `hits`: the
        file's whole-word names as `lex` found them (`starts`: their
        offsets), else they are looked for here."""
        end, pos = None, start + 1
        own = []   # comments and literals inside the directive
        while end is None:
            nl = _logical_line_end(data, pos)
            lit = _first_literal(data, pos, nl)
            if lit is None:
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
            count = (bisect_left(starts, e) - bisect_left(starts, s) if hits is not None
                     else self.count_in(data, s, e))
            target.append((s, e, count))
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
            if hits is not None:
                for i in range(bisect_left(starts, s), bisect_left(starts, e)):
                    hs, he, text = hits[i]
                    d.words.append((hs, he, text.decode()))
            else:
                for m in self._words(data, s, e):
                    d.words.append((m.start(), m.end(), m.group().decode()))
        return d


_BLOCK, _LINE, _STR, _DIR, _NAME = "bc", "lc", "str", "dir", "name"
_BLANKS = frozenset(b" \t")
# the bytes _NOT_IDENT_BEFORE/_NOT_IDENT_AFTER exclude (keep the two in step)
_IDENT_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_OPENER = re.compile(rb"/[*/]|[\"']")
_OPENERS = (b"/", b'"', b"'", b"#")


_START = re.Match.start


_NAME_BYTES = _IDENT_BYTES | {ord("$")}


def whole_words(data: bytes, word: bytes):
    """(start, end) of each whole-word `word` in data, in code, comments and
    literals alike (bytes.find: a regex with a look-behind runs several
    times slower, see Lexer)."""
    s = data.find(word)
    while s >= 0:
        e = s + len(word)
        if not ((s and data[s - 1] in _NAME_BYTES) or (e < len(data) and data[e] in _NAME_BYTES)):
            yield s, e
        s = data.find(word, e)


def _by_first_letter(names) -> list:
    """Regexes for the whole-word-at-the-end matches of `names`, one per
    first letter: the group's common prefix, then its rests, longest first
    (as one alternation of all the names would try them)."""
    groups: dict = {}
    for n in sorted({n.encode() for n in names}, key=len, reverse=True):
        groups.setdefault(n[:1], []).append(n)
    out = []
    for group in groups.values():
        head = os.path.commonprefix(group)
        rests = b"|".join(re.escape(n[len(head):]) for n in group)
        out.append(re.compile(re.escape(head) + rb"(?:" + rests + rb")" + _NOT_IDENT_AFTER))
    return out


def _logical_line_end(data: bytes, pos: int) -> int:
    """Offset of the first newline at or after `pos` not continued by a
    backslash (also before CR), or len(data): what _LOGICAL_LINE_END finds."""
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return len(data)
        if not ((nl >= 1 and data[nl - 1] == 0x5C) or (nl >= 2 and data[nl - 1] == 0x0D and data[nl - 2] == 0x5C)):
            return nl
        pos = nl + 1


def _first_literal(data: bytes, pos: int, limit: int):
    """The first comment or literal starting in [pos, limit), or None (it may
    run past `limit`). Openers are looked for only up to `limit`: searching
    the rest of the file for every directive line made lexing quadratic."""
    while True:
        o = _OPENER.search(data, pos, limit)
        if o is None:
            return None
        lit = _COMMENT_OR_LITERAL_RE.match(data, o.start())
        if lit is not None:
            return lit
        pos = o.start() + 1


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
        buf[s:e] = data[s:e].translate(_TO_BLANK)
    return bytes(buf)


# every byte but CR and LF to a space
_TO_BLANK = bytes(b if b in (0x0A, 0x0D) else 0x20 for b in range(256))


# ------------------------------------------------------------------ renaming an identifier

_LEXEME = re.compile(rb'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|[A-Za-z_]\w*',
                     re.S)


def rename_spans(data: bytes, old: str, new: str) -> list[tuple[int, int, bytes]]:
    """Byte spans renaming the identifier `old` in code and comments (not in
    string or character literals): the preparatory renames of apply and series."""
    old_b, new_b = old.encode(), new.encode()
    word = re.compile(rb"\b" + re.escape(old_b) + rb"\b")
    spans = []
    for m in _LEXEME.finditer(data):
        tok = m.group()
        if tok == old_b:
            spans.append((m.start(), m.end(), new_b))
        elif tok.startswith((b"//", b"/*")):
            spans += [(m.start() + w.start(), m.start() + w.end(), new_b)
                      for w in word.finditer(tok)]
    return spans
