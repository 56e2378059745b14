"""An independent count of family tokens, to prove nothing was lost.

Site discovery (lex.py + tree-sitter) and this counter are written
differently on purpose: this one finds every whole-word name with one
regex, then a state machine jumps from one comment/literal opener to the
next and takes out the names inside them. If the two ever disagree on a file, the scan reports
the difference instead of silently losing (or inventing) a site.

Conventions shared with lex.py (they are C's, as GCC applies them): a block
comment without end runs to the end of the file; a line comment and a
literal continue over backslash-newline; an unterminated literal stops at
the end of its line.
"""
from __future__ import annotations

import re


_OPENERS = (b"/*", b"//", b'"', b"'")
_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


class Counter:
    def __init__(self, names):
        # One regex per name, run only if the name is in the file at all: a
        # regex that starts with a literal is a fast scan for it, one
        # alternation of all the names tests every byte (3x slower). The byte
        # before a name is checked by hand (a lookbehind also costs a test
        # at every byte).
        self._words = [(n.encode(), re.compile(re.escape(n.encode()) + rb"(?![A-Za-z0-9_])"))
                       for n in sorted(set(names))]

    def count(self, data: bytes) -> tuple[int, int]:
        """Return (uses in code, mentions in comments and literals)."""
        # Every whole-word name in the file, then those that fall inside a
        # comment or literal. Equivalent to stripping the comments and
        # literals first: their delimiters (`/`, `"`, `'`, a newline) are not
        # word characters, so a name never straddles a boundary.
        # A whole-word match of one name never overlaps another's (it would
        # start or end inside a word), so the per-name hits simply add up.
        hits = sorted(s for name, word in self._words if name in data
                      for s in (m.start() for m in word.finditer(data))
                      if not (s and data[s - 1] in _WORD_BYTES))
        if not hits:
            return 0, 0
        other, i, pos, n, nh = 0, 0, 0, len(data), len(hits)
        find = data.find
        # next occurrence of each opener, kept up to date with bytes.find
        # (memchr speed; a regex over the code between them is slower)
        nxt = [find(o) for o in _OPENERS]
        while i < nh:
            start, opener = n, None
            for k in range(4):
                at = nxt[k]
                if 0 <= at < pos:
                    at = nxt[k] = find(_OPENERS[k], pos)
                if 0 <= at < start:
                    start, opener = at, _OPENERS[k]
            if opener is None:
                break
            if opener == b"/*":
                close = find(b"*/", start + 2)
                end = n if close < 0 else close + 2
            elif opener == b"//":
                end = _end_of_line(data, start + 2, continued=True)
            else:
                end = _end_of_literal(data, start + 1, opener[0])
            while i < nh and hits[i] < start:
                i += 1
            while i < nh and hits[i] < end:
                other += 1
                i += 1
            pos = end
        return len(hits) - other, other


def _end_of_line(data: bytes, pos: int, continued: bool) -> int:
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return len(data)
        if continued and nl > 0 and (data[nl - 1] == 0x5C or (data[nl - 1] == 0x0D and nl > 1 and data[nl - 2] == 0x5C)):
            pos = nl + 1
            continue
        return nl


# the bytes a literal's scan can pass over at once: all but its quote, a
# backslash and a newline
_PLAIN = {q: re.compile(b"[^" + bytes([q]) + rb"\\\n]*") for q in (0x22, 0x27)}


def _end_of_literal(data: bytes, pos: int, quote: int) -> int:
    n = len(data)
    plain = _PLAIN[quote].match
    while pos < n:
        pos = plain(data, pos).end()
        if pos >= n:
            break
        c = data[pos]
        if c == 0x5C:             # backslash escapes the next byte (or CR LF)
            pos += 3 if data[pos + 1:pos + 3] == b"\r\n" else 2
            continue
        if c == quote:
            return pos + 1
        if c == 0x0A:
            return pos            # unterminated: stops at the end of the line
        pos += 1
    return n
