"""`pgrewrite explain FILE:LINE[:COL]`: the verdict of a site as `scan` gives
it, who decided it (a rule, or a person in the decisions file), and the
traces of the rules tried there.

Exit codes: 0 shown; 2 a malformed location, or a line (column) past the
end of the file (line); 3 the rules are invalid; 4 the file or the
decisions file cannot be read."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from .. import api
from ..explain import Decided, ExplainError, explain
from ..report import DecisionsError
from ..shownpaths import entering, path_view
from .common import EXIT_INPUT, EXIT_USAGE, decisions_option, load_rules_or_exit, rules_option

_LOCATION = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")


@click.command("explain")
@click.argument("location")
@click.option("--rule", "rule_id", metavar="ID", default=None, help="Show the trace of this rule only.")
@click.option("--all", "show_all", is_flag=True, help="Also show the traces of the rules that did not match.")
@click.option("--no-decisions", is_flag=True, help="Ignore pgrewrite-decisions.yaml.")
@decisions_option
@rules_option
def explain_command(location, rule_id, show_all, no_decisions, decisions_file, rules_dir):
    """Show the verdict at FILE:LINE[:COL], who decided it (a rule or a
    person), and the rules tried there: those that matched first, with the
    conditions that held (+) or failed (-)."""
    m = _LOCATION.match(location)
    if m is None:
        raise click.UsageError(f"{location!r}: expected FILE:LINE or FILE:LINE:COL")
    ruleset = load_rules_or_exit(rules_dir)
    try:
        one = api.scan_one(m.group("path"), ruleset, decisions=not no_decisions,
                           decisions_path=decisions_file)
    except OSError as e:
        click.echo(f"error: {m.group('path')}: cannot read: {e.strerror or e}", err=True)
        sys.exit(EXIT_INPUT)
    except DecisionsError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_INPUT)
    shown = _shown_path(one.decisions_path) if one.decisions_path else ""
    decided = {i: Decided(shown, p.line) for i, p in one.entries.items()}
    view = path_view(one.root)
    try:
        text = explain(api.Engine(ruleset), one.tree_path, one.data, int(m.group("line")),
                       int(m.group("col")) if m.group("col") else None, scanned=one.scanned,
                       by_rules=one.by_rules, decided=decided, rule=rule_id, show_all=show_all,
                       printed=view(one.scanned.path if one.scanned else os.path.relpath(os.path.abspath(one.display))))
    except ExplainError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_USAGE)
    if view.base is not None:
        click.echo(entering(view.base))
    click.echo(text, nl=False)


def _shown_path(path: Path) -> str:
    """`path` relative to the working directory when it is below it, else absolute."""
    rel = os.path.relpath(path.resolve(), Path.cwd().resolve())
    return str(path.resolve()) if rel.startswith("..") else rel
