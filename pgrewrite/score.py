"""Judge verdicts against a gold set of double-labelled sites.

A gold file (`tests/data/gold/linux-6.12.117.jsonl`, see docs/labelling.md)
holds one site a line with its final label: PTE, PG, LOGIC, HW4K, NOT_PG or
UNSURE (the readers, after a third reading, could not settle it).

The figures:
- **rename precision**: of the sites renamed (`pte`/`pg`), the share whose
  final label is that unit. A rename of a site labelled anything else
  (another unit, LOGIC, HW4K, NOT_PG, or UNSURE) is wrong: a rename that is
  not clearly right must not be made.
- **logic precision**: of the sites flagged `logic`, the share labelled
  LOGIC or HW4K, or UNSURE (the readers could not agree either, so a person
  has to look: the flag is not noise).
- **renamed share**: of the sites labelled PTE or PG, the share renamed,
  and the share renamed to the right unit; then apart for the sites that
  were *clear* to their readers (both readers gave the label with high
  confidence) and the others. The sites left unknown say where coverage
  can still come from: how many were clear, and how often the two readers
  of the others agreed at all (what a tool deciding them could hope for).
- **coverage sample**: the gold sites drawn uniformly from all sites
  (`sample: coverage`), weighted back to the tree: the share renamed and
  how the share left unknown splits into PTE/PG sites clear to their
  readers, PTE/PG sites that were not, and sites that are no rename. Each
  round drew its own stratified sample (`stratum`: a top-level directory)
  and weighted it to the tree (`weight`); the rounds are pooled, each site
  standing for its stratum's sites over all the rounds' sites in it (a
  round of 128 sites does not count as much as one of 610).

Sites are matched by path, line and column; the token and the source line
must match too, so a gold file for another tree is refused site by site
rather than scored wrongly.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

LABELS = ("PTE", "PG", "LOGIC", "HW4K", "NOT_PG", "UNSURE")
RIGHT_FOR_LOGIC = frozenset({"LOGIC", "HW4K", "UNSURE"})
RENAME_LABEL = {"pte": "PTE", "pg": "PG"}


class GoldError(Exception):
    """The gold file cannot be used: says which line and why."""


@dataclass(frozen=True)
class GoldSite:
    path: str
    line: int
    col: int
    token: str
    site_id: str
    text: str
    final: str
    whys: tuple[str, ...]       # each reader's "LABEL (confidence): why", then the adjudication's
    sample: str = ""
    agreed: bool = True
    clear: bool = False         # both readers gave the final label with high confidence
    weight: float = 0.0         # a coverage-sample site stands for this many sites of the tree (in its round)
    stratum: str = ""           # the part of the tree its sample was drawn from
    round: str = ""             # the labelling round (its key's prefix: r2, r11; round 1 has none)


def _round_of(key: str) -> str:
    head = key.split("-", 1)[0]
    return head if head.startswith("r") else "r1"


def load_gold(path: Path) -> list[GoldSite]:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise GoldError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    sites = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            g = json.loads(line)
            final = g["final"]["label"]
            if final not in LABELS:
                raise ValueError(f"unknown label {final!r}")
            whys = tuple(f"{r['label']} ({r['confidence']}): {r['why']}" for r in g["readers"])
            if g.get("adjudication"):
                whys += (f"third reading {g['adjudication']['label']}: {g['adjudication']['why']}",)
            sites.append(GoldSite(path=g["path"], line=int(g["line"]), col=int(g["col"]),
                                  token=g["token"], site_id=g.get("site_id", ""), text=g["text"],
                                  final=final, whys=whys, sample=g.get("sample", ""),
                                  agreed=g["final"].get("agreed", True),
                                  clear=all(r["label"] == final and r["confidence"] == "high"
                                            for r in g["readers"]),
                                  weight=float(g.get("weight") or 0.0), stratum=g.get("stratum", ""),
                                  round=_round_of(g.get("key", ""))))
        except (ValueError, KeyError, TypeError) as e:
            raise GoldError(f"{path}:{n}: not a gold record ({e}); see docs/labelling.md") from None
    return sites


@dataclass
class Tally:
    right: int = 0
    wrong: int = 0

    @property
    def total(self) -> int:
        return self.right + self.wrong

    @property
    def precision(self) -> float | None:
        return self.right / self.total if self.total else None

    def add(self, ok: bool):
        if ok:
            self.right += 1
        else:
            self.wrong += 1


@dataclass
class Wrong:
    gold: GoldSite
    verdict: str
    rule: str | None
    display: str     # the path as the user sees it


@dataclass
class Score:
    matched: int = 0
    missing: list[GoldSite] = field(default_factory=list)     # not found in the scan
    moved: list[GoldSite] = field(default_factory=list)       # found, but the line text differs
    renames: Tally = field(default_factory=Tally)
    logic: Tally = field(default_factory=Tally)
    by_rule: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_dir: dict[str, dict[str, Tally]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Tally)))
    unit_sites: int = 0           # labelled PTE or PG
    unit_renamed: int = 0
    unit_renamed_right: int = 0
    verdicts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    wrong: list[Wrong] = field(default_factory=list)
    # PTE/PG-labelled sites by how clear they were to their readers: renamed right / all
    share_clear: Tally = field(default_factory=Tally)
    share_unclear: Tally = field(default_factory=Tally)
    # sites left unknown: clear ones, and of the others whether the readers agreed
    unknown_clear: int = 0
    unknown_unclear: Tally = field(default_factory=Tally)
    # the coverage sample, weighted: renamed / unknown-clear / unknown-unclear / unknown-no-rename / other
    coverage: dict[str, float] = field(default_factory=lambda: defaultdict(float))


def top_dir(path: str) -> str:
    parts = path.split("/")
    return "/".join(parts[:2]) if parts[0] == "arch" and len(parts) > 1 else parts[0]


def score(gold: list[GoldSite], sites: list[dict], tree_path, read_line) -> Score:
    """`sites`: the scan document's sites; `tree_path(site)` the site's path
    relative to the tree root; `read_line(relpath, line)` the source line."""
    by_pos = {(tree_path(s), s["line"], s["col"]): s for s in sites}
    out = Score()
    covered: list = []           # (coverage-sample site, verdict)
    for g in gold:
        s = by_pos.get((g.path, g.line, g.col))
        if s is None or s["token"] != g.token:
            out.missing.append(g)
            continue
        if read_line(g.path, g.line).strip() != g.text:
            out.moved.append(g)
            continue
        out.matched += 1
        v = s["verdict"]
        out.verdicts[v] += 1
        d = top_dir(g.path)
        if g.final in ("PTE", "PG"):
            out.unit_sites += 1
            if v in RENAME_LABEL:
                out.unit_renamed += 1
                out.unit_renamed_right += RENAME_LABEL[v] == g.final
            (out.share_clear if g.clear else out.share_unclear).add(RENAME_LABEL.get(v) == g.final)
        if v == "unknown":
            if g.clear:
                out.unknown_clear += 1
            else:
                out.unknown_unclear.add(g.agreed)
        if g.sample == "coverage" and g.weight > 0:
            covered.append((g, v))
        if v in RENAME_LABEL:
            ok = RENAME_LABEL[v] == g.final
            out.renames.add(ok)
            out.by_rule[s.get("rule") or "-"].add(ok)
            out.by_dir[d]["renames"].add(ok)
        elif v == "logic":
            ok = g.final in RIGHT_FOR_LOGIC
            out.logic.add(ok)
            out.by_rule[s.get("rule") or "-"].add(ok)
            out.by_dir[d]["logic"].add(ok)
        else:
            continue
        if not ok:
            out.wrong.append(Wrong(g, v, s.get("rule"), s["path"]))
    for (g, v), w in zip(covered, _pooled_weights([g for g, _ in covered])):
        out.coverage[_coverage_part(v, g)] += w
    return out


def _pooled_weights(sites: list[GoldSite]) -> list[float]:
    """Each coverage site's weight with the rounds pooled: its stratum's
    size (what each round's weights in it add up to, averaged over the
    rounds that drew from it) over all the rounds' sites in the stratum."""
    total: dict = defaultdict(float)
    count: dict = defaultdict(int)
    for g in sites:
        total[(g.round, g.stratum)] += g.weight
        count[g.stratum] += 1
    rounds: dict = defaultdict(list)
    for (r, h), w in total.items():
        rounds[h].append(w)
    size = {h: sum(ws) / len(ws) for h, ws in rounds.items()}
    return [size[g.stratum] / count[g.stratum] for g in sites]


COVERAGE_PARTS = {
    "renamed": "renamed",
    "unknown-clear": "left unknown, PTE/PG clear to both readers",
    "unknown-unclear": "left unknown, PTE/PG not clear to both",
    "unknown-no-rename": "left unknown, no rename (LOGIC, HW4K, NOT_PG, UNSURE)",
    "other": "flagged, in conflict or skipped",
}


def _coverage_part(verdict: str, g: GoldSite) -> str:
    if verdict in RENAME_LABEL:
        return "renamed"
    if verdict != "unknown":
        return "other"
    if g.final not in ("PTE", "PG"):
        return "unknown-no-rename"
    return "unknown-clear" if g.clear else "unknown-unclear"


def _pct(t: Tally) -> str:
    p = t.precision
    return "   n/a" if p is None else f"{p:6.3f}"


def render(sc: Score, gold_total: int) -> str:
    lines = []
    for w in sorted(sc.wrong, key=lambda w: (w.gold.path, w.gold.line, w.gold.col)):
        g = w.gold
        lines.append(f"{w.display}:{g.line}:{g.col}: wrong: {w.verdict} but labelled {g.final} "
                     f"[{w.rule or '-'}] " + " | ".join(g.whys))
    for g in sc.moved:
        lines.append(f"{g.path}:{g.line}:{g.col}: note: the source line differs from the gold set's "
                     f"({g.text!r}): another tree? not scored")
    if lines:
        lines.append("")
    lines.append(f"gold sites: {gold_total}, matched in this scan: {sc.matched}"
                 + (f", not in it: {len(sc.missing)}" if sc.missing else "")
                 + (f", line text differs: {len(sc.moved)}" if sc.moved else ""))
    lines.append("verdicts on them: " + ", ".join(f"{k} {sc.verdicts[k]}" for k in sorted(sc.verdicts)))
    lines.append(f"rename precision: {_pct(sc.renames).strip()} ({sc.renames.right}/{sc.renames.total})")
    lines.append(f"logic precision:  {_pct(sc.logic).strip()} ({sc.logic.right}/{sc.logic.total})"
                 "  (LOGIC, HW4K or UNSURE labels count as right)")
    if sc.unit_sites:
        lines.append(f"renamed share of PTE/PG-labelled sites: {sc.unit_renamed / sc.unit_sites:.3f} "
                     f"({sc.unit_renamed}/{sc.unit_sites}; to the right unit: {sc.unit_renamed_right})")
        for what, t in (("clear to both readers", sc.share_clear), ("the others", sc.share_unclear)):
            if t.total:
                lines.append(f"  {what + ':':24s}{_pct(t)} ({t.right}/{t.total} renamed to the right unit)")
    unknown = sc.unknown_clear + sc.unknown_unclear.total
    if unknown:
        u = sc.unknown_unclear
        lines.append(f"left unknown: {unknown}; clear to both readers: {sc.unknown_clear}; of the others the "
                     f"readers agreed on {u.right}/{u.total}" + (f" ({u.precision:.3f})" if u.total else ""))
    total = sum(sc.coverage.values())
    if total:
        lines.append("coverage sample, weighted to the tree:")
        for part, what in COVERAGE_PARTS.items():
            lines.append(f"  {what + ':':56s}{100 * sc.coverage.get(part, 0.0) / total:5.1f}%")
    lines.append("")
    lines.append("per rule:                                  right  wrong  precision")
    for rule, t in sorted(sc.by_rule.items(), key=lambda kv: (kv[1].precision or 0, kv[0])):
        lines.append(f"  {rule:40s} {t.right:5d}  {t.wrong:5d}  {_pct(t)}")
    lines.append("")
    lines.append("per directory:            renames (right/all, precision)   logic (right/all, precision)")
    for d in sorted(sc.by_dir):
        r, g = sc.by_dir[d]["renames"], sc.by_dir[d]["logic"]
        lines.append(f"  {d:22s} {r.right:4d}/{r.total:<4d} {_pct(r)}               "
                     f"{g.right:4d}/{g.total:<4d} {_pct(g)}")
    return "\n".join(lines) + "\n"


def to_json(sc: Score, gold_total: int) -> dict:
    def t(x: Tally):
        return {"right": x.right, "wrong": x.wrong, "precision": x.precision}
    return {
        "gold_sites": gold_total, "matched": sc.matched, "missing": len(sc.missing), "moved": len(sc.moved),
        "verdicts": dict(sc.verdicts), "renames": t(sc.renames), "logic": t(sc.logic),
        "renamed_share": {"labelled": sc.unit_sites, "renamed": sc.unit_renamed,
                          "renamed_right": sc.unit_renamed_right,
                          "clear": {"labelled": sc.share_clear.total, "renamed_right": sc.share_clear.right},
                          "others": {"labelled": sc.share_unclear.total, "renamed_right": sc.share_unclear.right}},
        "unknown": {"clear": sc.unknown_clear, "others": sc.unknown_unclear.total,
                    "others_agreed": sc.unknown_unclear.right},
        "coverage_sample": ({part: sc.coverage.get(part, 0.0) / sum(sc.coverage.values()) for part in COVERAGE_PARTS}
                            if sc.coverage else None),
        "by_rule": {k: t(v) for k, v in sorted(sc.by_rule.items())},
        "by_dir": {d: {k: t(v) for k, v in m.items()} for d, m in sorted(sc.by_dir.items())},
        "wrong": [{"path": w.gold.path, "line": w.gold.line, "col": w.gold.col, "verdict": w.verdict,
                   "label": w.gold.final, "rule": w.rule, "whys": list(w.gold.whys)} for w in sc.wrong],
    }
