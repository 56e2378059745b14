"""semantic-rules/units.yaml: the units of kernel APIs (data).

What unit a call returns, a struct field holds or a callback's parameter
receives, and what unit a callee expects of an argument (or that the
argument is a length bounded by another argument, a buffer; or that the
call returns a length within its buffer argument, or the struct page that
holds its argument's address; or that an argument after a buffer is not its
length). Unit inference
(inference.py) carries these through a function; see units.yaml for the
vocabulary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from . import documents
from .documents import line_of as _line_of

FILE = "units.yaml"
MINED = "units-mined.yaml"      # facts mined from a tree (mining.py): returns and arguments
SCHEMA = "units.schema.json"


@dataclass(frozen=True)
class Unit:
    """A granularity (pte, pg, '' for an address with none, or inference's
    "pte+pg" for a value where the two met) and what the
    value is: bytes, count, order, buffer (a pointer into one page), page (a
    struct page of one allocation), pages (an array of struct pages filled
    per user page, by GUP), phys or user (an address), or span (the
    length between two addresses: inference's, never in units.yaml)."""

    gran: str
    dim: str

    @classmethod
    def parse(cls, text: str) -> "Unit":
        return {"phys-addr": cls("pte", "phys"), "user-addr": cls("pte", "user"),
                "user-pages": cls("pte", "pages")}.get(text) \
            or cls(*text.split("-", 1))

    def __str__(self) -> str:
        g = self.gran.upper()
        return {"bytes": f"a size in bytes at {g} granularity", "count": f"a count of {g} pages",
                "order": "a buddy order (PG)", "buffer": f"a buffer of one {g} page",
                "page": f"a struct page of one {g} allocation",
                "pages": "an array of struct pages filled one entry per user (PTE) page",
                "phys": "a physical address", "user": "a user address",
                "span": "the length of an address range"}[self.dim]


@dataclass(frozen=True)
class Fact:
    """A unit with the reason it is known (one step of a derivation)."""

    unit: Unit
    why: str


@dataclass(frozen=True)
class ArgUnit:
    unit: Unit | None = None     # the argument has this unit
    bounded_by: int | None = None  # the argument is a length bounded by argument K's extent (1-based)
    why: str = ""
    mined: bool = False          # from units-mined.yaml: its why is the derivation, shown in chains


@dataclass
class UnitTable:
    returns: dict[str, Fact] = field(default_factory=dict)
    # a call returning a length within argument K's buffer (strlcat, scnprintf): (K, why)
    returns_bounded: dict[str, tuple[int, str]] = field(default_factory=dict)
    # a call returning the struct page that holds argument K's address (virt_to_page): (K, why)
    containing: dict[str, tuple[int, str]] = field(default_factory=dict)
    arguments: dict[tuple[str, int], list[ArgUnit]] = field(default_factory=dict)  # memcpy len: both buffers
    fields: dict[str, list[tuple[frozenset, Fact]]] = field(default_factory=dict)
    parameters: dict[tuple[str, ...], dict[int, Fact]] = field(default_factory=dict)
    # an argument right after a buffer that is not its length (an alignment, a
    # length a disk format fixes): (callee, K) -> why
    not_lengths: dict[tuple[str, int], str] = field(default_factory=dict)
    # what units-mined.yaml added: callee names of returns, (callee, K) of arguments
    mined_returns: frozenset = frozenset()
    mined_arguments: frozenset = frozenset()
    mined_fields: frozenset = frozenset()     # field names units-mined.yaml added (units.yaml lists none of them)
    # units-mined.yaml `members`: ("struct S", member b) -> ("struct T", why): member b of
    # struct S is a struct T or a pointer to one, in every definition of S the tree has
    members: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def return_names(self) -> set[str]:
        """The calls whose return the table says anything of."""
        return set(self.returns) | set(self.returns_bounded) | set(self.containing)

    def argument_callees(self) -> set[str]:
        """The callees with an argument the table says anything of."""
        return {n for n, _ in self.arguments}

    def hand_written(self) -> "UnitTable":
        """This table without what units-mined.yaml added."""
        if not self.mined_returns and not self.mined_arguments and not self.mined_fields:
            return self
        return UnitTable({n: f for n, f in self.returns.items() if n not in self.mined_returns},
                         self.returns_bounded, self.containing,
                         {k: v for k, v in self.arguments.items() if k not in self.mined_arguments},
                         {k: v for k, v in self.fields.items() if k not in self.mined_fields},
                         self.parameters, self.not_lengths)

    @cached_property
    def _arguments_by_callee(self) -> dict[str, list[list[ArgUnit]]]:
        index: dict[str, list[list[ArgUnit]]] = {}
        for (callee, _), specs in self.arguments.items():
            index.setdefault(callee, []).append(specs)
        return index

    def arguments_of(self, callee: str) -> list[list[ArgUnit]]:
        """The argument entries of `callee`, one list per argument listed."""
        return self._arguments_by_callee.get(callee, [])

    @cached_property
    def user_pages_calls(self) -> frozenset[str]:
        """Calls with an argument of unit user-pages (get_user_pages()...)."""
        return frozenset(name for name, _ in self.user_pages_arguments)

    @cached_property
    def user_pages_arguments(self) -> frozenset[tuple[str, int]]:
        """(callee, K): argument K is of unit user-pages (the page array
        get_user_pages() fills)."""
        return frozenset(key for key, specs in self.arguments.items()
                         if any(a.unit is not None and a.unit.dim == "pages" for a in specs))

    @cached_property
    def user_pages_needles(self) -> tuple[bytes, ...]:
        """The user_pages_calls no other of them contains: a text that names
        none of these names none of the calls (get_user_pages_fast contains
        get_user_pages), so a file is searched for five words, not thirteen."""
        names = {n.encode() for n in self.user_pages_calls}
        return tuple(sorted(n for n in names if not any(o != n and o in n for o in names)))

    @cached_property
    def buffer_arguments(self) -> dict[tuple[str, int], "ArgUnit"]:
        """(callee, K) -> the spec of an argument that is the start of a
        one-page buffer (unit pg-buffer: sysfs_emit()'s buf)."""
        return {key: a for key, specs in self.arguments.items() for a in specs
                if a.unit is not None and a.unit.dim == "buffer"}

    @cached_property
    def buffer_returns(self) -> frozenset[str]:
        """Calls that return a pointer into one allocated page (kmap*(), page_address()...)."""
        return frozenset(n for n, f in self.returns.items() if f.unit.dim == "buffer")

    @cached_property
    def buffer_argument_callees(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.buffer_arguments)

    @cached_property
    def user_pages_fields(self) -> frozenset[str]:
        """Fields of unit user-pages (struct xdp_umem's pgs...)."""
        return frozenset(name for name, facts in self.fields.items()
                         if any(f.unit.dim == "pages" for _, f in facts))

    @cached_property
    def pfn_calls(self) -> frozenset[str]:
        """Calls that return or take a PFN (a PTE count): pfn_to_page(), page_to_pfn()..."""
        pte = Unit("pte", "count")
        return frozenset({n for n, f in self.returns.items() if f.unit == pte}
                         | {n for (n, _), specs in self.arguments.items() if any(a.unit == pte for a in specs)})

    def member_type(self, struct: str | None, member: str) -> tuple[str, str] | None:
        """(struct T, why) when member `member` of `struct` is a struct T or
        a pointer to one (units-mined.yaml `members`), else None."""
        return self.members.get((struct, member)) if struct else None

    def field_fact(self, name: str, base_type: str | None) -> Fact | None:
        for of, fact in self.fields.get(name, ()):
            if not of or (base_type is not None and base_type in of):
                return fact
        return None


def load_units(directory: Path, default_schema: Path,
               validated=None) -> tuple[UnitTable | None, list[str], bytes, tuple | None]:
    """(table, problems, raw bytes, what the rules cache keeps) of
    DIRECTORY/units.yaml; no file: no table, and no unit inference (a rules
    directory of one's own, or the benchmark's baseline). `validated`: the
    (document, lines) an earlier run parsed and validated."""
    f = documents.read_data_file(directory, FILE, SCHEMA, default_schema, {}, validated)
    if f is None:
        return None, [], b"", None
    if f.problems:
        return UnitTable(), f.problems, f.raw, None
    return (*_table(f.doc, f.lines, f.rel), f.raw, f.kept)


def load_mined(directory: Path, default_schema: Path, table: UnitTable | None,
               validated=None) -> tuple[list[str], bytes, tuple | None]:
    """Add DIRECTORY/units-mined.yaml (mining.py; same schema, its `returns`
    with `unit:` and `arguments` with `unit:`) to `table`: (problems, raw
    bytes, what the rules cache keeps). What units.yaml says wins: a mined
    return of a call it lists, or a mined argument of a callee it lists, is
    left out. No units.yaml (no table): nothing."""
    f = documents.read_data_file(directory, MINED, SCHEMA, default_schema, {}, validated)
    if f is None or table is None:
        return [], b"", None
    if f.problems:
        return f.problems, f.raw, None
    problems: list[str] = []
    hand_returns, hand_callees = table.return_names(), table.argument_callees()
    returns, arguments = set(), set()
    for i, e in enumerate(f.doc.get("returns", ())):
        if "unit" not in e or e.keys() - {"calls", "unit", "why"}:
            problems.append(f"{f.rel}:{_line_of(f.lines, ['returns', i])}: returns/{i}: a mined return has a unit only")
            continue
        for name in e["calls"]:
            if name in hand_returns:
                continue
            if name in returns:
                problems.append(f"{f.rel}:{_line_of(f.lines, ['returns', i])}: returns/{i}: {name} listed twice")
            returns.add(name)
            table.returns[name] = Fact(Unit.parse(e["unit"]), f"{name}() {e.get('why', 'is mined')}")
    for i, e in enumerate(f.doc.get("arguments", ())):
        if "unit" not in e or e.keys() - {"calls", "arg", "unit", "why"}:
            problems.append(f"{f.rel}:{_line_of(f.lines, ['arguments', i])}: arguments/{i}: "
                            f"a mined argument has a unit only")
            continue
        for name in e["calls"]:
            if name in hand_callees:
                continue
            arguments.add((name, e["arg"]))
            table.arguments.setdefault((name, e["arg"]), []).append(
                ArgUnit(Unit.parse(e["unit"]), None, e.get("why", "mined"), mined=True))
    hand_fields = set(table.fields)
    fields = set()
    for i, e in enumerate(f.doc.get("fields", ())):
        if e.get("unit") != "pg-buffer" or not e.get("of") or e.keys() - {"field", "of", "unit", "why"}:
            problems.append(f"{f.rel}:{_line_of(f.lines, ['fields', i])}: fields/{i}: "
                            f"a mined field is a pg-buffer of named structs only")
            continue
        if e["field"] in hand_fields:
            continue
        fields.add(e["field"])
        table.fields.setdefault(e["field"], []).append(
            (frozenset(e["of"]), Fact(Unit.parse(e["unit"]), f"->{e['field']} {e.get('why', 'is mined')}")))
    problems += _members(f.doc, f.lines, f.rel, table)
    for key in ("parameters", "not-lengths"):
        if key in f.doc:
            problems.append(f"{f.rel}:{_line_of(f.lines, [key])}: {key}: not mined (returns, arguments and fields only)")
    table.mined_returns, table.mined_arguments = frozenset(returns), frozenset(arguments)
    table.mined_fields = frozenset(fields)
    return problems, f.raw, f.kept


def _members(doc: dict, lines, rel: str, table: UnitTable) -> list[str]:
    """units-mined.yaml `members` (members.py): the struct type of a
    member, so that `a->b->f` finds f's unit in units.yaml `fields`."""
    problems: list[str] = []
    for i, e in enumerate(doc.get("members", ())):
        tag, n, *pairs = e.split()              # `S N b=T c=U` (the schema checked its form)
        struct = f"struct {tag}"
        for pair in pairs:
            member, t = pair.split("=")
            key = (struct, member)
            if key in table.members:
                problems.append(f"{rel}:{_line_of(lines, ['members', i])}: members/{i}: "
                                f"{struct} member {member} listed twice")
            table.members[key] = (f"struct {t}", f"mined, {struct} is defined in {n} file{'s' if n != '1' else ''}"
                                                 f" and each definition with {member} agrees")
    return problems


def _table(doc: dict, lines, rel: str) -> tuple[UnitTable, list[str]]:
    problems: list[str] = []
    table = UnitTable()
    for i, e in enumerate(doc.get("returns", ())):
        for name in e["calls"]:
            if name in table.returns or name in table.returns_bounded or name in table.containing:
                problems.append(f"{rel}:{_line_of(lines, ['returns', i])}: returns/{i}: {name} listed twice")
            if "contains" in e:
                table.containing[name] = (e["contains"], e.get("why", "returns the struct page holding its argument"))
                continue
            if "bounded-by" in e:
                table.returns_bounded[name] = (e["bounded-by"], e.get("why", "returns a length within its buffer"))
                continue
            why = e.get("why", f"is {Unit.parse(e['unit'])}")
            table.returns[name] = Fact(Unit.parse(e["unit"]), f"{name}() {why}")
    for i, e in enumerate(doc.get("arguments", ())):
        for name in e["calls"]:
            spec = ArgUnit(Unit.parse(e["unit"]) if "unit" in e else None, e.get("bounded-by"), e.get("why", ""))
            specs = table.arguments.setdefault((name, e["arg"]), [])
            if spec in specs:
                problems.append(f"{rel}:{_line_of(lines, ['arguments', i])}: arguments/{i}: "
                                f"{name}() argument {e['arg']} listed twice")
            specs.append(spec)
    if "members" in doc:
        problems.append(f"{rel}:{_line_of(lines, ['members'])}: members: mined only (units-mined.yaml, members.py)")
    for e in doc.get("fields", ()):
        fact = Fact(Unit.parse(e["unit"]), f"->{e['field']} " + e.get("why", f"is {Unit.parse(e['unit'])}"))
        table.fields.setdefault(e["field"], []).append((frozenset(e.get("of", ())), fact))
    for i, e in enumerate(doc.get("not-lengths", ())):
        for name in e["calls"]:
            if (name, e["arg"]) in table.not_lengths:
                problems.append(f"{rel}:{_line_of(lines, ['not-lengths', i])}: not-lengths/{i}: "
                                f"{name}() argument {e['arg']} listed twice")
            table.not_lengths[(name, e["arg"])] = e["why"]
    for e in doc.get("parameters", ()):
        sig = tuple(normal_type(t) for t in e["signature"])
        fact = Fact(Unit.parse(e["unit"]), e.get("why", f"the parameter is {Unit.parse(e['unit'])}"))
        table.parameters.setdefault(sig, {})[e["param"]] = fact
    return table, problems


_INTEGER = ("unsigned", "signed", "short", "long", "char", "int")   # the canonical order


def normal_type(text: str) -> str:
    """`const  struct foo*` -> `const struct foo *`: one spelling per type.
    C's other spellings of one integer type fold too: `unsigned` and `int
    unsigned` are `unsigned int`, `long int` and `long unsigned int` are
    `long` and `unsigned long`, `short int` is `short`."""
    words = text.replace("*", " * ").split()
    spec = [w for w in words if w in _INTEGER]
    if spec:
        if "int" in spec and ("long" in spec or "short" in spec):
            spec.remove("int")
        if not {"char", "short", "int", "long"}.intersection(spec):
            spec.append("int")                          # `unsigned`, `signed`
        spec.sort(key=_INTEGER.index)
        at = next(i for i, w in enumerate(words) if w in _INTEGER)
        words = [w for w in words[:at] if w not in _INTEGER] + spec + [w for w in words[at:] if w not in _INTEGER]
    return " ".join(words).replace("* *", "**")
