"""`pgrewrite test [--update [RULE-ID]...]`: every rule's examples and every
fixture against its snapshots (ruletest.py); `--update` rewrites the
snapshots and prints what changed.

Exit codes: 0 all pass (or the snapshots were written); 1 an example or a
snapshot failed; 2 usage error; 3 the rules are invalid."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import api, ruletest
from .common import EXIT_OK, EXIT_PROBLEMS, load_rules_or_exit, rules_option


@click.command("test")
@click.argument("update_only", nargs=-1, metavar="[RULE-ID]...")
@click.option("--fixtures", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Fixtures directory (default: fixtures/ beside the rules directory).")
@click.option("--update", is_flag=True,
              help="Write the current output as the snapshots (of the RULE-IDs' fixtures, or of all) "
                   "and print what changed; review that diff like code.")
@rules_option
def test_command(update_only, fixtures, update, rules_dir):
    """Run every rule's examples and compare every fixture with its snapshots."""
    ruleset = load_rules_or_exit(rules_dir)
    engine = api.Engine(ruleset)
    fixtures = fixtures or ruleset.directory.parent / "fixtures"
    if update:
        diffs = ruletest.update_snapshots(engine, fixtures, set(update_only) or None)
        for d in diffs:
            click.echo(d, nl=False)
        click.echo(f"updated {len(diffs)} snapshot(s); review the diff above (and `git diff fixtures/`)")
        sys.exit(EXIT_OK)
    if update_only:
        raise click.UsageError("RULE-IDs are for --update only")
    problems = [str(f) for f in ruletest.check_examples(engine)]
    problems += ruletest.coverage_problems(engine, fixtures)
    problems += ruletest.compare_snapshots(engine, fixtures)
    for p in problems:
        click.echo(f"FAIL {p}")
    n_examples = sum(len(r.examples_match) + len(r.examples_no_match) for r in ruleset.rules)
    click.echo(f"{len(ruleset.rules)} rules, {n_examples} examples, "
               f"{len(ruletest.fixture_dirs(fixtures))} fixtures: {len(problems)} problem(s)")
    sys.exit(EXIT_PROBLEMS if problems else EXIT_OK)
