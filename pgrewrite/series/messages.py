"""Commit messages and the cover letter, wrapped at 75 columns."""
from __future__ import annotations

import collections
import textwrap

from ..model import Decision, Verdict
from . import subjects
from .plan import NO_RULE, PatchPlan

WIDTH = 75
WHY = ("PAGE_SIZE, PAGE_SHIFT, PAGE_MASK, PAGE_ALIGN*() and offset_in_page() "
       "mean two different things: the mapping granularity (what one page-table "
       "entry maps, PTE_*) and the allocation granularity (what one order-0 page "
       "holds, PG_*). They are equal today; spelling out which one a use means "
       "lets them differ later (e.g. 16K or 64K allocations with 4K PTEs on x86).")


def wrap(text: str, indent: str = "", subsequent: str | None = None) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent,
                         subsequent_indent=indent if subsequent is None else subsequent,
                         break_long_words=False, break_on_hyphens=False) or [""]


def definitions_message(subject: str, names: list[str], blocked: dict, sob: str) -> str:
    lines = [subject, ""]
    lines += wrap(WHY)
    lines.append("")
    lines += wrap("Introduce the new names as aliases of today's PAGE_* values, so that "
                  "the renames in the following patches change no generated code and "
                  "every patch of the series builds on its own:")
    lines.append("")
    lines += wrap(", ".join(names), "  ")
    if blocked:
        lines.append("")
        lines += wrap(f"Not introduced, because the tree already defines them with "
                      f"another meaning: {', '.join(blocked)}. Those definitions have to "
                      "be renamed first; until then the uses keep their PAGE_* spelling.")
    lines += ["", f"Signed-off-by: {sob}", ""]
    return "\n".join(lines)


def rename_subject(prefix: str, p: PatchPlan, only: str | None, what: str = "", target: str | None = None) -> str:
    """`what`: what tells this patch apart from others of the same prefix
    (its rule, or its MAINTAINERS entry; see subjects.py)."""
    return rename_subject_forms(prefix, p, only, what, target)[0]


def rename_subject_forms(prefix: str, p: PatchPlan, only: str | None, what: str = "",
                         target: str | None = None) -> list[str]:
    """The patch's subject, then shorter forms of it (subjects.fit picks the
    one that fits): `what` shortened by subjects.label_forms. `target`: the
    new names the patch uses (`PTE_*`), when not both."""
    target = target or {"pte": "PTE_*", "pg": "PG_*"}.get(only or "", "PTE_*/PG_*")
    if p.default:
        head = f"{prefix}: UNVERIFIED default PAGE_* -> PG_* renames"
    else:
        head = f"{prefix}: rename PAGE_* uses to {target}"
    part = f" (part {p.part}/{p.parts})" if p.parts > 1 else ""
    return [head + (f" ({w})" if w else "") + part for w in (subjects.label_forms(what) if what else [""])]


def rename_target(p: PatchPlan) -> str | None:
    """`PTE_*` or `PG_*` when every family rename of the patch goes that way."""
    sides = {side for s in p.edits if s.edit.kind == "family"
             for side in ("PTE", "PG") if side in s.edit.new.upper().split("_")}
    return f"{sides.pop()}_*" if len(sides) == 1 else None


def rename_message(subject: str, p: PatchPlan, files_desc: str, sob: str) -> str:
    lines = [subject, ""]
    renames = collections.Counter((s.edit.old, s.edit.new) for s in p.edits
                                  if s.edit.kind != "identifier")
    idents = collections.Counter((s.edit.old, s.edit.new) for s in p.edits
                                 if s.edit.kind == "identifier")
    if p.default:
        lines += wrap("UNVERIFIED DEFAULTS. No rule decided what the PAGE_* uses below "
                      "mean; this patch renames them to PG_* the way a blind tree-wide "
                      f"pass would. Each rename in {files_desc} needs a reviewer who "
                      "checks that the use really is about the allocation granularity; "
                      "a use about mapping granularity must become PTE_* instead.")
    else:
        lines += wrap(WHY)
        lines.append("")
        lines += wrap(f"Rename the uses in {files_desc} whose meaning a rule established, "
                      "by the context they appear in:")
        by_rule: dict[str, list] = {}
        for s in p.edits:
            by_rule.setdefault(s.edit.rule or NO_RULE, []).append(s)
        lines.append("")
        for rule in sorted(by_rule):
            members = by_rule[rule]
            reason = next((m.reason for m in members if m.reason), "")
            n = len(members)
            head = f"- {rule} ({n} rename{'s' if n != 1 else ''})"
            if rule == "person":
                # decided by a person in pgrewrite-decisions.yaml: say so, with each comment
                lines += wrap(f"- decided by a person, not by a rule ({n} rename{'s' if n != 1 else ''}):", "", "  ")
                for m in members:
                    why = m.reason.removeprefix("decided by a person").lstrip(": ") or "no comment"
                    lines += wrap(f"{m.path}: {m.edit.old} -> {m.edit.new}: {why}", "  ", "    ")
                continue
            lines += wrap(f"{head}: {reason}" if reason else head, "", "  ")
    lines.append("")
    for (old, new), n in sorted(renames.items()):
        lines.append(f"  {old} -> {new}: {n}")
    for (old, new), n in sorted(idents.items()):
        lines.append(f"  {old} -> {new}: {n} (declared identifier rename)")
    lines.append("")
    if p.default:
        lines += wrap("PG_* equals PAGE_* today, so this changes no generated code, but "
                      "unlike the rule-decided patches of this series it is not known to "
                      "be right once the sizes differ.")
    else:
        lines += wrap("This is a pure rename: PTE_* and PG_* are aliases of PAGE_* "
                      "(introduced in the first patch of this series), so no generated "
                      "code changes. Uses whose meaning is unclear, or that need a logic "
                      "change rather than a rename, are not touched.")
    lines += ["", f"Signed-off-by: {sob}", ""]
    return "\n".join(lines)


def cover_letter(*, title_paths: list[str], counts: dict[str, int], renamed: dict[str, int],
                 logic: list[Decision], left_out_notes: list[str], n_prep: int = 0,
                 command: str, n_clash: int = 0, split_by: str = "subsystem",
                 logic_limit: int = 40) -> tuple[str, str]:
    """(subject, body) for the cover letter."""
    subject = "Split PAGE_* into PTE_* (mapping) and PG_* (allocation) names"
    lines: list[str] = []
    lines += wrap(WHY)
    lines.append("")
    first = "Patch 1"
    if n_prep:
        which = "Patch 1 renames" if n_prep == 1 else f"Patches 1-{n_prep} rename"
        what = ("private macros that already use some of the new names" if not n_clash else
                "macros that already use some of the new names with another meaning (the "
                "arch definitions declared in clashes.yaml"
                + (", and private ones)" if n_clash < n_prep else ")"))
        lines += wrap(f"{which} {what}, so that the generic ones can be introduced.")
        lines.append("")
        first = f"Patch {n_prep + 1}"
    lines += wrap(f"{first} introduces the new names as aliases of today's values; the "
                  f"other patches are mechanical renames, one per {split_by}, in "
                  f"{', '.join(title_paths)}. No patch changes generated code, and each "
                  "builds on its own. Logic changes are not part of this series.")
    lines += ["", f"Generated with: {command}", "", "Sites by verdict:"]
    for v in Verdict:
        lines.append(f"  {str(v):<9}{counts.get(str(v), 0):>7}")
    lines.append("")
    total = sum(renamed.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(renamed.items()) if v)
    lines += wrap(f"Renamed in this series: {total} ({detail or 'none'}).")
    if renamed.get("pg-default"):
        lines += wrap("The pg-default renames are unverified defaults for sites no rule "
                      "decided; they are in their own patches, marked UNVERIFIED.")
    lines.append("")
    if logic:
        lines += wrap(f"{len(logic)} logic site(s) need a human and are deliberately not "
                      f"touched (full list: pgrewrite scan --only logic {' '.join(title_paths)}):")
        for d in logic[:logic_limit]:
            s = d.site
            lines.append(f"  {s.path}:{s.line}:{s.col}: {s.token} [{d.rule or '-'}]")
        if len(logic) > logic_limit:
            lines.append(f"  ... and {len(logic) - logic_limit} more")
        lines.append("")
    if left_out_notes:
        lines += left_out_notes
        lines.append("")
    return subject, "\n".join(lines).rstrip("\n")


def local_rename_message(subject: str, renames, headers: list[str], sob: str) -> str:
    lines = [subject, ""]
    names = sorted({r.definition.name for r in renames})
    what = "generic names" if len(names) > 1 else "a generic name"
    lines += wrap(f"A following patch introduces {', '.join(names)} as {what} in "
                  f"{' and '.join(headers)} "
                  "(PTE_* for the mapping granularity, PG_* for the allocation "
                  "granularity, both aliases of PAGE_* today), which the code below "
                  "also sees. Its own definition means something else:")
    lines.append("")
    for r in renames:
        d = r.definition
        lines += wrap(f"{d.path}:{d.line}: {' '.join(d.text.split())}", "  ", "    ")
    lines.append("")
    lines += wrap("Rename it, with every use in the files that see it, so that the "
                  "generic definition neither redefines it nor gets captured by it:")
    lines.append("")
    for r in renames:
        lines.append(f"  {r.definition.name} -> {r.new_name}")
    lines.append("")
    lines += wrap("No functional change: the new name has the old definition.")
    lines += ["", f"Signed-off-by: {sob}", ""]
    return "\n".join(lines)


def clash_rename_message(subject: str, c, headers: list[str], sob: str) -> str:
    """A declared clash (clashes.yaml): its `why`, then what is renamed."""
    lines = [subject, ""]
    lines += wrap(c.clash.why)
    lines.append("")
    lines += wrap(f"A following patch introduces a generic {c.name} in "
                  f"{' and '.join(headers)} (PTE_* for the mapping granularity, PG_* "
                  "for the allocation granularity, both aliases of PAGE_* today). "
                  "Rename this definition first:")
    lines.append("")
    for d in c.definitions:
        lines += wrap(f"{d.path}:{d.line}: {' '.join(d.text.split())}", "  ", "    ")
    lines.append("")
    lines += wrap(f"{c.name} -> {c.new_name}, with every use in "
                  f"{', '.join(c.clash.scope)} ({len(c.files)} file(s), comments "
                  "included).", "  ", "    ")
    lines.append("")
    lines += wrap("No functional change: the new name has the old definition.")
    lines += ["", f"Signed-off-by: {sob}", ""]
    return "\n".join(lines)


def notes(blocked: dict, sel, collision_skips: int, local_renames=(),
          local_reasons=(), clash_renames=()) -> list[str]:
    notes: list[str] = []

    def section() -> None:
        if notes and notes[-1] != "":
            notes.append("")

    if clash_renames:
        notes += wrap(
            "Definitions that mean something else under a new name are renamed first "
            "(declared in clashes.yaml), in patches of their own before the one "
            "introducing the names:")
        for c in clash_renames:
            where = ", ".join(f"{d.path}:{d.line}" for d in c.definitions)
            notes += wrap(f"{c.name} -> {c.new_name} ({where}; {len(c.files)} file(s))",
                          "  ", "    ")

    if local_renames:
        notes += wrap(
            "Private definitions that would clash with the new names are renamed "
            "first, in patches of their own before the one introducing the names:")
        for r in local_renames:
            d = r.definition
            notes += wrap(f"{d.name} -> {r.new_name} ({d.path}:{d.line}, "
                                   f"{len(r.files)} file(s))", "  ", "    ")
    for reason in local_reasons:
        notes += wrap(reason, "", "  ")
    if blocked:
        section()
        by_name = collections.Counter(lo.new for lo in sel.left_out
                                      if "already defined" in lo.why)
        notes += wrap(
            "Name collisions: these new names already exist with another meaning, so "
            "the series neither defines them nor renames anything to them (those uses "
            "keep their PAGE_* spelling):")
        for n, defs in blocked.items():
            where = ", ".join(f"{d.path}:{d.line}" for d in defs)
            notes += wrap(f"{n} ({by_name.get(n, 0)} renames left out): "
                                   f"defined in {where}", "  ", "    ")
        notes += wrap("Rename those definitions first, then regenerate the "
                               "series to convert the remaining uses.")
    if collision_skips:
        section()
        notes += wrap(f"{collision_skips} site(s) were skipped by the scan "
                               "because of a name collision.")
    other = collections.Counter(lo.why for lo in sel.left_out
                                if "already defined" not in lo.why)
    for why, n in sorted(other.items()):
        notes += wrap(f"{n} edit(s) left out: {why}.")
    if sel.failed_files:
        section()
        notes += wrap(f"{len(sel.failed_files)} file(s) could not be scanned and "
                               "are not in the series:")
        notes += [f"  {p}: {err}" for p, err in sel.failed_files[:20]]
    while notes and notes[-1] == "":
        notes.pop()
    return notes
