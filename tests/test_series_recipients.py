"""Who gets each patch: scripts/get_maintainer.pl for a small series, pgrewrite's
own MAINTAINERS reading for a big one (get_maintainer.pl costs ~0.8 s of CPU
per patch), and --get-maintainer / --no-get-maintainer to choose."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from test_series import DATE, FILES, SCANNED, fake_scan, isolated_git, make_tree  # noqa: E402,F401

from pgrewrite.series import SeriesOptions, build_series  # noqa: E402
from pgrewrite.series import maintainers  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl to run get_maintainer.pl")

STUB = "Stub Person <stub@example.org>"
# A stand-in for get_maintainer.pl: one maintainer for any patch, and a line
# in runs.log for each run.
FAKE_GET_MAINTAINER = r"""#!/usr/bin/perl
open(my $log, ">>", "runs.log"); print $log "$ARGV[-1]\n"; close($log);
print "Stub Person <stub\@example.org> (maintainer:STUB)\n";
"""


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / "linux", {**FILES, "scripts/get_maintainer.pl": FAKE_GET_MAINTAINER})


def runs(tree: Path) -> int:
    log = tree / "runs.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def build(tree: Path, out: Path, **opts):
    return build_series(tree, fake_scan(tree, SCANNED), out, SeriesOptions(date=DATE, **opts))


def test_small_series_asks_get_maintainer_for_each_patch(tree, tmp_path):
    report = build(tree, tmp_path / "out")
    patches = report.patches[1:]
    assert len(patches) <= maintainers.GET_MAINTAINER_MAX_PATCHES
    assert runs(tree) == len(patches)
    assert all(STUB in p.to for p in patches)
    assert not [n for n in report.notes if "get_maintainer" in n]


def test_big_series_reads_maintainers_itself_and_says_so(tree, tmp_path, monkeypatch):
    monkeypatch.setattr(maintainers, "GET_MAINTAINER_MAX_PATCHES", 2)
    report = build(tree, tmp_path / "out")
    assert len(report.patches) - 1 > 2
    assert runs(tree) == 0
    # the same To/Cc as without get_maintainer.pl at all
    without = build(tree, tmp_path / "without", get_maintainer=False)
    assert [(p.to, p.cc) for p in report.patches] == [(p.to, p.cc) for p in without.patches]
    assert all(STUB not in p.to for p in report.patches)
    note, = [n for n in report.notes if "get_maintainer" in n]
    assert f"of the {len(report.patches) - 1} patches" in note and "--get-maintainer" in note
    assert not [n for n in without.notes if "get_maintainer" in n]


def test_get_maintainer_on_request_runs_for_every_patch_of_a_big_series(tree, tmp_path, monkeypatch):
    monkeypatch.setattr(maintainers, "GET_MAINTAINER_MAX_PATCHES", 2)
    report = build(tree, tmp_path / "out", get_maintainer=True)
    assert runs(tree) == len(report.patches) - 1 > 2
    assert all(STUB in p.to for p in report.patches[1:])
    assert not [n for n in report.notes if "get_maintainer" in n]


@pytest.mark.parametrize("flag, stub", [(None, False), ("--get-maintainer", True), ("--no-get-maintainer", False)])
def test_cli_get_maintainer_flags(tree, tmp_path, monkeypatch, flag, stub):
    from pgrewrite.cli import cli
    monkeypatch.setattr(maintainers, "GET_MAINTAINER_MAX_PATCHES", 2)
    monkeypatch.chdir(tree)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["series", "mm", "arch", "include", "drivers", "-o", str(out), "-j", "1"]
                             + ([flag] if flag else []))
    assert res.exit_code == 0, res.output
    patches = sorted(out.glob("0*.patch"))[1:]
    assert len(patches) > 2
    assert all((STUB in p.read_text()) == stub for p in patches)
    assert ("--get-maintainer runs it for every patch" in res.output) == (flag is None)


def test_our_reading_leaves_out_the_chief_penguin_as_get_maintainer_does():
    text = ("MEMORY MANAGEMENT\nM:\tAndrew Morton <akpm@example.org>\nL:\tlinux-mm@example.org\nF:\tmm/\n\n"
            "THE REST\nM:\tLinus Torvalds <torvalds@linux-foundation.org>\nL:\tlinux-kernel@example.org\n"
            "S:\tBuried alive in reporters\nF:\t*\nF:\t*/\n")
    m = maintainers.Maintainers(maintainers.parse(text))
    assert m.recipients(["mm/memory.c"]) == (("Andrew Morton <akpm@example.org>",),
                                             ("linux-mm@example.org", "linux-kernel@example.org"))
    # another chief (a test tree's) is still Cc, as get_maintainer.pl lists him
    other = maintainers.Maintainers(maintainers.parse(text.replace("linux-foundation.org", "example.org")))
    assert "Linus Torvalds <torvalds@example.org>" in other.recipients(["mm/memory.c"])[1]


def test_names_are_quoted_as_get_maintainer_quotes_them():
    assert maintainers.person("Andrew Morton <akpm@example.org>") == "Andrew Morton <akpm@example.org>"
    assert maintainers.person('"David S. Miller" <davem@example.org>') == '"David S. Miller" <davem@example.org>'
    assert maintainers.person("David S. Miller <davem@example.org>") == '"David S. Miller" <davem@example.org>'
    assert maintainers.person("Noralf Tr\u00f8nnes <noralf@example.org>") == '"Noralf Tr\u00f8nnes" <noralf@example.org>'
    assert maintainers.person("Theodore Y. Ts'o <tytso@example.org>") == '"Theodore Y. Ts\'o" <tytso@example.org>'
    assert maintainers.person("<anon@example.org>") == "<anon@example.org>"
    m = maintainers.Maintainers(maintainers.parse("NET\nM:\tDavid S. Miller <davem@example.org>\n"
                                                  "R:\tJos\u00e9 Doe <jd@example.org>\nF:\tnet/\n"))
    assert m.recipients(["net/x.c"]) == (('"David S. Miller" <davem@example.org>',), ('"Jos\u00e9 Doe" <jd@example.org>',))
