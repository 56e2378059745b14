"""`pgrewrite score`: precision against a gold set, on a tree we write, and
on the committed gold set of the real 6.12.117 tree (kernel-marked)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pgrewrite.cli import cli
from pgrewrite.score import GoldError, load_gold

from .conftest import REPO

GOLD = REPO / "tests" / "data" / "gold" / "linux-6.12.117.jsonl"

SOURCE = """\
static void walk(pte_t *pte, unsigned long addr, unsigned long end)
{
\tfor (; addr < end; addr += PAGE_SIZE, pte++)
\t\tset_pte_at(NULL, addr, pte, __pte(0));
}

static unsigned long frame(unsigned long phys)
{
\treturn phys >> PAGE_SHIFT;
}

static int fill(void)
{
\tint n = PAGE_SIZE;
\treturn n;
}
"""


def _gold_line(path, line, col, token, text, label, adjudicated=None, clear=False, weight=None, stratum="mm"):
    readers = [{"label": label, "confidence": "high", "why": f"reader one: {label}"},
               {"label": label if adjudicated is None else "UNSURE", "confidence": "high" if clear else "low",
                "why": "reader two"}]
    return json.dumps({"path": path, "line": line, "col": col, "token": token, "site_id": "", "text": text,
                       "readers": readers,
                       "adjudication": None if adjudicated is None else {"label": adjudicated, "why": "third"},
                       "final": {"label": adjudicated or label, "agreed": adjudicated is None},
                       **({"sample": "coverage", "weight": weight, "stratum": stratum} if weight
                          else {"sample": "precision"})})


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "linux"
    (root / "arch" / "x86").mkdir(parents=True)
    (root / "include" / "linux").mkdir(parents=True)
    (root / "mm").mkdir()
    (root / "mm" / "walk.c").write_text(SOURCE)
    return root


def test_score_counts_right_and_wrong_renames(tree, tmp_path, monkeypatch):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join([
        # the walker's step: PTE, and pgrewrite renames it to PTE
        _gold_line("mm/walk.c", 3, 29, "PAGE_SIZE", "for (; addr < end; addr += PAGE_SIZE, pte++)", "PTE",
                   clear=True, weight=3.0),
        # labelled PG (on purpose, to see a wrong rename reported with the whys)
        _gold_line("mm/walk.c", 9, 17, "PAGE_SHIFT", "return phys >> PAGE_SHIFT;", "PG", adjudicated="PG"),
        # an unknown site labelled PG: counts against the renamed share only
        _gold_line("mm/walk.c", 14, 10, "PAGE_SIZE", "int n = PAGE_SIZE;", "PG", weight=1.0, stratum="fs"),
    ]) + "\n")
    monkeypatch.chdir(tree)
    r = CliRunner().invoke(cli, ["score", "--gold", str(gold), "mm", "--no-cache", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["matched"] == 3
    assert doc["renames"] == {"right": 1, "wrong": 1, "precision": 0.5}
    # the clear site (both readers sure) is renamed right; of the two others none is
    assert doc["renamed_share"] == {"labelled": 3, "renamed": 2, "renamed_right": 1,
                                    "clear": {"labelled": 1, "renamed_right": 1},
                                    "others": {"labelled": 2, "renamed_right": 0}}
    # the one site left unknown was not clear, and its readers agreed on PG
    assert doc["unknown"] == {"clear": 0, "others": 1, "others_agreed": 1}
    # the coverage sample, weighted: the renamed walker stands for 3 sites, the unknown one for 1
    assert doc["coverage_sample"] == {"renamed": 0.75, "unknown-clear": 0.0, "unknown-unclear": 0.25,
                                      "unknown-no-rename": 0.0, "other": 0.0}
    assert [(w["line"], w["verdict"], w["label"]) for w in doc["wrong"]] == [(9, "pte", "PG")]
    assert doc["wrong"][0]["whys"][-1] == "third reading PG: third"

    r = CliRunner().invoke(cli, ["score", "--gold", str(gold), "mm", "--no-cache", "--min-rename", "0.98"])
    assert r.exit_code == 1
    assert "mm/walk.c:9:17: wrong: pte but labelled PG [pte-" in r.output
    assert "reader one: PG" in r.output
    assert "rename precision 0.5 is below 0.98" in r.output
    assert "  clear to both readers:   1.000 (1/1 renamed to the right unit)" in r.output
    assert "left unknown: 1; clear to both readers: 0; of the others the readers agreed on 1/1 (1.000)" in r.output
    assert "  renamed:" + " " * 49 + "75.0%" in r.output


def test_score_refuses_sites_whose_line_moved(tree, tmp_path, monkeypatch):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(_gold_line("mm/walk.c", 9, 17, "PAGE_SHIFT", "return other >> PAGE_SHIFT;", "PTE") + "\n")
    monkeypatch.chdir(tree)
    r = CliRunner().invoke(cli, ["score", "--gold", str(gold), "mm", "--no-cache", "--format", "json"])
    doc = json.loads(r.output)
    assert doc["matched"] == 0 and doc["moved"] == 1


def test_bad_gold_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "gold.jsonl"
    bad.write_text('{"path": "x.c"}\n')
    with pytest.raises(GoldError, match=r"gold.jsonl:1: not a gold record"):
        load_gold(bad)
    r = CliRunner().invoke(cli, ["score", "--gold", str(bad), str(tmp_path)])
    assert r.exit_code == 4
    assert "not a gold record" in r.output


def test_committed_gold_set_is_double_labelled():
    """Every record has two independent readings and, where they differ, a
    third; at least 1,000 sites; every named directory present."""
    sites = load_gold(GOLD)
    assert len(sites) >= 1000
    raw = [json.loads(line) for line in GOLD.read_text().splitlines()]
    for g in raw:
        assert len(g["readers"]) == 2 and all(r["why"] for r in g["readers"])
        if not g["final"]["agreed"]:
            assert g["adjudication"]["why"]
    tops = {s.path.split("/")[0] if not s.path.startswith("arch/") else "arch/x86" for s in sites}
    assert {"mm", "arch/x86", "fs", "drivers", "net", "kernel", "include", "block"} <= tops
    samples = {g["sample"] for g in raw}
    assert sum(g["sample"] == "coverage" for g in raw) >= 600 and "precision" in samples
    assert sum(g["sample"] == "precision" for g in raw) >= 400


# Issue 14 sets logic precision >= 0.70 as the target; rules and unit inference reach
# LOGIC_FLOOR today (docs/gold.md). The floor only stops it getting worse:
# raise it as logic rules improve, never lower it.
LOGIC_FLOOR = 0.70


@pytest.mark.kernel
@pytest.mark.slow
def test_gold_precision_on_the_real_tree(kernel, monkeypatch):
    """The bar every decision change is judged by: rename precision >= 0.98
    on the gold set (pgrewrite score), and logic precision not below its floor."""
    files = sorted({s.path for s in load_gold(GOLD)})
    monkeypatch.chdir(kernel)
    r = CliRunner().invoke(cli, ["score", "--gold", str(GOLD), *files, "--no-cache", "--format", "json",
                                 "--min-rename", "0.98", "--min-logic", str(LOGIC_FLOOR)])
    doc = json.loads(r.output.split("\nscore:")[0]) if r.output.startswith("{") else {}
    assert r.exit_code == 0, r.output[-3000:]
    assert doc["matched"] == len(load_gold(GOLD)), "every gold site is found at its line in 6.12.117"


def test_coverage_rounds_are_pooled_site_by_site():
    """Two rounds' coverage samples of one stratum: each site stands for
    the stratum's size over all the sites drawn in it, not for its round's
    weight (a small round must not count as much as a large one)."""
    from pgrewrite.score import GoldSite, _pooled_weights

    def site(rnd, stratum, weight):
        return GoldSite(path="x.c", line=1, col=1, token="PAGE_SIZE", site_id="", text="", final="PG", whys=(),
                        sample="coverage", weight=weight, stratum=stratum, round=rnd)
    # drivers: 1,000 sites; round 1 drew 4 (250 each), round 2 drew 1 (1,000)
    # mm: 100 sites; round 1 drew 2 (50 each), round 2 none
    sites = [site("r1", "drivers", 250.0)] * 4 + [site("r2", "drivers", 1000.0)] + [site("r1", "mm", 50.0)] * 2
    assert _pooled_weights(sites) == [200.0] * 5 + [50.0, 50.0]
