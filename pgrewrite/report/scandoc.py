"""A `pgrewrite scan --format json` document given on the command line
(`scan --compare OLD.json`, `decide --scan SCAN.json`).

It comes from elsewhere, so it is data to check, not to trust: it must be
JSON with the document's shape (a summary with verdict counts, a list of
sites each with its path, position, token, verdict and id) before any of it
is used. A SARIF log or `{}` would otherwise read as a scan without sites.
"""
from __future__ import annotations

import json
from pathlib import Path

from pgrewrite.report.worklist import VERDICTS

# key -> the JSON types a site of the document has there
SITE_KEYS = {"path": str, "line": int, "col": int, "token": str, "verdict": str, "site_id": str}
WHAT = "give a document written by `pgrewrite scan --format json`"


class ScanDocumentError(ValueError):
    """The document cannot be used; the message names it and says why."""


def load_scan_document(path: Path) -> dict:
    """The document at `path`, or ScanDocumentError."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ScanDocumentError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        doc = json.loads(data)
    except UnicodeDecodeError as e:
        raise ScanDocumentError(f"{path}: not UTF-8 (byte {e.start}); {WHAT}") from None
    except json.JSONDecodeError as e:
        raise ScanDocumentError(f"{path}:{e.lineno}:{e.colno}: not JSON ({e.msg}); {WHAT}") from None
    except RecursionError:
        raise ScanDocumentError(f"{path}: nested too deeply to be a scan document; {WHAT}") from None
    except ValueError as e:
        raise ScanDocumentError(f"{path}: not JSON ({e}); {WHAT}") from None
    problem = shape_problem(doc)
    if problem is not None:
        raise ScanDocumentError(f"{path}: {problem}; {WHAT}")
    return doc


def shape_problem(doc) -> str | None:
    """What keeps `doc` from being a scan document, or None."""
    if not isinstance(doc, dict):
        return f"the top level is a JSON {type(doc).__name__}, not a pgrewrite scan document"
    if "runs" in doc and ("$schema" in doc or "version" in doc):
        return "a SARIF log, not a pgrewrite scan document"
    summary, sites = doc.get("summary"), doc.get("sites")
    if not isinstance(summary, dict) or not isinstance(summary.get("verdicts"), dict) or not isinstance(sites, list):
        return 'not a pgrewrite scan document (it has no "summary" with "verdicts" and a list of "sites")'
    for i, site in enumerate(sites):
        if not isinstance(site, dict):
            return f"sites[{i}] is not an object"
        for key, kind in SITE_KEYS.items():
            value = site.get(key)
            if not isinstance(value, kind) or isinstance(value, bool):
                return f"sites[{i}] has no {kind.__name__} {key!r}"
        if site["verdict"] not in VERDICTS:
            return f"sites[{i}] has the verdict {site['verdict']!r}, not one of {', '.join(VERDICTS)}"
    return None
