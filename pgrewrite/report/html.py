"""One self-contained HTML file: the worklist of sites a person must decide.

No network, no external files: CSS and a little plain JavaScript are inline.
Sections: a summary line; progress per directory (a stacked bar per directory with
one segment per verdict, share of sites decided mechanically, number flagged); then
the flagged sites (logic/conflict/unknown/skipped) grouped by category (verdict) and
by rule, each with a few lines of code around it, the reason, the rules that
matched, its stable site id and the `pgrewrite decide` command for it.

Filtering works offline: checkboxes per verdict, a directory menu and a text box
hide non-matching sites. The URL hash carries the filter, so a link such as
`report.html#verdict=logic,unknown&dir=arch/x86&q=vmalloc` opens pre-filtered
(also what the browser test uses). Script errors are written into the page
(`#js-errors`, `data-js-error` on <body>) so a headless browser can see them; when
the script has run, <body> gets `data-ready="yes"`.
"""
from __future__ import annotations

import html
import shlex
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pgrewrite.report.worklist import (FLAGGED, RENAMING, VERDICT_TITLES, VERDICTS,
                                       directory_key, end_col, is_flagged, sites)

ReadSource = Callable[[str], bytes]
CONTEXT_LINES = 2
_E = html.escape


def source_reader(root: str | Path) -> ReadSource:
    """read_source for files under `root` (the directory the scan ran in)."""
    base = Path(root)

    def read(path: str) -> bytes:
        return (base / path).read_bytes()
    return read


class _Sources:
    def __init__(self, read_source: ReadSource | str | Path | None):
        if read_source is None:
            self._read = None
        elif callable(read_source):
            self._read = read_source
        else:
            self._read = source_reader(read_source)
        self._cache: dict[str, list[bytes] | None] = {}

    def lines(self, path: str) -> list[bytes] | None:
        if path not in self._cache:
            try:
                data = self._read(path) if self._read else None
            except (OSError, KeyError, ValueError):  # a report never fails for want of context
                data = None
            if data is not None and data.endswith(b"\n"):
                data = data[:-1]
            self._cache[path] = data.split(b"\n") if data is not None else None
        return self._cache[path]


def _text(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


def _code_block(site: Mapping[str, Any], sources: _Sources) -> str:
    lines = sources.lines(site["path"])
    line_no = int(site["line"])
    if lines is None or not 1 <= line_no <= len(lines):
        return '<pre class="code missing">(source not available)</pre>'
    first = max(1, line_no - CONTEXT_LINES)
    last = min(len(lines), line_no + CONTEXT_LINES)
    width = len(str(last))
    out = []
    for n in range(first, last + 1):
        raw = lines[n - 1].rstrip(b"\r")
        num = f'<span class="ln">{n:>{width}}</span> '
        if n == line_no:
            a, b = int(site["col"]) - 1, end_col(site) - 1
            body = (_E(_text(raw[:a])) + "<mark>" + _E(_text(raw[a:b])) + "</mark>"
                    + _E(_text(raw[b:])))
            out.append(f'<span class="hit">{num}{body}</span>')
        else:
            out.append(num + _E(_text(raw)))
    return '<pre class="code">' + "\n".join(out) + "</pre>"


def _group_key(site: Mapping[str, Any]) -> str:
    key = _rule_key(site)
    return f"area {site['area']} · {key}" if site.get("area") else key


def _rule_key(site: Mapping[str, Any]) -> str:
    if site.get("rule"):
        return site["rule"]
    verdict = site.get("verdict")
    rules = sorted({m["rule"] for m in site.get("matches") or ()})
    if verdict == "conflict" and rules:
        return " vs ".join(rules)
    if verdict == "skipped":
        return (site.get("reason") or "skipped").split(":")[0]
    return f"no rule decided · {site.get('token')} in {site.get('context') or 'code'}"


def _bar(counts: Mapping[str, int], total: int) -> str:
    segs = []
    for v in VERDICTS:
        n = counts.get(v, 0)
        if n:
            pct = 100.0 * n / total
            segs.append(f'<span class="seg v-{v}" style="width:{pct:.3f}%" '
                        f'title="{v}: {n}"></span>')
    return '<div class="bar">' + "".join(segs) + "</div>"


def _progress(all_sites: list[dict[str, Any]]) -> str:
    per_dir: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for s in all_sites:
        per_dir[directory_key(s["path"])][s["verdict"]] += 1
        totals[s["verdict"]] += 1
    rows = []

    def row(label: str, counts: Mapping[str, int], link: str | None, cls: str = "") -> str:
        total = sum(counts.values())
        decided = sum(counts.get(v, 0) for v in RENAMING)
        flagged = sum(counts.get(v, 0) for v in FLAGGED)
        pct = 100.0 * decided / total if total else 0.0
        name = (f'<a href="#dir={_E(link, quote=True)}" data-dir-link="{_E(link, quote=True)}">'
                f'{_E(label)}</a>' if link is not None else _E(label))
        detail = ", ".join(f"{v} {counts[v]}" for v in VERDICTS if counts.get(v))
        return (f'<tr class="{cls}"><th scope="row">{name}</th>'
                f'<td class="barcell">{_bar(counts, total)}</td>'
                f'<td class="num">{pct:.0f}%</td><td class="num">{flagged}</td>'
                f'<td class="num">{total}</td><td class="detail">{_E(detail)}</td></tr>')

    rows.append(row("all directories", totals, "", "all"))
    for d in sorted(per_dir):
        rows.append(row(d, per_dir[d], d))
    legend = "".join(f'<span class="key"><span class="swatch v-{v}"></span>{_E(VERDICT_TITLES[v])}</span>'
                     for v in VERDICTS)
    return (f'<section id="progress"><h2>Progress by directory</h2>'
            f'<p class="legend">{legend}</p>'
            '<table class="progress"><thead><tr><th>directory</th><th>sites by verdict</th>'
            '<th title="renamed mechanically (pte + pg)">decided</th><th>flagged</th>'
            '<th>sites</th><th>counts</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></section>")


def _matches_table(site: Mapping[str, Any]) -> str:
    matches = site.get("matches") or ()
    if not matches:
        return '<p class="nomatch">no rule matched</p>'
    rows = "".join(
        f'<tr><td><code>{_E(m.get("rule", ""))}</code></td><td class="v-text-{_E(str(m.get("meaning")))}">'
        f'{_E(str(m.get("meaning", "")))}</td><td class="num">{_E(str(m.get("priority", "")))}</td>'
        f'<td>{_E(str(m.get("strength", "")))}</td><td>{_E(m.get("reason", ""))}</td></tr>'
        for m in matches)
    return ('<table class="matches"><thead><tr><th>rule</th><th>meaning</th><th>priority</th>'
            f'<th>strength</th><th>reason</th></tr></thead><tbody>{rows}</tbody></table>')


def _card(site: Mapping[str, Any], sources: _Sources, run_in: str = "") -> str:
    sid = site.get("site_id") or ""
    where = f'{site["path"]}:{site["line"]}:{site["col"]}'
    func = f' in <code>{_E(site["function"])}</code>' if site.get("function") else ""
    v = site["verdict"]
    decide = (f'<code class="cmd">{_E(run_in)}pgrewrite decide {_E(sid)} pte|pg|logic -m "…"</code>'
              if sid else "")
    return (f'<article class="site" data-verdict="{_E(v, quote=True)}" '
            f'data-path="{_E(site["path"], quote=True)}" data-id="{_E(sid, quote=True)}">'
            f'<h4><span class="badge v-{_E(v)}">{_E(v)}</span> <code>{_E(site.get("token", ""))}</code>'
            f' at <span class="where">{_E(where)}</span>{func}'
            f' <span class="ctx">{_E(str(site.get("context") or ""))}</span></h4>'
            f'<p class="reason">{_E(site.get("reason") or "")}</p>'
            f'{_code_block(site, sources)}'
            f'<details class="evidence"><summary>rules that matched ({len(site.get("matches") or ())})'
            f'</summary>{_matches_table(site)}</details>'
            f'<p class="sid">site id <code class="id">{_E(sid)}</code> {decide}</p></article>')


def _flagged(all_sites: list[dict[str, Any]], sources: _Sources, run_in: str = "") -> str:
    """`run_in`: what the decide commands need first (`cd ROOT && `) when the
    report's paths are relative to the tree root, not to where it ran."""
    out = []
    index = []
    for v in FLAGGED:
        in_cat = [s for s in all_sites if s["verdict"] == v]
        if not in_cat:
            continue
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for s in in_cat:
            groups[_group_key(s)].append(s)
        out.append(f'<details class="category" data-verdict="{v}" open><summary>'
                   f'<span class="badge v-{v}">{v}</span> {_E(VERDICT_TITLES[v])} '
                   f'(<span class="count" data-total="{len(in_cat)}">{len(in_cat)}</span>)</summary>')
        entries = []
        # sites of one review area stay together; the areas come after the rest
        for name, members in sorted(groups.items(), key=lambda kv: (kv[1][0].get("area") or "", -len(kv[1]), kv[0])):
            reason = members[0].get("reason") or ""
            anchor = f"g{len(index)}-{len(entries)}"
            entries.append(f'<li><a href="#{anchor}" class="goto">{_E(name)}</a> {len(members)}</li>')
            out.append(f'<details class="group" id="{anchor}" open><summary><code>{_E(name)}</code> '
                       f'(<span class="count" data-total="{len(members)}">{len(members)}</span>)'
                       f' <span class="greason">{_E(reason[:160])}</span></summary>')
            out.extend(_card(s, sources, run_in) for s in members)
            out.append("</details>")
        out.append("</details>")
        index.append(f'<li><span class="badge v-{v}">{v}</span> {len(in_cat)}<ul>{"".join(entries)}</ul></li>')
    if not out:
        return '<p class="empty">No flagged sites: every site is a mechanical rename.</p>'
    return ('<details id="index"><summary>Groups: by category, then by review area and rule</summary>'
            f'<ul class="index">{"".join(index)}</ul></details>' + "".join(out))


def _filters(all_sites: list[dict[str, Any]]) -> str:
    flagged_counts = {v: sum(1 for s in all_sites if s["verdict"] == v) for v in FLAGGED}
    boxes = "".join(
        f'<label><input type="checkbox" name="verdict" value="{v}" checked> '
        f'<span class="badge v-{v}">{v}</span> {flagged_counts[v]}</label>' for v in FLAGGED)
    dirs: set[str] = set()
    for s in all_sites:
        if is_flagged(s):
            parts = directory_key(s["path"]).split("/")
            dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    dirs.discard(".")
    options = '<option value="">all directories</option>' + "".join(
        f'<option value="{_E(d, quote=True)}">{_E(d)}</option>' for d in sorted(dirs))
    return ('<form id="filters" onsubmit="return false"><fieldset><legend>Show</legend>'
            f'{boxes}<label>directory <select id="dir">{options}</select></label>'
            '<label>text <input id="q" type="search" placeholder="path, rule, id, reason"></label>'
            ' <span id="shown"><span id="shown-count"></span> shown</span></fieldset></form>')


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 3em;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin:.6em 0 .2em}h2{font-size:1.2em;margin:1.2em 0 .4em}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
.summary{color:#444;margin:.2em 0}
.v-pte{background:#2e9e5b}.v-pg{background:#2b7bb9}.v-logic{background:#e07b00}
.v-conflict{background:#c62828}.v-unknown{background:#8e8e93}.v-skipped{background:#b39ddb}
.legend .key{margin-right:1.2em;white-space:nowrap}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-1px;border-radius:2px}
table.progress{border-collapse:collapse;width:100%}
table.progress th,table.progress td{padding:2px 6px;text-align:left;border-bottom:1px solid #eee;white-space:nowrap}
table.progress tr.all th,table.progress tr.all td{font-weight:bold;border-bottom:2px solid #ccc}
td.barcell{width:45%}.bar{display:flex;height:14px;background:#f2f2f2;border-radius:3px;overflow:hidden;min-width:200px}
.seg{display:block;height:100%}.num{text-align:right!important;font-variant-numeric:tabular-nums}
td.detail{color:#666;font-size:12px}
#filters fieldset{border:1px solid #ddd;border-radius:6px;padding:.4em .8em}
#filters label{margin-right:1em;white-space:nowrap}#shown{color:#444}
.badge{display:inline-block;color:#fff;border-radius:3px;padding:0 .4em;font-size:12px;font-weight:600}
details.category{margin:.8em 0}details.category>summary{font-size:1.1em;font-weight:600;cursor:pointer}
details.group{margin:.4em 0 .4em 1.2em}details.group>summary{cursor:pointer}
.greason{color:#666;font-size:12px}
article.site{border:1px solid #e3e3e3;border-left:4px solid #ccc;border-radius:4px;margin:.5em 0 .5em 1.2em;padding:.3em .7em}
article.site[data-verdict=logic]{border-left-color:#e07b00}article.site[data-verdict=conflict]{border-left-color:#c62828}
article.site[data-verdict=unknown]{border-left-color:#8e8e93}article.site[data-verdict=skipped]{border-left-color:#b39ddb}
article.site h4{margin:.2em 0;font-size:13px;font-weight:normal}.where{font-family:ui-monospace,monospace}
.ctx{color:#888;font-size:12px}.reason{margin:.2em 0}
pre.code{background:#f7f7f9;padding:.3em .5em;margin:.3em 0;overflow-x:auto;tab-size:8;border-radius:3px}
pre.code .ln{color:#999;user-select:none}pre.code .hit{background:#fff3c4;display:inline-block;min-width:100%}
mark{background:#ffd54f;padding:0}.sid{margin:.2em 0;color:#555;font-size:12px}
code.id{background:#eef;padding:0 .3em}code.cmd{color:#666}
table.matches{border-collapse:collapse;font-size:12px}table.matches td,table.matches th{padding:1px 6px;border-bottom:1px solid #eee;text-align:left}
[hidden]{display:none!important}#js-errors{color:#fff;background:#c62828;padding:.5em}
ul.index{columns:2;font-size:12px;margin:.3em 0}ul.index ul{margin:0 0 .4em;padding-left:1.2em}
#index>summary{cursor:pointer;color:#444}
.files li{font-family:ui-monospace,monospace;font-size:12px}
"""

_ERROR_HOOK = """
window.onerror=function(msg,src,line,col){
  var b=document.body||document.documentElement;b.setAttribute('data-js-error',String(msg));
  var d=document.getElementById('js-errors');if(!d){d=document.createElement('div');d.id='js-errors';b.insertBefore(d,b.firstChild);}
  d.textContent+='JavaScript error: '+msg+' (line '+line+':'+col+')\\n';};
"""

_SCRIPT = """
(function(){
  var sites=[].slice.call(document.querySelectorAll('article.site'));
  var boxes=[].slice.call(document.querySelectorAll('#filters input[name=verdict]'));
  var dirSel=document.getElementById('dir'), q=document.getElementById('q');
  function state(){
    var v=boxes.filter(function(b){return b.checked;}).map(function(b){return b.value;});
    return {verdict:v, dir:dirSel?dirSel.value:'', q:q?q.value.trim().toLowerCase():''};
  }
  function apply(){
    var s=state(), shown=0;
    sites.forEach(function(el){
      var p=el.getAttribute('data-path');
      var ok=s.verdict.indexOf(el.getAttribute('data-verdict'))>=0 &&
             (!s.dir || p===s.dir || p.indexOf(s.dir+'/')===0) &&
             (!s.q || el.textContent.toLowerCase().indexOf(s.q)>=0);
      if(ok){el.removeAttribute('hidden');shown++;}else{el.setAttribute('hidden','');}
    });
    [].slice.call(document.querySelectorAll('details.group,details.category')).forEach(function(g){
      var n=g.querySelectorAll('article.site:not([hidden])').length;
      var c=g.querySelector(':scope>summary .count');if(c){c.textContent=n+(n==c.getAttribute('data-total')?'':' of '+c.getAttribute('data-total'));}
      if(n){g.removeAttribute('hidden');}else{g.setAttribute('hidden','');}
    });
    var sc=document.getElementById('shown-count');if(sc){sc.textContent=shown+' of '+sites.length;}
    document.body.setAttribute('data-shown',String(shown));
    var parts=[];
    if(s.verdict.length!==boxes.length){parts.push('verdict='+s.verdict.join(','));}
    if(s.dir){parts.push('dir='+encodeURIComponent(s.dir));}
    if(s.q){parts.push('q='+encodeURIComponent(s.q));}
    var h=parts.join('&');
    if(h!==location.hash.replace(/^#/,'')){try{history.replaceState(null,'',h?'#'+h:location.pathname+location.search);}catch(e){}}
  }
  function fromHash(){
    var h=location.hash.replace(/^#/,''), got={};
    if(h && h.indexOf('=')<0){return;}
    h.split('&').forEach(function(kv){var i=kv.indexOf('=');if(i>0){got[kv.slice(0,i)]=decodeURIComponent(kv.slice(i+1));}});
    if('verdict' in got){var want=got.verdict.split(',');boxes.forEach(function(b){b.checked=want.indexOf(b.value)>=0;});}
    if(dirSel){
      var d=got.dir||'';
      if(d && ![].some.call(dirSel.options,function(o){return o.value===d;})){var o=document.createElement('option');o.value=d;o.textContent=d;dirSel.appendChild(o);}
      dirSel.value=d;
    }
    if(q){q.value=got.q||'';}
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);});
  if(dirSel){dirSel.addEventListener('change',apply);}
  if(q){q.addEventListener('input',apply);}
  window.addEventListener('hashchange',function(){if(location.hash.indexOf('=')>=0||!location.hash){fromHash();apply();}});
  [].slice.call(document.querySelectorAll('a.goto')).forEach(function(a){a.addEventListener('click',function(ev){
    ev.preventDefault();var g=document.getElementById(a.getAttribute('href').slice(1));
    if(g){g.open=true;if(g.parentNode&&g.parentNode.tagName==='DETAILS'){g.parentNode.open=true;}g.scrollIntoView();}});});
  fromHash();apply();
  document.body.setAttribute('data-ready','yes');
})();
"""


def _files_section(doc: Mapping[str, Any]) -> str:
    failed = sorted([f for f in doc.get("files", ()) if f.get("error")]
                    + list(doc.get("problems", ())), key=lambda f: (f["path"], f["error"]))
    if not failed:
        return ""
    items = "".join(f'<li>{_E(f["path"])}: {_E(f["error"])}</li>' for f in failed)
    return (f'<section id="failed"><h2>Files not analysed ({len(failed)})</h2>'
            f'<ul class="files">{items}</ul></section>')


def render_html(doc: Mapping[str, Any], read_source: ReadSource | str | Path | None = None,
                *, title: str = "pgrewrite report") -> str:
    """The report page. `read_source(path) -> bytes` (or a root directory) supplies the
    code shown around each flagged site; without it the code is left out."""
    all_sites = sites(doc)
    sources = _Sources(read_source)
    summary = doc.get("summary", {})
    counts = summary.get("verdicts") or {v: sum(1 for s in all_sites if s["verdict"] == v)
                                         for v in VERDICTS}
    total = sum(counts.values())
    flagged = sum(counts.get(v, 0) for v in FLAGGED)
    head = (f'{total} sites in {summary.get("files_read", len(doc.get("files", ())))} files: '
            + ", ".join(f'{v} {counts.get(v, 0)}' for v in VERDICTS)
            + f'. {flagged} need a person.')
    mentions = summary.get("mentions") or {}
    extra = []
    if summary.get("files_failed"):
        extra.append(f'files not analysed: {summary["files_failed"]}')
    if summary.get("files_with_parse_errors"):
        extra.append(f'files with parse errors: {summary["files_with_parse_errors"]}')
    if mentions:
        extra.append(f'mentions in comments {mentions.get("comments", 0)}, '
                     f'in strings {mentions.get("strings", 0)} (never rewritten)')
    if doc.get("renames"):
        extra.append(f'{len(doc["renames"])} declared identifier renames')
    base = doc.get("paths_relative_to")
    if base:
        extra.append(f"paths are relative to the tree root {base}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_E(title)}</title><style>{_CSS}</style>"
            f"<script>{_ERROR_HOOK}</script></head>\n<body>"
            f"<h1>{_E(title)}: PAGE_SIZE → PTE_* / PG_*</h1>"
            f'<p class="summary">{_E(head)}</p>'
            + (f'<p class="summary">{_E("; ".join(extra))}</p>' if extra else "")
            + _progress(all_sites)
            + f'<section id="worklist"><h2>Flagged sites ({flagged})</h2>'
            + _filters(all_sites)
            + _flagged(all_sites, sources, f"cd {shlex.quote(base)} && " if base else "") + "</section>"
            + _files_section(doc)
            + f"\n<script>{_SCRIPT}</script></body></html>\n")
