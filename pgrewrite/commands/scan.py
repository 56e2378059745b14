"""`pgrewrite scan PATH...`: the dry run, every family token with its verdict,
in one of the report formats; `--diff BASE` hands over to commands/check.py,
`--compare OLD.json` shows what changed since an earlier run."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import api, report
from ..output import render_json, render_summary, render_text, to_document
from ..report.scandoc import ScanDocumentError, load_scan_document
from ..shownpaths import path_view
from .check import scan_diff
from .common import (EXIT_USAGE, VERDICTS, decisions_option, exit_code, jobs_option, load_rules_or_exit,
                     rules_option, run_scan, with_cache_options, with_decisions)

FORMATS = ("text", "json", "sarif", "report", "org", "html")


@click.command("scan")
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
def scan_command(paths, diff_base, fmt, only, output, compare_with, no_decisions, decisions_file, rules_dir, jobs,
                 cache_dir, no_cache):
    """Dry run: list every family token in PATHS with its verdict."""
    if diff_base is not None:
        scan_diff(diff_base, paths, fmt, no_decisions, decisions_file, rules_dir, cache_dir, no_cache)
    if not paths:
        raise click.UsageError("give the PATHS to scan (or --diff BASE)")
    old_doc = None
    if compare_with is not None:          # checked before the scan: a wrong file fails at once
        try:
            old_doc = load_scan_document(compare_with)
        except ScanDocumentError as e:
            click.echo(f"error: --compare {e}", err=True)
            sys.exit(EXIT_USAGE)
    # on a cold run the index's grep of the tree starts now, on the core
    # that loading the rules leaves idle; the scan ends it
    includes = api.start_include_grep(paths, cache_dir, not no_cache)
    try:
        ruleset = load_rules_or_exit(rules_dir, cache_dir, no_cache)
        # text and json list the run's notes; with the other formats a note
        # about the cache goes to stderr
        result = run_scan(paths, ruleset, jobs, cache_dir, no_cache,
                          report_notes=fmt in ("text", "json") and compare_with is None, includes=includes)
    finally:
        if includes is not None:
            includes.close()
    if not no_decisions:
        result = with_decisions(result, ruleset, decisions_file)
    doc = to_document(result, only=set(only) or None, view=path_view(result.root))
    if old_doc is not None:
        cmp = report.compare_docs(old_doc, doc)
        text = json.dumps(cmp, indent=2) + "\n" if fmt == "json" else report.render_compare(cmp, limit=50)
    else:
        text = render(doc, fmt)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        click.echo(render_summary(doc), err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(exit_code(result))


def render(doc: dict, fmt: str) -> str:
    """The scan document `doc` in format `fmt` (one of FORMATS)."""
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
