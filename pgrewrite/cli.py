"""The command line: parse options, call the library, print. Nothing else.

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

import os
import re
import sys
from pathlib import Path

import click

from . import __version__, api
from .commands.check import check_command
from .commands.coverage import coverage_command
from .commands.decide import decide_command
from .commands.score import score_command
from .commands.series import series as series_command
from .commands.verify import verify_command
from .output import render_json, render_summary, render_text, to_document
from .shownpaths import entering, path_view
from .commands.common import (  # noqa: F401  (the exit codes are part of cli's interface)
    EXIT_ACCOUNTING, EXIT_INPUT, EXIT_OK, EXIT_PROBLEMS, EXIT_RULES, EXIT_USAGE, VERDICTS, Progress,
    decisions_option, echo_cache_notes, exit_code, jobs_option, load_rules_or_exit, rules_error_exit,
    rules_option, run_scan, with_cache_options, with_decisions)

@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pgrewrite")
def cli():
    """Split the kernel's PAGE_SIZE family into PTE_* and PG_* names.

    `scan` lists every use with its verdict (the dry run), `apply` makes the
    mechanical renames in place, `series` turns them into a patch series,
    `explain` shows why a site got its verdict, `test` checks the rules.
    """
    from .cache import max_bytes_from_env
    try:
        max_bytes_from_env()
    except ValueError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_USAGE)


FORMATS = ("text", "json", "sarif", "report", "org", "html")


@cli.command()
@click.argument("paths", nargs=-1)
@click.option("--diff", "diff_base", metavar="BASE", default=None,
              help="Only the uses that the committed and uncommitted changes since BASE add (in a git "
                   "tree; PATHS, if any, limit the diff), reported as `check` does; for CI.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: quickfix lines; json: one document; sarif: SARIF 2.1.0; report/org: like "
                   "`make coccicheck MODE=report|org`; html: a self-contained worklist (use -o).")
@click.option("--only", multiple=True, type=click.Choice(VERDICTS), help="Only list sites with this verdict (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file instead of standard output.")
@click.option("--compare", "compare_with", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Show what changed since an earlier `scan --format json` document.")
@click.option("--no-decisions", is_flag=True, help="Ignore pgrewrite-decisions.yaml.")
@decisions_option
@rules_option
@jobs_option
@with_cache_options
def scan(paths, diff_base, fmt, only, output, compare_with, no_decisions, decisions_file, rules_dir, jobs,
         cache_dir, no_cache):
    """Dry run: list every family token in PATHS with its verdict."""
    if diff_base is not None:
        from .commands.check import scan_diff
        scan_diff(diff_base, paths, fmt, no_decisions, decisions_file, rules_dir, cache_dir, no_cache)
    if not paths:
        raise click.UsageError("give the PATHS to scan (or --diff BASE)")
    old_doc = None
    if compare_with is not None:          # checked before the scan: a wrong file fails at once
        from .report.scandoc import ScanDocumentError, load_scan_document
        try:
            old_doc = load_scan_document(compare_with)
        except ScanDocumentError as e:
            click.echo(f"error: --compare {e}", err=True)
            sys.exit(EXIT_USAGE)
    ruleset = load_rules_or_exit(rules_dir, cache_dir, no_cache)
    # text and json list the run's notes; with the other formats a note about
    # the cache goes to stderr
    result = run_scan(paths, ruleset, jobs, cache_dir, no_cache,
                      report_notes=fmt in ("text", "json") and compare_with is None)
    if not no_decisions:
        result = with_decisions(result, ruleset, decisions_file)
    doc = to_document(result, only=set(only) or None, view=path_view(result.root))
    if old_doc is not None:
        from .report import compare_docs, render_compare
        import json
        cmp = compare_docs(old_doc, doc)
        text = json.dumps(cmp, indent=2) + "\n" if fmt == "json" else render_compare(cmp, limit=50)
    else:
        text = render(doc, fmt)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        click.echo(render_summary(doc), err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(exit_code(result))


def render(doc: dict, fmt: str) -> str:
    import json
    from . import report
    if fmt == "json":
        return render_json(doc)
    if fmt == "sarif":
        return json.dumps(report.render_sarif(doc), indent=2) + "\n"
    if fmt == "report":
        return report.render_report(doc)
    if fmt == "org":
        return report.render_org(doc)
    if fmt == "html":
        return report.render_html(doc, read_source=Path(doc.get("paths_relative_to") or Path.cwd()))
    return render_text(doc)


@cli.command()
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
def apply(paths, allow_dirty, dry_run, no_git, decisions_file, rules_dir, jobs, cache_dir, no_cache):
    """Rewrite the pte/pg sites (and declared renames) in place, byte-exact."""
    from .applying import apply_result, outside_git, undefined_names
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
        sys.exit(130)
    if report.refused:
        sys.exit(EXIT_PROBLEMS)
    sys.exit(exit_code(result))


_LOCATION = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")


@cli.command()
@click.argument("location")
@click.option("--rule", "rule_id", metavar="ID", default=None, help="Show the trace of this rule only.")
@click.option("--all", "show_all", is_flag=True, help="Also show the traces of the rules that did not match.")
@click.option("--no-decisions", is_flag=True, help="Ignore pgrewrite-decisions.yaml.")
@decisions_option
@rules_option
def explain(location, rule_id, show_all, no_decisions, decisions_file, rules_dir):
    """Show the verdict at FILE:LINE[:COL], who decided it (a rule or a
    person), and the rules tried there: those that matched first, with the
    conditions that held (+) or failed (-)."""
    from .explain import Decided, ExplainError, explain as run_explain
    from .report import DecisionsError
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
        text = run_explain(api.Engine(ruleset), one.tree_path, one.data, int(m.group("line")),
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


@cli.command("test")
@click.argument("update_only", nargs=-1, metavar="[RULE-ID]...")
@click.option("--fixtures", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Fixtures directory (default: fixtures/ beside the rules directory).")
@click.option("--update", is_flag=True,
              help="Write the current output as the snapshots (of the RULE-IDs' fixtures, or of all) "
                   "and print what changed; review that diff like code.")
@rules_option
def test_cmd(update_only, fixtures, update, rules_dir):
    """Run every rule's examples and compare every fixture with its snapshots."""
    from . import ruletest
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


# Commands that live in modules of their own (they import nothing of cli).
for _command in (series_command, coverage_command, verify_command, decide_command, score_command,
                 check_command):
    cli.add_command(_command)


def main():
    cli()


if __name__ == "__main__":
    main()
