"""What the commands share: exit codes, common options, loading the rules,
running a scan with progress, applying the decisions file. cli.py
assembles the group from the commands; nothing here imports it.

Exit codes (also in the README):
  0  success
  1  apply/test found problems (a file was refused, an example or snapshot failed)
  2  usage error (bad option or argument)
  3  the rules are invalid (each problem printed as file:line: message)
  4  some inputs could not be read or analysed (the others were processed)
  5  internal accounting check failed: a family token was not accounted for
  6  check / scan --diff: renames suggested (and nothing for a person to decide)
  7  check / scan --diff: some use needs a person to decide (logic, conflict, unknown, skipped)
  130 apply was interrupted (Ctrl-C, SIGTERM): each file is old or new, none partial
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import api
from ..cache import default_cache_dir
from ..report import DecisionsError
from ..rules.loader import RuleError
from ..shownpaths import path_view

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_RULES, EXIT_INPUT, EXIT_ACCOUNTING = 0, 1, 2, 3, 4, 5
EXIT_RENAMES, EXIT_PERSON, EXIT_INTERRUPTED = 6, 7, 130
VERDICTS = ("pte", "pg", "logic", "conflict", "unknown", "skipped")


def load_rules_or_exit(rules_dir, cache_dir=None, no_cache=True):
    """The rule set, or exit 3 with its problems. Unless `no_cache`, the
    compiled rules are kept in the result cache directory."""
    try:
        if not no_cache:
            return api.load_rules(rules_dir, cache_dir or default_cache_dir())
        return api.load_rules(rules_dir)
    except RuleError as e:
        rules_error_exit(e)


def rules_error_exit(e: RuleError):
    """Print the problems of the rules (or of clashes.yaml against the tree) and exit 3."""
    for p in e.problems:
        click.echo(f"error: {p}", err=True)
    click.echo(f"error: {len(e.problems)} problem(s) in the rules; nothing was scanned", err=True)
    sys.exit(EXIT_RULES)


decisions_option = click.option(
    "--decisions", "decisions_file", type=click.Path(path_type=Path), default=None,
    help="Decisions file to apply (default: pgrewrite-decisions.yaml at the tree root; never one above it).")


rules_option = click.option("--rules", "rules_dir", type=click.Path(file_okay=False, path_type=Path),
                            default=None, help="Rules directory (default: the rules shipped with pgrewrite).")
jobs_option = click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
                           help="Parallel worker processes (default: all cores).")
cache_options = [
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Result cache directory (default: $XDG_CACHE_HOME/pgrewrite)."),
    click.option("--no-cache", is_flag=True, help="Do not read or write the result cache."),
]


def with_cache_options(f):
    for opt in reversed(cache_options):
        f = opt(f)
    return f


class Progress:
    """Progress on a terminal, phase by phase (`pgrewrite: prefilter`, then a
    bar for a phase with many steps); silent otherwise (pipes, CI, tests).
    The library calls `phase(name, total)` when a phase starts and the
    object itself with the steps done."""

    def __init__(self, label: str):
        self.enabled = sys.stderr.isatty()
        self.label, self.bar = label, None

    def __call__(self, n: int):
        if self.bar is not None:
            self.bar.update(n)

    def phase(self, name: str, total: int | None = None):
        self.finish()
        if not self.enabled:
            return self
        if total is not None and total > 50:
            self.bar = click.progressbar(length=total, label=f"{self.label}: {name}", file=sys.stderr)
            self.bar.__enter__()
        else:
            click.echo(f"{self.label}: {name}", err=True)
        return self

    def finish(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def run_scan(paths, ruleset, jobs, cache_dir, no_cache, unknown_as=None, report_notes=False, includes=None):
    """scan_paths for a command; unless its report lists the run's notes
    (`report_notes`), the note about unusable cache files goes to stderr.
    `includes`: the index's include grep the command started (scan_paths)."""
    progress = Progress("pgrewrite")
    try:
        result = api.scan_paths(paths, ruleset, jobs=jobs, cache_dir=cache_dir, use_cache=not no_cache,
                                unknown_as=unknown_as, progress=progress if progress.enabled else None,
                                includes=includes)
    except RuleError as e:         # clashes.yaml does not fit the tree
        rules_error_exit(e)
    finally:
        progress.finish()
    if not report_notes:
        echo_cache_notes(result)
    return result


def echo_cache_notes(result) -> None:
    for note in result.notes:
        if note.startswith("cache:"):
            click.echo(f"note: {note}", err=True)



def with_decisions(result, ruleset, path: Path | None = None):
    """Apply the people's decisions file, printing its problems."""
    try:
        result, problems = api.apply_person_decisions(result, ruleset, path=path)
    except DecisionsError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_INPUT)
    applied = [p for p in problems if p.kind == "applied"]
    view = path_view(result.root)
    for p in problems:
        if p.kind != "applied":
            click.echo(f"warning: {p.shown(view)}", err=True)
    if applied:
        click.echo(f"note: {applied[0].path}: {len(applied)} decision(s) already carried out "
                   "(their sites carry the decided names)", err=True)
    return result


def exit_code(result) -> int:
    if result.accounting_difference:
        return EXIT_ACCOUNTING
    if result.problems or result.failed:
        return EXIT_INPUT
    return EXIT_OK
