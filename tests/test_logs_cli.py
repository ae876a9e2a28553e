"""`eggshield logs analyze|export|rules|audit` as a user runs them: formats, exit codes, bad input."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from appfactory import make_app

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "tests" / "fixtures" / "logs" / "recorded"
SARIF = json.loads((ROOT / "src/eggshield/data/sarif-schema-2.1.0.json").read_text())


def run(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "eggshield", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120, env={**os.environ, **(env or {})})


def test_analyze_text_report_and_exit_code():
    res = run("logs", "analyze", RECORDED / "egg4")
    assert res.returncode == 1
    assert res.stdout.startswith("Read 43 records")
    assert "EGG-LOG-100" in res.stdout and "203.0.113.9" in res.stdout
    assert "Hunter2-secret!" not in res.stdout
    assert "Traceback" not in res.stderr


def test_analyze_sarif_validates_and_fail_on_none_exits_0():
    res = run("logs", "analyze", RECORDED / "egg3", "--format", "sarif", "--fail-on", "none")
    assert res.returncode == 0
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, SARIF)
    ids = {r["ruleId"] for r in doc["runs"][0]["results"]}
    assert {"EGG-LOG-100", "EGG-LOG-150"} <= ids


def test_analyze_markdown_escapes_hostile_evidence(tmp_path):
    f = tmp_path / "app-web.log"
    f.write_text("2026-12-03 10:00:00,000 WARN 1 [-/1.2.3.4/-/1ms GET /s?q=<script>alert(1)</script>] "
                 "nodejs.BadRequestError: x | <img src=x>\n")
    res = run("logs", "analyze", f, "--format", "markdown")
    assert "EGG-LOG-109" in res.stdout
    import re
    outside_fences = re.sub(r"(`{3,})[^\n]*\n.*?\n\1", "", res.stdout.split("## Rules")[0], flags=re.S)
    assert "<script>" not in outside_fences and "<img" not in outside_fences
    assert "&lt;script&gt;" in outside_fences or "<script>" in res.stdout  # shown, but only as code


def test_since_limits_the_records(tmp_path):
    now = time.time()
    old = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now - 5 * 3600))
    new = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now - 600))
    f = tmp_path / "app-web.log"
    f.write_text(f"{old},000 WARN 1 [-/1.1.1.1/-/1ms POST /a] nodejs.ForbiddenError: missing csrf token\n"
                 f"{new},000 WARN 1 [-/2.2.2.2/-/1ms POST /a] nodejs.ForbiddenError: missing csrf token\n")
    doc = json.loads(run("logs", "analyze", f, "--since", "2h", "--format", "json").stdout)
    assert [e["ip"] for e in doc["events"]] == ["2.2.2.2"]
    assert run("logs", "analyze", f, "--since", "yesterday-ish").returncode == 2


def test_a_secret_in_an_event_route_is_masked_in_the_events_list(tmp_path):
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
    f = tmp_path / "app-web.log"
    f.write_text(f"2026-12-03 10:00:00,000 WARN 1 [-/1.2.3.4/-/1ms GET /reset/{jwt}/../../etc/passwd] "
                 "nodejs.BadRequestError: x\n")
    res = run("logs", "analyze", f, "--format", "json")
    assert jwt not in res.stdout
    routes = [e["route"] for e in json.loads(res.stdout)["events"]]
    assert routes and all(r.startswith("GET /reset/eyJ*") for r in routes), routes


def test_redact_writes_masked_copies_that_still_parse(tmp_path):
    src = tmp_path / "logs"
    shutil.copytree(RECORDED / "egg3", src)
    with open(src / "logdemo-web.log", "rb") as fh, gzip.open(src / "logdemo-web.log.2026-12-02.gz", "wb") as gz:
        gz.write(fh.read())
    out = tmp_path / "clean"
    res = run("logs", "analyze", src, "--redact", out, "--fail-on", "none")
    assert res.returncode == 0, res.stderr
    assert "wrote redacted copies" in res.stderr
    text = (out / "logdemo-web.log").read_text()
    assert "Hunter2-secret!" not in text and "li.lei@example.com" not in text and "13812345678" not in text
    assert "hello world" in text and text.count("\n") == (src / "logdemo-web.log").read_text().count("\n")
    assert "Hunter2-secret!" not in gzip.decompress((out / "logdemo-web.log.2026-12-02.gz").read_bytes()).decode()
    assert oct((out / "logdemo-web.log").stat().st_mode & 0o777) == "0o600"
    again = json.loads(run("logs", "analyze", out, "--format", "json").stdout)
    assert not [f for f in again["findings"] if f["rule_id"] in ("EGG-LOG-150", "EGG-LOG-151", "EGG-LOG-155")]
    assert [f for f in again["findings"] if f["rule_id"] == "EGG-LOG-100"], "events survive redaction"


def test_bad_inputs_one_line_each_and_the_run_goes_on(tmp_path):
    (tmp_path / "app-web.log").write_bytes(b"\x00\x01\x02" * 1000 + b"\n"
                                           + b"2026-12-03 10:00:00,000 WARN 1 [-/1.2.3.4/-/1ms POST /a] "
                                             b"nodejs.ForbiddenError: missing csrf token\n")
    data = gzip.compress("".join(f"2026-12-01 10:00:00,000 INFO 1 line {i} {i * 7919}\n" for i in range(2000)).encode())
    (tmp_path / "app-web.log.2026-12-01.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "egg-web.log").write_bytes(b"\xff\xfe bad utf8\n")
    res = run("logs", "analyze", tmp_path, tmp_path / "missing.log", "--format", "json")
    doc = json.loads(res.stdout)
    problems = doc["summary"]["problems"]
    assert any("missing.log: no such file" in p for p in problems)
    assert any(".gz" in p and "ends early" in p for p in problems)
    assert any("binary data" in p for p in problems)
    assert any("not valid UTF-8" in p for p in problems)
    assert all("\n" not in p for p in problems)
    assert [f["rule_id"] for f in doc["findings"]] == ["EGG-LOG-100"]
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == len(problems)


def test_no_log_files_is_a_usage_error(tmp_path):
    res = run("logs", "analyze", tmp_path)
    assert res.returncode == 2 and "no log files found" in res.stderr


def test_export_ecs_lines(tmp_path):
    out = tmp_path / "ecs.ndjson"
    res = run("logs", "export", "--to", "ecs", RECORDED / "egg3", "-o", out, "--tz", "+08:00")
    assert res.returncode == 0, res.stderr
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    csrf = next(d for d in docs if d.get("error", {}).get("type") == "ForbiddenError" and "csrf" in d["message"])
    assert csrf["@timestamp"].endswith("+08:00") and csrf["source"]["ip"] == "203.0.113.9"
    assert csrf["http"]["request"]["method"] == "POST" and csrf["url"]["path"] == "/login"
    assert csrf["http"]["response"]["status_code"] == 403 and csrf["rule"]["id"] == ["EGG-LOG-100"]
    assert csrf["event"]["duration"] == 14_000_000 and csrf["ecs"]["version"].startswith("8.")
    assert "Hunter2-secret!" not in out.read_text()
    raw = run("logs", "export", RECORDED / "egg3" / "logdemo-web.log", "--no-redact")
    assert "Hunter2-secret!" in raw.stdout


def test_rules_sigma_validates_with_pysigma():
    from sigma.collection import SigmaCollection
    from sigma.correlations import SigmaCorrelationRule
    from sigma.validation import SigmaValidator
    from sigma.validators.core import validators

    res = run("logs", "rules", "--sigma")
    assert res.returncode == 0, res.stderr
    collection = SigmaCollection.from_yaml(res.stdout)
    collection.resolve_rule_references()
    rules = list(collection.rules)
    assert len(rules) >= 20 and sum(isinstance(r, SigmaCorrelationRule) for r in rules) >= 8
    # the ATT&CK/D3FEND tag validators download MITRE data; everything else runs offline
    offline = [cls for name, cls in validators.items() if name not in ("attacktag", "d3_fendtag")]
    assert SigmaValidator(offline).validate_rules(collection) == []
    brute = next(r for r in rules if r.name == "eggshield_brute_force_ip")
    assert brute.group_by == ["source.ip"] and brute.condition.count == 10


def test_rules_lists_signals_and_alert_rules_and_rejects_bad_file(tmp_path):
    res = run("logs", "rules")
    assert "csrf_failure" in res.stdout and "brute-force-ip" in res.stdout
    bad = tmp_path / "r.toml"
    bad.write_text("[[rule]]\nid='x'\nsignals=['a']\nseverity='urgent'\n")
    res = run("logs", "rules", "--rules", bad)
    assert res.returncode == 2 and "severity must be one of" in res.stderr and "Traceback" not in res.stderr


def _app_with_logs(tmp_path, mode: int):
    root = make_app(tmp_path / "app", {"config/config.default.js":
                                       "exports.keys = 'k'; exports.logger = { dir: __dirname + '/../logs/demo' };"})
    logs = tmp_path / "app" / "logs" / "demo"
    logs.mkdir(parents=True)
    old = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - 5 * 86400))
    (logs / "demo-web.log").write_text(f"{old},000 INFO 1 started\n")
    (logs / "demo-web.log.2020-01-01").write_text("x\n")
    for p in logs.iterdir():
        p.chmod(mode)
    logs.chmod(0o755 if mode & 0o004 else 0o700)
    return root, logs


def test_audit_reports_world_readable_unrotated_and_stale_files(tmp_path):
    root, logs = _app_with_logs(tmp_path, 0o644)
    res = run("logs", "audit", root, "--log-dir", logs, "--format", "json")
    doc = json.loads(res.stdout)
    ids = {f["rule_id"] for f in doc["findings"]}
    assert {"EGG-LOG-020", "EGG-LOG-022", "EGG-LOG-023"} <= ids, doc
    assert "EGG-LOG-021" not in ids
    f20 = next(f for f in doc["findings"] if f["rule_id"] == "EGG-LOG-020")
    assert f20["cwe"] == 276 and "0644" in f20["evidence"]
    assert any("checked files in" in line for line in doc["summary"]["logs_audit"])
    assert res.returncode == 1


def test_audit_near_miss_private_files_and_no_dir(tmp_path):
    root, logs = _app_with_logs(tmp_path, 0o600)
    doc = json.loads(run("logs", "audit", root, "--log-dir", logs, "--format", "json").stdout)
    ids = {f["rule_id"] for f in doc["findings"]}
    assert "EGG-LOG-020" not in ids and "EGG-LOG-021" not in ids
    (logs / "demo-web.log").chmod(0o666)
    doc = json.loads(run("logs", "audit", root, "--log-dir", logs, "--format", "json").stdout)
    assert "EGG-LOG-021" in {f["rule_id"] for f in doc["findings"]}
    shutil.rmtree(logs)
    res = run("logs", "audit", root, "--format", "text", env={"EGG_HOME": str(tmp_path / "nohome")})
    assert "no log directory on this host" in res.stdout and "Traceback" not in res.stderr


def test_audit_not_an_app_is_usage_error(tmp_path):
    res = run("logs", "audit", tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr


@pytest.mark.parametrize("rule_id", ["EGG-LOG-020", "EGG-LOG-100", "EGG-LOG-105", "EGG-LOG-150", "EGG-LOG-157"])
def test_every_log_rule_has_a_page(rule_id):
    res = run("rules", rule_id, "--format", "markdown")
    assert res.returncode == 0
    for section in ("## What", "## Why it matters", "## How to fix", "## Not reported", "```"):
        assert section in res.stdout, (rule_id, section)
