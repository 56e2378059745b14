"""Reports and decisions against the real engine (pgrewrite.api), and on the real kernel."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pgrewrite.model import Verdict
from pgrewrite.report import (apply_decisions, context_fingerprint, decide, load_decisions,
                              render_html, render_sarif)

api = pytest.importorskip("pgrewrite.api", reason="the engine (pgrewrite.api) is not there yet")
output = pytest.importorskip("pgrewrite.output", reason="pgrewrite.output is not there yet")


from tests.conftest import kernel_tree  # noqa: E402

KERNEL = kernel_tree() or Path("/nonexistent-kernel-tree")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

WALK_C = """\
static void fill(struct page **pages, unsigned long addr, int nr)
{
\tint i;

\tfor (i = 0; i < nr; i++, addr += PAGE_SIZE)
\t\tset_pte_at(NULL, addr, NULL, mk_pte(pages[i], PAGE_KERNEL));
}

static unsigned long odd(unsigned long x)
{
\treturn x & ~PAGE_MASK;
}
"""
TEN_LINES = "".join(f"/* inserted line {i} */\n" for i in range(9)) + "\n"


def _scan(tree: Path, monkeypatch):
    monkeypatch.chdir(tree)
    return api.scan_paths(["mm"], api.load_rules(), jobs=1, use_cache=False)


def _find(result, function, token):
    return next(d for f in result.files for d in f.decisions
                if d.site.function == function and d.site.token == token)


def test_decision_survives_ten_lines_above_and_becomes_a_rename(tmp_path, monkeypatch):
    (tmp_path / "mm").mkdir()
    src = tmp_path / "mm" / "walk.c"
    src.write_text(WALK_C)
    first = _scan(tmp_path, monkeypatch)
    odd = _find(first, "odd", "PAGE_MASK")
    decisions = tmp_path / "pgrewrite-decisions.yaml"
    decide(odd.site.site_id, "pte", "mask of a user address", path=decisions,
           context=context_fingerprint(odd))

    text = WALK_C.replace("static unsigned long odd", TEN_LINES + "static unsigned long odd")
    src.write_text(text)
    second = _scan(tmp_path, monkeypatch)
    moved = _find(second, "odd", "PAGE_MASK")
    assert moved.site.line == odd.site.line + 10
    assert moved.site.site_id == odd.site.site_id

    (result,), problems = apply_decisions(load_decisions(decisions), second.files)
    assert problems == ()
    decided = next(d for d in result.decisions if d.site.site_id == odd.site.site_id)
    assert (decided.verdict, decided.replacement, decided.rule) == (Verdict.PTE, "PTE_MASK", "person")
    assert decided.reason == "decided by a person: mask of a user address"
    new = api.rewrite(text.encode(), result.edits).decode()
    assert "\treturn x & ~PTE_MASK;\n" in new
    assert new.replace("PTE_MASK", "PAGE_MASK") == text


def test_decision_for_a_vanished_site_is_reported(tmp_path, monkeypatch):
    (tmp_path / "mm").mkdir()
    src = tmp_path / "mm" / "walk.c"
    src.write_text(WALK_C)
    odd = _find(_scan(tmp_path, monkeypatch), "odd", "PAGE_MASK")
    decisions = tmp_path / "pgrewrite-decisions.yaml"
    decide(odd.site.site_id, "pg", path=decisions)
    src.write_text(WALK_C.replace("return x & ~PAGE_MASK;", "return (x + 1) & ~PAGE_MASK;"))
    (result,), problems = apply_decisions(load_decisions(decisions), _scan(tmp_path, monkeypatch).files)
    assert [(p.kind, p.site_id) for p in problems] == [("vanished", odd.site.site_id)]
    assert all(d.rule != "person" for d in result.decisions)


@pytest.mark.kernel
@pytest.mark.slow
@pytest.mark.skipif(not (KERNEL / "mm").is_dir(), reason=f"no kernel tree at {KERNEL}")
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_html_report_of_real_kernel_opens_in_chromium(tmp_path, monkeypatch):
    """mm/ and arch/x86/ of 6.12: the page loads without script errors, shows the
    per-directory progress and the flagged list, filters, and renders a screenshot
    (kept in $PGREWRITE_SCREENSHOT_DIR when set, to look at)."""
    monkeypatch.chdir(KERNEL)
    result = api.scan_paths(["mm", "arch/x86"], api.load_rules(), jobs=2, use_cache=False)
    doc = output.to_document(result)
    assert len(doc["sites"]) > 1000
    import jsonschema
    schema = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(render_sarif(doc), schema)
    page = tmp_path / "report.html"
    page.write_text(render_html(doc, KERNEL))
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=10000"]
    run = subprocess.run(base + ["--dump-dom", page.as_uri() + "#dir=arch/x86"],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "HOME": str(tmp_path)})
    assert run.returncode == 0 and "Uncaught" not in run.stderr, run.stderr[-2000:]
    dom = run.stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert 'data-ready="yes"' in body and "data-js-error" not in body and 'id="js-errors"' not in dom
    assert 'data-dir-link="mm"' in dom and 'data-dir-link="arch/x86/mm"' in dom
    flagged = sum(1 for s in doc["sites"] if s["verdict"] in ("logic", "conflict", "unknown", "skipped"))
    x86 = sum(1 for s in doc["sites"] if s["verdict"] in ("logic", "conflict", "unknown", "skipped")
              and s["path"].startswith("arch/x86/"))
    assert f'data-shown="{x86}"' in body and 0 < x86 < flagged
    shots = Path(os.environ.get("PGREWRITE_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / "kernel-report.png"
    run = subprocess.run(base + ["--hide-scrollbars", "--window-size=1280,2000", f"--screenshot={shot}",
                                 page.as_uri()], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HOME": str(tmp_path)})
    assert run.returncode == 0 and shot.stat().st_size > 50_000
