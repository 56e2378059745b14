"""`pgrewrite check PATCH...` and `pgrewrite scan --diff BASE`: the family
uses a patch or a branch adds, as checkpatch reports its findings.

Exit codes (also in the README):
  0  nothing found: the patches add no use of the family
  6  renames suggested: every use found has a decided PTE_*/PG_* name (--fix makes them)
  7  a person must decide: some use is logic, conflict, unknown or skipped
  4  some patch could not be read or applied, or a file not analysed (the others were checked)
  5  internal accounting check failed
  2  usage error; 3 the rules are invalid
A higher-priority condition wins: 5, then 4, then 7, then 6.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import api, git
from ..checking import check_diff, check_patches
from ..collisions import tree_root
from ..edits import EditError, write_atomically
from ..report import findings as rf
from .common import (EXIT_ACCOUNTING, EXIT_INPUT, EXIT_OK, EXIT_PERSON, EXIT_RENAMES, decisions_option,
                     load_rules_or_exit, rules_option, with_cache_options)

CHECK_FORMATS = ("text", "json", "sarif")


def exit_code(result) -> int:
    if result.accounting_difference:
        return EXIT_ACCOUNTING
    if result.errors or result.failed:
        return EXIT_INPUT
    if result.for_person:
        return EXIT_PERSON
    if result.renames:
        return EXIT_RENAMES
    return EXIT_OK


def _scanner(rules_dir, cache_dir, no_cache):
    ruleset = load_rules_or_exit(rules_dir, cache_dir, no_cache)
    return ruleset, api.ContentScanner(ruleset, tree_root(Path.cwd()), cache_dir=cache_dir, use_cache=not no_cache)


def _pairs(ruleset) -> dict:
    return {m.name: (m.pte, m.pg) for m in ruleset.family.members}


def _print(result, fmt: str, what: str, ruleset) -> None:
    for e in result.errors + result.failed:
        click.echo(f"error: {e}", err=True)
    for n in result.notes:
        click.echo(f"note: {n}", err=True)
    if fmt == "json":
        click.echo(rf.render_json(result, what), nl=False)
    elif fmt == "sarif":
        click.echo(rf.render_sarif_text(result, what), nl=False)
    else:
        click.echo(rf.render_text(result, what, _pairs(ruleset)), nl=False)


def _read_inputs(patches) -> tuple[list[tuple[str, bytes]], list[str]]:
    inputs, errors = [], []
    for p in patches:
        if p == "-":
            inputs.append(("stdin", sys.stdin.buffer.read()))
            continue
        try:
            inputs.append((p, Path(p).read_bytes()))
        except IsADirectoryError:
            errors.append(f"{p}: is a directory; give the patch files (e.g. {p.rstrip('/')}/*.patch)")
        except OSError as e:
            errors.append(f"{p}: cannot read: {e.strerror or e}")
    return inputs, errors


@click.command("check")
@click.argument("patches", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(CHECK_FORMATS), default="text", show_default=True,
              help="text: checkpatch-style lines naming the patch and line; json: one document; sarif: SARIF 2.1.0.")
@click.option("--fix", is_flag=True,
              help="Write a corrected copy of each patch, PATCH.fixed, with the decided renames made in "
                   "the lines it adds (a series stays applicable).")
@click.option("--no-decisions", is_flag=True, help="Ignore pgrewrite-decisions.yaml.")
@decisions_option
@rules_option
@with_cache_options
def check_command(patches, fmt, fix, no_decisions, decisions_file, rules_dir, cache_dir, no_cache):
    """Check patches for the PAGE_* uses they add, before sending them.

    PATCH is a `git format-patch` file, an mbox, or `-` for a unified diff
    on standard input (`git diff | pgrewrite check -`). Patches are applied
    in memory, in the order given, to the files of the tree the command runs
    in; the work tree is never touched. Exit 0: nothing found; 6: renames
    suggested; 7: a person must decide; 4: a patch could not be read or
    applied.
    """
    if fix and "-" in patches:
        raise click.UsageError("--fix writes PATCH.fixed beside each patch file; save the diff on standard "
                               "input to a file and check that")
    inputs, read_errors = _read_inputs(patches)
    ruleset, scanner = _scanner(rules_dir, cache_dir, no_cache)
    try:
        result = check_patches(inputs, scanner, ruleset, decisions=decisions_file,
                               use_decisions=not no_decisions, fix=fix)
    finally:
        scanner.close()
    result.errors[:0] = read_errors
    _print(result, fmt, f"{result.patches} patch(es)", ruleset)
    for name, data in result.fixed.items():
        target = Path(name + ".fixed")
        try:
            old = target.read_bytes() if target.exists() else None
            write_atomically(target, data, old)
        except (EditError, OSError) as e:
            result.errors.append(f"{target}: not written: {e}")
            click.echo(f"error: {target}: not written: {e}", err=True)
            continue
        click.echo(f"wrote {target}", err=True)
    sys.exit(exit_code(result))


def scan_diff(base: str, paths, fmt: str, no_decisions: bool, decisions_file, rules_dir, cache_dir, no_cache):
    """`pgrewrite scan --diff BASE [PATH...]`: what the committed and
    uncommitted changes since BASE add, in the work tree's files."""
    if fmt not in CHECK_FORMATS:
        raise click.UsageError(f"--diff reports in {', '.join(CHECK_FORMATS)}, not {fmt}")
    top = git.top(Path.cwd())
    if top is None:
        click.echo("error: --diff needs a git tree; run it inside one", err=True)
        sys.exit(EXIT_INPUT)
    # paths relative to the top, as the diff names them; the cwd's paths limit it
    args = ["diff", "--no-color", "--no-ext-diff", "-M", "--relative=",
            base, "--", *[str((Path.cwd() / p).resolve()) for p in paths]]
    try:
        proc = git.call(top, *args)
    except (OSError, git.TimeoutExpired) as e:
        click.echo(f"error: git diff {base}: {e}", err=True)
        sys.exit(EXIT_INPUT)
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        click.echo(f"error: git diff {base}: {msg[0] if msg else 'failed'}", err=True)
        sys.exit(EXIT_INPUT)
    ruleset, scanner = _scanner(rules_dir, cache_dir, no_cache)
    if scanner.root.resolve() != top.resolve():
        scanner.close()
        scanner = api.ContentScanner(ruleset, top, cache_dir=cache_dir, use_cache=not no_cache)
    try:
        result = check_diff(proc.stdout, f"git diff {base}", scanner, ruleset, decisions=decisions_file,
                            use_decisions=not no_decisions)
    finally:
        scanner.close()
    _print(result, fmt, f"the changes since {base}", ruleset)
    sys.exit(exit_code(result))
