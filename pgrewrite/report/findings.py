"""How `check` and `scan --diff` say what they found: checkpatch's terse
lines, a JSON document, SARIF (report/sarif.py, with the patch and its line
added to each result).

The terse line names the patch and its line (`check`), or the file and its
line and column (`scan --diff`), then checkpatch's WARNING, the name, and
what to do: a rename, or that a person must decide and why not the tool.
"""
from __future__ import annotations

import json

from .sarif import render_sarif
from .worklist import site_sort_key

GRANULARITY = {"pte": "page-table granularity", "pg": "allocation granularity"}


def advice(site: dict, pair: tuple[str, str] | None = None) -> str:
    """What the author should do about one use (the words after the name)."""
    verdict = site["verdict"]
    if verdict in GRANULARITY:
        return f"use {site['replacement']} ({GRANULARITY[verdict]})"
    which = f"{pair[0]} or {pair[1]}" if pair else "the page-table or the allocation name"
    if verdict == "logic":
        return "a person must rewrite this code, a rename is not enough (logic)"
    if verdict == "conflict":
        return f"rules disagree whether it is {which}; a person must decide (conflict)"
    if verdict == "unknown":
        return f"no rule decides whether it is {which}; a person must decide (unknown)"
    return "not analysable here, so no rule decided; a person must decide (skipped)"


def terse_line(f, pair=None) -> str:
    s = f.site
    area = f" (review area: {s['area']})" if s.get("area") and s["area"] not in s["reason"] else ""
    text = f"WARNING: {s['token']}: {advice(s, pair)}: [{s['rule'] or '-'}] {s['reason']}{area}"
    if f.patch is not None:
        return f"{f.patch}:{f.patch_line}: {text} ({s['path']}:{s['line']}:{s['col']})"
    return f"{s['path']}:{s['line']}:{s['col']}: {text}"


def summary_line(result, what: str) -> str:
    n = len(result.findings)
    moved = f"; {result.moved} use(s) on moved lines not reported" if result.moved else ""
    return (f"total: {n} new use(s) of the PAGE_* family in {what}: {result.renames} rename(s) suggested, "
            f"{result.for_person} for a person to decide{moved}")


def render_text(result, what: str, pairs=None) -> str:
    pairs = pairs or {}
    lines = [terse_line(f, pairs.get(f.site["token"])) for f in result.findings]
    lines.append(summary_line(result, what))
    return "\n".join(lines) + "\n"


def document(result, what: str) -> dict:
    """The --format json document."""
    findings = []
    for f in result.findings:
        entry = dict(f.site)
        entry.update({"patch": f.patch, "patch_line": f.patch_line, "subject": f.subject or None,
                      "needs_person": f.needs_person})
        findings.append(entry)
    return {
        "summary": {"checked": what, "patches": result.patches, "findings": len(findings),
                    "renames": result.renames, "for_person": result.for_person, "moved": result.moved,
                    "errors": len(result.errors), "files_failed": len(result.failed),
                    "accounting_difference": result.accounting_difference},
        "findings": findings,
        "errors": list(result.errors),
        "failed": list(result.failed),
        "notes": list(result.notes),
    }


def render_json(result, what: str) -> str:
    return json.dumps(document(result, what), indent=2) + "\n"


def render_sarif_text(result, what: str) -> str:
    """SARIF 2.1.0: the sites as `scan --format sarif` shows them, in the
    files as the patches leave them; each result also names its patch."""
    # render_sarif orders results by site_sort_key, stably: in this order
    findings = sorted(result.findings, key=lambda f: site_sort_key(f.site))
    problems = [{"path": e.split(":", 1)[0], "error": e} for e in [*result.errors, *result.failed]]
    doc = {"sites": [f.site for f in findings], "files": [], "problems": problems,
           "summary": document(result, what)["summary"] | {"files_failed": len(problems)}}
    log = render_sarif(doc)
    for r, f in zip(log["runs"][0]["results"], findings):
        if f.patch is not None:
            r["properties"].update({"patch": f.patch, "patchLine": f.patch_line})
    return json.dumps(log, indent=2) + "\n"
