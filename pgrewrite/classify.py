"""Rules -> one verdict per site, with the evidence that led to it.

The policy (documented in semantic-rules/README.md):
1. Sites the rules cannot judge are skipped first: #if conditions,
   definitions of the family itself, other directives, token pasting,
   regions tree-sitter could not parse, assembly without an asm rule.
2. Strong rules decide. Among the strong rules that match, the highest
   priority wins; equal priority with different meanings is a conflict.
   A logic rule that lists the winning meaning in `overrides` (weak or
   strong) turns that decision into a flag: e.g. a one-page buffer (PG)
   in hypervisor interface code, where the page is a 4K frame by ABI.
3. Without a strong match, weak rules may decide together: any weak logic
   signal flags the site; otherwise two or more weak rules that agree
   decide, one alone leaves the site unknown (unless it is a `context`
   rule: a weak signal that may decide alone), disagreement is a conflict.
4. Area rules (`meaning: area`) never decide: they say where the code
   lives (a hypervisor interface, a sanitizer, placement policy), which
   reports show and sort the worklist by. An area that `withholds` a
   meaning leaves such a rename `unknown` with the area's reason: a weak
   decision always, a strong one only when the area rule reads the code at
   the site (a path list is not counter-evidence to a strong rule).
5. A rename whose new name is already defined where the site can see it
   (a name collision) is skipped, naming the definition.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Context, Decision, Edit, RuleMatch, Verdict
from .nodes import DECLARATOR_WRAPPERS, declared
from .parsing import nodes_of_kinds
from .inference import Evidence, Inference
from .lex import Lexer
from .rules import conditions as C
from .rules import literals
from .rules.loader import Rule, RuleSet
from .rules.pattern import Matcher
from .rules.symbols import SymbolCache, enclosing
from .sites import FoundSite, ParsedFile

_ARCH_INCLUDE = re.compile(r"(^|/)arch/[^/]+/include/")
SKIP_REASONS = {
    Context.CONDITION: "preprocessor condition: #if/#ifdef on the family needs a human",
    Context.DEFINITION: "definition of the family name itself: stays while PTE_SIZE == PG_SIZE",
}


@dataclass
class Classifier:
    ruleset: RuleSet

    def __post_init__(self):
        fam = self.ruleset.family
        self.matcher = Matcher({n: fam.equivalents(n) for n in fam.names})
        self._by_token = {n: [r for r in self.ruleset.rules if r.tokens is None or n in r.tokens]
                          for n in fam.names}
        # what a rule's match needs in the text around the site (see region_needs)
        self._needs = {r.id: literals.screened(literals.as_bytes(rule_needs(r))) for r in self.ruleset.rules}

    def rules_for(self, found: FoundSite, memo: dict | None = None) -> list[Rule]:
        """The rules tried at a site (by token, language and path); `memo`:
        a dict kept for one file, where the answer only depends on the token
        and the language."""
        language = "asm" if found.site.context is Context.ASM_FILE else "c"
        key = (found.site.token, language)
        if memo is not None and key in memo:
            return memo[key]
        rules = [r for r in self._by_token.get(found.site.token, ())
                 if r.language == language and r.applies_to_path(found.site.path)]
        if memo is not None:
            memo[key] = rules
        return rules

    def unit_facts(self, data: bytes, path: str | None = None) -> Inference | None:
        """What `unit:` conditions consult in one file (no table: nothing);
        `path`: the file's, whose static functions are file-local in a .c file."""
        table = self.ruleset.units
        return Inference(table, self.ruleset.family, data, path=path) if table is not None else None

    def evaluate(self, rule: Rule, env: C.Env):
        """Bindings if `rule` matches the site in `env`, else None."""
        b = rule.match.site(env, {}) if env.site.node is not None or rule.language == "asm" else None
        return None if b is None else C.check_where(env, rule.where, b)

    def classify(self, parsed: ParsedFile, collisions: dict[str, str], unknown_as: str | None = None,
                 check=None):
        """Decisions and edits for one parsed file; `check()` is called
        before each site (the per-file budget: it raises to stop)."""
        fam = self.ruleset.family
        decisions, edits, notes = [], [], []
        renamed_functions: set[tuple] = set()
        own = self._own_definition(parsed)
        # for `unit:` conditions: what the table says, before any rule decided
        units = self.unit_facts(parsed.data, parsed.path)
        judged = self._judge(parsed, units, check)
        decided = strong_decisions(judged)
        # unit inference reads the strong rule decisions of the file's other
        # sites as facts (a PAGE_SIZE a rule called pg, stored in `len`...)
        if units is not None:
            units.know(decided)
        for found, skip, matches, winner_bindings, verdict, rule_id, reason in judged:
            site = found.site
            if skip is None:
                if units is not None and site.context in (Context.CODE, Context.MACRO):
                    evidence = units.evidence(found.node, site.token, scope=found.scope)
                    if not evidence and site.context is Context.MACRO:
                        evidence = units.through_macro(found, parsed)
                    verdict, rule_id, reason, matches = with_units(matches, evidence, verdict, rule_id, reason)
                verdict, rule_id, reason = with_area(matches, verdict, rule_id, reason)
            area, area_reason = area_of(matches)
            if skip is not None:
                decisions.append(Decision(site, Verdict.SKIPPED, None, None, skip, matches, area, area_reason))
                continue
            replacement = fam.replacement(site.token, verdict.value) if verdict in (Verdict.PTE, Verdict.PG) else None
            if replacement is not None and own is not None:
                reason = (f"the file defines {own} itself (outside arch/*/include/, so it is also built "
                          f"without the kernel's headers, where {replacement} does not exist); "
                          f"rules say {verdict.value} ({rule_id})")
                decisions.append(Decision(site, Verdict.SKIPPED, None, rule_id, reason, matches, area, area_reason))
                continue
            if replacement is not None and replacement in collisions:
                reason = (f"name collision: {replacement} is already defined at {collisions[replacement]}; "
                          f"rules say {verdict.value} ({rule_id}); resolve the clash first")
                decisions.append(Decision(site, Verdict.SKIPPED, None, rule_id, reason, matches, area, area_reason))
                continue
            decisions.append(Decision(site, verdict, replacement, rule_id, reason, matches, area, area_reason))
            if replacement is not None:
                edits.append(Edit(site.start, site.end, site.token, replacement, rule_id, "family", verdict.value))
                for rid in (rule_id or "").split("+"):
                    rule = self.ruleset.by_id(rid) if rid != UNITS else None
                    if rule is not None and rule.rename is not None:
                        edits.extend(self._rename(parsed, found, rule, winner_bindings.get(rid, {}), renamed_functions, notes))
            elif verdict is Verdict.UNKNOWN and unknown_as in ("pg", "pte"):
                new = fam.replacement(site.token, unknown_as)
                if new not in collisions:
                    edits.append(Edit(site.start, site.end, site.token, new, None, "family", f"{unknown_as}-default"))
        if units is not None:
            units.close()
        return decisions, sorted(edits), notes

    def _judge(self, parsed: ParsedFile, units, check=None) -> list[tuple]:
        """What the rules say at each site, before unit inference: (found,
        skip reason, matches, winner's bindings, verdict, rule id, reason)."""
        symbols = SymbolCache()
        self.matcher.new_file()
        memo: dict = {}     # condition results per node, shared by the file's sites
        tried: dict = {}
        judged = []
        for found in parsed.sites:
            if check is not None:
                check()
            site = found.site
            skip = self._skip_reason(found)
            matches, winner_bindings, verdict, rule_id, reason = (), {}, None, None, ""
            if skip is None or site.context is Context.ASM_FILE:
                env = C.Env(parsed.path, parsed.data, found, self.matcher, symbols, memo=memo, units=units)
                found_matches = []
                bindings = {}
                region = None           # the site's top-level item, when first needed
                for rule in self.rules_for(found, tried):
                    need = self._needs[rule.id]
                    if need and found.node is not None:
                        if region is None:
                            region = _region(env)
                        # the answer is the same for every site of the item
                        key = ("region-needs", region.id, rule.id)
                        ok = memo.get(key)
                        if ok is None:
                            ok = memo[key] = C._may_contain(C.node_text(region, memo), need)
                        if not ok:
                            continue    # no node it could look at has the text it needs
                    b = self.evaluate(rule, env)
                    if b is not None:
                        found_matches.append((rule, b))
                        bindings[rule.id] = b
                matches = tuple(RuleMatch(r.id, r.meaning, r.priority, r.strength, r.reason, r.overrides,
                                          r.area, r.withholds, r.specific, r.withholds_evidence)
                                for r, _ in found_matches)
                if any(m.meaning != "area" for m in matches) or skip is None:
                    skip = None
                    verdict, rule_id, reason = combine(matches)
                    winner_bindings = bindings
            judged.append((found, skip, matches, winner_bindings, verdict, rule_id, reason))
        return judged

    def strong_decisions(self, parsed: ParsedFile) -> dict[int, str]:
        """Site start -> pte|pg of the file's strong rule decisions: what
        unit inference reads as facts (mining.py reads a file as the scan does)."""
        return strong_decisions(self._judge(parsed, self.unit_facts(parsed.data, parsed.path)))

    def _own_definition(self, parsed: ParsedFile) -> str | None:
        """A constant of the family (PAGE_SIZE, not PAGE_ALIGN()) that the file
        #defines itself, outside the arch headers that normally define them:
        such files (include/linux/raid/pq.h) are also built in user space."""
        if _ARCH_INCLUDE.search(parsed.path):
            return None
        fam = self.ruleset.family
        for f in parsed.sites:
            if f.site.context is Context.DEFINITION and not fam.member(f.site.token).function_like \
                    and parsed.data[:f.site.start].rstrip().endswith((b"define", b"DEFINE")):
                return f.site.token
        return None

    def _skip_reason(self, found: FoundSite) -> str | None:
        site = found.site
        if site.context in SKIP_REASONS:
            return SKIP_REASONS[site.context]
        if site.context is Context.DIRECTIVE:
            return "inside a preprocessor directive other than #define (#undef, #error, #pragma, ...)"
        if site.pasted:
            return "token pasting or stringification (## / #) next to the name"
        if site.parse_error:
            return "tree-sitter could not parse this region cleanly"
        if site.context is Context.ASM_FILE:
            return "assembly file: no asm rule decided this site"
        if found.node is not None and found.node.type == "field_identifier":
            return "a struct member of the same name, not a use of the macro"
        if self.ruleset.family.member(site.token).function_like and site.context is Context.CODE:
            line = _variable_named_so(found)
            if line is not None:
                return (f"a parameter or variable of the same name (declared on line {line}), not a use of the macro: "
                        f"{site.token}() is a function-like macro, expanded only before a `(`")
        return None

    def _rename(self, parsed: ParsedFile, found: FoundSite, rule: Rule, bindings: dict, done: set, notes: list):
        """Edits for a rule's declared scoped identifier rename."""
        source = rule.rename.source
        if source.startswith("$"):
            node = bindings.get(source)
            if node is None or isinstance(node, tuple) or C._unwrap(node).type != "identifier":
                notes.append(f"{found.site.path}:{found.site.line}: rule {rule.id}: {source} is not bound to a name; rename skipped")
                return []
            source = C._unwrap(node).text.decode()
        fn = found.node
        while fn is not None and fn.type != "function_definition":
            fn = found.scope.parent(fn)
        if fn is None or found.scope.macro is not None:
            notes.append(f"{found.site.path}:{found.site.line}: rule {rule.id}: rename of {source!r} needs a function; skipped")
            return []
        key = (fn.start_byte, source)
        if key in done:
            return []
        done.add(key)
        target = rule.rename.target
        idents, clash = [], False
        stack = [fn]
        while stack:
            n = stack.pop()
            if n.type == "identifier" and n.child_count == 0:
                text = n.text
                if text == source.encode():
                    idents.append(n)
                elif text == target.encode():
                    clash = True
            stack.extend(n.children)
        where = f"{found.site.path}:{found.site.line}: rule {rule.id}: rename {source} -> {target} in {found.site.function}"
        if clash:
            notes.append(f"{where}: {target!r} is already used there; rename skipped")
            return []
        if fn.has_error:
            notes.append(f"{where}: the function has parse errors; rename skipped")
            return []
        raw = parsed.data[fn.start_byte:fn.end_byte]
        lexer_count = _count_code_word(raw, source)
        if lexer_count != len(idents):
            notes.append(f"{where}: {lexer_count - len(idents)} use(s) hidden in macros or directives; rename skipped")
            return []
        return [Edit(n.start_byte, n.end_byte, source, target, rule.id, "identifier") for n in idents]


def rule_needs(rule: Rule) -> literals.Requirement:
    """What the text of a site's top-level item must contain for `rule` to
    match there: its match's region_needs, and what the rule's `where`
    needs of a metavariable one pattern of the match binds (where
    requires it bound, so that pattern matched in the region)."""
    fresh = C.metavars_bound_once(rule.match)
    return literals.clauses([*region_needs(rule.match, fresh),
                             *(c for var, w in rule.where.items() if var in fresh for c in w.text_needs())])


def region_needs(cond, fresh: frozenset | None = None) -> literals.Requirement:
    """Strings (rules/literals.py clauses) that the text of a site's
    top-level item (the function, declaration or macro body statement
    holding it: see _region) must contain for `cond` to hold at the
    site. Only conditions that look at the site's ancestors, their
    descendants and their text have any: a site pattern (matched at the
    site's ancestors), `inside`, `inside-call`; () means nothing is known.
    A pattern's `where` on a metavariable only it binds (`fresh`: those of
    the rule whose condition `cond` is) adds what that condition needs of
    the bound node's text: the node lies in what the pattern matched. (A
    metavariable another pattern may have bound first is compared, not
    bound, and can stand for a node elsewhere.)"""
    if fresh is None:
        fresh = C.metavars_bound_once(cond)
    if isinstance(cond, C.All):
        return literals.clauses([c for item in cond.items for c in region_needs(item, fresh)])
    if isinstance(cond, C.Any) and cond.items:
        firsts = [literals.strongest(region_needs(item, fresh)) for item in cond.items]
        if all(f is not None for f in firsts):
            return literals.clauses([literals.union(firsts)])
        return ()
    if isinstance(cond, C.Inside) and cond.cond is not None:
        cond = cond.cond
        if not isinstance(cond, C.PatternCond):
            return cond.text_needs()
    if isinstance(cond, C.PatternCond):
        own = C.pattern_metavars(cond.pattern)
        return literals.clauses([*cond.text_needs(), *(c for var, w in cond.where.items()
                                                      if var in fresh and var in own for c in w.text_needs())])
    if isinstance(cond, C.InsideCall):
        return literals.required(cond.name)
    return ()


def _region(env: C.Env):
    """The outermost ancestor of the site below its scope's root (or the
    leaf itself): every node a site condition looks at (its ancestors up to
    that root, their descendants) lies in it."""
    up = C.site_ancestors(env)
    return up[-1][0] if up else env.site.node


def _count_code_word(raw: bytes, word: str) -> int:
    lexed = Lexer([word]).lex(raw)
    return len(lexed.words) + sum(len(d.words) for d in lexed.directives)


def area_of(matches) -> tuple[str | None, str]:
    """The review area of a site: the area rule of highest priority (then id)."""
    areas = sorted((m for m in matches if m.meaning == "area"), key=lambda m: (-m.priority, m.rule))
    return (areas[0].area, areas[0].reason) if areas else (None, "")


def with_area(matches, verdict: Verdict, rule_id: str | None, reason: str) -> tuple[Verdict, str | None, str]:
    """Policy step 4: an area that withholds the decided meaning leaves the
    site unknown (a strong decision only for a rule that reads the code)."""
    if verdict not in (Verdict.PTE, Verdict.PG):
        return verdict, rule_id, reason
    strong = _strong(matches, rule_id)
    # inference alone: no rule of the decided meaning matched (units.yaml's
    # chain is the only evidence; a context rule that agrees is a rule's)
    inferred = rule_id == UNITS and not any(m.meaning == verdict.value and m.rule != UNITS for m in matches)
    holds = sorted((m for m in matches if m.meaning == "area" and verdict.value in m.withholds
                    and (m.specific or not strong) and (m.withholds_evidence == "weak" or inferred)),
                   key=lambda m: (-m.priority, m.rule))
    if not holds:
        return verdict, rule_id, reason
    h = holds[0]
    return (Verdict.UNKNOWN, None,
            f"review area {h.area} ({h.rule}): {h.reason}; the rules say {verdict.value} ({rule_id}), "
            "which this area does not let stand without a person")


UNITS = "units"   # the rule id of a decision unit inference made


def _variable_named_so(found: FoundSite) -> int | None:
    """The line of the declaration of a parameter or variable named as the
    site's token (nand_base.c's `unsigned int offset_in_page`), in the
    site's function or at file scope, when the site is not a call; else
    None. Such a name is never the macro, and never renamed."""
    n, scope = found.node, found.scope
    if n is None or n.type != "identifier" or scope is None or scope.macro is not None:
        return None
    up = scope.parent(n)
    if up is not None and up.type == "call_expression" and up.child_by_field_name("function") == n:
        return None
    name = n.text.decode()
    decl = up
    while decl is not None and decl.type in DECLARATOR_WRAPPERS:
        decl = scope.parent(decl)
    if decl is not None and decl.type == "parameter_declaration" and declared(decl)[0] == name:
        return decl.start_point[0] + 1          # a parameter, also of a prototype
    fn = enclosing(up, ("function_definition",), scope) if up is not None else None
    decls = []
    if fn is not None:
        found_kinds = nodes_of_kinds(fn, ("parameter_declaration", "declaration"))
        decls = [*found_kinds.get("parameter_declaration", ()), *found_kinds.get("declaration", ())]
    top = scope.top if scope.top is not None else scope.root
    decls += [c for c in top.children if c.type == "declaration"]
    for decl in sorted(decls, key=lambda d: d.start_byte):
        for d in decl.children_by_field_name("declarator"):
            if declared(decl, d)[0] == name:
                return decl.start_point[0] + 1
    return None


def strong_decisions(judged) -> dict[int, str]:
    """Site start -> pte|pg of the sites a strong rule decided (Classifier._judge's rows)."""
    return {j[0].site.start: j[4].value for j in judged
            if j[1] is None and j[4] in (Verdict.PTE, Verdict.PG) and _strong(j[2], j[5])}


def _context(matches, rule_id) -> bool:
    """The decision is a context rule's (a weak signal that decided alone)."""
    return any(m.rule == rule_id and m.strength == "context" for m in matches)


def _strong(matches, rule_id) -> bool:
    winners = set((rule_id or "").split("+"))
    return any(m.rule in winners and m.strength == "strong" for m in matches)


def with_units(matches, evidence: list[Evidence], verdict: Verdict, rule_id, reason):
    """Policy step 4 (semantic-rules/README.md): unit inference. Evidence for both granularities is a
    logic site (a PTE-derived and a PG-derived value meet). Evidence for one
    decides a site the rules left unknown (unless a weak signal says the
    other), and turns a rule's decision the other way into a conflict."""
    grans = sorted({e.gran for e in evidence})
    if not grans:
        return verdict, rule_id, reason, matches
    def chain(g):
        return next(e.chain for e in evidence if e.gran == g)
    if len(grans) == 2:
        pte, pg = chain('pte'), chain('pg')
        why = f"PTE and PG units meet: {pte}" + (f"; but {pg}" if pg != pte else "")
        m = RuleMatch(UNITS, "logic", 0, "inferred", why)
        if verdict in (Verdict.LOGIC, Verdict.CONFLICT):
            return verdict, rule_id, reason, matches + (m,)
        return Verdict.LOGIC, UNITS, why, matches + (m,)
    g = grans[0]
    why = f"units: {chain(g)}"
    m = RuleMatch(UNITS, g, 0, "inferred", why)
    matches = matches + (m,)
    if verdict in (Verdict.PTE, Verdict.PG):
        if verdict.value == g:
            if _context(matches, rule_id):
                return verdict, UNITS, why, matches    # the derivation says more than where the code is
            return verdict, rule_id, reason, matches
        return Verdict.CONFLICT, None, f"{rule_id} says {verdict.value} ({reason}); but {why}", matches
    if verdict is not Verdict.UNKNOWN:
        return verdict, rule_id, reason, matches
    other = sorted(x.rule for x in matches if x.meaning in ("pte", "pg") and x.meaning != g and x.rule != UNITS)
    if other:
        return Verdict.CONFLICT, None, f"weak signal {other[0]} disagrees with {why}", matches
    return Verdict(g), UNITS, why, matches


def combine(matches) -> tuple[Verdict, str | None, str]:
    """The evidence policy: see the module docstring."""
    matches = tuple(m for m in matches if m.meaning != "area")
    if not matches:
        return Verdict.UNKNOWN, None, "no rule decided this site"
    strong = [m for m in matches if m.strength == "strong"]
    if strong:
        top = max(m.priority for m in strong)
        tops = sorted((m for m in strong if m.priority == top), key=lambda m: m.rule)
        meanings = {m.meaning for m in tops}
        if len(meanings) == 1:
            meaning = tops[0].meaning
            over = sorted((m for m in matches if m.meaning == "logic" and meaning in m.overrides), key=lambda m: m.rule)
            if over:
                return Verdict.LOGIC, over[0].rule, f"{over[0].reason} (overrides {tops[0].rule}, which says {meaning})"
            return Verdict(meaning), tops[0].rule, tops[0].reason
        said = ", ".join(f"{m.rule} ({m.meaning})" for m in tops)
        return Verdict.CONFLICT, None, f"rules of equal priority {top} disagree: {said}"
    weak = sorted(matches, key=lambda m: m.rule)
    logic = [m for m in weak if m.meaning == "logic"]
    if logic:
        return Verdict.LOGIC, logic[0].rule, logic[0].reason
    meanings = {m.meaning for m in weak}
    if len(meanings) > 1:
        said = ", ".join(f"{m.rule} ({m.meaning})" for m in weak)
        return Verdict.CONFLICT, None, f"weak signals disagree: {said}"
    plain = [m for m in weak if m.strength == "weak"]
    if len(plain) >= 2:
        return Verdict(weak[0].meaning), "+".join(m.rule for m in plain), "weak signals agree: " + "; ".join(m.reason for m in plain)
    context = [m for m in weak if m.strength == "context"]
    if context:       # a weak signal that may decide alone
        return Verdict(context[0].meaning), context[0].rule, context[0].reason
    m = weak[0]
    return Verdict.UNKNOWN, None, f"only one weak signal ({m.rule}: {m.meaning}); a second one is needed to decide"
