"""`pgrewrite mine TREE -o FILE`: mine cross-file function facts (mining.py) and
the struct types of members (members.py) into one units file."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pgrewrite import members, mining
from pgrewrite.commands.common import EXIT_INPUT, EXIT_OK, jobs_option, rules_option
from pgrewrite.rules.loader import DEFAULT_RULES


@click.command("mine")
@click.argument("tree", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The units file to write (semantic-rules/units-mined.yaml).")
@rules_option
@jobs_option
def mine_command(tree, output, rules_dir, jobs):
    """Read every C file and header of TREE and write the return units and
    argument units its non-static (and header) functions agree on, the
    struct fields every store of the tree fills with one allocated page,
    and the struct type of the members that lead to a units.yaml field, as a units
    file (semantic-rules/README.md, "Mined units"). The units of
    units.yaml are used; the rules directory's own units-mined.yaml is not
    (one round). The same tree gives a byte-identical file."""
    rules = rules_dir or DEFAULT_RULES
    def progress(i, n):
        click.echo(f"  {i}/{n} files", err=True)

    try:
        doc, unread = mining.mine(tree, rules, jobs or os.cpu_count() or 1, progress)
    except OSError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_INPUT)
    table = mining.hand_written(rules).units
    found, refused = members.mine(tree, table) if table is not None else ([], [])
    text = mining.render(doc, tree.resolve().name)               # `mine .` names the tree too
    output.write_text(text.rstrip("\n") + "\n\n" + members.render(found))
    click.echo(f"{output}: {len(doc.get('returns', ()))} returns, {len(doc.get('arguments', ()))} arguments, "
               f"{len(doc.get('fields', ()))} fields, "
               f"{len(found)} members ({len(refused)} refused: two definitions disagree, or one is unreadable)",
               err=True)
    if unread:      # nothing is mined from them: a fact they would refuse may be in the file
        shown = ", ".join(unread[:5]) + (f" and {len(unread) - 5} more" if len(unread) > 5 else "")
        click.echo(f"warning: {len(unread)} file(s) could not be read or parsed, nothing mined from them: {shown}",
                   err=True)
    sys.exit(EXIT_OK)
