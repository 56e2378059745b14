"""The struct types of members, mined from a tree (pgrewrite/members.py)
into units-mined.yaml `members`, and how the scan reads them (a->b->f)."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from pgrewrite import api, members
from pgrewrite.classify import UNITS
from pgrewrite.rules.loader import RuleError, load_ruleset

from .conftest import REPO, rules_with_mined

HEADER = """\
struct xdr_buf;
struct fx_stream {
        struct xdr_buf *buf;
        struct xdr_buf **bufs;
        struct xdr_buf arr[2];
        fx_buf_t *typed;
        struct xdr_buf *twice;
};
struct fx_outer {
        struct fx_stream *stream;
};
struct fx_clash {
        struct xdr_buf *other;
};
struct fx_broken {
        struct xdr_buf *bad
        int x;
        struct xdr_buf *good;
};
"""

OTHER = """\
struct fx_stream {
        struct xdr_buf *buf;
        struct xdr_buf *twice;
        int only_here;
};
struct fx_clash {
        struct page *other;
};
"""


@pytest.fixture(scope="module")
def mined(tmp_path_factory):
    tree = tmp_path_factory.mktemp("tree")
    (tree / "include").mkdir()
    (tree / "include" / "fx.h").write_text(HEADER)
    (tree / "drivers").mkdir()
    (tree / "drivers" / "fx_other.c").write_text(OTHER)
    table = load_ruleset(REPO / "semantic-rules").units
    entries, refused = members.mine(tree, table)
    return {(e["struct"], e["member"]): e for e in entries}, refused


def test_a_member_every_definition_agrees_on_is_mined(mined):
    got, _ = mined
    assert got[("struct fx_stream", "buf")]["type"] == "struct xdr_buf"
    assert got[("struct fx_stream", "buf")]["files"] == 2


def test_two_hops_are_mined(mined):
    got, _ = mined
    assert got[("struct fx_outer", "stream")]["type"] == "struct fx_stream"


@pytest.mark.parametrize("member", ["bufs", "arr", "typed"])
def test_no_double_pointer_array_or_typedef(mined, member):
    got, _ = mined
    assert ("struct fx_stream", member) not in got


def test_two_definitions_that_disagree_refuse_the_member(mined):
    got, refused = mined
    assert ("struct fx_clash", "other") not in got
    assert any(r.startswith("struct fx_clash member other") for r in refused)


def test_a_name_in_a_region_tree_sitter_could_not_read_is_refused(mined):
    got, _ = mined
    assert ("struct fx_broken", "bad") not in got
    assert got[("struct fx_broken", "good")]["type"] == "struct xdr_buf"     # the rest of it is read


def test_units_yaml_may_not_hold_members(tmp_path):
    d = tmp_path / "semantic-rules"
    shutil.copytree(REPO / "semantic-rules", d)
    with (d / "units.yaml").open("a") as f:
        f.write("members:\n  - a 1 b=xdr_buf\n")
    with pytest.raises(RuleError) as e:
        load_ruleset(d)
    assert "members: mined only" in str(e.value)


CODE = """\
unsigned int fx_pages(struct fx_stream *s)
{
        return s->buf->page_len >> PAGE_SHIFT;
}
"""


def test_a_mined_member_decides_a_nested_access(tmp_path):
    d = rules_with_mined(tmp_path, """\
        members:
        - fx_stream 2 buf=xdr_buf
        """)
    r = api.scan_bytes("net/x/fx.c", CODE.encode(), api.load_rules(d))
    [dec] = r.decisions
    assert (dec.verdict.value, dec.rule) == ("pg", UNITS)
    assert ("s->buf is a struct xdr_buf (s is a struct fx_stream, whose member buf is a struct xdr_buf (mined, "
            "struct fx_stream is defined in 2 files and each definition with buf agrees))") in dec.reason


def test_without_the_member_the_access_stays_unknown(tmp_path):
    r = api.scan_bytes("net/x/fx.c", CODE.encode(), api.load_rules(rules_with_mined(tmp_path, "")))
    assert [d.verdict.value for d in r.decisions] == ["unknown"]


def test_a_member_listed_twice_is_a_problem(tmp_path):
    d = rules_with_mined(tmp_path, """\
        members:
        - fx_stream 1 buf=xdr_buf
        - fx_stream 1 buf=page
        """)
    with pytest.raises(RuleError) as e:
        load_ruleset(d)
    assert "listed twice" in str(e.value)


def test_the_section_is_replaced_and_the_rest_kept(tmp_path, mined):
    got, _ = mined
    f = tmp_path / "units-mined.yaml"
    f.write_text("# header\nreturns:\n- calls: [fx]\n  unit: pg-count\n")
    section = members.render([got[k] for k in sorted(got)])
    f.write_text(members.replace_section(f.read_text(), section))
    once = f.read_text()
    f.write_text(members.replace_section(once, section))
    assert f.read_text() == once
    assert once.startswith("# header\nreturns:\n- calls: [fx]\n") and once.endswith(section)


def test_the_command_rewrites_the_members_section(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "fx.h").write_text(HEADER)
    d = rules_with_mined(tmp_path, "returns:\n- calls: [fx_keep]\n  unit: pg-count\n")
    r = subprocess.run([sys.executable, "-m", "pgrewrite.members", str(tree), str(d / "units-mined.yaml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = (d / "units-mined.yaml").read_text()
    assert "calls: [fx_keep]" in text and "\n- fx_stream 1 buf=xdr_buf twice=xdr_buf\n" in text
    assert load_ruleset(d).units.member_type("struct fx_stream", "buf")[0] == "struct xdr_buf"


def test_the_command_outside_a_rules_directory_says_so_without_a_traceback(tmp_path):
    out = tmp_path / "units-mined.yaml"
    out.write_text("members: []\n")
    r = subprocess.run([sys.executable, "-m", "pgrewrite.members", str(tmp_path), str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    assert out.read_text() == "members: []\n"


def test_a_malformed_members_line_is_a_problem(tmp_path):
    d = rules_with_mined(tmp_path, """\
        members:
        - fx_stream buf=xdr_buf
        """)
    with pytest.raises(RuleError) as e:
        load_ruleset(d)
    assert "members/0" in str(e.value)
