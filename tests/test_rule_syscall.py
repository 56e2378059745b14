"""The `syscall:` condition: sites in SYSCALL_DEFINEn bodies."""
from __future__ import annotations

import textwrap

from pgrewrite import api
from pgrewrite.rules.loader import load_ruleset

from .conftest import REPO

RULE = """\
meaning: pte
reason: alignment of a syscall's address argument
match:
  all:
    - syscall: 'm(un)?lock2?'
    - pattern: PAGE_ALIGN($L)
examples:
  match: ["SYSCALL_DEFINE1(mlock, size_t, len)\n{\n\treturn PAGE_ALIGN(len);\n}\n"]
  no-match: ["x = 1;"]
"""


def test_syscall_condition(tmp_path):
    d = tmp_path / "rules"
    (d / "pte").mkdir(parents=True)
    (d / "family.yaml").write_text((REPO / "semantic-rules" / "family.yaml").read_text())
    (d / "pte" / "sc.yaml").write_text(RULE)
    rs = load_ruleset(d)
    src = textwrap.dedent("""\
        SYSCALL_DEFINE2(mlock, unsigned long, start, size_t, len)
        {
        	len = PAGE_ALIGN(len);
        	return 0;
        }

        /* comment */
        COMPAT_SYSCALL_DEFINE1(munlock, size_t, len)
        {
        	return PAGE_ALIGN(len);
        }

        SYSCALL_DEFINE1(mprotect, size_t, len)
        {
        	return PAGE_ALIGN(len);
        }

        static long do_mlock(size_t len)
        {
        	return PAGE_ALIGN(len);
        }
        """).encode()
    result = api.scan_bytes("mm/x.c", src, rs)
    got = [(d.site.line, d.verdict.value) for d in result.decisions]
    assert got == [(3, "pte"), (10, "pte"), (15, "unknown"), (20, "unknown")]
