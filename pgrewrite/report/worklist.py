"""What every report format agrees on: which sites need a person, how a site is
described in one line, and which directory a path is counted under.

The formats read the JSON document that `pgrewrite scan --format json` prints
(a plain dict), so they work on a saved scan as well as on a fresh one.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Verdicts a person has to look at (the worklist), in the order reports show them.
FLAGGED = ("logic", "conflict", "unknown", "skipped")
# Verdicts that are mechanical renames.
RENAMING = ("pte", "pg")
VERDICTS = ("pte", "pg", "logic", "conflict", "unknown", "skipped")

# Short words a reviewer reads next to each verdict.
VERDICT_TITLES = {
    "pte": "rename to PTE_* (mapping)",
    "pg": "rename to PG_* (allocation)",
    "logic": "logic: code must be rewritten",
    "conflict": "conflict: rules disagree",
    "unknown": "unknown: no rule decided",
    "skipped": "skipped: not analysable",
}

# Top-level directories whose second level is a subsystem of its own.
_DEEP_TOPS = {"drivers", "fs", "net", "sound", "include", "tools", "security", "crypto",
              "kernel", "mm", "lib", "block", "virt", "samples", "scripts", "io_uring"}


def sites(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The document's sites in path, line, column order."""
    return sorted(doc.get("sites", ()), key=site_sort_key)


def site_sort_key(site: Mapping[str, Any]) -> tuple:
    return (site.get("path", ""), site.get("line", 0), site.get("col", 0),
            site.get("site_id", ""))


def is_flagged(site: Mapping[str, Any]) -> bool:
    return site.get("verdict") in FLAGGED


def site_key(site: Mapping[str, Any]) -> str:
    """The stable id, or a line-based stand-in for documents made without ids."""
    return site.get("site_id") or f"{site.get('path')}:{site.get('line')}:{site.get('col')}"


def end_col(site: Mapping[str, Any]) -> int:
    """1-based column just past the token (exclusive end)."""
    if site.get("end_col"):
        return int(site["end_col"])
    return int(site.get("col", 1)) + len(site.get("token", ""))


def directory_key(path: str) -> str:
    """The directory a file's sites are counted under in progress bars.

    `arch/<arch>/<dir>` for architecture code (arch/x86/mm), two levels for the big
    trees (mm/kasan, drivers/gpu, include/linux), the top level otherwise; "." for
    files at the root.
    """
    parts = path.split("/")[:-1]
    if not parts:
        return "."
    if parts[0] == "arch":
        return "/".join(parts[:3])
    if parts[0] in _DEEP_TOPS:
        return "/".join(parts[:2])
    return parts[0]


def message(site: Mapping[str, Any]) -> str:
    """One line for a site, as report and org mode print it."""
    token = site.get("token", "?")
    verdict = site.get("verdict", "unknown")
    rule = site.get("rule")
    reason = (site.get("reason") or "").strip()
    if verdict in RENAMING:
        head = f"{token} -> {site.get('replacement') or '?'}"
    else:
        head = f"{token} needs a person ({verdict})"
    text = head + (f" [{rule}]" if rule else "")
    if reason:
        text += f": {reason}"
    area = site.get("area")
    if area and area not in reason:
        text += f" (review area: {area})"
    return text


def worklist_sort_key(site: Mapping[str, Any]) -> tuple:
    """Flagged sites grouped by review area (sites outside any area first),
    then in file order: a reviewer takes one area at a time."""
    return (site.get("area") or "",) + site_sort_key(site)


def count_by(items: Iterable[Mapping[str, Any]], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        value = item.get(key)
        counts[value] = counts.get(value, 0) + 1
    return counts
