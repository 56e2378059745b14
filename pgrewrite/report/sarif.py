"""SARIF 2.1.0 output, so code-review tools and editors show the sites inline.

Mapping:
- one run; `tool.driver` is pgrewrite, its `rules` are every rule that decided a
  site or matched one, plus one `pgrewrite/<verdict>` rule for sites no rule
  decided (unknown, conflict, skipped) and `person` for decisions from the
  decisions file;
- one result per site: level `warning` for sites a person must look at
  (logic/conflict/unknown/skipped), `note` for mechanical renames, which also carry
  a `fix` that replaces the token;
- the stable site id is the result's `partialFingerprints["pgrewriteSiteId/v1"]`
  (what SARIF consumers use to follow a result across runs) and is also in
  `properties.siteId`;
- columns are 1-based and `endColumn` is exclusive, as SARIF defines them, which is
  what the scan document holds; paths are relative URIs under `%SRCROOT%` (the
  directory the scan ran in, or the tree root, with its URI, when the scan ran
  outside the tree: see shownpaths.py);
- files that failed, and inputs that could not be read (`problems`), become
  `toolExecutionNotifications` of the invocation.
"""
from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pgrewrite.report.worklist import FLAGGED, RENAMING, VERDICT_TITLES, end_col, message, sites

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "pgrewriteSiteId/v1"


def _version() -> str:
    try:
        return metadata.version("pgrewrite")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _srcroot(base: str | None) -> dict[str, Any]:
    if base is None:
        return {"description": {"text": "The directory pgrewrite scan ran in; paths are relative to it."}}
    return {"uri": Path(base).as_uri() + "/",
            "description": {"text": "The root of the tree scanned; paths are relative to it."}}


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"), safe="/")


def _rule_id(site: Mapping[str, Any]) -> str:
    return site.get("rule") or f"pgrewrite/{site.get('verdict', 'unknown')}"


def _rules(all_sites: list[dict[str, Any]]) -> list[dict[str, Any]]:
    described: dict[str, dict[str, Any]] = {}

    def add(rule_id: str, text: str, meaning: str | None) -> None:
        if rule_id in described:
            return
        entry: dict[str, Any] = {"id": rule_id,
                                 "shortDescription": {"text": text or rule_id}}
        if meaning:
            entry["properties"] = {"meaning": meaning}
        described[rule_id] = entry

    for site in all_sites:
        for match in site.get("matches") or ():
            add(match["rule"], match.get("reason", ""), match.get("meaning"))
    for site in all_sites:
        rule = _rule_id(site)
        if rule == "person":
            add(rule, "decided by a person in pgrewrite-decisions.yaml", None)
        elif rule.startswith("pgrewrite/"):
            add(rule, VERDICT_TITLES.get(site.get("verdict", ""), rule), site.get("verdict"))
        else:
            add(rule, site.get("reason", ""), site.get("verdict"))
    return [described[k] for k in sorted(described)]


def _result(site: Mapping[str, Any], rule_index: dict[str, int]) -> dict[str, Any]:
    rule = _rule_id(site)
    verdict = site.get("verdict", "unknown")
    region = {"startLine": int(site["line"]), "startColumn": int(site["col"]),
              "endLine": int(site["line"]), "endColumn": end_col(site)}
    location = {"physicalLocation": {
        "artifactLocation": {"uri": _uri(site["path"]), "uriBaseId": "%SRCROOT%"},
        "region": region}}
    if site.get("function"):
        location["logicalLocations"] = [{"name": site["function"], "kind": "function"}]
    props: dict[str, Any] = {
        "siteId": site.get("site_id", ""), "verdict": verdict, "token": site.get("token"),
        "context": site.get("context"), "matches": list(site.get("matches") or ()),
    }
    if site.get("area"):
        props["area"] = site["area"]
    if site.get("replacement"):
        props["replacement"] = site["replacement"]
    result: dict[str, Any] = {
        "ruleId": rule,
        "ruleIndex": rule_index[rule],
        "level": "warning" if verdict in FLAGGED else "note",
        "message": {"text": message(site)},
        "locations": [location],
        "properties": props,
    }
    if site.get("site_id"):
        result["partialFingerprints"] = {FINGERPRINT: site["site_id"]}
    if verdict in RENAMING and site.get("replacement"):
        result["fixes"] = [{
            "description": {"text": f"rename {site.get('token')} to {site['replacement']}"},
            "artifactChanges": [{
                "artifactLocation": {"uri": _uri(site["path"]), "uriBaseId": "%SRCROOT%"},
                "replacements": [{"deletedRegion": dict(region),
                                  "insertedContent": {"text": site["replacement"]}}],
            }],
        }]
    return result


def render_sarif(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The scan document as a SARIF 2.1.0 log (a dict; `json.dumps` it to print)."""
    all_sites = sites(doc)
    rules = _rules(all_sites)
    rule_index = {rule["id"]: i for i, rule in enumerate(rules)}
    notifications = []
    failed = [f for f in doc.get("files", ()) if f.get("error")] + list(doc.get("problems", ()))
    for f in sorted(failed, key=lambda f: (f.get("path", ""), f.get("error", ""))):
        notifications.append({
            "level": "error",
            "message": {"text": f"{f['path']}: {f['error']}"},
            "locations": [{"physicalLocation": {"artifactLocation": {
                "uri": _uri(f["path"]), "uriBaseId": "%SRCROOT%"}}}],
        })
    summary = doc.get("summary", {})
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "pgrewrite",
            "version": _version(),
            "rules": rules,
        }},
        "originalUriBaseIds": {"%SRCROOT%": _srcroot(doc.get("paths_relative_to"))},
        "invocations": [{"executionSuccessful": not summary.get("files_failed"),
                         "toolExecutionNotifications": notifications}],
        "results": [_result(s, rule_index) for s in all_sites],
        "properties": {"summary": summary},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
