"""`pgrewrite scan --compare OLD.json`: what changed between two runs.

Sites are matched by their stable site id, so moved code is the same site and a
rule change or a tree change shows up as a verdict change. Categories:

- `new_flagged`: flagged now (logic/conflict/unknown/skipped) and either absent
  before or not flagged before;
- `newly_decided`: flagged before, a mechanical rename (pte/pg) now;
- `vanished`: in the old run, not in the new one;
- `appeared`: in the new run, not in the old one (any verdict);
- `verdict_changes`: in both, with a different verdict (includes the two above
  when the site existed before; the text lists a site once, so there this
  section holds the other changes).

`compare_docs` returns a JSON-able dict; `render_compare` turns it into text.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgrewrite.shownpaths import entering
from pgrewrite.report.worklist import FLAGGED, RENAMING, VERDICTS, count_by, site_key, sites


def _by_id(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for site in sites(doc):
        key = site_key(site)
        n = 2
        while key in out:  # ids are unique by construction; never lose a site anyway
            key = f"{site_key(site)}#{n}"
            n += 1
        out[key] = site
    return out


def _brief(site: Mapping[str, Any], key: str, old: Mapping[str, Any] | None = None) -> dict[str, Any]:
    entry = {"site_id": key, "path": site.get("path"), "line": site.get("line"),
             "token": site.get("token"), "verdict": site.get("verdict"),
             "rule": site.get("rule"), "reason": site.get("reason")}
    if old is not None:
        entry["old_verdict"] = old.get("verdict")
        entry["old_rule"] = old.get("rule")
        entry["old_line"] = old.get("line")
    return entry


def compare_docs(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Differences between two scan documents, keyed by site id, sorted by path/line."""
    before, after = _by_id(old), _by_id(new)
    out: dict[str, list[dict[str, Any]]] = {
        "new_flagged": [], "newly_decided": [], "vanished": [], "appeared": [],
        "verdict_changes": []}
    for key, site in after.items():
        prev = before.get(key)
        flagged = site.get("verdict") in FLAGGED
        if prev is None:
            out["appeared"].append(_brief(site, key))
            if flagged:
                out["new_flagged"].append(_brief(site, key))
            continue
        if prev.get("verdict") == site.get("verdict"):
            continue
        out["verdict_changes"].append(_brief(site, key, prev))
        if flagged and prev.get("verdict") not in FLAGGED:
            out["new_flagged"].append(_brief(site, key, prev))
        if site.get("verdict") in RENAMING and prev.get("verdict") in FLAGGED:
            out["newly_decided"].append(_brief(site, key, prev))
    for key, site in before.items():
        if key not in after:
            out["vanished"].append(_brief(site, key))
    for entries in out.values():
        entries.sort(key=lambda e: (e["path"] or "", e["line"] or 0, e["site_id"]))
    old_counts = count_by(before.values(), "verdict")
    new_counts = count_by(after.values(), "verdict")
    verdicts = {v: {"old": old_counts.get(v, 0), "new": new_counts.get(v, 0),
                    "delta": new_counts.get(v, 0) - old_counts.get(v, 0)} for v in VERDICTS}
    flagged_old = sum(old_counts.get(v, 0) for v in FLAGGED)
    flagged_new = sum(new_counts.get(v, 0) for v in FLAGGED)
    # where the new run's paths are relative to, when not the working directory
    base = {k: new[k] for k in ("paths_relative_to",) if new.get(k)}
    return {**base, "verdicts": verdicts,
            "flagged": {"old": flagged_old, "new": flagged_new, "delta": flagged_new - flagged_old},
            **out}


_TITLES = {
    "new_flagged": "New flagged sites",
    "newly_decided": "Newly decided (flagged before, renamed now)",
    "vanished": "Vanished sites",
    "verdict_changes": "Other verdict changes",
}


def render_compare(cmp: Mapping[str, Any], *, limit: int | None = None) -> str:
    """A text summary of `compare_docs`; at most `limit` lines per section."""
    lines = [entering(cmp["paths_relative_to"])] if cmp.get("paths_relative_to") else []
    lines.append("verdict      old    new  delta")
    for verdict, c in cmp["verdicts"].items():
        lines.append(f"{verdict:<10} {c['old']:>5} {c['new']:>6} {c['delta']:>+6}")
    f = cmp["flagged"]
    lines.append(f"{'flagged':<10} {f['old']:>5} {f['new']:>6} {f['delta']:>+6}")
    lines.append(f"appeared: {len(cmp['appeared'])}, vanished: {len(cmp['vanished'])}")
    listed: set[str] = set()
    for section, title in _TITLES.items():
        entries = cmp[section]
        if section == "verdict_changes":
            # the JSON keeps every change here; the text lists each site once
            entries = [e for e in entries if e["site_id"] not in listed]
        listed.update(e["site_id"] for e in entries)
        lines.append("")
        lines.append(f"{title}: {len(entries)}")
        shown = entries if limit is None else entries[:limit]
        for e in shown:
            change = (f"{e['old_verdict']} -> {e['verdict']}" if "old_verdict" in e
                      else e["verdict"])
            rule = f" [{e['rule']}]" if e.get("rule") else ""
            lines.append(f"  {e['path']}:{e['line']}: {e['token']} {change}{rule} (id {e['site_id']})")
        if len(shown) < len(entries):
            lines.append(f"  ... and {len(entries) - len(shown)} more")
    return "\n".join(lines) + "\n"
