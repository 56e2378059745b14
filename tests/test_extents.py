"""Buffer extents (pgrewrite/extents.py): the (pointer, length) convention,
one-page buffers handed to file-local functions, lengths written into a
page. Each step and refusal has a fixture in fixtures/units/drivers/base/
(snapshots); these tests pin the chain a reader sees, the units.yaml
section the convention reads (`not-lengths`), and what the fixtures cannot
show (the reasons as text, a table without the section)."""
from __future__ import annotations

import shutil
import textwrap

import pytest

from pgrewrite import api
from pgrewrite.classify import UNITS
from pgrewrite.rules.loader import RuleError, load_ruleset

from .conftest import REPO
from .test_inference import verdicts
from .test_rule_language import rules_dir

SHOW = """\
static ssize_t fx_show(struct device *dev, struct device_attribute *attr, char *buf)
{
        return fx_print(dev, buf, PAGE_SIZE - 1);
}
"""


def reasons(code: str, path: str = "drivers/x.c") -> list[tuple[int, str, str]]:
    r = api.scan_bytes(path, textwrap.dedent(code).encode(), api.load_rules())
    return [(d.site.line, d.verdict.value, d.reason) for d in r.decisions]


def test_the_length_after_a_page_buffer_is_pg_whatever_the_callee():
    ((line, verdict, reason),) = reasons(SHOW)
    assert (line, verdict) == (3, "pg")
    assert "bounds buf as the length after it in fx_print(): buf: a sysfs show() buffer is one page" in reason


def test_explain_gives_the_convention_step_by_step(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pgrewrite.cli import cli
    (tmp_path / "drivers").mkdir()
    (tmp_path / "drivers" / "x.c").write_text(textwrap.dedent(SHOW))
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["explain", "drivers/x.c:3"])
    assert r.exit_code == 0, r.output
    steps = r.output.split("step by step:")[1].splitlines()
    assert steps[1].strip() == "- bounds buf as the length after it in fx_print()"
    assert steps[2].strip() == "- buf"


@pytest.mark.parametrize("call", [
    "fx_print(dev, buf + 4, PAGE_SIZE)",          # offset, but the whole page
    "fx_print(dev, buf, 2 * PAGE_SIZE)",          # not one page
    "PTR_ALIGN(buf, PAGE_SIZE)",                  # units.yaml not-lengths: an alignment
    "fx_print(dev, buf, PAGE_SIZE - fx_n(dev))",  # PAGE_SIZE - n, n of no known unit
])
def test_the_convention_refuses(call):
    code = SHOW.replace("fx_print(dev, buf, PAGE_SIZE - 1)", call)
    assert deciders(code) in (["unknown"], [SHOW_CONTEXT])
    # the show() function's context (a weak signal that decides alone) may
    # still decide, but inference does not: where it agrees with a context
    # rule, the decision is inference's (rule `units`)
    assert UNITS not in deciders(code)


# pg-show-buffer-bound: the context of a show() function decides its plain
# PAGE_SIZEs where inference refuses (semantic-rules/pg/pg-show-buffer-bound.yaml)
SHOW_CONTEXT = "pg-show-buffer-bound"


def deciders(code: str, path: str = "drivers/x.c") -> list[str]:
    """Per site: the rule that decided it, or "unknown"."""
    r = api.scan_bytes(path, textwrap.dedent(code).encode(), api.load_rules())
    return [d.rule if d.verdict.value != "unknown" else "unknown" for d in r.decisions]


def test_a_parameter_every_caller_gives_a_page_start_is_a_page_start():
    code = """\
        static int fx_fmt(char *out)
        {
                return fx_format(out, PAGE_SIZE);
        }

        static ssize_t fx_a_show(struct device *dev, struct device_attribute *attr, char *buf)
        {
                return fx_fmt(buf);
        }
        """
    ((line, verdict, reason),) = reasons(code)
    assert (line, verdict) == (3, "pg")
    assert "out is argument 1 of fx_fmt(), its one call passes buf (line 8)" in reason
    # a second caller passes its page offset by 4: not where the page starts
    other = code + textwrap.dedent("""\

        static ssize_t fx_b_show(struct device *dev, struct device_attribute *attr, char *buf)
        {
                return fx_fmt(buf + 4);
        }
        """)
    assert [v for _, v, _ in reasons(other)] == ["unknown"]


def test_a_length_summed_from_writes_into_a_page_is_pg():
    code = """\
        static ssize_t fx_show(struct device *dev, struct device_attribute *attr, char *buf)
        {
                int n = 0;
                n += strlcat(buf, fx_a(dev), PAGE_SIZE);
                n += strlcat(buf, fx_b(dev), PAGE_SIZE);
                return min(n, (int)PAGE_SIZE);
        }
        """
    assert verdicts(code, "drivers/x.c")[2] == (6, "PAGE_SIZE", "pg", UNITS)
    # n -= 1: no longer only what was written
    worse = code.replace("        return min", "        n -= 1;\n        return min")
    assert verdicts(worse, "drivers/x.c")[2] == (7, "PAGE_SIZE", "pg", SHOW_CONTEXT)
    # the same outside a show() function: nothing decides it
    assert verdicts(worse.replace("fx_show", "fx_fill"), "drivers/x.c")[2] == (7, "PAGE_SIZE", "unknown", None)


def test_without_not_lengths_an_alignment_would_pass_for_a_length(tmp_path):
    d = tmp_path / "rules"
    shutil.copytree(REPO / "semantic-rules", d)
    text = (d / "units.yaml").read_text()
    start = text.index("not-lengths:")
    (d / "units.yaml").write_text(text[:start] + text[text.index("\nreturns:", start) + 1:])
    code = SHOW.replace("fx_print(dev, buf, PAGE_SIZE - 1)", "PTR_ALIGN(buf, PAGE_SIZE)")
    assert [v for _, _, v, _ in verdicts(code, "drivers/x.c", load_ruleset(d))] == ["pg"]


def test_a_not_lengths_entry_listed_twice_is_an_error(tmp_path):
    text = ("not-lengths:\n  - {calls: [f], arg: 2, why: an alignment}\n"
            "  - {calls: [f], arg: 2, why: again}\n")
    d = rules_dir(tmp_path, {"units.yaml": text})
    shutil.copy(REPO / "semantic-rules" / "units.schema.json", d / "units.schema.json")
    with pytest.raises(RuleError) as e:
        load_ruleset(d)
    assert any(p.startswith("rules/units.yaml:3: not-lengths/1: f() argument 2 listed twice")
               for p in e.value.problems), e.value.problems
