"""The struct types of struct members, mined from a whole tree as data
(issue 17, the `nested` step).

units.yaml `fields` gives the unit of member f of a struct T (`of: [struct
xdr_buf]`), and inference.py finds it when the base of `x->f` is a local or
parameter declared `struct T` or `struct T *`. Where the base is itself a
member (`xdr->buf->page_len`, `sb->s_bdi->ra_pages`, `bo->tbo.page_alignment`),
its type is in a header: here a pass over the whole tree writes, for the
structs units.yaml names, which members of which structs are of that type,
as the `members` section of semantic-rules/units-mined.yaml (one line
per struct: `S N b=T c=U`, N the files that define struct S). The scan reads
it as rules data (rules/units.py), so a verdict still depends only on its
file's text and the rules data.

A member is mined only when the tree agrees on it:
- its declared type is `struct T` or `struct T *` (one pointer, no array,
  no function pointer, no bit-field), T a struct units.yaml names in `of`
  (one hop), or a struct that has such a member (two hops: `a->b->c->f`);
  never a typedef name, a macro, a union, an anonymous struct, `struct T **`;
- every definition of struct S anywhere in the tree (other arches, tools/,
  a .c file's own struct of that tag, #ifdef variants in one file) that
  declares member b declares it of the same type, and none declares it
  twice (two #ifdef branches of one definition): else b is refused;
- where tree-sitter could not read a definition cleanly (an error inside
  the struct's braces), every name in the unread region, and every name a
  declaration holding an error declares, is refused: it may be a member
  declared otherwise;
- members of an anonymous struct or union inside S are not mined (S.b
  reaches them, but they are left out: nothing is guessed).
A definition made by a macro (DECLARE_FOO(name) expanding to a struct) is
not seen: a tag defined only that way has no definition here and is not
mined; one defined both ways is the residual risk, stated in the report of
the step.

`pgrewrite mine TREE -o FILE` writes this section after the mined
returns and arguments; `python -m pgrewrite.members TREE FILE` rewrites
only the `members` section of FILE, leaving the rest of it as it is.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from . import parsing
from .mining import tree_files

_DEFINES = re.compile(rb"\bstruct\s+([A-Za-z_]\w*)\s*\{")
SECTION = "members:"


def targets(table) -> set[str]:
    """The struct tags units.yaml `fields` name in `of`."""
    out = set()
    for entries in table.fields.values():
        for of, _ in entries:
            out |= {t.split()[1] for t in of if t.startswith("struct ")}
    return out


def _struct_type(ty) -> str | None:
    """T of a member type node `struct T` (no body), else None."""
    if ty is None or ty.type != "struct_specifier" or ty.child_by_field_name("body") is not None:
        return None
    name = ty.child_by_field_name("name")
    return name.text.decode() if name is not None else None


def definitions(data: bytes) -> list[tuple[str, dict | None]]:
    """(tag, {member: (type tag or "?", line), or None when declared twice
    or named where tree-sitter could not read the definition}) of each
    struct definition with a tag in a file."""
    out = []
    stack = [parsing.parse(data)]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type != "struct_specifier":
            continue
        name, body = n.child_by_field_name("name"), n.child_by_field_name("body")
        if name is None or body is None:
            continue
        members: dict = {}
        # a region tree-sitter could not read: any name in it may be a
        # member declared otherwise (refused); a declaration holding one
        # refuses the names it declares
        unread = set()
        for c in body.named_children:
            if c.type == "ERROR" or (c.type != "field_declaration" and c.has_error):
                unread |= set(re.findall(r"[A-Za-z_]\w*", c.text.decode(errors="replace")))
        for fd in body.named_children:
            if fd.type != "field_declaration":
                continue
            if fd.has_error:
                unread |= set(re.findall(r"[A-Za-z_]\w*", fd.text.decode(errors="replace")))
                continue
            t = _struct_type(fd.child_by_field_name("type"))
            for d in fd.children_by_field_name("declarator"):
                ptr = 0
                while d is not None and d.type == "pointer_declarator":
                    ptr += 1
                    d = d.child_by_field_name("declarator")
                if d is None or d.type != "field_identifier":
                    continue                  # an array, a function pointer...
                b = d.text.decode()
                ok = t is not None and ptr <= 1 and not any(c.type == "bitfield_clause" for c in fd.children)
                members[b] = None if b in members else ((t if ok else "?"), d.start_point[0] + 1)
        for b in unread:
            members[b] = None
        out.append((name.text.decode(), members))
    return out


def mine(root: Path, table, hops: int = 2, progress=None) -> tuple[list[dict], list[str]]:
    """The `members` entries for the tree at `root` (units.yaml's `table`)
    and the refusals (one line each)."""
    files = tree_files(root)
    texts: dict[str, bytes] = {}
    defined: dict[str, list[str]] = {}
    for f in files:
        try:
            data = (root / f).read_bytes()
        except OSError:
            continue
        tags = set(m.group(1).decode() for m in _DEFINES.finditer(data))
        if tags:
            texts[f] = data
            for t in tags:
                defined.setdefault(t, []).append(f)
    read: dict[str, list] = {}

    def defs_in(f):
        if f not in read:
            read[f] = definitions(texts[f])
        return read[f]

    wanted, level = set(targets(table)), set(targets(table))
    entries, refused = {}, []
    for _ in range(hops):
        # every struct with a member of a type in `level`: the files that define a struct and name one of them
        pat = re.compile(rb"\bstruct\s+(?:" + b"|".join(re.escape(t.encode()) for t in sorted(level)) + rb")\b")
        owners = set()
        for f, data in texts.items():
            if pat.search(data):
                for tag, members in defs_in(f):
                    if members and any(v is not None and v[0] in level for v in members.values()):
                        owners.add(tag)
        found = set()
        for tag in sorted(owners):
            seen: dict[str, set] = {}
            broken = False
            for f in defined.get(tag, ()):
                for t, members in defs_in(f):
                    if t != tag:
                        continue
                    if members is None:
                        broken = True
                        continue
                    for b, v in members.items():
                        seen.setdefault(b, set()).add(v[0] if v is not None else None)
            if broken:
                refused.append(f"struct {tag}: a definition holds a parse error")
                continue
            for b, types in sorted(seen.items()):
                if not types & level:
                    continue
                if len(types) != 1 or None in types:
                    refused.append(f"struct {tag} member {b}: declared as {', '.join(sorted(str(x) for x in types))}")
                    continue
                t = next(iter(types))
                if (tag, b) not in entries:
                    n = len(defined.get(tag, ()))
                    entries[(tag, b)] = {"struct": f"struct {tag}", "member": b, "type": f"struct {t}", "files": n}
                    found.add(tag)
        level = found - wanted
        wanted |= found
        if progress is not None:
            progress(f"{len(entries)} members, {len(refused)} refused")
        if not level:
            break
    return [entries[k] for k in sorted(entries)], refused


def render(entries: list[dict]) -> str:
    """The `members` section of units-mined.yaml: one line per struct, `S N
    b=T c=U`, its tag, the number of files that define it and its members'
    struct tags (one YAML scalar a struct: the section is read at every
    start, and thousands of mappings cost a second)."""
    out = ["# -- members (pgrewrite/members.py): the struct type of members that lead to a units.yaml field.",
           "#    `S N b=T ...`: member b of struct S is a struct T or a pointer to one in each of the N files",
           "#    that define struct S and declare b",
           SECTION if entries else SECTION + " []"]
    by: dict[str, list[dict]] = {}
    for e in entries:
        by.setdefault(e["struct"].split()[1], []).append(e)
    for tag in sorted(by):
        ms = sorted(by[tag], key=lambda e: e["member"])
        out.append(f"- {tag} {ms[0]['files']} " + " ".join(f"{e['member']}={e['type'].split()[1]}" for e in ms))
    return "\n".join(out) + "\n"


def replace_section(text: str, section: str) -> str:
    """`text` (units-mined.yaml) with its members section (from its comment
    line to the end, where render() puts it) replaced by `section`."""
    at = text.find("# -- members (pgrewrite/members.py)")
    if at < 0:
        at = text.find("\n" + SECTION + "\n")
        at = at + 1 if at >= 0 else -1
    head = text[:at] if at >= 0 else text
    return head.rstrip("\n") + "\n\n" + section


def main(argv: list[str]) -> int:
    from .rules.loader import RuleError, load_ruleset
    if len(argv) != 2:
        print("usage: python -m pgrewrite.members TREE UNITS-MINED-FILE", file=sys.stderr)
        return 2
    root, out = Path(argv[0]), Path(argv[1])
    try:
        table = load_ruleset(out.parent).units
    except RuleError as e:      # FILE must lie in a rules directory: its units.yaml names the structs
        print(f"error: {e}", file=sys.stderr)
        return 2
    if table is None:
        print(f"{out.parent}: no units.yaml", file=sys.stderr)
        return 2
    entries, refused = mine(root, table, progress=lambda s: print(s, file=sys.stderr))
    for r in refused:
        print(f"refused: {r}", file=sys.stderr)
    out.write_text(replace_section(out.read_text(), render(entries)))
    print(f"{len(entries)} members written to {out}, {len(refused)} refused", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
