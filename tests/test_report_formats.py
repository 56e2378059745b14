"""report/org/SARIF renderers and --compare, on a hand-made scan document."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from pgrewrite.report import compare_docs, render_compare, render_org, render_report, render_sarif
from pgrewrite.report.worklist import directory_key

DATA = Path(__file__).parent / "data"
SNAPSHOTS = Path(__file__).parent / "snapshots" / "report"


@pytest.fixture
def doc():
    return json.loads((DATA / "report" / "scan.json").read_text())


@pytest.fixture
def snap(snapshot):
    snapshot.snapshot_dir = SNAPSHOTS
    return snapshot


def test_report_mode_snapshot(doc, snap):
    snap.assert_match(render_report(doc), "scan.report.txt")


def test_report_mode_lines_are_quickfix_lines(doc):
    lines = render_report(doc).splitlines()
    assert len(lines) == len(doc["sites"])
    first = lines[0]
    # arch/x86/mm/cpa.c line 5: PAGE_SIZE starts at byte column 49 (1-based), ends at 57
    assert first.startswith("arch/x86/mm/cpa.c:5:49-57: INFO: PAGE_SIZE -> PTE_SIZE [cpa-numpages]")
    assert first.endswith("(id arch/x86/mm/cpa.c:cpa_flush:PAGE_SIZE:801b75de)")
    flagged = render_report(doc, flagged_only=True).splitlines()
    assert len(flagged) == 6 and all(": WARNING: " in line for line in flagged)


def test_report_mode_is_sorted_whatever_the_input_order(doc):
    shuffled = copy.deepcopy(doc)
    shuffled["sites"].reverse()
    assert render_report(shuffled) == render_report(doc)


def test_org_mode_snapshot(doc, snap):
    snap.assert_match(render_org(doc), "scan.org")


def test_org_mode_entries(doc):
    text = render_org(doc)
    assert text.count("\n* TODO ") + text.startswith("* TODO ") == 6
    assert text.count("* DONE ") == 3
    # cocci's view: links use 0-based columns with an exclusive end
    assert ("* DONE [[view:arch/x86/mm/cpa.c::face=ovl-face1::linb=5::colb=48::cole=57]"
            "[PAGE_SIZE -> PTE_SIZE (cpa-numpages): set_memory page counts are PTE counts]]") in text
    assert "  :SITE_ID: mm/memory.c:fill_pages:PAGE_SIZE:" in text


def _schema():
    return json.loads((DATA / "sarif-schema-2.1.0.json").read_text())


def test_sarif_validates_against_the_2_1_0_schema(doc):
    log = render_sarif(doc)
    jsonschema.validate(json.loads(json.dumps(log)), _schema(),
                        format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def test_sarif_empty_document_validates():
    log = render_sarif({"summary": {}, "sites": [], "files": []})
    jsonschema.validate(log, _schema())
    assert log["runs"][0]["results"] == []


def test_sarif_schema_rejects_a_broken_log(doc):
    """The vendored schema really checks something."""
    log = render_sarif(doc)
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(log, _schema())


def test_sarif_results(doc, snap):
    log = render_sarif(doc)
    run = log["runs"][0]
    results = run["results"]
    assert len(results) == len(doc["sites"])
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in results:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
    by_id = {r["partialFingerprints"]["pgrewriteSiteId/v1"]: r for r in results}
    walker = by_id[next(s["site_id"] for s in doc["sites"] if s["rule"] == "pte-walker-step")]
    assert walker["level"] == "note"
    region = walker["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endColumn"]) == (7, 26, 35)
    assert walker["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"] == {"text": "PTE_SIZE"}
    unknown = [r for r in results if r["properties"]["verdict"] == "unknown"]
    assert unknown and all(r["level"] == "warning" and r["ruleId"] == "pgrewrite/unknown"
                           and "fixes" not in r for r in unknown)
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == ["drivers/broken.c: not valid UTF-8 and not readable"]
    snap.assert_match(json.dumps(log, indent=1, sort_keys=True) + "\n", "scan.sarif.json")


@pytest.mark.parametrize("path,key", [
    ("mm/memory.c", "mm"), ("mm/kasan/common.c", "mm/kasan"),
    ("arch/x86/mm/pat/set_memory.c", "arch/x86/mm"), ("arch/x86/Kconfig", "arch/x86"),
    ("drivers/gpu/drm/x.c", "drivers/gpu"), ("init/main.c", "init"), ("Makefile", "."),
])
def test_directory_key(path, key):
    assert directory_key(path) == key


def test_compare(doc, snap):
    new = copy.deepcopy(doc)
    sites = {s["site_id"]: s for s in new["sites"]}
    odd = next(s for s in new["sites"] if s["function"] == "odd")
    odd.update(verdict="pte", rule="user-mask", replacement="PTE_MASK", line=34)   # moved + decided
    shadow = next(s for s in new["sites"] if s["function"] == "shadow_page")
    shadow.update(verdict="unknown", rule=None, replacement=None)                  # lost its rule
    gone = next(s for s in new["sites"] if s["function"] == "descriptor_len")
    new["sites"].remove(gone)
    new["sites"].append(dict(gone, site_id="arch/x86/mm/cpa.c:ring_len:PAGE_SIZE:00000000",
                             function="ring_len", line=20))
    assert len(sites) == len(doc["sites"])
    cmp = compare_docs(doc, new)
    assert [e["site_id"] for e in cmp["newly_decided"]] == [odd["site_id"]]
    assert [e["site_id"] for e in cmp["vanished"]] == [gone["site_id"]]
    assert [e["site_id"] for e in cmp["new_flagged"]] == [
        "arch/x86/mm/cpa.c:ring_len:PAGE_SIZE:00000000", shadow["site_id"]]
    assert {e["site_id"] for e in cmp["verdict_changes"]} == {odd["site_id"], shadow["site_id"]}
    assert cmp["verdicts"]["pte"] == {"old": 2, "new": 3, "delta": 1}
    assert cmp["flagged"]["delta"] == 0
    json.dumps(cmp)  # JSON-able for --format json
    text = render_compare(cmp)
    # each site once in the text: both changes are listed above already
    assert text.count(f"(id {odd['site_id']})") == text.count(f"(id {shadow['site_id']})") == 1
    snap.assert_match(text, "compare.txt")


def test_compare_same_run_is_empty(doc):
    cmp = compare_docs(doc, doc)
    assert not any(cmp[k] for k in ("new_flagged", "newly_decided", "vanished", "appeared",
                                    "verdict_changes"))


def test_sarif_input_problems_become_notifications(doc):
    doc["problems"] = [{"path": "mm/secret.c", "error": "permission denied; make the file readable"}]
    log = render_sarif(doc)
    jsonschema.validate(log, _schema())
    texts = [n["message"]["text"] for n in log["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert texts == ["drivers/broken.c: not valid UTF-8 and not readable",
                     "mm/secret.c: permission denied; make the file readable"]
