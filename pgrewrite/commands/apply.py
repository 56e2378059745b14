"""`pgrewrite apply PATH...`: make the pte/pg renames (and the preparatory
ones) in place, byte-exact, each file atomically.

Exit codes: 0 done; 1 a file was refused; 2 outside a git work tree without
--no-git; 4 some inputs could not be read; 130 interrupted (every file is
either old or new, never partial)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..applying import apply_result, outside_git, undefined_names
from ..shownpaths import entering, path_view
from .common import (EXIT_INTERRUPTED, EXIT_PROBLEMS, EXIT_USAGE, decisions_option, exit_code, jobs_option,
                     load_rules_or_exit, rules_option, run_scan, with_cache_options, with_decisions)


@click.command("apply")
@click.argument("paths", nargs=-1, required=True)
@click.option("--allow-dirty", is_flag=True, help="Also rewrite files with uncommitted changes in git.")
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--no-git", is_flag=True,
              help="Rewrite even outside a git work tree (or without git on PATH); files are then "
                   "not checked for uncommitted changes.")
@decisions_option
@rules_option
@jobs_option
@with_cache_options
def apply_command(paths, allow_dirty, dry_run, no_git, decisions_file, rules_dir, jobs, cache_dir, no_cache):
    """Rewrite the pte/pg sites (and declared renames) in place, byte-exact."""
    if not no_git:
        why = outside_git(paths, Path.cwd())
        if why is not None:
            click.echo(f"error: {why}; pass --no-git to rewrite anyway", err=True)
            sys.exit(EXIT_USAGE)
    ruleset = load_rules_or_exit(rules_dir)
    result = with_decisions(run_scan(paths, ruleset, jobs, cache_dir, no_cache), ruleset, decisions_file)
    report = apply_result(result, ruleset, allow_dirty=allow_dirty or no_git, dry_run=dry_run)
    report.undefined = undefined_names(result, report)
    shown = path_view(result.root)
    if shown.base is not None:
        click.echo(entering(shown.base), err=True)
    for p in result.problems:
        click.echo(f"{shown(p.display)}: error: {p.message}", err=True)
    for f in result.failed:
        click.echo(f"{shown(f.path)}: error: {f.error}", err=True)
    for line in report.lines(shown):
        click.echo(line, err=not line.startswith("rewrote"))
    if report.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if report.refused:
        sys.exit(EXIT_PROBLEMS)
    sys.exit(exit_code(result))
