"""Byte-exact rewriting and the self-checks that prove a rewrite is a rename.

Only the bytes of renamed tokens change; everything else (whitespace,
comments, CRLF, bytes that are not UTF-8) is copied through untouched.

Writing is atomic: the new bytes go to a temporary file beside the target,
which is then renamed over it. A crash, Ctrl-C or `kill -9` leaves either
the old file or the new one, never a mix (a `kill -9` may leave a temporary
file `.NAME.XXXX.pgrewrite`, which the next `apply` removes).
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from . import parsing
from .lex import rename_spans

TEMP_SUFFIX = ".pgrewrite"


class EditError(ValueError):
    pass


def rewrite(data: bytes, edits) -> bytes:
    """Apply non-overlapping edits; each edit's `old` must be what is there."""
    out, pos = [], 0
    for e in sorted(edits, key=lambda e: e.start):
        if e.start < pos:
            raise EditError(f"overlapping edits at byte {e.start}")
        if data[e.start:e.end] != e.old.encode():
            raise EditError(f"expected {e.old!r} at byte {e.start}, found {data[e.start:e.end]!r}")
        out.append(data[pos:e.start])
        out.append(e.new.encode())
        pos = e.end
    out.append(data[pos:])
    return b"".join(out)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _whole_word(data: bytes, start: int, end: int, word: str) -> bool:
    return (0 <= start < end <= len(data) and data[start:end] == word.encode()
            and (start == 0 or data[start - 1] not in _NAME_BYTES)
            and (end == len(data) or data[end] not in _NAME_BYTES))


def misfit(ruleset, result, data: bytes | None = None) -> str | None:
    """Why a result read from the cache cannot be one the rules made (None
    if it can). A cache entry has a checksum, but anyone who can write the
    directory can write a valid one (docs/threat-model.md): it may still
    change verdicts, but not ask for another edit than the analysis makes.
    Every site is a family token; every `family` edit renames the token of
    one of the sites to one of its replacements; every `identifier` edit is
    the scoped rename a rule declares. With `data` (the file's bytes), every
    site and edit must also be a whole word there."""
    family = ruleset.family
    names = set(family.names)
    sites = {}
    for d in result.decisions:
        s = d.site
        if s.token not in names:
            return f"a site at byte {s.start} is {s.token!r}, not a family name"
        sites[(s.start, s.end)] = s.token
    for e in result.edits:
        if e.kind == "family":
            if sites.get((e.start, e.end)) != e.old or e.new not in family.equivalents(e.old) - {e.old}:
                return f"the edit at byte {e.start} ({e.old} -> {e.new}) is not a family rename of a site"
        elif e.kind == "identifier":
            try:
                rename = ruleset.by_id(e.rule).rename
            except KeyError:
                rename = None
            if (rename is None or rename.target != e.new or not _NAME.fullmatch(e.old)
                    or not (rename.source.startswith("$") or rename.source == e.old)):
                return f"the edit at byte {e.start} ({e.old} -> {e.new}) is not a rename rule {e.rule!r} declares"
        else:
            return f"the edit at byte {e.start} is of unknown kind {e.kind!r}"
    if data is not None:
        spans = [*((s, e, t) for (s, e), t in sites.items()), *((e.start, e.end, e.old) for e in result.edits)]
        for start, end, word in spans:
            if not _whole_word(data, start, end, word):
                return f"the file does not hold {word!r} as a whole word at byte {start}"
    return None


def new_positions(edits) -> list[tuple[int, int]]:
    """Where each edit's new text lies in the rewritten file, in edit order."""
    out, shift = [], 0
    for e in sorted(edits, key=lambda e: e.start):
        start = e.start + shift
        out.append((start, start + len(e.new.encode())))
        shift += len(e.new.encode()) - (e.end - e.start)
    return out


def self_check(old: bytes, new: bytes, edits, engine, path: str = "file.c", sites_before: int | None = None,
               private: dict[str, str] | None = None) -> list[str]:
    """Problems that make a rewrite unsafe (empty list: safe).

    - every family edit renames a family name to one of its two replacements;
    - every preparatory edit (kind "private") is one of the renames `private`
      allows (old name -> new name, planned by series.definitions.prepare);
      afterwards the old name is gone from the file's code and comments
      (except where a family edit of this run wrote it), and
      the new name occurs exactly where the edits put it;
    - no edit of another kind than family, identifier or (allowed) private;
    - the file length changed by exactly the renames;
    - the family tokens that disappeared are exactly the renamed ones;
    - the new file has no more parse errors than the old one;
    - idempotence: analysing the new bytes again finds no family site and no
      edit at a renamed position, and every site that was not renamed is
      still there (a second run is a no-op for what this run did).
    """
    problems = []
    fam = engine.ruleset.family
    fam_edits = [e for e in edits if e.kind == "family"]
    for e in fam_edits:
        if e.old not in fam.names or e.new not in fam.equivalents(e.old) or e.new == e.old:
            problems.append(f"edit at byte {e.start} renames {e.old!r} to {e.new!r}, which is not a family rename")
    problems += _private_problems(old, new, edits, private or {})
    if len(new) - len(old) != sum(len(e.new.encode()) - (e.end - e.start) for e in edits):
        problems.append("the file length changed by more than the renames")
    before, _ = engine.counter.count(old)
    after, _ = engine.counter.count(new)
    if before - after != len(fam_edits):
        problems.append(f"family token count went from {before} to {after}, but {len(fam_edits)} were renamed")
    if parsing.count_errors(parsing.parse(new)) > parsing.count_errors(parsing.parse(old)):
        problems.append("the rewritten file has more parse errors than the original")
    problems += idempotence_problems(old, new, edits, engine, path, sites_before)
    return problems


def _private_problems(old: bytes, new: bytes, edits, private: dict[str, str]) -> list[str]:
    problems = []
    for e in edits:
        if e.kind not in ("family", "identifier", "private"):
            problems.append(f"edit at byte {e.start} is of unknown kind {e.kind!r}")
        elif e.kind == "private" and private.get(e.old) != e.new:
            problems.append(f"edit at byte {e.start} renames {e.old!r} to {e.new!r}, which is not "
                            "a planned preparatory rename")
    # a rule may rename PAGE_SHIFT to the very name a preparatory rename frees
    # (x86's PTE_SHIFT -> PTE_INDEX_BITS, then PAGE_SHIFT -> the generic PTE_SHIFT)
    made_by_rules = {(s, e.new) for (s, _), e in zip(new_positions(edits), sorted(edits, key=lambda e: e.start))
                     if e.kind != "private"}
    for old_name, new_name in sorted(private.items()):
        left = [sp for sp in rename_spans(new, old_name, new_name) if (sp[0], old_name) not in made_by_rules]
        if left:
            problems.append(f"{old_name} is still used after its preparatory rename "
                            f"(byte {left[0][0]})")
        made = sum(1 for e in edits if e.kind == "private" and e.new == new_name)
        before = len(rename_spans(old, new_name, new_name))
        after = len(rename_spans(new, new_name, new_name))
        if after != before + made:
            problems.append(f"{new_name} occurs {after} time(s) after the preparatory rename, "
                            f"expected {before + made}")
    return problems


def idempotence_problems(old: bytes, new: bytes, edits, engine, path: str, sites_before: int | None = None) -> list[str]:
    """Re-analyse the new bytes: renamed tokens must no longer be sites.

    `sites_before` is the number of sites the first analysis found (it is
    recomputed from `old` when not given)."""
    fam_edits = [e for e in edits if e.kind == "family"]
    try:
        if sites_before is None:
            sites_before = len(engine.analyse(path, old).decisions)
        second = engine.analyse(path, new)
    except Exception as e:  # noqa: BLE001 - a crash here is a failed check, not a crash of the run
        return [f"re-analysing the rewritten file failed ({type(e).__name__}: {e})"]
    renamed = {s for (s, _), e in zip(new_positions(edits), sorted(edits, key=lambda e: e.start))
               if e.kind == "family"}
    problems = []
    again = sorted({d.site.start for d in second.decisions} & renamed)
    if again:
        problems.append(f"not idempotent: {len(again)} renamed token(s) are still family sites "
                        f"(first at byte {again[0]})")
    redo = sorted(e.start for e in second.edits if e.start in renamed)
    if redo and not again:
        problems.append(f"not idempotent: a second run would edit byte {redo[0]} again")
    if len(second.decisions) != sites_before - len(fam_edits):
        problems.append(f"a second analysis finds {len(second.decisions)} site(s), expected "
                        f"{sites_before - len(fam_edits)} ({sites_before} minus {len(fam_edits)} renamed)")
    return problems


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete temporary files an earlier, killed run left beside `path`."""
    removed = []
    try:
        siblings = list(path.parent.glob(f".{glob_escape(path.name)}.*{TEMP_SUFFIX}"))
    except OSError:
        return removed
    for p in siblings:
        try:
            if p.is_file() and not p.is_symlink():
                p.unlink()
                removed.append(p)
        except OSError:
            pass
    return removed


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _current(path: Path) -> bytes | None:
    """The file's bytes, or None when there is no file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def write_atomically(path: Path, data: bytes, expected_old: bytes | None) -> None:
    """Replace `path` with `data` in one rename, keeping its mode and owner.

    Refuses if the file changed since it was read (`expected_old`; None: it
    did not exist, and is created with mode 0644) and never writes through or
    replaces a symbolic link. The temporary file lives in the same directory
    so the rename is atomic: a crash or Ctrl-C leaves either the old or the
    new file, never a mix.
    """
    path = Path(path)
    if path.is_symlink():
        raise EditError("is a symbolic link; pgrewrite never writes through links (rewrite its target instead)")
    if _current(path) != expected_old:
        raise EditError("the file changed since it was read; re-run")
    st = path.stat() if expected_old is not None else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if st is not None:
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except PermissionError:
                pass
        os.chmod(tmp, st.st_mode & 0o7777 if st is not None else 0o644)   # after chown, which clears set-id bits
        if _current(path) != expected_old:   # last look, just before the rename
            raise EditError("the file changed while it was being rewritten; re-run")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
