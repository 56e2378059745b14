"""The command line: the click group, assembled from the commands in
commands/ (one module each; shared options, exit codes and rule loading in
commands/common.py, which documents the exit codes)."""
from __future__ import annotations

import gc
import sys

import click

from . import __version__
from .cache import max_bytes_from_env
from .commands.apply import apply_command
from .commands.check import check_command
from .commands.common import (  # noqa: F401  (the exit codes are part of cli's interface)
    EXIT_ACCOUNTING, EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_PERSON, EXIT_PROBLEMS, EXIT_RENAMES,
    EXIT_RULES, EXIT_USAGE)
from .commands.coverage import coverage_command
from .commands.decide import decide_command
from .commands.explain import explain_command
from .commands.mine import mine_command
from .commands.scan import scan_command
from .commands.score import score_command
from .commands.series import series as series_command
from .commands.test import test_command
from .commands.verify import verify_command

COMMANDS = (scan_command, apply_command, series_command, check_command, explain_command, decide_command,
            coverage_command, verify_command, test_command, score_command, mine_command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pgrewrite")
def cli():
    """Split the kernel's PAGE_SIZE family into PTE_* and PG_* names.

    `scan` lists every use with its verdict (the dry run), `apply` makes the
    mechanical renames in place, `series` turns them into a patch series,
    `explain` shows why a site got its verdict, `test` checks the rules.
    """
    try:
        max_bytes_from_env()
    except ValueError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_USAGE)


for _command in COMMANDS:
    cli.add_command(_command)


def main():
    # A run holds a few hundred thousand long-lived objects (the tree's
    # stats, the cached results and their decisions, the collision index):
    # with the default threshold (700) the cyclic collector went over them
    # again and again. A warm whole-tree scan spent a sixth of its CPU
    # there (2.04 -> 1.67 s); the workers do the same (runner._worker_init).
    gc.set_threshold(20_000, 50, 50)
    cli()


if __name__ == "__main__":
    main()
