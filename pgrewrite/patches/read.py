"""Read `git format-patch` files, mboxes and plain unified diffs.

The diff itself is parsed by `unidiff` (pinned in pyproject.toml): it
knows git's extended headers (new/deleted file, renames, binary patches,
"\\ No newline at end of file") and checks each hunk against its header.
What it does not know is the mail around the diff, so this module splits an
mbox into messages (one `git format-patch` file is an mbox of one), and
hands unidiff one message at a time, as lines split on "\\n" only (not
str.splitlines, which would also split a C file's form feeds) and decoded
with surrogateescape, so that every byte of the patch comes back exactly.

Line numbers are those of the patch file as given, whatever message a line
is in, so that a report names a line the author can open.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import unidiff

from ..files import is_source

_ENC = ("utf-8", "surrogateescape")
# an mbox message separator: "From <sender or sha> <asctime date>"
_FROM_LINE = re.compile(rb"^From \S+ +\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}")
_HEADER = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:")
_ENCODED = re.compile(rb"^Content-Transfer-Encoding:\s*(quoted-printable|base64)\s*$", re.I | re.M)
_SUBJECT = re.compile(rb"^Subject:[ \t]*(.*(?:\n[ \t].*)*)", re.I | re.M)


class PatchError(Exception):
    """A patch that cannot be read or applied: `name:line: message`."""

    def __init__(self, name: str, line: int | None, message: str):
        super().__init__(message)
        self.name, self.line, self.message = name, line, message

    def __str__(self) -> str:
        return f"{self.name}:{self.line}: {self.message}" if self.line else f"{self.name}: {self.message}"


@dataclass(frozen=True)
class HunkLine:
    kind: str             # " " context, "-" removed, "+" added
    text: bytes           # the file's line, with its "\n" unless the file ends without one
    patch_line: int       # 1-based line in the patch file


@dataclass(frozen=True)
class Hunk:
    old_start: int        # 1-based; for an empty old side, the line after which to insert
    old_count: int
    new_start: int
    lines: tuple[HunkLine, ...]
    patch_line: int       # the "@@" line


@dataclass(frozen=True)
class FileDiff:
    old_path: str | None  # tree-relative (the first path component stripped, as git apply -p1); None: a new file
    new_path: str | None  # None: the file is deleted
    hunks: tuple[Hunk, ...]
    binary: bool
    patch_line: int       # the first line of this file's diff

    @property
    def source(self) -> bool:
        """A file pgrewrite analyses (C, headers, assembly, linker scripts)?"""
        return self.new_path is not None and is_source(self.new_path)


@dataclass(frozen=True)
class Patch:
    name: str             # the patch file as given ("-" for standard input)
    first_line: int       # where its message starts in that file
    subject: str
    files: tuple[FileDiff, ...] = field(default=())


def read_patches(name: str, data: bytes) -> list[Patch]:
    """The patches in one input (an mbox holds several, in order). Raises
    PatchError for an input that holds no diff or one that cannot be read."""
    if not data.strip():
        raise PatchError(name, None, "empty: no patch in it")
    lines = data.split(b"\n")
    ends_with_newline = lines[-1] == b""
    if ends_with_newline:
        lines.pop()
    raw = [ln + b"\n" for ln in lines]
    if not ends_with_newline:
        raw[-1] = raw[-1][:-1]
    out = []
    for start, chunk in _messages(raw):
        patch = _read_message(name, start, chunk)
        if patch is not None:
            out.append(patch)
    if not any(p.files for p in out):
        raise PatchError(name, None, "no unified diff in it (not a patch, or only a cover letter)")
    return out


def _messages(raw: list[bytes]):
    """(first line number, lines) of each mbox message; the whole input when
    it is not an mbox. A "From " line only separates messages when mail
    headers follow it (a commit message may hold a line starting "From ")."""
    starts = [i for i, ln in enumerate(raw)
              if _FROM_LINE.match(ln) and i + 1 < len(raw) and _HEADER.match(raw[i + 1])]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    for a, b in zip(starts, starts[1:] + [len(raw)]):
        yield a + 1, raw[a:b]


def _read_message(name: str, start: int, chunk: list[bytes]) -> Patch | None:
    blank = next((i for i, ln in enumerate(chunk) if not ln.strip()), len(chunk))
    headers = b"".join(chunk[:blank])
    if _ENCODED.search(headers):
        raise PatchError(name, start, "the message body is quoted-printable or base64 encoded; "
                                      "save the decoded patch (b4 am, or git format-patch) and check that")
    m = _SUBJECT.search(headers) if _HEADER.match(chunk[0]) or chunk[0].startswith(b"From ") else None
    subject = re.sub(r"\s+", " ", m.group(1).decode(*_ENC)).strip() if m else ""
    consumed = [0]

    def counted():
        for ln in chunk:
            consumed[0] += 1
            yield ln.decode(*_ENC)
    try:
        parsed = unidiff.PatchSet(counted())
    except unidiff.UnidiffParseError as e:
        raise PatchError(name, start + consumed[0] - 1, f"malformed diff: {e}") from None
    firsts = _file_starts(chunk, len(parsed))
    files = tuple(_file(name, start, pf, first) for pf, first in zip(parsed, firsts))
    if not files and subject:
        return Patch(name, start, subject)          # a cover letter: nothing to check
    return Patch(name, start, subject, files)


def _file(name: str, start: int, pf, first: int | None) -> FileDiff:
    first = start + first if first is not None else _first_line(pf, start)
    old = _tree_path(name, first, pf.source_file)
    new = _tree_path(name, first, pf.target_file)
    if old is None and new is None:
        raise PatchError(name, first, "a file diff without a path on either side")
    hunks = []
    for h in pf:
        lines: list[HunkLine] = []
        for ln in h:
            if ln.line_type == "\\":
                if lines and lines[-1].text.endswith(b"\n"):
                    last = lines[-1]
                    lines[-1] = HunkLine(last.kind, last.text[:-1], last.patch_line)
                continue
            # an empty line in a hunk is an empty context line (mailers strip its space)
            kind = ln.line_type if ln.line_type in ("-", "+") else " "
            lines.append(HunkLine(kind, ln.value.encode(*_ENC), start - 1 + ln.diff_line_no))
        hunk_line = lines[0].patch_line - 1 if lines else first
        hunks.append(Hunk(h.source_start, h.source_length, h.target_start, tuple(lines), hunk_line))
    return FileDiff(old, new, tuple(hunks), bool(pf.is_binary_file), first)


def _file_starts(chunk: list[bytes], n: int) -> list[int | None]:
    """The 0-based line where each of the n file diffs begins: its "diff "
    line (git), else its "--- " line (diff -u), when they can be told."""
    for starts in ([i for i, ln in enumerate(chunk) if ln.startswith(b"diff ")],
                   [i for i, ln in enumerate(chunk[:-1]) if ln.startswith(b"--- ") and chunk[i + 1].startswith(b"+++ ")]):
        if len(starts) == n:
            return starts
    return [None] * n


def _first_line(pf, start: int) -> int:
    for h in pf:
        for ln in h:
            if ln.diff_line_no:
                # the "diff --git", "---", "+++" and "@@" lines come before it
                return start - 1 + ln.diff_line_no - 1
    return start


def _tree_path(name: str, line: int, path: str | None) -> str | None:
    """A diff's path as a path in the tree (git apply -p1: the first
    component, a/ or b/, goes); a path that would leave the tree is refused."""
    if path is None or path == "/dev/null":
        return None
    if path.startswith('"'):
        raise PatchError(name, line, f"quoted path {path}: names with special characters are not supported")
    if path.startswith("/"):
        raise PatchError(name, line, f"absolute path {path}: a patch names files inside the tree; refused")
    parts = path.split("/")[1:]
    if not parts or any(p in ("", ".", "..") for p in parts):
        raise PatchError(name, line, f"path {path} leaves the tree or names no file; refused")
    return "/".join(parts)
