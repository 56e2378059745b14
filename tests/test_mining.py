"""Cross-file facts mined from a tree (pgrewrite/mining.py, `pgrewrite
mine`) and how the scan reads them (rules/units.py, units-mined.yaml).
The fixture tree tests/data/mining-tree/ has a function for each fact
mined and each refusal; mining it gives tests/data/mining-tree.yaml."""
from __future__ import annotations

import shutil
import textwrap

import pytest
from click.testing import CliRunner

from pgrewrite import api, mining
from pgrewrite.classify import UNITS
from pgrewrite.cli import cli
from pgrewrite.rules.loader import RuleError, load_ruleset

from .conftest import REPO, rules_with_mined

TREE = REPO / "tests" / "data" / "mining-tree"
EXPECTED = REPO / "tests" / "data" / "mining-tree.yaml"


@pytest.fixture(scope="module")
def mined(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("mined") / "units-mined.yaml"
    r = CliRunner().invoke(cli, ["mine", str(TREE), "-o", str(out), "-j", "1"])
    assert r.exit_code == 0, r.output
    return out.read_text()


def test_mining_the_fixture_tree_gives_the_expected_file(mined):
    assert mined == EXPECTED.read_text()


def test_mining_again_gives_the_same_bytes(mined, tmp_path):
    out = tmp_path / "again.yaml"
    r = CliRunner().invoke(cli, ["mine", str(TREE), "-o", str(out), "-j", "2"])
    assert r.exit_code == 0, r.output
    assert out.read_text() == mined


def test_mining_from_inside_the_tree_gives_the_same_bytes(mined, tmp_path, monkeypatch):
    # `pgrewrite mine .` names the tree in the header as well
    out = tmp_path / "here.yaml"
    monkeypatch.chdir(TREE)
    r = CliRunner().invoke(cli, ["mine", ".", "-o", str(out), "-j", "1"])
    assert r.exit_code == 0, r.output
    assert out.read_text() == mined


def test_a_file_that_cannot_be_read_is_reported(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    (tree / "drivers" / "gone.c").symlink_to(tree / "nowhere.c")
    out = tmp_path / "mined.yaml"
    r = CliRunner().invoke(cli, ["mine", str(tree), "-o", str(out), "-j", "1"])
    assert r.exit_code == 0, r.output
    assert "warning: 1 file(s) could not be read or parsed, nothing mined from them: drivers/gone.c" in r.stderr
    # any field may be stored into in a file nobody read: no field is mined
    assert "buf" in (REPO / "tests" / "data" / "mining-tree.yaml").read_text()
    assert "fields:" not in out.read_text()


def _mined_names(text: str) -> dict[str, set]:
    import yaml
    doc = yaml.safe_load(text) or {}
    return {"returns": {n for e in doc.get("returns", ()) for n in e["calls"]},
            "arguments": {(n, e["arg"], e["unit"]) for e in doc.get("arguments", ()) for n in e["calls"]}}


def test_what_is_mined(mined):
    got = _mined_names(mined)
    assert got["returns"] == {"fx_nr_pages", "fx_buf_of", "fx_twice", "fx_order_bytes"}
    assert got["arguments"] == {("fx_map_pfn", 3, "pte-count"), ("fx_map_pfn", 4, "pte-bytes"),
                                ("fx_pool_alloc", 2, "pg-count")}


@pytest.mark.parametrize("name, why", [
    ("fx_maybe_pages", "a return without a unit"),
    ("fx_weak_pages", "__weak"),
    ("fx_local_pages", "static in a .c file"),
    ("fx_arch_count", "definitions disagree"),
    ("fx_macro_named", "a macro of that name"),
    ("folio_index", "units.yaml lists it"),
])
def test_what_is_refused(mined, name, why):
    got = _mined_names(mined)
    assert name not in got["returns"], why
    assert not any(n == name for n, _, _ in got["arguments"]), why


@pytest.mark.parametrize("name", ["fx_map_moved", "fx_map_stepped", "fx_fill_frags", "fx_fill_capped"])
def test_a_written_or_capped_parameter_is_refused(mined, name):
    # fx_map_moved: pfn = ...; fx_map_stepped: pfn += 1; fx_fill_frags:
    # min_t(data_len, PAGE_SIZE) and data_len -= chunk; fx_fill_capped: min(len, ...)
    assert not any(n == name for n, _, _ in _mined_names(mined)["arguments"])


def test_a_parameter_that_only_meets_another_value_is_refused(mined, tmp_path):
    # size >= (PAGE_SIZE << PAGE_ALLOC_COSTLY_ORDER) is evidence at a site,
    # not what every caller's size is; nor is a count compared once with an
    # index into a page array (fx_pool_check), where the bound of a loop
    # over it would be (fx_pool_alloc)
    assert not any(n in ("fx_area_alloc", "fx_pool_check") for n, _, _ in _mined_names(mined)["arguments"])
    from pgrewrite import mining
    miner = mining.Miner(mining.hand_written(REPO / "semantic-rules"))
    defs, _, _ = miner.file("drivers/fx/core.c", (TREE / "drivers/fx/core.c").read_bytes())
    (d,) = [d for d in defs if d.name == "fx_area_alloc"]
    assert d.params == 1 and d.args == {}


def test_a_field_every_store_gives_one_page_is_mined(mined):
    """fx_log's buf holds __get_free_page() or NULL in every file; other is
    stepped in another file, shared is stored into by a macro, and
    fx_peer's buf (kmalloc(64)) is another struct's field."""
    import yaml
    fields = yaml.safe_load(mined).get("fields", [])
    assert [(e["field"], e["of"], e["unit"]) for e in fields] == [("buf", ["struct fx_log"], "pg-buffer")]
    assert "drivers/fx/log.c:6 `log->buf = (char *)__get_free_page(GFP_KERNEL)`" in fields[0]["why"]


def test_field_stores_the_parse_cannot_account_for_refuse():
    from pgrewrite import fieldwrites
    text = b"""#define SET(l, p) ((l)->a = (p))
    /* x->b = y; */
    void f(struct s *x) { x->c++; g(&x->d.e); WRITE_ONCE(x->h, 0); x->k == 1; x->m <= 2; }
    """
    assigned, other = fieldwrites.textual(text)
    assert sorted(assigned.values()) == ["a", "b"]
    assert {"c", "d", "e", "h"} <= other and not {"k", "m"} & other


def test_a_mined_field_decides_a_bound_in_another_file(tmp_path, mined):
    code = """\
    void fx_dump(struct fx_log *log, const u32 *w, int n)
    {
            char *buf = log->buf;
            int bytes = 0, i;

            for (i = 0; i < n && bytes < PAGE_SIZE; i++)
                    bytes += scnprintf(buf + bytes, PAGE_SIZE - bytes, " %08x", w[i]);
    }
    """
    got = _decisions(api.load_rules(rules_with_mined(tmp_path, mined)), code)
    assert [(line, v) for line, v, _, _ in got] == [(6, "pg"), (7, "pg")]
    assert "->buf is mined: every store into it in the tree is the start of one allocated page" in got[1][3]
    # a struct of another name with a field of that name is not it
    other = _decisions(api.load_rules(rules_with_mined(tmp_path / "b", mined)), code.replace("fx_log", "fx_peer"))
    assert [v for _, v, _, _ in other] == ["unknown", "unknown"]


def test_mined_fields_are_not_used_to_mine_again(tmp_path, mined):
    table = api.load_rules(rules_with_mined(tmp_path, mined)).units
    assert "buf" in table.mined_fields and "buf" in table.fields
    assert "buf" not in table.hand_written().fields


def test_the_why_names_where_it_was_mined(mined):
    assert "is mined from drivers/fx/core.c:65, 2 definitions agree: it returns folio_nr_pages(folio)" in mined


# -- the scan reads units-mined.yaml ------------------------------------------

CALLER = """\
int fx_caller(struct vm_area_struct *vma, unsigned long off)
{
        return fx_map_pfn(vma, 0, off >> PAGE_SHIFT, 0);
}

size_t fx_bytes(struct folio *folio)
{
        return fx_nr_pages(folio) << PAGE_SHIFT;
}
"""


def _decisions(ruleset, code=CALLER):
    r = api.scan_bytes("drivers/x/ring.c", textwrap.dedent(code).encode(), ruleset)
    return [(d.site.line, d.verdict.value, d.rule, d.reason) for d in r.decisions]


def test_a_mined_fact_decides_a_call_in_another_file(tmp_path, mined):
    got = _decisions(api.load_rules(rules_with_mined(tmp_path, mined)))
    assert [(line, v, rule) for line, v, rule, _ in got] == [(3, "pte", UNITS), (8, "pg", UNITS)]
    assert "fx_map_pfn() argument 3 is a count of PTE pages (mined from drivers/fx/core.c:22" in got[0][3]
    assert "fx_nr_pages() is mined from drivers/fx/core.c:6" in got[1][3]


def test_without_the_mined_file_nothing_is_known(tmp_path):
    d = rules_with_mined(tmp_path, "")
    (d / "units-mined.yaml").unlink()
    assert [v for _, v, _, _ in _decisions(api.load_rules(d))] == ["unknown", "unknown"]


def test_units_yaml_wins_over_a_mined_entry(tmp_path):
    d = rules_with_mined(tmp_path, """\
        returns:
          - calls: [folio_nr_pages]
            unit: pte-count
            why: mined, but units.yaml says otherwise
        arguments:
          - calls: [remap_pfn_range]
            arg: 4
            unit: pg-bytes
            why: mined, but units.yaml lists the callee
        """)
    table = api.load_rules(d).units
    assert table.returns["folio_nr_pages"].unit.gran == "pg"
    assert all(not s.mined for s in table.arguments[("remap_pfn_range", 4)])
    assert not table.mined_returns and not table.mined_arguments


def test_a_mined_file_holds_returns_arguments_and_page_fields_only(tmp_path):
    d = rules_with_mined(tmp_path / "a", """\
        fields:
          - field: fx_len
            of: [struct fx]
            unit: pg-bytes
        """)
    with pytest.raises(RuleError) as e:
        load_ruleset(d)
    assert "fields/0: a mined field is a pg-buffer of named structs only" in str(e.value)
    d = rules_with_mined(tmp_path / "b", """\
        parameters:
          - signature: [char *]
            param: 1
            unit: pg-buffer
        """)
    with pytest.raises(RuleError) as e:
        load_ruleset(d)
    assert "parameters: not mined" in str(e.value)


def test_the_mined_file_is_part_of_the_rules_digest(tmp_path, mined):
    a = load_ruleset(rules_with_mined(tmp_path / "a", mined)).digest
    b = load_ruleset(rules_with_mined(tmp_path / "b", mined.replace("pte-bytes", "pg-bytes"))).digest
    assert a != b


def test_the_mined_file_is_not_a_rule(tmp_path, mined):
    rules = load_ruleset(rules_with_mined(tmp_path, mined))
    assert not any(r.id == "units-mined" for r in rules.rules)


def test_hand_written_drops_what_was_mined(tmp_path, mined):
    table = load_ruleset(rules_with_mined(tmp_path, mined)).units
    hand = table.hand_written()
    assert "fx_nr_pages" in table.returns and "fx_nr_pages" not in hand.returns
    assert ("fx_map_pfn", 3) in table.arguments and ("fx_map_pfn", 3) not in hand.arguments


def test_the_shipped_mined_file_loads_and_is_sorted():
    import yaml
    doc = yaml.safe_load((REPO / "semantic-rules" / mining.FILE).read_text()) or {}
    for kind in ("returns", "arguments"):
        keys = [(e["calls"][0], e.get("arg", 0)) for e in doc.get(kind, ())]
        assert keys == sorted(keys), kind
    assert api.load_rules().units.mined_returns


@pytest.mark.parametrize("name", ["fx_map_chunks", "fx_map_first", "fx_map_min"])
def test_a_parameter_capped_in_a_callee_is_refused(mined, name):
    # gold round 7, blk_rq_map_kern(): len reaches bio_add_page() through the
    # per-page chunking of the static bio_map_kern() (`if (bytes > len) bytes
    # = len;`, `len -= bytes`, min()): the chunk is a page length, len is not
    assert not any(n == name for n, _, _ in _mined_names(mined)["arguments"])


def test_a_pfn_macro_of_a_length_is_no_pfn(mined):
    # gold round 7, memblock_estimated_nr_free_pages(): PHYS_PFN(total - reserved)
    assert "fx_free_frames" not in _mined_names(mined)["returns"]
