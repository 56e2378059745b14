"""Named conditions (semantic-rules/conditions.yaml): a condition several
rules share, written once with a note on what it means, and used by name
(`use: NAME`) wherever a condition may stand. A rule that repeats another
rule's long list of exclusions drifts from it; a name keeps them one."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import documents

FILE = "conditions.yaml"


@dataclass
class NamedConditions:
    """The conditions of conditions.yaml by name (their YAML), where each is
    in the file, and each compiled once per (name, site|node, language)."""

    rel: str                                       # conditions.yaml as messages show it
    docs: dict = field(default_factory=dict)       # name -> its condition (YAML mapping)
    file_lines: dict = field(default_factory=dict)  # YAML path -> line (documents.load_with_lines)
    compiled: dict = field(default_factory=dict)   # (name, mode, language) -> conditions.Cond

    def line(self, name: str) -> int:
        """The line of the entry `name` in the file."""
        return documents.line_of(self.file_lines, (name,))


def load_named(directory: Path, rule_schema: dict,
               validated=None) -> tuple[NamedConditions | None, list[str], bytes, tuple | None]:
    """(table, problems, raw bytes, what the rules cache keeps) of
    DIRECTORY/conditions.yaml, validated against the rule schema's
    `named-conditions`; no file: no table. `validated`: the (document,
    lines) of these bytes that an earlier run parsed and validated."""
    schema = {"$schema": rule_schema.get("$schema"), "$defs": rule_schema["$defs"],
              "$ref": "#/$defs/named-conditions"}
    f = documents.read_data_file(directory, FILE, schema, None, {}, validated,
                                 top_type_message="expected a mapping of names to conditions (NAME: {note, condition})")
    if f is None:
        return None, [], b"", None
    if f.problems:
        return None, f.problems, f.raw, None
    docs = {name: entry["condition"] for name, entry in f.doc.items()}
    return NamedConditions(f.rel, docs, f.lines), [], f.raw, f.kept
