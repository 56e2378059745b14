"""The HTML worklist: its content, and its behaviour in a real headless Chromium."""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pgrewrite.report import render_html

DATA = Path(__file__).parent / "data" / "report"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")


@pytest.fixture
def doc():
    return json.loads((DATA / "scan.json").read_text())


@pytest.fixture
def page(doc):
    return render_html(doc, DATA / "tree")


class Articles(HTMLParser):
    """Collects each <article class="site"> start tag's attributes, and <body>'s."""

    def __init__(self):
        super().__init__()
        self.articles: list[dict[str, str | None]] = []
        self.body: dict[str, str | None] = {}
        self.error_div = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "article" and a.get("class") == "site":
            self.articles.append(a)
        elif tag == "body":
            self.body = a
        elif a.get("id") == "js-errors":
            self.error_div = True


def parse(text: str) -> Articles:
    p = Articles()
    p.feed(text)
    return p


def test_self_contained(page):
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<link" not in page and "@import" not in page and "url(" not in page


def test_flagged_sites_with_context_ids_and_rules(page, doc):
    arts = parse(page).articles
    flagged = [s for s in doc["sites"] if s["verdict"] not in ("pte", "pg")]
    assert sorted(a["data-id"] for a in arts) == sorted(s["site_id"] for s in flagged)
    # code context, token marked, escaped
    assert ('<span class="hit"><span class="ln">10</span> \treturn <mark>PAGE_SIZE</mark>; '
            '/* hardware ring: &lt;4K&gt; &amp; &quot;quotes&quot; */</span>') in page
    assert "hardware-fixed 4K quantity spelled PAGE_SIZE &lt;ring&gt;" in page
    assert "<code>page-array-walk</code>" in page and "<code>pte-walker-step</code>" in page
    assert "pgrewrite decide mm/memory.c:fill_pages:PAGE_SIZE:f727b9ab pte|pg|logic" in page
    # grouped by category, then rule; biggest categories' order fixed: logic first
    assert page.index('data-verdict="logic" open') < page.index('data-verdict="conflict" open') \
        < page.index('data-verdict="unknown" open') < page.index('data-verdict="skipped" open')
    assert "<code>align-alloc vs align-user</code>" in page
    # the index lists every group with a link to it
    assert '<a href="#g1-0" class="goto">align-alloc vs align-user</a> 1' in page
    assert '<details class="group" id="g1-0" open>' in page


def test_progress_rows(page):
    rows = re.findall(r'data-dir-link="([^"]*)">[^<]*</a></th>.*?<td class="num">(\d+)%</td>'
                      r'<td class="num">(\d+)</td><td class="num">(\d+)</td>', page)
    assert rows == [("", "33", "6", "9"), ("arch/x86/mm", "50", "1", "2"),
                    ("mm", "25", "3", "4"), ("mm/kasan", "33", "2", "3")]


def test_without_sources_and_without_sites(doc):
    assert "(source not available)" in render_html(doc)
    empty = render_html({"summary": {}, "sites": [], "files": []})
    assert "No flagged sites" in empty and "0 sites" in empty


def test_output_is_deterministic(doc):
    shuffled = copy.deepcopy(doc)
    shuffled["sites"].reverse()
    assert render_html(shuffled, DATA / "tree") == render_html(doc, DATA / "tree")


def chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    """Run headless Chromium once; stdout is the DOM after scripts ran when --dump-dom."""
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", *extra, url]
    return subprocess.run(args, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(tmp_path)})


def dom(tmp_path: Path, file: Path, fragment: str = "") -> Articles:
    res = chromium(tmp_path, file.as_uri() + fragment, "--dump-dom")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Uncaught" not in res.stderr, res.stderr[-2000:]
    return parse(res.stdout)


@pytest.fixture
def page_file(tmp_path, page):
    f = tmp_path / "report.html"
    f.write_text(page)
    return f


@needs_chromium
def test_chromium_runs_script_without_errors(tmp_path, page_file):
    p = dom(tmp_path, page_file)
    assert p.body.get("data-ready") == "yes"
    assert "data-js-error" not in p.body and not p.error_div
    assert p.body.get("data-shown") == "6"
    assert not [a for a in p.articles if "hidden" in a]


@needs_chromium
def test_chromium_detects_a_script_error(tmp_path, page):
    """The error hook works, so the test above would see a real error."""
    broken = tmp_path / "broken.html"
    broken.write_text(page.replace("document.body.setAttribute('data-ready','yes');",
                                   "undefinedFunction();"))
    res = chromium(tmp_path, broken.as_uri(), "--dump-dom")
    p = parse(res.stdout)
    assert "undefinedFunction" in (p.body.get("data-js-error") or "")
    assert p.error_div and "data-ready" not in p.body


@needs_chromium
@pytest.mark.parametrize("fragment,visible", [
    ("#verdict=logic", {"arch/x86/mm/cpa.c:descriptor_len:PAGE_SIZE:9bec99d1",
                        "mm/memory.c:fill_pages:PAGE_SIZE:f727b9ab"}),
    ("#dir=mm/kasan", {"mm/kasan/common.c:weird:PAGE_SIZE:8539dcd5",
                       "mm/kasan/common.c:weird:PAGE_ALIGN:6985d0e0"}),
    ("#verdict=unknown,skipped&dir=mm", {"mm/kasan/common.c:weird:PAGE_SIZE:8539dcd5",
                                         "mm/memory.c:odd:PAGE_MASK:6ac2bad5",
                                         "mm/memory.c:BIG_PAGES:PAGE_SHIFT:ce8061f3"}),
    ("#q=page%20array", {"mm/memory.c:fill_pages:PAGE_SIZE:f727b9ab"}),
    ("#g1-0", None),  # a group anchor from the index is not a filter
])
def test_chromium_filters_from_the_url(tmp_path, page_file, fragment, visible):
    p = dom(tmp_path, page_file, fragment)
    shown = {a["data-id"] for a in p.articles if "hidden" not in a}
    if visible is None:
        visible = {a["data-id"] for a in p.articles}
    assert shown == visible
    assert p.body.get("data-shown") == str(len(visible))


@needs_chromium
def test_chromium_screenshot(tmp_path, page_file):
    shot = tmp_path / "report.png"
    res = chromium(tmp_path, page_file.as_uri(), "--hide-scrollbars", "--window-size=1280,1400",
                   f"--screenshot={shot}")
    assert res.returncode == 0, res.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
