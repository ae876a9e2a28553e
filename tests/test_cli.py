"""The `eggshield` command as users run it: exit codes, formats, suppressions, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from appfactory import make_app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "egg-shop"
SCHEMA = json.loads((ROOT / "src/eggshield/data/sarif-schema-2.1.0.json").read_text())


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "eggshield", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_scan_bundled_example_finds_problems_and_exits_1():
    res = run("scan", EXAMPLE)
    assert res.returncode == 1, res.stderr
    assert "EGG-CFG-001" in res.stdout and "EGG-CSRF-001" in res.stdout
    assert "5. CSRF protection" in res.stdout
    assert "Traceback" not in res.stderr


def test_json_output_follows_the_finding_contract():
    res = run("scan", EXAMPLE, "--format", "json")
    doc = json.loads(res.stdout)
    assert set(doc) == {"tool", "findings", "summary"}
    f = next(f for f in doc["findings"] if f["rule_id"] == "EGG-CSRF-001")
    assert set(f) >= {"rule_id", "strategy", "severity", "confidence", "cwe", "location", "config_key", "package",
                      "env", "message", "evidence", "fix"}
    assert f["location"] == {"path": "config/config.default.js", "line": 19, "column": 7}
    assert (f["cwe"], f["strategy"], f["env"], f["package"]) == (352, 5, "prod", None)
    keys = next(f for f in doc["findings"] if f["rule_id"] == "EGG-CFG-001")
    assert "1688458800000" not in json.dumps(doc)  # the key never leaves unmasked
    assert keys["evidence"]


def test_sarif_validates_against_the_official_schema(tmp_path):
    out = tmp_path / "r.sarif"
    res = run("scan", EXAMPLE, "--format", "sarif", "--output", out)
    assert res.returncode == 1
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    tags = {t for r in doc["runs"][0]["tool"]["driver"]["rules"] for t in r["properties"]["tags"]}
    assert {"CWE-352", "CWE-321"} <= tags


def test_markdown_output_and_fail_on(tmp_path):
    res = run("scan", EXAMPLE, "--format", "markdown", "--fail-on", "critical")
    assert res.returncode == 0 and "EGG-CSRF-001" in res.stdout
    assert run("scan", EXAMPLE, "--fail-on", "none").returncode == 0
    assert run("scan", EXAMPLE, "--fail-on", "high").returncode == 1


def test_not_an_egg_app_is_exit_2_with_one_line(tmp_path):
    (tmp_path / "package.json").write_text('{"name": "x", "dependencies": {"express": "^4"}}')
    res = run("scan", tmp_path)
    assert res.returncode == 2
    assert res.stdout == "" and len(res.stderr.strip().splitlines()) == 1
    assert "egg" in res.stderr


def test_config_json_shape_and_masking(tmp_path):
    res = run("config", EXAMPLE, "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert {"env", "egg", "config", "plugins", "provenance"} <= set(doc)
    assert doc["env"] == "prod" and doc["egg"]["major"] == 3
    assert doc["config"]["security"]["csrf"]["enable"] is False
    assert doc["provenance"]["security.csrf.enable"] == "config/config.default.js:19"
    assert doc["config"]["mysql"]["client"]["password"]["$unknown"] == "process.env.MYSQL_PASSWORD"
    assert "shop123" not in res.stdout  # fallback masked by default
    assert doc["plugins"]["development"]["enable"] is False
    shown = json.loads(run("config", EXAMPLE, "--format", "json", "--show-secrets").stdout)
    assert shown["config"]["mysql"]["client"]["password"]["fallback"] == "shop123"


def test_config_text_tree_shows_provenance():
    res = run("config", EXAMPLE, "--key", "security.csrf")
    assert "enable: false  (config/config.default.js:19)" in res.stdout
    assert "type: \"ctoken\"  (default: egg-security@" in res.stdout


def test_rules_list_and_page():
    listed = run("rules")
    assert "EGG-CFG-001" in listed.stdout and "CWE-352" in listed.stdout
    page = run("rules", "egg-cfg-001")
    assert "## How to fix" in page.stdout and "References" in page.stdout
    assert run("rules", "EGG-NOPE-999").returncode == 2


def test_inline_suppression_and_policy(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js":
                              "// eggshield-ignore EGG-CSRF-001: API authenticated by bearer tokens only\n"
                              "exports.security = { csrf: { enable: false } };\nexports.keys = '123456';\n"})
    mine = ("--rule", "EGG-CFG-001", "--rule", "EGG-CSRF-001")
    doc = json.loads(run("scan", app, "--format", "json", *mine).stdout)
    assert [f["rule_id"] for f in doc["findings"]] == ["EGG-CFG-001"]
    assert doc["summary"]["suppressed"] == 1
    (app / ".eggshield.toml").write_text('fail_on = "critical"\n[ignore]\nrules = ["EGG-CFG-001"]\n')
    res = run("scan", app, "--format", "json", *mine)
    assert json.loads(res.stdout)["findings"] == [] and res.returncode == 0


def test_baseline_reports_only_new_findings(tmp_path):
    app = make_app(tmp_path / "app", {"config/config.default.js": "exports.keys = '123456';\n"})
    base = tmp_path / "base.json"
    assert run("baseline", "create", app, "--output", base).returncode == 0
    assert run("scan", app, "--baseline", base).returncode == 0
    (app / "config/config.default.js").write_text("exports.keys = '123456';\nexports.security = {csrf: false};\n")
    res = run("scan", app, "--baseline", base, "--format", "json", "--rule", "EGG-CSRF-001", "--rule", "EGG-CFG-001")
    assert res.returncode == 1
    assert [f["rule_id"] for f in json.loads(res.stdout)["findings"]] == ["EGG-CSRF-001"]
    (tmp_path / "broken.json").write_text("{nope")
    broken = run("scan", app, "--baseline", tmp_path / "broken.json")
    assert broken.returncode == 2 and len(broken.stderr.strip().splitlines()) == 1


def test_bad_inputs_get_one_line_each_and_the_scan_goes_on(tmp_path):
    app = make_app(tmp_path, {
        "config/config.default.js": "exports.security = { csrf: { enable: false } };\nexports.keys = process.env.K;",
        "app/controller/broken.js": "module.exports = class { async index( { };",
        "app/service/typed.ts": "export default class { run(: string) {} }",
    })
    (app / "app/controller/bin.js").write_bytes(b"\x00\x01\x02ELF" * 100)
    (app / "app/service/huge.js").write_text("// x\n" * 1_000_000)
    (app / "app/extend").mkdir(parents=True)
    os.symlink(app / "app/extend", app / "app/extend/loop")
    os.symlink("/etc", app / "app/service/outside")
    res = run("scan", app, "--format", "json", "--rule", "EGG-CSRF-001", "--rule", "EGG-CFG-001")
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    assert [f["rule_id"] for f in doc["findings"]] == ["EGG-CSRF-001"]
    problems = doc["summary"]["problems"]
    for name in ("broken.js", "typed.ts", "bin.js", "huge.js"):
        assert sum(name in p for p in problems) == 1, (name, problems)
    assert all("\n" not in p for p in problems)
    assert "Traceback" not in res.stderr


def test_a_config_that_would_run_code_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    app = make_app(tmp_path / "app", {"config/config.default.js": f"""
require('child_process').execSync('touch {marker}');
require('fs').writeFileSync('{marker}', 'x');
module.exports = appInfo => {{ require('child_process').execSync('touch {marker}'); return {{ keys: 'x' }}; }};
"""})
    res = run("scan", app)
    assert not marker.exists()
    assert res.returncode == 1  # keys 'x' is weak: the config was still evaluated


def test_nothing_readable_is_exit_2(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js": "module.exports = {"})
    res = run("scan", app)
    assert res.returncode == 2
    assert "config/config.default.js" in res.stderr + res.stdout


def test_monorepo_scans_each_app(tmp_path):
    make_app(tmp_path / "services/a", {"config/config.default.js": "exports.keys = '123456';"}, name="a")
    make_app(tmp_path / "services/b", {"config/config.default.js": "exports.security = {csrf: false};"}, name="b")
    doc = json.loads(run("scan", tmp_path, "--format", "json").stdout)
    paths = sorted(f["location"]["path"] for f in doc["findings"] if f["rule_id"] != "EGG-CFG-001" or "a/" in f["location"]["path"])
    assert "services/a/config/config.default.js" in paths and "services/b/config/config.default.js" in paths
    assert len(doc["summary"]["targets"]) == 2


@pytest.mark.parametrize("args", [["--help"], ["scan", "--help"], ["config", "--help"]])
def test_help_teaches(args):
    res = run(*args)
    assert res.returncode == 0 and "Usage" in res.stdout
    if args == ["scan", "--help"]:
        assert "Exit codes" in res.stdout and "--fail-on" in res.stdout
