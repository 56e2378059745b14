"""`pgrewrite decide SITE-ID pte|pg|logic [-m COMMENT]`: record a person's decision."""
from __future__ import annotations

from pathlib import Path

import click

from pgrewrite.report.decisions import (DECIDABLE, DEFAULT_NAME, DecisionsError,
                                        context_fingerprint, decide, find_decisions_file)


class _BadArgument(click.ClickException):
    exit_code = 2


def _site_from_scan(scan: Path, site_id: str) -> dict:
    from pgrewrite.report.scandoc import ScanDocumentError, load_scan_document
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


@click.command("decide")
@click.argument("site_id", metavar="SITE-ID")
@click.argument("verdict", type=click.Choice(DECIDABLE, case_sensitive=False))
@click.option("-m", "--message", "comment", metavar="COMMENT",
              help="Why; goes into the commit message of the rename.")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Decisions file (default: {DEFAULT_NAME} at the tree root: the kernel "
                   "root or git top level above the current directory).")
@click.option("--scan", "scan", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A `pgrewrite scan --format json` document: check that the site exists "
                   "and store its context fingerprint, so a later change is reported.")
def decide_command(site_id: str, verdict: str, comment: str | None, path: Path | None,
                   scan: Path | None) -> None:
    """Record that SITE-ID (as reports show it) is pte, pg or logic.

    Later runs rename the site accordingly (or leave logic sites flagged as
    decided) and say in the commit message that a person decided it. The file's
    comments and order are kept.
    """
    context = None
    if scan is not None:
        context = context_fingerprint(_site_from_scan(scan, site_id))
    from pgrewrite.collisions import tree_root
    target = path or find_decisions_file(tree_root(Path.cwd()))
    try:
        decide(site_id, verdict, comment, path=target, context=context)
    except (DecisionsError, ValueError) as exc:
        msg = str(exc)         # most DecisionsErrors name the file already
        raise click.ClickException(msg if msg.startswith(f"{target}:") else f"{target}: {msg}")
    except OSError as exc:
        raise click.ClickException(f"{target}: cannot write: {exc}")
    click.echo(f"{target}: {site_id}: {verdict.lower()}")
