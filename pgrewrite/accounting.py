"""An independent count of family tokens, to prove nothing was lost.

Site discovery (lex.py + tree-sitter) and this counter are written
differently on purpose: this one is a state machine that jumps from one
comment/literal opener to the next and strips them, then counts whole-word
names in what is left. If the two ever disagree on a file, the scan reports
the difference instead of silently losing (or inventing) a site.

Conventions shared with lex.py (they are C's, as GCC applies them): a block
comment without end runs to the end of the file; a line comment and a
literal continue over backslash-newline; an unterminated literal stops at
the end of its line.
"""
from __future__ import annotations

import re


class Counter:
    def __init__(self, names):
        alt = b"|".join(re.escape(n.encode()) for n in sorted(names, key=len, reverse=True))
        self._word = re.compile(rb"(?<![A-Za-z0-9_])(?:" + alt + rb")(?![A-Za-z0-9_])")
        self._opener = re.compile(rb"/\*|//|[\"']")

    def count(self, data: bytes) -> tuple[int, int]:
        """Return (uses in code, mentions in comments and literals)."""
        code, other = [], 0
        pos, n = 0, len(data)
        while pos < n:
            m = self._opener.search(data, pos)
            if m is None:
                code.append(data[pos:])
                break
            code.append(data[pos:m.start()])
            code.append(b" ")            # an opener separates words
            opener = m.group()
            if opener == b"/*":
                close = data.find(b"*/", m.end())
                end = n if close < 0 else close + 2
            elif opener == b"//":
                end = _end_of_line(data, m.end(), continued=True)
            else:
                end = _end_of_literal(data, m.end(), opener[0])
            other += len(self._word.findall(data, m.start(), end))
            pos = end
        return len(self._word.findall(b"".join(code))), other


def _end_of_line(data: bytes, pos: int, continued: bool) -> int:
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return len(data)
        if continued and nl > 0 and (data[nl - 1] == 0x5C or (data[nl - 1] == 0x0D and nl > 1 and data[nl - 2] == 0x5C)):
            pos = nl + 1
            continue
        return nl


def _end_of_literal(data: bytes, pos: int, quote: int) -> int:
    n = len(data)
    while pos < n:
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
