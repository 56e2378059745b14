"""Reviewer reports: the formats of `pgrewrite scan` besides text and JSON, the HTML
worklist, run-to-run comparison and the decisions file.

Every renderer takes the JSON document of `pgrewrite scan --format json` (a dict).
"""
from pgrewrite.report.cocci import render_org, render_report
from pgrewrite.report.compare import compare_docs, render_compare
from pgrewrite.report.decisions import (DecisionProblem, DecisionsError, DecisionsFile,
                                        PersonDecision, apply_decisions, context_fingerprint,
                                        decide, find_decisions_file, load_decisions)
from pgrewrite.report.html import render_html, source_reader
from pgrewrite.report.sarif import render_sarif

__all__ = [
    "render_sarif", "render_report", "render_org", "render_html", "source_reader",
    "compare_docs", "render_compare",
    "load_decisions", "apply_decisions", "decide", "find_decisions_file",
    "context_fingerprint", "PersonDecision", "DecisionsFile", "DecisionProblem",
    "DecisionsError",
]
