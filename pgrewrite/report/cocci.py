"""Coccinelle's `make coccicheck MODE=report` and `MODE=org` output formats.

report: one line per site, `file:line:col-col: SEVERITY: message`, which editors
read as a quickfix list (vim's default errorformat, Emacs compilation-mode).
`col` is the 1-based column of the token's first byte and the second number the
1-based column of its last byte. (Coccinelle itself prints a 0-based start column;
we print the column editors jump to. The end column is the same number in both.)
Sites a person must look at are `WARNING`, mechanical renames `INFO`.

org: Emacs org-mode, as Coccinelle's `coccilib.org.print_todo` writes it: a
`* TODO [[view:file::face=ovl-face1::linb=L::colb=C::cole=E][message]]` heading
per site a person must look at, `* DONE` for a mechanical rename; columns in the
link are 0-based with an exclusive end, as cocci's `view:` links expect. Each heading
has a property drawer with the site id, verdict, rule and function, so org's
property search and column view work on it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgrewrite.shownpaths import entering
from pgrewrite.report.worklist import end_col, is_flagged, message, sites


def _selected(doc: Mapping[str, Any], flagged_only: bool) -> list[dict[str, Any]]:
    return [s for s in sites(doc) if is_flagged(s) or not flagged_only]


def _id_suffix(site: Mapping[str, Any]) -> str:
    return f" (id {site['site_id']})" if site.get("site_id") else ""


def render_report(doc: Mapping[str, Any], *, flagged_only: bool = False) -> str:
    """`file:line:col-col: SEVERITY: message (id SITE-ID)` lines, sorted."""
    lines = [entering(doc["paths_relative_to"])] if doc.get("paths_relative_to") else []
    for site in _selected(doc, flagged_only):
        severity = "WARNING" if is_flagged(site) else "INFO"
        last = max(int(site["col"]), end_col(site) - 1)
        lines.append(f"{site['path']}:{site['line']}:{site['col']}-{last}: "
                     f"{severity}: {message(site)}{_id_suffix(site)}")
    return "".join(line + "\n" for line in lines)


def _org_text(text: str) -> str:
    # ']' would close the org link description early; newlines would end the heading.
    return " ".join(text.replace("[", "(").replace("]", ")").split())


def render_org(doc: Mapping[str, Any], *, flagged_only: bool = False) -> str:
    """Org-mode TODO entries (flagged sites) and DONE entries (renames), sorted."""
    # an org comment: the view: links are relative to the tree root then
    out = [f"# paths are relative to {doc['paths_relative_to']}"] if doc.get("paths_relative_to") else []
    for site in _selected(doc, flagged_only):
        state = "TODO" if is_flagged(site) else "DONE"
        colb = int(site["col"]) - 1
        cole = end_col(site) - 1
        link = (f"view:{site['path']}::face=ovl-face1::linb={site['line']}"
                f"::colb={colb}::cole={cole}")
        out.append(f"* {state} [[{link}][{_org_text(message(site))}]]")
        out.append("  :PROPERTIES:")
        props = [("SITE_ID", site.get("site_id")), ("VERDICT", site.get("verdict")),
                 ("RULE", site.get("rule")), ("FUNCTION", site.get("function")),
                 ("TOKEN", site.get("token")), ("REPLACEMENT", site.get("replacement"))]
        for name, value in props:
            if value:
                out.append(f"  :{name}: {_org_text(str(value))}")
        out.append("  :END:")
    return "".join(line + "\n" for line in out)
