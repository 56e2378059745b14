"""`pgrewrite test` shows the diff of a snapshot that differs, and
`pgrewrite test --update RULE` rewrites that rule's snapshots and prints the
diff, so a rule author needs neither pytest nor the venv's pytest plugins."""
from __future__ import annotations

import shutil

from click.testing import CliRunner

from pgrewrite.cli import cli
from pgrewrite.rules.loader import DEFAULT_RULES

from .conftest import REPO


def test_a_differing_snapshot_shows_its_diff_and_update_rewrites_it(tmp_path):
    rules = tmp_path / "semantic-rules"
    shutil.copytree(DEFAULT_RULES, rules)
    shutil.copytree(REPO / "fixtures", tmp_path / "fixtures")
    snap = tmp_path / "fixtures" / "pte-fixmap" / "snapshots" / "scan.txt"
    good = snap.read_text()
    first = good.splitlines()[0]
    snap.write_text(good.replace(first, first.replace(": pte:", ": pg:"), 1))

    r = CliRunner().invoke(cli, ["test", "--rules", str(rules)])
    assert r.exit_code == 1
    assert (f"FAIL {snap}: differs from the current output (if the diff is right: "
            "pgrewrite test --update pte-fixmap)") in r.stdout
    assert f"\n-{first.replace(': pte:', ': pg:')}\n+{first}\n" in r.stdout

    r = CliRunner().invoke(cli, ["test", "--rules", str(rules), "--update", "pte-fixmap"])
    assert r.exit_code == 0, r.output
    assert f"\n-{first.replace(': pte:', ': pg:')}\n+{first}\n" in r.stdout
    assert r.stdout.endswith("updated 1 snapshot(s); review the diff above (and `git diff fixtures/`)\n")
    assert snap.read_text() == good
    r = CliRunner().invoke(cli, ["test", "--rules", str(rules)])
    assert r.exit_code == 0, r.output
