"""YAML and JSON-schema I/O shared by every data file of a rules directory
(the rule files, family.yaml, clashes.yaml, units.yaml): documents with the
line of every key, schema errors as `file:line: key: message`, path globs,
and regular expressions compiled when first used."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import yamlcap


def glob_regex(globs, anchored: bool = False) -> re.Pattern | None:
    """Path globs with `**` (any directories), `*`, `?`, matched on the path
    relative to the tree root or to any directory above the file; with
    `anchored`, relative to the tree root only (clashes.yaml scopes)."""
    if not globs:
        return None
    parts = []
    for g in globs:
        g = g.strip("/")
        rx = ""
        i = 0
        while i < len(g):
            if g.startswith("**/", i):
                rx += "(?:.*/)?"
                i += 3
            elif g.startswith("**", i):
                rx += ".*"
                i += 2
            elif g[i] == "*":
                rx += "[^/]*"
                i += 1
            elif g[i] == "?":
                rx += "[^/]"
                i += 1
            else:
                rx += re.escape(g[i])
                i += 1
        parts.append(rx)
    body = r"(?:" + "|".join(parts) + r")$"
    return pattern(body if anchored else r"(?:.*/)?" + body)


class LazyPattern:
    """A regular expression compiled when first used. Rule documents that an
    earlier run validated (load_ruleset's cache) are compiled with these: a
    re-run answered from the result cache compiles no expression at all,
    and a run that analyses compiles those its files reach."""

    _METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "split")

    def __init__(self, pattern: str):
        self.pattern = pattern

    def __getattr__(self, name):
        if name.startswith("__") or name == "pattern":    # copy/pickle probing a bare instance
            raise AttributeError(name)
        compiled = re.compile(self.pattern)
        for method in self._METHODS:             # later calls go straight to the compiled ones
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)


# True while load_ruleset compiles documents it validated before: their
# expressions are known to compile, so they are compiled when first used
known_good = False


def pattern(source: str):
    return LazyPattern(source) if known_good else re.compile(source)


# libyaml's parser when PyYAML has it (its wheels do): the rules load 3x
# faster than with the pure-Python one, to the same values and lines. A
# file it rejects is read again by the pure-Python parser, whose syntax
# errors say what it found ("expected ',' or ']', but got ':'").
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_with_lines(text: str, loader=_YAML_LOADER):
    """The document and the line of every mapping key and item in it."""
    try:
        node = yamlcap.compose(text, loader)
    except yaml.YAMLError as e:
        if loader is yaml.SafeLoader or isinstance(e, yamlcap.ExpansionError):
            raise
        return load_with_lines(text, yaml.SafeLoader)
    lines: dict[tuple, int] = {}

    def walk(n, path):
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = k.value
                lines[path + (key,)] = k.start_mark.line + 1
                walk(v, path + (key,))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, path + (i,))

    if node is not None:
        walk(node, ())
    return yaml.load(text, Loader=loader), lines


def line_of(lines: dict, path) -> int:
    path = tuple(path)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def schema_message(e) -> str:
    if e.validator == "additionalProperties":
        allowed = ", ".join(sorted(e.schema.get("properties", {})))
        msg = f"unknown key ({e.message.split('(')[-1].rstrip(')')})" if "(" in e.message else e.message
        return f"{msg}; allowed keys: {allowed}" if allowed else msg
    if e.validator == "enum":
        return f"{e.instance!r} is not one of {', '.join(map(str, e.validator_value))}"
    if e.validator == "type":
        return f"expected {e.validator_value}, got {type(e.instance).__name__} {e.instance!r}"
    return e.message


def schema_problems(doc, lines: dict, schema: Path | dict, rel: str, top_type_message: str | None = None) -> list[str]:
    """Every schema error of `doc` as `rel:line: key/path: message`, in a
    stable order; an unknown key is pointed at itself. `schema`: a schema
    file, or a schema document (conditions.yaml's, built from the rule
    schema's definitions)."""
    import jsonschema    # 50 ms to import; a cached rule set needs none of it
    validator = jsonschema.Draft202012Validator(schema if isinstance(schema, dict) else json.loads(schema.read_text()))
    problems = []
    for e in sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        at = list(e.absolute_path)
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            at += [k for k in e.instance if k not in e.schema.get("properties", {})][:1]
        msg = top_type_message if (top_type_message and e.validator == "type" and not e.absolute_path) \
            else schema_message(e)
        problems.append(f"{rel}:{line_of(lines, at)}: {where}: {msg}")
    return problems


def yaml_problem(e: yaml.YAMLError, rel: str) -> str:
    """A YAML error as `rel:line: ...` (an alias bomb says so)."""
    mark = getattr(e, "problem_mark", None)
    what = "YAML" if isinstance(e, yamlcap.ExpansionError) else "YAML syntax error"
    return f"{rel}:{mark.line + 1 if mark else 1}: {what}: {getattr(e, 'problem', e)}"


@dataclass(frozen=True)
class DataFile:
    """A data file of a rules directory (clashes.yaml, units.yaml), read and
    validated: `problems` empty means `doc` and `lines` can be used."""

    rel: str          # as messages show it
    raw: bytes
    doc: object
    lines: dict
    problems: list

    @property
    def kept(self) -> tuple:
        """What the rules cache keeps of it (see loader.load_ruleset)."""
        return self.doc, self.lines


def read_data_file(directory: Path, name: str, schema: str | dict, default_schema: Path | None, empty,
                   validated=None, top_type_message: str | None = None) -> DataFile | None:
    """DIRECTORY/NAME read and validated against DIRECTORY/SCHEMA (or
    `default_schema`; or `schema` itself when it is a schema document,
    conditions.yaml's); None when there is no such file. An empty document
    is `empty`. `validated`: the (document, lines) an earlier run parsed and
    validated from these bytes (the rules cache): no YAML is read."""
    path = directory / name
    if not path.exists():
        return None
    rel = str(path.relative_to(directory.parent)) if directory.parent in path.parents else str(path)
    raw = path.read_bytes()
    if validated is not None:
        return DataFile(rel, raw, *validated, [])
    try:
        doc, lines = load_with_lines(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        return DataFile(rel, raw, None, {}, [f"{rel}:1: not UTF-8 ({e.reason} at byte {e.start})"])
    except yaml.YAMLError as e:
        return DataFile(rel, raw, None, {}, [yaml_problem(e, rel)])
    if doc is None:
        doc = empty
    if not isinstance(schema, dict):
        schema = directory / schema if (directory / schema).exists() else default_schema
    return DataFile(rel, raw, doc, lines, schema_problems(doc, lines, schema, rel, top_type_message))

