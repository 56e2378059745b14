"""Each rule's examples: `match` snippets must match, `no-match` must not."""
from __future__ import annotations

import pytest

from pgrewrite import api, ruletest


def _rules():
    return [r.id for r in api.load_rules().rules]


@pytest.mark.parametrize("rule_id", _rules())
def test_rule_examples(rule_id, engine):
    failures = ruletest.check_examples(engine, only=rule_id)
    assert [str(f) for f in failures] == []
