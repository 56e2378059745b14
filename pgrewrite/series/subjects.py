"""Distinct subjects for the rename patches: a reviewer (and `git log
--oneline`) tells the patches apart by their subject alone.

Split by rule, each subject names its rule. Split by subsystem, groups whose
prefix comes out the same (four `x86/kernel/cpu:` patches for bugs.c, mce/,
resctrl/ and sgx/) get the part of their paths that tells them apart, in
kernel style (`x86/bugs`, `x86/mce`, `x86/resctrl`, `x86/sgx`; `mm/hugetlb`
for mm/hugetlb.c with include/linux/hugetlb.h); failing that, the name of
their MAINTAINERS entry.
"""
from __future__ import annotations

import collections
import posixpath
import re
from typing import Hashable, Mapping, Sequence

_TRIM = re.compile(r"[-_.]+$")


def _stem(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path))[0]


def distinguishing_part(files: Sequence[str], common: str) -> str | None:
    """What the files of one patch share below `common` (the directory all
    patches of the same prefix share): their first directory or file stem
    there, else the common beginning of their file names (hugetlb.c and
    hugetlb.h, memcontrol.c and memcontrol-v1.c)."""
    firsts = set()
    for f in files:
        rest = posixpath.relpath(f, common) if common else f
        head = rest.split("/", 1)[0]
        firsts.add(_stem(head) if "/" not in rest else head)
    if len(firsts) == 1:
        return firsts.pop()
    stem = _TRIM.sub("", posixpath.commonprefix(sorted({_stem(f) for f in files})))
    return stem if len(stem) >= 3 else None


def distinct(groups: Mapping[Hashable, tuple[str, tuple[str, ...], str]]) -> dict[Hashable, tuple[str, str]]:
    """group -> (prefix, files, entry name) in; group -> (prefix, what) out,
    where `what` (maybe empty) goes into the subject after the rename; the
    (prefix, what) pairs of groups are all different."""
    out = {g: (pfx, "") for g, (pfx, _, _) in groups.items()}
    by_prefix = collections.defaultdict(list)
    for g, (pfx, _, _) in groups.items():
        by_prefix[pfx].append(g)
    for pfx, same in by_prefix.items():
        if len(same) < 2:
            continue
        dirs = [posixpath.dirname(f) for g in same for f in groups[g][1]]
        common = posixpath.commonpath(dirs) if all(dirs) else ""
        top = pfx.split("/", 1)[0]
        for g in same:
            part = distinguishing_part(groups[g][1], common)
            if part and part != top:
                out[g] = (f"{top}/{part}", "")
    # still the same: the MAINTAINERS entry's name, then a number
    seen = collections.Counter(out.values())
    for g, (pfx, _) in list(out.items()):
        if seen[out[g]] > 1:
            out[g] = (pfx, groups[g][2])
    seen = collections.Counter(out.values())
    numbered: collections.Counter = collections.Counter()
    for g, key in list(out.items()):
        if seen[key] > 1:
            numbered[key] += 1
            out[g] = (key[0], f"{key[1]} {numbered[key]}".strip())
    return out


# Documentation/process/submitting-patches.rst: the summary phrase (the
# subject without its [PATCH] tags) "must be no more than 70-75 characters".
LIMIT = 75
_COMBINED = re.compile(r"[a-z0-9-]+(\+[a-z0-9-]+)+")      # rule ids, as classify joins them
_SHORT_NAME = re.compile(r"\(([^()]+)\)$")                   # MAINTAINERS: "... (MEMCG)"


def label_forms(what: str) -> list[str]:
    """`what` (a rule id, `a+b+c` for sites several rules decided together,
    or a MAINTAINERS entry's name), then shorter forms of it, most telling
    first: the first rules and how many more (`a+b+1 more`, `a+2 more`);
    an entry's own short name (`CONTROL GROUP - MEMORY RESOURCE CONTROLLER
    (MEMCG)`: `MEMCG`), else its last part (`MEMORY MANAGEMENT - PAGE
    ALLOCATOR`: `PAGE ALLOCATOR`)."""
    if not _COMBINED.fullmatch(what):
        short = _SHORT_NAME.search(what)
        last = what.rsplit(" - ", 1)[-1]
        return list(dict.fromkeys([what, *([short.group(1)] if short else []), last]))
    rules = what.split("+")
    return [what] + ["+".join(rules[:k]) + f"+{len(rules) - k} more" for k in range(len(rules) - 1, 0, -1)]


def fit(candidates: Sequence[Sequence[str]], limit: int = LIMIT) -> list[str]:
    """One subject per patch from its candidates (most telling first), each
    within `limit` characters and no two alike. A patch whose first
    candidate fits keeps it; the others take their first candidate that
    fits and is not taken, else their shortest one cut to fit, with a
    number when that is taken too."""
    out: list[str | None] = [c[0] if len(c[0]) <= limit else None for c in candidates]
    taken = {s for s in out if s is not None}
    for i, forms in enumerate(candidates):
        if out[i] is not None:
            continue
        choice = next((s for s in forms if len(s) <= limit and s not in taken), None)
        if choice is None:
            shortest = min(forms, key=len)
            choice, n = _cut(shortest, limit), 1
            while choice in taken:
                n += 1
                choice = _cut(shortest, limit - len(f" {n}")) + f" {n}"
        out[i] = choice
        taken.add(choice)
    return out


def _cut(subject: str, limit: int) -> str:
    """`subject` in `limit` characters: its end replaced by `...` (keeping a
    closing parenthesis)."""
    if len(subject) <= limit:
        return subject
    close = ")" if subject.endswith(")") and "(" in subject else ""
    return subject[:limit - 3 - len(close)].rstrip() + "..." + close
