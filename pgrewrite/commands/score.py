"""`pgrewrite score --gold FILE PATH...`: judge the verdicts against a gold set."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from pgrewrite import score as scoring
from pgrewrite.collisions import git_top
from pgrewrite.commands.common import (EXIT_INPUT, EXIT_OK, EXIT_PROBLEMS, jobs_option, load_rules_or_exit,
                                       rules_option, run_scan, with_cache_options)
from pgrewrite.output import to_document


@click.command("score")
@click.option("--gold", "gold_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Gold set: JSON lines of labelled sites (tests/data/gold/*.jsonl, docs/labelling.md).")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--min-rename", type=float, default=None,
              help="Exit 1 when rename precision is below this (e.g. 0.98).")
@click.option("--min-logic", type=float, default=None,
              help="Exit 1 when logic precision is below this (e.g. 0.70).")
@rules_option
@jobs_option
@with_cache_options
def score_command(gold_file, paths, fmt, min_rename, min_logic, rules_dir, jobs, cache_dir, no_cache):
    """Scan PATHS and judge the verdicts on the gold set's sites: rename and
    logic precision (overall, per rule, per directory), the renamed share of
    PTE/PG-labelled sites, and every wrong site as a quickfix line with the
    readers' whys. Person decisions are not applied: this judges the rules."""
    try:
        gold = scoring.load_gold(gold_file)
    except scoring.GoldError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_INPUT)
    ruleset = load_rules_or_exit(rules_dir, cache_dir, no_cache)
    result = run_scan(paths, ruleset, jobs, cache_dir, no_cache)
    doc = to_document(result)
    cwd = Path.cwd()
    # the root scan_paths made the site ids from (scan._tree_names)
    root = result.root or git_top(cwd) or cwd
    wanted = {g.path for g in gold}

    def tree_path(site):
        rel = os.path.relpath(os.path.realpath(cwd / site["path"]), os.path.realpath(root))
        return Path(rel).as_posix()

    lines: dict[str, list[bytes]] = {}

    def read_line(rel, n):
        if rel not in lines:
            try:
                lines[rel] = (root / rel).read_bytes().split(b"\n")
            except OSError:
                lines[rel] = []
        got = lines[rel]
        return got[n - 1].decode("utf-8", "replace") if 0 < n <= len(got) else ""

    sites = [s for s in doc["sites"] if tree_path(s) in wanted]
    sc = scoring.score(gold, sites, tree_path, read_line)
    if fmt == "json":
        click.echo(json.dumps(scoring.to_json(sc, len(gold)), indent=2))
    else:
        click.echo(scoring.render(sc, len(gold)), nl=False)
    failed = []
    if min_rename is not None and (sc.renames.precision or 0) < min_rename:
        failed.append(f"rename precision {sc.renames.precision} is below {min_rename}")
    if min_logic is not None and sc.logic.total and sc.logic.precision < min_logic:
        failed.append(f"logic precision {sc.logic.precision} is below {min_logic}")
    for f in failed:
        click.echo(f"score: {f}", err=True)
    sys.exit(EXIT_PROBLEMS if failed else (EXIT_INPUT if result.failed or result.problems else EXIT_OK))
