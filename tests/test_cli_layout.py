"""The command line is assembled, not written, in cli.py: every command
lives in a module of its own under pgrewrite/commands/, named after it, and
the exit codes the README documents are the ones commands/common.py names."""
from __future__ import annotations

import ast
import re

import click

from pgrewrite import cli as cli_mod
from pgrewrite.cli import cli
from pgrewrite.commands import common

from .conftest import REPO

COMMANDS = {"scan", "apply", "series", "check", "explain", "decide", "coverage", "verify", "test", "score",
            "mine"}


def test_every_command_lives_in_its_own_module_of_commands():
    assert set(cli.commands) == COMMANDS
    for name, command in cli.commands.items():
        assert command.callback.__module__ == f"pgrewrite.commands.{name}", name


def test_cli_defines_no_command_of_its_own():
    tree = ast.parse((REPO / "pgrewrite" / "cli.py").read_text())
    decorated = [d for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) for d in node.decorator_list]
    commands = [d for d in decorated if "command" in ast.unparse(d)]
    assert commands == [], [ast.unparse(d) for d in commands]
    assert isinstance(cli_mod.cli, click.Group)


def test_the_readme_documents_the_exit_codes_common_names():
    named = {v for k, v in vars(common).items() if k.startswith("EXIT_")}
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("### Exit codes"):]
    table = table[:table.index("\n\n", table.index("| code |"))]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", table, re.M)}
    assert documented == named
    assert cli_mod.EXIT_RULES == common.EXIT_RULES == 3      # tests and scripts import it from cli


def test_shared_options_are_declared_once_and_read_the_same_everywhere():
    """--rules, -j, --decisions, --cache-dir and --no-cache come from
    commands/common.py: every command that has one declares it the same way
    and its help says the same (verify's -j, make's jobs, is another option)."""
    def declared(decorator):
        return {p.name: p for p in click.command()(decorator(lambda **kw: None)).params}

    shared = {}
    for decorator in (common.rules_option, common.jobs_option, common.decisions_option, common.with_cache_options):
        shared.update(declared(decorator))
    having = {}
    for name, command in cli.commands.items():
        for p in command.params:
            if p.name in shared and (name, p.name) != ("verify", "jobs"):
                assert p.to_info_dict() == shared[p.name].to_info_dict(), (name, p.name)
                having.setdefault(p.name, set()).add(name)
    assert {"series", "scan", "apply"} <= having["rules_dir"] and {"series", "scan"} <= having["jobs"]
    assert {"check", "coverage", "scan", "apply"} <= having["decisions_file"]
