"""Load, validate and compile the rule files of a rules directory.

Every problem is reported as `file:line: what is wrong`, and all files are
checked before giving up, so a rule author sees every mistake at once.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import cachefile, cachekey, yamlcap
from . import documents
from .documents import glob_regex, line_of, schema_message
from .clashes import load_clashes
from ..family import Family, FamilyError, load_family
from .units import load_mined, load_units
from .named import FILE as CONDITIONS_FILE, NamedConditions, load_named
from . import conditions as C


def default_rules_dir() -> Path:
    """The shipped rules: `semantic-rules/` inside the package. In a checkout
    it is a link to the top-level `semantic-rules/` that rule authors edit;
    a wheel holds a copy. Not resolved, so `fixtures/` beside it (also a
    link in a checkout, a copy in a wheel) is found the same way."""
    return Path(__file__).resolve().parent.parent / "semantic-rules"


DEFAULT_RULES = default_rules_dir()
MEANINGS = ("pte", "pg", "logic", "area")


class RuleError(ValueError):
    """One or more rule files are invalid; str() lists them all."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Rename:
    source: str      # identifier or metavariable
    target: str
    scope: str = "function"


@dataclass
class Rule:
    id: str
    path: str
    meaning: str
    reason: str
    priority: int
    strength: str
    tokens: frozenset | None
    language: str
    files: tuple
    ignores: tuple
    match: C.Cond
    where: dict
    rename: Rename | None
    examples_match: tuple
    examples_no_match: tuple
    line: int = 1
    overrides: tuple = ()   # logic rules only: meanings of strong verdicts this rule turns into logic
    area: str | None = None  # area rules only: the review area a site in it belongs to
    withholds: tuple = ()   # area rules only: renames of these meanings the area leaves unknown
    withholds_evidence: str = "weak"   # area rules only: the renames it withholds (weak | inferred)
    specific: bool = False  # the match reads the code, not just the token: may withhold a strong rename
    _files_re: re.Pattern | None = field(default=None, repr=False)
    _ignores_re: re.Pattern | None = field(default=None, repr=False)

    def applies_to_path(self, path: str) -> bool:
        if self._files_re is not None and not self._files_re.match(path):
            return False
        return not (self._ignores_re is not None and self._ignores_re.match(path))


@dataclass
class RuleSet:
    family: Family
    rules: list[Rule]
    directory: Path
    digest: str          # content hash of family + every rule file + clashes.yaml (cache key)
    clashes: tuple = ()  # clashes.Clash entries of clashes.yaml (declared clash resolutions)
    units: object = None  # units.UnitTable of units.yaml (unit inference); None: no inference

    def by_id(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def load_ruleset(directory: Path | None = None, cache_dir: Path | None = None) -> RuleSet:
    """The rules of `directory` (default: the shipped ones), validated and
    compiled. With `cache_dir`, the rule files' parsed and validated YAML
    documents (data, see pgrewrite/cachefile.py) are kept there under a hash
    of every file in the directory and of pgrewrite's own source: a re-run
    compiles them without parsing and validating 70+ YAML files again. A
    rule set with problems is never kept: they are reported every run. Only
    the latest set of each rules directory stays in the cache.

    These documents are compiled as the rules, unchecked, so a cache entry
    is only read when its MAC verifies under the user's own key (cachekey.py,
    kept outside any cache directory): a forged or foreign one is a miss,
    parsed again and replaced, and named in the run's note. Without a key,
    the rules are parsed every run (a note says why)."""
    directory = Path(directory) if directory is not None else DEFAULT_RULES
    if cache_dir is None or not directory.is_dir():
        return _load_ruleset(directory)
    secret, why = cachekey.get()
    if secret is None:
        cachefile.note(f"no cache key ({why}): the rule files are parsed and the tree's files read "
                       f"every run (only results are cached)")
        return _load_ruleset(directory)
    # one set per rules directory is kept: an edited rule replaces it (the
    # result cache's size limit does not count these files)
    # (and per key: users sharing the directory each keep their own)
    place = hashlib.sha256(str(directory.resolve()).encode() + b"\0" + cachekey.tag(secret).encode()).hexdigest()[:16]
    where = Path(cache_dir) / "rules" / f"{place}-{_cache_key(directory)}.rules"
    docs = cachefile.read(where, _documents_from, key=secret)
    if docs is not None:
        documents.known_good = True
        try:
            return _load_ruleset(directory, validated=docs)
        except (RuleError, C.CompileError, _CompileErrors, *cachefile.SHAPE_ERRORS):
            cachefile.note_bad(where, "its rule documents do not compile")
        finally:
            documents.known_good = False
    docs = {}
    ruleset = _load_ruleset(directory, keep=docs)
    try:
        cachefile.write(where, [[rel, doc, [[list(at), line] for at, line in lines.items()]]
                                for rel, (doc, lines) in docs.items()], key=secret)
        for old in where.parent.glob(f"{place}-*"):
            if old != where and old.name.endswith((".rules", ".pickle")):
                old.unlink(missing_ok=True)
    except OSError:
        pass                   # a cache that cannot be written is only slower
    return ruleset


# the key of clashes.yaml's document among the rule files' (not a path)
CLASHES_DOCUMENT = "\0clashes.yaml"
UNITS_DOCUMENT = "\0units.yaml"
MINED_DOCUMENT = "\0units-mined.yaml"
CONDITIONS_DOCUMENT = "\0conditions.yaml"


def _documents_from(rows) -> dict:
    """rel path -> (document, lines) of the rule files (and CLASHES_DOCUMENT, UNITS_DOCUMENT),
    as load_ruleset keeps them."""
    out = {}
    for rel, doc, lines in rows:
        if type(rel) is not str or type(doc) is not (list if rel == CLASHES_DOCUMENT else dict):
            raise TypeError("not a rule document")
        out[rel] = (doc, {tuple(at): line for at, line in lines})
    return out


@functools.cache
def engine_digest() -> str:
    """A hash of pgrewrite's own source: what other code compiled or
    analysed (cached rule sets, cached results) is not reused."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for p in sorted(package.rglob("*.py")):
        h.update(str(p.relative_to(package)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _cache_key(directory: Path) -> str:
    h = hashlib.sha256(str(directory.resolve()).encode() + b"\0" + engine_digest().encode() + b"\0")
    for p in sorted(p for p in directory.rglob("*") if p.is_file()):
        h.update(str(p.relative_to(directory)).encode() + b"\0" + p.read_bytes() + b"\0")
    if not (directory / "schema.json").exists():
        h.update((DEFAULT_RULES / "schema.json").read_bytes())
    h.update((DEFAULT_RULES / "clashes.schema.json").read_bytes())
    return h.hexdigest()[:40]


def _load_ruleset(directory: Path, validated: dict | None = None, keep: dict | None = None) -> RuleSet:
    """`validated`: rel -> (document, lines) of rule files parsed and
    validated by an earlier run (load_ruleset's cache; the documents of
    exactly these bytes): they are compiled without reading YAML again.
    `keep`, if given, gets every rule file's (document, lines)."""
    problems: list[str] = []
    if not directory.is_dir():
        raise RuleError([f"{directory}: rules directory does not exist (pass --rules DIR)"])
    try:
        family = load_family(directory / "family.yaml")
    except FamilyError as e:
        raise RuleError([str(e)]) from e
    schema = json.loads((directory / "schema.json").read_text()) if (directory / "schema.json").exists() \
        else json.loads((DEFAULT_RULES / "schema.json").read_text())
    if validated is None:
        import jsonschema    # 50 ms to import; validated documents need none of it
        validator = jsonschema.Draft202012Validator(schema)
    digest = hashlib.sha256((directory / "family.yaml").read_bytes())
    cached = validated or {}
    named, named_problems, named_raw, named_doc = load_named(directory, schema, cached.get(CONDITIONS_DOCUMENT))
    if named is not None:
        named_problems += _compile_named(named, family)
    problems += named_problems
    if named_raw:
        digest.update(b"conditions.yaml\0" + named_raw)
    if keep is not None and named_doc is not None:
        keep[CONDITIONS_DOCUMENT] = named_doc
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in sorted(p for p in directory.rglob("*.yaml") if p.name not in ("family.yaml", "clashes.yaml", "units.yaml",
                                                                                 "units-mined.yaml", CONDITIONS_FILE)):
        rel = str(path.relative_to(directory.parent)) if directory.parent in path.parents else str(path)
        shown = _shown(path)      # what problems print: editors jump to it from the cwd
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw)
        rule_id = path.stem
        if rule_id in seen:
            problems.append(f"{shown}:1: duplicate rule id {rule_id!r} (also {seen[rule_id]}); ids are file names and must be unique")
            continue
        seen[rule_id] = shown
        if validated is not None:
            doc, lines = validated[rel]     # KeyError: not the cached set after all
            rules.append(_compile_rule(rule_id, rel, doc, lines, family, named))
            continue
        try:
            doc, lines = documents.load_with_lines(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            problems.append(f"{shown}:1: not UTF-8 ({e.reason} at byte {e.start})")
            continue
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            ctx = getattr(e, "context_mark", None)
            opened = f" ({e.context} at line {ctx.line + 1})" if ctx is not None and getattr(e, "context", None) else ""
            what = "YAML" if isinstance(e, yamlcap.ExpansionError) else "YAML syntax error"
            problems.append(f"{shown}:{line}: {what}: {getattr(e, 'problem', e)}{opened}")
            continue
        if not isinstance(doc, dict):
            problems.append(f"{shown}:1: a rule file must be a YAML mapping")
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
        if errors:
            for e in errors:
                where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
                at = list(e.absolute_path)
                if e.validator == "additionalProperties" and isinstance(e.instance, dict):
                    extra = [k for k in e.instance if k not in e.schema.get("properties", {})]
                    at += extra[:1]       # point at the unknown key itself
                problems.append(f"{shown}:{line_of(lines, at)}: {where}: {schema_message(e)}")
            problems += [f"{shown}:{line_of(lines, at)}: {'/'.join(map(str, at))}: {msg}"
                         for at, msg in _bad_regexes(doc)]
            continue
        if keep is not None:
            keep[rel] = (doc, lines)
        try:
            rules.append(_compile_rule(rule_id, rel, doc, lines, family, named))
        except _CompileErrors as errors:
            problems += [f"{shown}:{line_of(lines, e.path)}: {'/'.join(map(str, e.path))}: {e.message}"
                         for e in errors.errors]
    clashes, clash_problems, clash_raw, clash_doc = load_clashes(
        directory, family, DEFAULT_RULES / "clashes.schema.json", cached.get(CLASHES_DOCUMENT))
    units, unit_problems, unit_raw, unit_doc = load_units(
        directory, DEFAULT_RULES / "units.schema.json", cached.get(UNITS_DOCUMENT))
    mined_problems, mined_raw, mined_doc = load_mined(
        directory, DEFAULT_RULES / "units.schema.json", units, cached.get(MINED_DOCUMENT))
    for key, name, raw, doc, more in ((CLASHES_DOCUMENT, b"clashes.yaml", clash_raw, clash_doc, clash_problems),
                                      (UNITS_DOCUMENT, b"units.yaml", unit_raw, unit_doc, unit_problems),
                                      (MINED_DOCUMENT, b"units-mined.yaml", mined_raw, mined_doc, mined_problems)):
        problems += more
        if raw:
            digest.update(name + b"\0" + raw)
        if keep is not None and doc is not None:
            keep[key] = doc
    if problems:
        raise RuleError(problems)
    return RuleSet(family=family, rules=rules, directory=directory, digest=digest.hexdigest(),
                   clashes=clashes, units=units)


class _CompileErrors(Exception):
    """All the problems found in one rule file."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = list(errors)


# bad regexes found while one rule compiles: all of a file's are reported at
# once (a placeholder that never matches stands in, so compiling goes on)
_BAD_REGEXES: list | None = None
_NEVER = re.compile(r"(?!)")


def _regex(value: str, path) -> re.Pattern:
    try:
        return documents.pattern(value)
    except re.error as e:
        error = C.CompileError(path, f"bad regular expression {value!r}: {e}")
        if _BAD_REGEXES is None:
            raise error from e
        _BAD_REGEXES.append(error)
        return _NEVER


def _bad_regexes(doc, path=()) -> list[tuple[tuple, str]]:
    """(path, message) of each regular expression of a rule that does not
    compile, found in its data alone (a file with schema errors is not
    compiled, and must not hide them)."""
    out = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        at = path + (key,)
        inner = getattr(C.CONDITIONS.get(key), "regex_at", None)   # where the condition's regex is
        regex = value.get(inner[0]) if inner and isinstance(value, dict) else value
        if inner is not None and isinstance(regex, str):
            try:
                re.compile(regex)
            except re.error as e:
                out.append((at + inner, f"bad regular expression {regex!r}: {e}"))
        elif isinstance(value, (dict, list)):
            out += _bad_regexes(value, at)
    return out


def _shown(path: Path) -> str:
    """A rule file's path as problems print it: relative to the working
    directory when it is below it, else absolute."""
    full = os.path.abspath(path)
    rel = os.path.relpath(full)
    return full if rel.startswith("..") else rel


def _compile_named(table: NamedConditions, family: Family) -> list[str]:
    """Problems of the named conditions, each compiled where it can be used
    (at a site, at a node, or both): one that compiles in neither place is
    reported at its entry in conditions.yaml. Those that compile are kept
    for the rules that use them."""
    problems = []
    for name, doc in table.docs.items():
        errors = []
        for mode in ("site", "node"):
            compiling = C.Compiling(family.names, "c", _regex, named=table, using=(name,))
            try:
                table.compiled[(name, mode, "c")] = C.compile_cond(doc, (name, "condition"), mode, compiling)
            except C.CompileError as e:
                errors.append(e)
        if len(errors) == 2:
            e = min(errors, key=lambda e: "cannot be used" in e.message)   # the error that is not about the place
            problems.append(f"{table.rel}:{line_of(table.file_lines, e.path)}: {'/'.join(map(str, e.path))}: {e.message}")
    return problems


def _compile_rule(rule_id, rel, doc, lines, family: Family, named: NamedConditions | None = None) -> Rule:
    """The compiled rule, or _CompileErrors with every problem found."""
    global _BAD_REGEXES
    _BAD_REGEXES = []
    try:
        rule = _compile_rule_once(rule_id, rel, doc, lines, family, named)
    except C.CompileError as e:
        raise _CompileErrors([e, *_BAD_REGEXES]) from None
    finally:
        bad, _BAD_REGEXES = _BAD_REGEXES, None
    if bad:
        raise _CompileErrors(bad)
    return rule


def _compile_rule_once(rule_id, rel, doc, lines, family: Family, named: NamedConditions | None) -> Rule:
    names = family.names
    tokens = doc.get("tokens")
    for i, t in enumerate(tokens or ()):
        if t not in names:
            raise C.CompileError(("tokens", i), f"{t!r} is not a family name ({', '.join(names)})")
    language = doc.get("language", "c")
    C.check_where_vars(doc.get("where"), C.bound_metavars(doc["match"]), ("where",))
    compiling = C.Compiling(names, language, _regex, named=named)
    match = C.compile_cond(doc["match"], ("match",), "site", compiling)
    where = {var: C.compile_cond(c, ("where", var), "node", compiling) for var, c in (doc.get("where") or {}).items()}
    overrides = tuple(doc.get("overrides", ()))
    meaning = doc["meaning"]
    if overrides and meaning != "logic":
        raise C.CompileError(("overrides",), "only a logic rule can override other verdicts")
    # the meaning directory (pte/, pg/, logic/), also for a file in a subdirectory of it
    folder = next((d for d in Path(rel).parts[1:-1] if d in MEANINGS), None)
    if folder in MEANINGS and folder != meaning:
        raise C.CompileError(("meaning",), f"meaning {meaning!r} in a rule under {folder}/: "
                                          f"move the file to {meaning}/ or fix its meaning")
    if meaning == "logic" and doc.get("files"):
        raise C.CompileError(("files",), "a logic rule cannot be limited to a list of paths: where code lives "
                                        "is not evidence that it mixes units; make it an area rule "
                                        "(meaning: area, area: NAME), and keep logic for what the code does")
    if meaning == "area" and "area" not in doc:
        raise C.CompileError(("meaning",), "an area rule needs `area: NAME` (e.g. hw-interface)")
    if meaning != "area" and ("area" in doc or "withholds" in doc or "withholds-evidence" in doc):
        key = next(k for k in ("area", "withholds", "withholds-evidence") if k in doc)
        raise C.CompileError((key,), f"`{key}` belongs to area rules (meaning: area) only")
    if "withholds-evidence" in doc and "withholds" not in doc:
        raise C.CompileError(("withholds-evidence",), "`withholds-evidence` says which renames `withholds` "
                                                      "leaves unknown: give `withholds` too")
    rename = None
    if "rename" in doc:
        r = doc["rename"]
        if r["to"] in family.replacements or r["to"] in names:
            raise C.CompileError(("rename", "to"), f"cannot rename an identifier to the family name {r['to']!r}")
        rename = Rename(r["from"], r["to"], r.get("scope", "function"))
    ex = doc["examples"]
    return Rule(
        id=rule_id, path=rel, meaning=doc["meaning"], reason=doc["reason"].strip(),
        priority=int(doc.get("priority", 50)), strength=doc.get("strength", "strong"),
        tokens=frozenset(tokens) if tokens else None, language=language,
        files=tuple(doc.get("files", ())), ignores=tuple(doc.get("ignores", ())),
        match=match, where=where, rename=rename,
        examples_match=tuple(ex["match"]), examples_no_match=tuple(ex["no-match"]),
        line=lines.get((), 1), overrides=overrides,
        area=doc.get("area"), withholds=tuple(doc.get("withholds", ())),
        withholds_evidence=doc.get("withholds-evidence", "weak"),
        specific=match.reads_code or bool(doc.get("where")),
        _files_re=glob_regex(doc.get("files")), _ignores_re=glob_regex(doc.get("ignores")),
    )
