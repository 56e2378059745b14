"""`pgrewrite series PATH... -o DIR`: the mechanical renames as a patch series.

Exit codes: 0 written (and checked, with --check); 1 the series could not be
built (the message says why) or --check failed; 3 --collisions refuse found
existing definitions of new names; 4 some files could not be scanned (the
series was still written without them).
"""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from pgrewrite import api
from pgrewrite.commands.common import (EXIT_INPUT, EXIT_OK, EXIT_PROBLEMS, Progress, echo_cache_notes, jobs_option,
                                       load_rules_or_exit, rules_error_exit, rules_option, with_decisions)
from pgrewrite.definitions import new_names
from pgrewrite.rules.loader import RuleError
from pgrewrite.series import CollisionError, SeriesError, SeriesOptions, build_series
from pgrewrite.series.check import check_series
from pgrewrite.series.git import GitError, toplevel
from pgrewrite.series.maintainers import GET_MAINTAINER_MAX_PATCHES


def _command_line(rel, only, unknown_as, split_by) -> str:
    words = ["pgrewrite", "series", *map(shlex.quote, rel)]
    if only:
        words += ["--only", only]
    if unknown_as:
        words += ["--unknown-as", unknown_as]
    if split_by != "subsystem":
        words += ["--split-by", split_by]
    return " ".join(words)


def am_hint(out_dir: Path, cover: str) -> list[str]:
    """How to apply the series: the cover letter has no diff, so a plain
    `git am DIR/*.patch` stops at it ("Patch is empty"), as with any
    `git format-patch --cover-letter` output."""
    d = shlex.quote(str(out_dir))
    return [f"apply with: git am --empty=drop {d}/*.patch",
            f"  a plain `git am {d}/*.patch` stops at {cover} (\"Patch is empty\": the cover "
            "letter has no diff); --empty=drop (git 2.35 or later) skips it",
            f"  or, without the cover letter: git am $(ls {d}/*.patch | grep -v -- -cover-letter.patch)"]


@click.command("series")
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the .patch files (must hold none yet).")
@rules_option
@click.option("--max-files", type=click.IntRange(min=1), default=None,
              help="At most N files per patch; bigger groups become numbered parts.")
@click.option("--max-lines", type=click.IntRange(min=1), default=None,
              help="At most N changed lines per patch (whole files; numbered parts).")
@click.option("--split-by", type=click.Choice(["subsystem", "rule"]), default="subsystem",
              show_default=True, help="One patch per MAINTAINERS entry, or per rule.")
@click.option("-v", "--reroll-count", type=click.IntRange(min=1), default=None,
              help="Mark the series as version N ([PATCH vN n/m], vN- file names).")
@click.option("--subject-prefix", default="PATCH", show_default=True)
@click.option("--only", type=click.Choice(["pte", "pg"]), default=None,
              help="Only renames to PTE_* (or only to PG_*).")
@click.option("--unknown-as", type=click.Choice(["pg"]), default=None,
              help="Also rename undecided sites to PG_*, in separate UNVERIFIED patches.")
@click.option("--collisions", type=click.Choice(["rename-local", "leave-out", "refuse"]),
              default="rename-local", show_default=True,
              help="New names already defined in the tree: rename private (file or "
                   "directory) definitions in preparatory patches and leave out names "
                   "that arch or global headers define; leave them all out; or refuse.")
@click.option("--check", is_flag=True,
              help="git am the series onto a scratch checkout of the base and run "
                   "scripts/checkpatch.pl on every patch.")
@click.option("--base", default="HEAD", show_default=True,
              help="The commit the series applies to (the scanned files must match it).")
@click.option("--get-maintainer/--no-get-maintainer", "get_maintainer", default=None,
              help="To/Cc of every patch from scripts/get_maintainer.pl, or of none (from MAINTAINERS "
                   "as pgrewrite reads it). Default: get_maintainer.pl for a series of at most "
                   f"{GET_MAINTAINER_MAX_PATCHES} patches (it takes ~0.8 s of CPU per patch; -j of them run at once).")
@jobs_option
def series(paths, out_dir, rules_dir, max_files, max_lines, split_by, reroll_count,
           subject_prefix, only, unknown_as, collisions, check, base, get_maintainer, jobs):
    """Write the mechanical renames in PATHS as a `git format-patch` series in DIR.

    Patch 1 introduces the PTE_*/PG_* names; then one patch per subsystem.
    Logic, conflict and skipped sites are never touched. Run it inside the kernel
    git tree; the work tree, index and objects of that repository are not modified.
    """
    try:
        root = toplevel(Path.cwd())
    except GitError as exc:
        raise click.ClickException(str(exc))
    rel = []
    for p in paths:
        try:
            rel.append(str(Path(p).resolve().relative_to(root)) or ".")
        except ValueError:
            raise click.UsageError(f"{p}: outside the git tree {root}")
    ruleset = load_rules_or_exit(rules_dir)
    progress = Progress("pgrewrite series")
    shown = progress if progress.enabled else None
    try:
        result = api.scan_paths(rel, ruleset, root=root, jobs=jobs, unknown_as=unknown_as,
                                cwd=root, progress=shown)
    except RuleError as e:         # clashes.yaml does not fit the tree
        progress.finish()
        rules_error_exit(e)
    progress.finish()
    echo_cache_notes(result)
    result = with_decisions(result, ruleset)      # pgrewrite-decisions.yaml, if any
    for prob in result.problems:
        click.echo(f"{prob.display}: error: {prob.message}", err=True)

    options = SeriesOptions(
        base=base, split_by=split_by, max_files=max_files, max_lines=max_lines,
        reroll_count=reroll_count, subject_prefix=subject_prefix, only=only,
        collisions=collisions, clashes=ruleset.clashes, new_names=new_names(ruleset.family),
        get_maintainer=get_maintainer, jobs=jobs, paths=tuple(rel),
        command=_command_line(rel, only, unknown_as, split_by))
    try:
        report = build_series(root, result.files, out_dir, options, progress=shown)
    except CollisionError as exc:
        progress.finish()
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (SeriesError, GitError) as exc:
        progress.finish()
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_PROBLEMS)
    progress.finish()

    for note in report.notes:
        click.echo(note, err=True)
    for p in report.patches:
        click.echo(os.fsencode(p.path))       # the path's own bytes, UTF-8 or not
    # counted as `apply` counts them: the renames, then the preparatory ones
    prep = sum(p.renames for p in report.patches if p.kind == "prep")
    click.echo(f"{len(report.patches) - 1} patches + cover letter on "
               f"{report.base_commit[:12]}: {sum(report.renamed.values())} renames"
               + (f", and {prep} preparatory renames of existing definitions" if prep else ""), err=True)
    for line in am_hint(out_dir, report.patches[0].path.name):
        click.echo(line, err=True)

    code = EXIT_INPUT if (report.failed_files or result.problems) else EXIT_OK
    if check:
        files = sorted({f for p in report.patches for f in p.files})
        checked = check_series(root, report.base_commit,
                               [p.path for p in report.patches[1:]], files)
        for line in checked.lines():
            click.echo(line, err=True)
        if not checked.ok:
            code = EXIT_PROBLEMS
    sys.exit(code)
