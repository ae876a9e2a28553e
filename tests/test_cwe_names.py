"""Every CWE a rule uses has a name in reports (SARIF taxa, markdown), not a bare number."""

from eggshield.checks.registry import all_rules
from eggshield.report.cwe import CWE_NAMES


def test_every_rule_cwe_is_named():
    missing = sorted({r.cwe for r in all_rules()} - set(CWE_NAMES))
    assert missing == []
