"""The PAGE_SIZE family: today's names and their PTE/PG replacements (data)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from . import yamlcap


@dataclass(frozen=True)
class Member:
    name: str
    pte: str
    pg: str
    function_like: bool   # PAGE_ALIGN(x) is a macro call, PAGE_SIZE an object


@dataclass(frozen=True)
class Family:
    members: tuple[Member, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.members)

    @property
    def replacements(self) -> tuple[str, ...]:
        return tuple(n for m in self.members for n in (m.pte, m.pg))

    def member(self, name: str) -> Member:
        for m in self.members:
            if m.name == name:
                return m
        raise KeyError(name)

    def replacement(self, name: str, meaning: str) -> str:
        m = self.member(name)
        return m.pte if meaning == "pte" else m.pg

    def aliases(self) -> dict[str, str]:
        """New name -> today's name it stands for (PTE_SIZE -> PAGE_SIZE)."""
        return {n: m.name for m in self.members for n in (m.pte, m.pg)}

    def equivalents(self, name: str) -> frozenset[str]:
        """A family name and its replacements: the same value today."""
        m = self.member(name)
        return frozenset({m.name, m.pte, m.pg})


class FamilyError(ValueError):
    pass


def load_family(path: Path) -> Family:
    try:
        doc = yamlcap.load(path.read_text(), getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as e:
        raise FamilyError(f"{path}: cannot read the family: {e}") from e
    members = []
    for name, entry in (doc or {}).get("family", {}).items():
        if not isinstance(entry, dict) or not {"pte", "pg"} <= entry.keys():
            raise FamilyError(f"{path}: family member {name!r} needs 'pte' and 'pg' names")
        members.append(Member(name, entry["pte"], entry["pg"], bool(entry.get("function-like", False))))
    if not members:
        raise FamilyError(f"{path}: no 'family' entries")
    return Family(tuple(members))
