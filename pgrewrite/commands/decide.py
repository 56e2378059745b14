"""`pgrewrite decide SITE-ID|FILE:LINE[:COL] pte|pg|logic [-m COMMENT]`: record a person's decision.

The site is checked against a scan of its file (one file: cheap), so an id
that no site carries is refused instead of written and later reported as
vanished; a location is resolved to the id of the site there.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import click

from .. import api
from ..collisions import tree_root
from ..output import to_document
from ..report.decisions import (DECIDABLE, DEFAULT_NAME, DecisionsError, context_fingerprint, decide,
                                find_decisions_file, site_path)
from ..report.scandoc import ScanDocumentError, load_scan_document
from .common import load_rules_or_exit, rules_option


class _BadArgument(click.ClickException):
    exit_code = 2


def _site_from_scan(scan: Path, site_id: str) -> dict:
    try:
        doc = load_scan_document(scan)
    except ScanDocumentError as exc:
        raise _BadArgument(f"--scan {exc}")
    for site in doc["sites"]:
        if site.get("site_id") == site_id:
            return site
    raise click.ClickException(
        f"{scan}: no site with id {site_id!r}; run `pgrewrite scan --format json` again "
        "and copy the id from it")


_LOCATION = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")


def resolve_site(given: str, ruleset, root: Path, cwd: Path) -> dict:
    """The site `given` names, as the scan document shows it: a FILE:LINE[:COL]
    of an existing file, else a site id (whose path is from the tree root).
    Raises ClickException with what to do when there is no such site."""
    m = _LOCATION.match(given)
    if m and (cwd / m.group("path")).is_file():
        display, line = m.group("path"), int(m.group("line"))
        col = int(m.group("col")) if m.group("col") else None
    else:
        full = root / site_path(given)
        if not full.is_file():
            raise click.ClickException(
                f"{given}: neither FILE:LINE[:COL] of a file nor a site id of a file under "
                f"{root} ({site_path(given)} does not exist); copy the id from a report")
        display, line, col = os.path.relpath(full, cwd), None, None
    try:
        one = api.scan_one(display, ruleset, cwd=cwd, decisions=False)
    except OSError as e:
        raise click.ClickException(f"{display}: cannot read: {e.strerror or e}")
    sites = to_document(api.ScanResult((one.by_rules,) if one.by_rules else ()))["sites"]
    if line is None:
        found = [s for s in sites if s["site_id"] == given]
        if not found:
            raise click.ClickException(
                f"{display}: no site with id {given!r} (the statement or its function changed?); "
                f"give its location instead: pgrewrite decide {display}:LINE[:COL] ...")
        return found[0]
    found = [s for s in sites if s["line"] == line and (col is None or s["col"] <= col < s["end_col"])]
    if not found:
        raise click.ClickException(f"{given}: no family token here; `pgrewrite scan {display}` lists the sites")
    if len(found) > 1:
        listed = "; ".join(f"{display}:{s['line']}:{s['col']} {s['token']}" for s in found)
        raise click.ClickException(f"{given}: {len(found)} sites on this line ({listed}); "
                                   "add the column: FILE:LINE:COL")
    return found[0]


@click.command("decide")
@click.argument("site_id", metavar="SITE-ID|FILE:LINE[:COL]")
@click.argument("verdict", type=click.Choice(DECIDABLE, case_sensitive=False))
@click.option("-m", "--message", "comment", metavar="COMMENT",
              help="Why; goes into the commit message of the rename.")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Decisions file (default: {DEFAULT_NAME} at the tree root: the kernel "
                   "root or git top level above the current directory).")
@click.option("--scan", "scan", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A `pgrewrite scan --format json` document: check that the site exists "
                   "and store its context fingerprint, so a later change is reported.")
@rules_option
def decide_command(site_id: str, verdict: str, comment: str | None, path: Path | None,
                   scan: Path | None, rules_dir: Path | None) -> None:
    """Record that SITE-ID (as reports show it), or the site at FILE:LINE[:COL],
    is pte, pg or logic.

    The site is looked up in a scan of its file first: an id no site carries
    is refused. Later runs rename the site accordingly (or leave logic sites
    flagged as decided) and say in the commit message that a person decided
    it. The file's comments and order are kept.
    """
    cwd = Path.cwd()
    # the tree of the site: a location names its file, which may be in a
    # tree elsewhere; an id is a path from the root of the cwd's tree
    m = _LOCATION.match(site_id)
    located = cwd / m.group("path") if m else None
    root = tree_root(located if located is not None and located.is_file() else cwd)
    context = None
    if scan is not None:
        context = context_fingerprint(_site_from_scan(scan, site_id))
    else:
        site_id = resolve_site(site_id, load_rules_or_exit(rules_dir), root, cwd)["site_id"]
    target = path or find_decisions_file(root)
    try:
        decide(site_id, verdict, comment, path=target, context=context)
    except (DecisionsError, ValueError) as exc:
        msg = str(exc)         # most DecisionsErrors name the file already
        raise click.ClickException(msg if msg.startswith(f"{target}:") else f"{target}: {msg}")
    except OSError as exc:
        raise click.ClickException(f"{target}: cannot write: {exc}")
    click.echo(f"{target}: {site_id}: {verdict.lower()}")
