"""`pgrewrite verify KERNEL [PATHS]`: prove the renames change no generated code."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pgrewrite.commands.common import EXIT_INPUT, EXIT_OK, EXIT_PROBLEMS, load_rules_or_exit, rules_option
from pgrewrite.verify import DIFFERS, VerifyError, verify


def _default_work() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pgrewrite" / "verify"


@click.command("verify")
@click.argument("kernel", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("paths", nargs=-1)
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Scratch directory for the tree copy and the build (default: ~/.cache/pgrewrite/verify).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=2, show_default=True,
              help="Parallel make jobs.")
@rules_option
def verify_command(kernel, paths, work, jobs, rules_dir):
    """Build x86_64 defconfig objects of the files the renames under PATHS
    (relative to KERNEL; default mm/) touch, before and after the renames,
    and report every object whose generated code differs. KERNEL is only
    read: the renames are made in a scratch copy."""
    ruleset = load_rules_or_exit(rules_dir)
    try:
        report = verify(kernel, list(paths) or ["mm"], ruleset, work or _default_work(), jobs=jobs,
                        progress=lambda m: click.echo(f"verify: {m}", err=True))
    except VerifyError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_INPUT)
    for line in report.lines():
        click.echo(line)
    sys.exit(EXIT_OK if report.ok else EXIT_PROBLEMS if report.count(DIFFERS) or report.refused or report.withheld else EXIT_INPUT)
