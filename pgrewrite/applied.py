"""Decisions `apply` has carried out: their site is renamed, so its id (made
from the statement's text) is gone, but the decision is done, not vanished.

A vanished decision's file is read again with every new name spelled back
as its family name (PTE_SIZE and PG_SIZE as PAGE_SIZE, ...): a site of that
text with the decision's id is the decided site, renamed. The name it now
carries says whether the rename is the one decided.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from .family import Family
from .lex import Lexer
from .report.decisions import DecisionProblem, PersonDecision, replacement_for, site_path
from .sites import find_sites


def _spelled_back(data: bytes, family: Family) -> tuple[bytes, dict[int, str]]:
    """`data` with each new name replaced by its family name, and the offset
    (in the new bytes) of each replaced name -> the name that was there."""
    back = family.aliases()
    word = re.compile(rb"\b(" + b"|".join(re.escape(n.encode()) for n in sorted(back, key=len, reverse=True)) + rb")\b")
    out, at, was = [], 0, {}
    size = 0
    for m in word.finditer(data):
        out.append(data[at:m.start()])
        size += m.start() - at
        new = m.group(1).decode()
        was[size] = new
        old = back[new].encode()
        out.append(old)
        size += len(old)
        at = m.end()
    out.append(data[at:])
    return b"".join(out), was


def renamed_sites(tree_path: str, data: bytes, family: Family) -> dict[str, str]:
    """site id (as before the rename) -> the new name the site now carries."""
    text, was = _spelled_back(data, family)
    if not was:
        return {}
    parsed = find_sites(tree_path, text, Lexer(family.names))
    return {f.site.site_id: was[f.site.start] for f in parsed.sites if f.site.start in was}


def mark_applied(problems, entries: dict[str, PersonDecision], root: Path,
                 family: Family) -> tuple[DecisionProblem, ...]:
    """`problems` with each `vanished` decision whose site now carries the
    decided name turned into `applied`, and into `renamed-otherwise` when it
    carries the other one. `root`: where the site ids' paths start."""
    by_file: dict[str, dict[str, str] | None] = {}
    out = []
    for p in problems:
        person = entries.get(p.site_id)
        if p.kind != "vanished" or person is None:
            out.append(p)
            continue
        path = site_path(p.site_id)
        if path not in by_file:
            try:
                by_file[path] = renamed_sites(path, (root / path).read_bytes(), family)
            except (OSError, RecursionError):
                by_file[path] = None
        now = (by_file[path] or {}).get(p.site_id)
        if now is None:
            out.append(p)
            continue
        token = p.site_id.rsplit(":", 2)[-2]      # path:function:TOKEN:hash
        wanted = replacement_for(token, person.verdict, family)
        if now == wanted:
            out.append(dataclasses.replace(p, kind="applied", message=f"the site now reads {now}; "
                                           "the decision is carried out (the entry can stay as a record)"))
        else:
            out.append(dataclasses.replace(p, kind="renamed-otherwise", message=(
                f"the site was renamed to {now}, but the decision says {person.verdict} "
                f"({wanted or 'no rename'}); look at it again")))
    return tuple(out)
