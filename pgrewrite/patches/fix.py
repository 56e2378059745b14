"""`check --fix`: a corrected copy of each patch, the decided renames made
in the lines it adds, every other byte as it was.

A series stays applicable: when patch 1 is corrected, the lines it adds
that patch 3 shows as context (or deletes) are corrected in patch 3 too.
The fixer keeps, for each file a corrected patch changed, the file's lines
as the corrected series leaves them (same line structure as the original
series' file, since a rename never adds or removes a line), and rewrites
any context or removed line that differs from them.
"""
from __future__ import annotations


class Fixer:
    def __init__(self, tree):
        self.tree = tree
        self.fixed: dict[str, list[bytes]] = {}   # path -> lines as the corrected series leaves them
        self.raw: list[bytes] = []
        self.changes: dict[int, bytes] = {}        # patch line -> its new bytes
        self.renamed = 0

    def start(self, name: str, data: bytes) -> None:
        """Begin the corrected copy of one input (a patch file or an mbox)."""
        self.raw = data.split(b"\n")
        self.changes = {}

    def patch(self, pairs, findings) -> None:
        """One patch that applied: (FileDiff, apply.Applied) pairs, and its findings."""
        wanted: dict[str, dict[int, list]] = {}
        for f in findings:
            s = f.site
            if s["verdict"] in ("pte", "pg") and s["replacement"]:
                wanted.setdefault(s["path"], {}).setdefault(s["line"] - 1, []).append(
                    (s["col"], s["token"], s["replacement"]))
        updates: dict[str, list[bytes] | None] = {}
        for fd, a in pairs:
            before = self.fixed.get(fd.old_path) if fd.old_path is not None else None
            for h, oi in zip(fd.hunks, a.old_index):
                for ln, i in zip(h.lines, oi):
                    if i is not None and before is not None and before[i] != a.old[i]:
                        self._change(ln, before[i])
            added: dict[int, bytes] = {}
            edits = wanted.get(fd.new_path, {}) if fd.new_path is not None else {}
            for h, ni in zip(fd.hunks, a.new_index):
                for ln, j in zip(h.lines, ni):
                    if ln.kind == "+" and j in edits:
                        added[j] = _renamed(ln.text, edits[j])
                        self.renamed += len(edits[j])
                        self._change(ln, added[j])
            if fd.old_path is not None and fd.old_path != fd.new_path:
                updates[fd.old_path] = None
            if fd.new_path is not None and a.new is not None:
                if before is None and not added:
                    updates[fd.new_path] = None
                else:
                    updates[fd.new_path] = [added[j] if j in added else
                                            (before[o] if o is not None and before is not None else a.new[j])
                                            for j, o in enumerate(a.origin)]
        for path, lines in updates.items():
            if lines is None:
                self.fixed.pop(path, None)
            else:
                self.fixed[path] = lines

    def _change(self, ln, text: bytes) -> None:
        # the patch line is the kind, the file's line, and a "\n" (which the
        # file's last line may lack: "\ No newline at end of file" follows)
        self.changes[ln.patch_line] = ln.kind.encode() + text.rstrip(b"\n")

    def finish(self) -> bytes:
        """The corrected copy of the input begun with `start`."""
        out = list(self.raw)
        for k, line in self.changes.items():
            old = out[k - 1]
            # keep the patch line's own ending (a "\r" before the split "\n")
            out[k - 1] = line + (b"\r" if old.endswith(b"\r") and not line.endswith(b"\r") else b"")
        return b"\n".join(out)


def _renamed(text: bytes, edits) -> bytes:
    """The line with each (1-based byte column, token, replacement) made,
    right to left so columns stay right."""
    for col, token, new in sorted(edits, reverse=True):
        at = col - 1
        old = token.encode()
        if text[at:at + len(old)] != old:
            raise AssertionError(f"{token} is not at column {col} of {text!r}")
        text = text[:at] + new.encode() + text[at + len(old):]
    return text
