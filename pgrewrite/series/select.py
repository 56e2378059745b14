"""Which edits go into the mechanical series, and which are left out and why.

Only renames whose site a rule decided (pte/pg) are taken, plus declared
identifier renames, plus (opt-in) `pg-default` renames of undecided sites, which
are kept apart. Anything that would touch a logic/conflict/skipped site, or
produce a name an existing definition owns, is left out with a reason.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from ..model import Decision, Edit, FileResult, Verdict

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT = "pg-default"


@dataclass(frozen=True, order=True)
class Selected:
    path: str
    edit: Edit
    default: bool        # an unverified pg-default rename
    reason: str          # the rule's reason (for the commit message)


@dataclass(frozen=True, order=True)
class LeftOut:
    path: str
    start: int
    old: str
    new: str
    why: str


@dataclass(frozen=True)
class Selection:
    edits: tuple[Selected, ...]
    left_out: tuple[LeftOut, ...]
    failed_files: tuple[tuple[str, str], ...]   # (path, error)


def select(results: tuple[FileResult, ...] | list[FileResult], *, only: str | None,
           blocked: set[str]) -> Selection:
    chosen: list[Selected] = []
    left: list[LeftOut] = []
    failed: list[tuple[str, str]] = []
    for fr in results:
        if fr.error:
            failed.append((fr.path, fr.error))
            continue
        by_pos: dict[tuple[int, int], Decision] = {
            (d.site.start, d.site.end): d for d in fr.decisions}
        family: list[Selected] = []
        idents: list[Edit] = []
        for e in sorted(fr.edits):
            def drop(why: str) -> None:
                left.append(LeftOut(fr.path, e.start, e.old, e.new, why))
            if not (_IDENT.match(e.old) and _IDENT.match(e.new)):
                drop("not a rename of one identifier")
                continue
            if e.kind == "identifier":
                idents.append(e)
                continue
            d = by_pos.get((e.start, e.end))
            default = e.verdict == DEFAULT
            if d is None:
                drop("no decision for this site")
                continue
            if default:
                if d.verdict != Verdict.UNKNOWN:
                    drop(f"default rename of a {d.verdict} site")
                    continue
            elif d.verdict not in (Verdict.PTE, Verdict.PG):
                drop(f"site verdict is {d.verdict}")
                continue
            meaning = "pg" if default else str(d.verdict)
            if only and meaning != only:
                continue   # not asked for: not a left-out, just another series
            if e.new in blocked:
                drop(f"{e.new} is already defined with another meaning")
                continue
            family.append(Selected(fr.path, e, default, d.reason if not default else ""))
        rules_kept = {s.edit.rule for s in family}
        for e in idents:
            if only and e.rule not in rules_kept:
                continue
            reason = next((d.reason for d in fr.decisions if d.rule == e.rule), "")
            chosen.append(Selected(fr.path, e, False, reason))
        chosen.extend(family)
    return Selection(tuple(sorted(chosen)), tuple(sorted(left)), tuple(sorted(failed)))


_OWN_PAGE_SIZE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+(PAGE_SIZE|PAGE_SHIFT|PAGE_MASK)\b", re.M)


def leave_out_own_page_size(sel, base_files):
    """A file outside arch/*/include/ that defines PAGE_SIZE itself is built
    without the kernel's headers at least sometimes (include/linux/raid/pq.h for
    the user-space raid6 test, boot code, linker scripts): the new names are not
    defined there, so its renames are left out."""
    own = {p for p in {s.path for s in sel.edits}
           if not re.match(r"arch/[^/]+/include/", p) and _OWN_PAGE_SIZE.search(base_files[p][1])}
    if not own:
        return sel
    why = "the file defines PAGE_* itself (also built without the kernel headers)"
    dropped = tuple(LeftOut(s.path, s.edit.start, s.edit.old, s.edit.new, why)
                    for s in sel.edits if s.path in own)
    return dataclasses.replace(sel, edits=tuple(s for s in sel.edits if s.path not in own),
                               left_out=tuple(sorted(sel.left_out + dropped)))
