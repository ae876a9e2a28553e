"""The requests the real-Egg log tests send, and what they expect Egg to have logged.

Shared by test_logs_real_egg3.py and test_logs_real_egg4.py (one server per module).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from eggrt.logserver import LogApp

APP = Path(__file__).parent / "fixtures" / "logs" / "app"
FORM = {"content-type": "application/x-www-form-urlencoded"}
CSRF_OK = {"cookie": "csrfToken=tok123", "x-csrf-token": "tok123"}


def drive(app: LogApp) -> None:
    """Traffic with known security events in it."""
    assert app.request("GET", "/", headers={"x-user": "alice"}).status == 200
    for _ in range(3):  # no CSRF token at all
        assert app.request("POST", "/login", body=b"username=x", headers={**FORM, "x-forwarded-for": "203.0.113.9"}
                           ).status == 403
    for i in range(10):  # one IP tries ten accounts: brute force and credential stuffing
        res = app.request("POST", "/login", body=f"username=user{i % 6}&password=guess".encode(),
                          headers={**FORM, **CSRF_OK, "x-forwarded-for": "198.51.100.7"})
        assert res.status == 401
    assert app.request("GET", "/boom").status == 500
    assert app.request("TRACE", "/").status == 405
    assert app.request("GET", "/%2e%2e/%2e%2e/etc/passwd").status == 400
    assert app.request("GET", "/secret").status == 200
    assert app.request("GET", "/curl").status == 200
    assert app.request("GET", "/denied", headers={"x-user": "bob"}).status == 403
    app.request("GET", "/redirect?to=http://evil.example/")


def analyze_json(log_dir: Path, *extra: str) -> tuple[dict, subprocess.CompletedProcess]:
    res = subprocess.run([sys.executable, "-m", "eggshield", "logs", "analyze", str(log_dir), "--format", "json",
                          *extra], capture_output=True, text=True, timeout=120)
    return json.loads(res.stdout), res


def by_rule(doc: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in doc["findings"]:
        out.setdefault(f["rule_id"], []).append(f)
    return out


def assert_expected_findings(doc: dict, res: subprocess.CompletedProcess) -> None:
    """What any Egg major must let eggshield see in the logs of `drive()`."""
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    rules = by_rule(doc)
    csrf = rules["EGG-LOG-100"]
    assert any("203.0.113.9" in f["message"] and "3 times" in f["message"] for f in csrf)
    assert {"EGG-LOG-105", "EGG-LOG-106", "EGG-LOG-103", "EGG-LOG-104", "EGG-LOG-115", "EGG-LOG-116",
            "EGG-LOG-150", "EGG-LOG-151", "EGG-LOG-102"} <= set(rules), sorted(rules)
    assert any("198.51.100.7" in f["message"] and "credential-stuffing" in f["message"] for f in rules["EGG-LOG-106"])
    assert rules["EGG-LOG-104"][0]["cwe"] == 22 and "etc/passwd" in rules["EGG-LOG-104"][0]["evidence"]
    assert any("bob" in f["message"] for f in rules["EGG-LOG-102"]), "ctx.userId from the prefix"
    text = json.dumps(doc)
    assert "Hunter2-secret!" not in text and "dozjgNryP4J3jVmNHl0w5N" not in text, "evidence is masked"
    events = doc["events"]
    ev = next(e for e in events if e["rule_id"] == "EGG-LOG-100" and e["ip"] == "203.0.113.9")
    assert ev["time"] and ev["route"] == "POST /login"
    assert doc["summary"]["logs"]["error_types"].get("Error: order lookup failed") == 1
