"""`--format sarif`: valid SARIF 2.1.0 (official OASIS schema) that GitHub code scanning reads well."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

import jsonschema
import pytest

from eggshield.finding import InputProblem, Location
from eggshield.report import FORMATS, Report, RuleMeta, Target
from report_samples import LEAKED_TOKEN, f, full_report, many_findings


@cache
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(resources.files("eggshield").joinpath("data/sarif-schema-2.1.0.json").read_text("utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def render(report: Report) -> dict:
    log = json.loads(FORMATS["sarif"].render(report))
    errors = sorted(validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return log


def url_findings() -> list:
    return [
        f("EGG-HDR-001", 6, "high", 693, Location(url="https://shop.example.com/"), "No Content-Security-Policy."),
        f("EGG-CSRF-010", 5, "critical", 352, Location(url="https://shop.example.com/api/order?id=1"),
          "POST /api/order accepted without a CSRF token.", evidence="POST /api/order -> 200"),
        f("EGG-ERR-003", 7, "medium", 209, Location(url="https://shop.example.com/missing"),
          "A 404 page shows a stack trace.", evidence="at Layer.handle (node_modules/koa-router/layer.js:17)"),
    ]


REPORTS = {
    "empty": lambda: Report(),
    "many": full_report,
    "urls": lambda: Report(findings=url_findings(), targets=[Target("https://shop.example.com/")]),
    "problems": lambda: Report(problems=[
        InputProblem("config/config.default.js", "unexpected token at 3:1"),
        InputProblem("<stdin>", "empty input"),
        InputProblem("/var/log/app/web.log", "permission denied"),
        InputProblem("https://shop.example.com/", "connection refused"),
        InputProblem("dir with space/plugin.ts", "binary file"),
    ]),
    "odd-locations": lambda: Report(findings=[
        f("EGG-CFG-002", 4, "low", 770, Location("config/config.default.js", 5, 0), "column 0 from a 0-based parser"),
        f("EGG-UPD-003", 1, "high", 1395, Location(None), "package-only finding", package="lodash@4.17.20"),
        f("EGG-CFG-003", 4, "info", 489, Location("config/config.prod.js", None), "file-level finding", env="prod"),
        f("EGG-LOG-005", 8, "medium", 276, Location("C:\\app\\logs\\web.log", 1), "windows log path"),
    ], scan_root="C:\\work\\app"),
}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_output_validates_against_the_official_schema(name):
    log = render(REPORTS[name]())
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_schema_file_is_the_official_oasis_schema():
    schema = json.loads(resources.files("eggshield").joinpath("data/sarif-schema-2.1.0.json").read_text("utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")


def test_invalid_sarif_is_rejected_by_the_validator():
    """The validation above can fail: a result with a bad level does not pass."""
    log = json.loads(FORMATS["sarif"].render(full_report()))
    log["runs"][0]["results"][0]["level"] = "critical"
    assert list(validator().iter_errors(log))


def test_every_result_points_at_its_rule():
    run = render(full_report())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == 10
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert len({r["id"] for r in rules}) == len(rules)


def test_rules_carry_github_metadata():
    rules = {r["id"]: r for r in render(full_report())["runs"][0]["tool"]["driver"]["rules"]}
    csrf = rules["EGG-CSRF-001"]
    assert csrf["name"] == "CSRFProtectionDisabled"  # an identifier, no spaces
    assert csrf["shortDescription"]["text"] == "CSRF protection disabled"
    assert csrf["fullDescription"]["text"] == "Egg's CSRF defence is off."
    assert "## Fix" in csrf["help"]["markdown"]
    assert csrf["helpUri"] == "https://eggjs.org/core/security#csrf"
    assert {"security", "CWE-352", "strategy-5"} <= set(csrf["properties"]["tags"])
    assert csrf["properties"]["precision"] == "high"
    assert csrf["defaultConfiguration"]["level"] == "error"
    # a rule the registry did not describe still gets a usable entry
    assert rules["EGG-LOG-001"]["shortDescription"]["text"]


def _github_band(score: str) -> str:
    """GitHub's documented translation of security-severity scores."""
    value = float(score)
    if value >= 9.0:
        return "critical"
    if value >= 7.0:
        return "high"
    if value >= 4.0:
        return "medium"
    return "low" if value > 0.0 else "none"


def test_security_severity_lands_in_githubs_band_for_each_severity():
    run = render(full_report())["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    seen = set()
    for result in run["results"]:
        sev = result["properties"]["severity"]
        rule = rules[result["ruleId"]]
        if sev == "info":
            assert "security-severity" not in rule["properties"]
            assert result["level"] == "note"
            continue
        assert isinstance(rule["properties"]["security-severity"], str)
        assert _github_band(rule["properties"]["security-severity"]) == rule["properties"]["severity"]
        assert _github_band(result["properties"]["security-severity"]) == sev
        seen.add(sev)
    assert seen == {"critical", "high", "medium", "low"}


def test_levels_map_severity_to_error_warning_note():
    levels = {r["properties"]["severity"]: r["level"] for r in render(full_report())["runs"][0]["results"]}
    assert levels == {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def test_cwe_is_a_tag_and_a_taxon_reference():
    run = render(full_report())["runs"][0]
    taxonomy = run["taxonomies"][0]
    assert taxonomy["name"] == "CWE"
    taxa_ids = [t["id"] for t in taxonomy["taxa"]]
    assert run["tool"]["driver"]["supportedTaxonomies"][0]["guid"] == taxonomy["guid"]
    for result in run["results"]:
        cwe = next(t for t in result["properties"]["tags"] if t.startswith("CWE-")).removeprefix("CWE-")
        ref = result["taxa"][0]
        assert ref["id"] == cwe
        assert taxa_ids[ref["index"]] == cwe
        assert ref["toolComponent"]["guid"] == taxonomy["guid"]
    csrf = next(t for t in taxonomy["taxa"] if t["id"] == "352")
    assert csrf["shortDescription"]["text"] == "Cross-Site Request Forgery (CSRF)"
    assert csrf["helpUri"] == "https://cwe.mitre.org/data/definitions/352.html"


def test_file_locations_are_relative_to_srcroot():
    run = render(full_report())["runs"][0]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    phys = by_rule["EGG-CSRF-001"]["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"] == {"uri": "config/config.prod.js", "uriBaseId": "%SRCROOT%"}
    assert phys["region"] == {"startLine": 12, "startColumn": 5}
    assert by_rule["EGG-CSRF-001"]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "security.csrf.enable"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///home/dev/my%20app/"
    # a log file outside the app: an absolute file URI, spaces encoded
    log = by_rule["EGG-LOG-001"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert log == {"uri": "file:///var/log/my%20app/common-error.log"}


def test_url_findings_use_the_url_as_artifact():
    run = render(REPORTS["urls"]())["runs"][0]
    for result in run["results"]:
        loc = result["locations"][0]["physicalLocation"]
        assert "uriBaseId" not in loc["artifactLocation"]
        assert urlsplit(loc["artifactLocation"]["uri"]).netloc == "shop.example.com"
        assert "region" not in loc


def test_odd_locations_still_make_sense():
    run = render(REPORTS["odd-locations"]())["runs"][0]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["EGG-CFG-002"]["locations"][0]["physicalLocation"]["region"]["startColumn"] == 1
    assert "region" not in by_rule["EGG-CFG-003"]["locations"][0]["physicalLocation"]
    assert by_rule["EGG-UPD-003"]["locations"][0] == {
        "logicalLocations": [{"fullyQualifiedName": "lodash@4.17.20", "kind": "module"}]}
    assert by_rule["EGG-LOG-005"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///C:/app/logs/web.log"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///C:/work/app/"


def test_fingerprints_match_baseline_fingerprints_even_when_evidence_is_masked():
    findings = many_findings()
    run = render(Report(findings=findings))["runs"][0]
    expected = {x.rule_id: x.fingerprint() for x in findings}
    for result in run["results"]:
        assert result["partialFingerprints"]["eggshieldFingerprint/v1"] == expected[result["ruleId"]]
    leaked = next(r for r in run["results"] if r["ruleId"] == "EGG-LOG-001")
    assert LEAKED_TOKEN not in leaked["properties"]["evidence"]


def test_result_properties_carry_the_finding_details():
    run = render(full_report())["runs"][0]
    csrf = next(r for r in run["results"] if r["ruleId"] == "EGG-CSRF-001")
    props = csrf["properties"]
    assert props["config_key"] == "security.csrf.enable" and props["env"] == "prod"
    assert props["confidence"] == "high" and props["strategy"] == 5
    assert "csrf: { enable: true }" in props["fix"]
    assert "fixes" not in csrf  # SARIF fixes need artifactChanges; the fix text lives in properties
    assert csrf["message"]["text"] == "CSRF protection is disabled in prod."


def test_input_problems_become_tool_notifications():
    run = render(REPORTS["problems"]())["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes][:2] == [
        "config/config.default.js: unexpected token at 3:1", "<stdin>: empty input"]
    assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "config/config.default.js"
    assert "locations" not in notes[1]
    assert notes[4]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "dir%20with%20space/plugin.ts"
    assert run["results"] == []
    assert run["invocations"][0]["executionSuccessful"] is True


def test_registry_rules_given_as_plain_mappings_are_accepted():
    report = Report(findings=url_findings()[:1], rules={"EGG-HDR-001": {
        "title": "Missing CSP", "strategy": 6, "severity": "high", "confidence": "medium", "cwe": 693,
        "doc": "Without CSP ...", "help_uri": None}})
    rule = render(report)["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["shortDescription"]["text"] == "Missing CSP"
    assert isinstance(report.rules["EGG-HDR-001"], RuleMeta)
    assert "helpUri" not in rule
