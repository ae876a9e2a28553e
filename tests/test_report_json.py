"""`--format json`: the document other tools parse (DESIGN.md contract)."""

from __future__ import annotations

import json

from eggshield import __version__
from eggshield.finding import STRATEGIES
from eggshield.report import FORMATS, Report
from report_samples import full_report, many_findings


def render(report: Report) -> dict:
    return json.loads(FORMATS["json"].render(report))


def test_top_level_shape_is_exactly_the_contract():
    doc = render(full_report())
    assert list(doc) == ["tool", "findings", "summary"]
    assert doc["tool"] == {"name": "eggshield", "version": __version__}


def test_findings_carry_the_contract_fields():
    doc = render(full_report())
    assert len(doc["findings"]) == len(many_findings())
    for item in doc["findings"]:
        assert set(item) == {"rule_id", "strategy", "severity", "confidence", "cwe", "location", "config_key",
                             "package", "env", "message", "title", "evidence", "fix"}
    by_rule = {x["rule_id"]: x for x in doc["findings"]}
    assert by_rule["EGG-CSRF-001"]["location"] == {"path": "config/config.prod.js", "line": 12, "column": 5}
    assert by_rule["EGG-CSRF-001"]["config_key"] == "security.csrf.enable"
    assert by_rule["EGG-HDR-002"]["location"] == {"url": "http://127.0.0.1:7001/"}
    assert by_rule["EGG-UPD-001"]["package"] == "egg-security@2.4.0"


def test_unmasked_finding_round_trips_unchanged():
    original = next(f for f in many_findings() if f.rule_id == "EGG-CSRF-001")
    doc = render(Report(findings=[original]))
    assert doc["findings"] == [original.to_dict()]


def test_summary_counts_by_severity_and_strategy():
    s = render(full_report())["summary"]
    assert s["total"] == 10
    assert s["by_severity"] == {"critical": 2, "high": 3, "medium": 2, "low": 2, "info": 1}
    assert list(s["by_strategy"]) == [str(n) for n in range(1, 9)]
    assert s["by_strategy"]["5"] == {"name": STRATEGIES[5], "count": 1}
    assert s["by_strategy"]["8"]["count"] == 2
    assert sum(v["count"] for v in s["by_strategy"].values()) == s["total"]
    assert s["problems"] == ["config/config.local.js: unexpected token '}' at 3:1", "logs/agent.log: binary file skipped"]
    assert s["targets"] == [{"label": "my-app", "egg_major": 3, "egg_version": "3.17.5", "env": "prod", "framework": "egg"}]
    assert (s["suppressed"], s["baselined"]) == (2, 3)


def test_findings_listed_by_strategy_worst_first():
    findings = render(full_report())["findings"]
    keys = [(x["strategy"], x["severity"]) for x in findings]
    assert keys[:2] == [(1, "high"), (1, "low")]
    assert [x["strategy"] for x in findings] == sorted(x["strategy"] for x in findings)


def test_empty_report_is_still_a_complete_document():
    doc = render(Report())
    assert doc["findings"] == []
    assert doc["summary"]["total"] == 0
    assert doc["summary"]["by_severity"] == dict.fromkeys(["critical", "high", "medium", "low", "info"], 0)
    assert doc["summary"]["problems"] == [] and doc["summary"]["targets"] == []


def test_hostile_control_characters_stay_escaped_json():
    text = FORMATS["json"].render(full_report())
    assert "\x1b" not in text  # json escapes it as \u001b
    assert "\\u001b[31mred" in text
