"""`eggshield deps`, `deps watch` and `deps history` as users run them (real processes, real servers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from deps_helpers import CONFIG, LOCKFILES, OsvServer, RegistryServer, WebhookReceiver, npm_lock

from appfactory import make_app

ROOT = Path(__file__).resolve().parents[2]
SARIF = json.loads((ROOT / "src/eggshield/data/sarif-schema-2.1.0.json").read_text())


@pytest.fixture(scope="module")
def servers():
    reg, osv, hook = RegistryServer(), OsvServer([]), WebhookReceiver()
    yield reg, osv, hook
    for s in (reg, osv, hook):
        s.close()


@pytest.fixture()
def env(tmp_path, servers):
    return {**os.environ, "EGGSHIELD_CACHE": str(tmp_path / "cache"), "EGGSHIELD_DB": str(tmp_path / "ledger.db"),
            "EGGSHIELD_OSV_API": servers[1].url.rstrip("/"), "NO_COLOR": "1"}


def run(env, *args):
    return subprocess.run([sys.executable, "-m", "eggshield", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=120)


def _shop(tmp_path, security="3.7.0", egg="3.17.0"):
    root = make_app(tmp_path / "shop", CONFIG, egg=f"^{egg}", name="shop",
                    pkg={"dependencies": {"egg": f"^{egg}", "egg-security": f"^{security}", "lodash": "^4.17.21"}})
    npm_lock(root, {"egg": egg, "egg-security": security, "lodash": "4.18.0"})
    return root


def test_audit_text_offline(tmp_path, env):
    res = run(env, "deps", _shop(tmp_path), "--offline")
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("# shop (.) · package-lock.json v3 · 3 packages, 2 from the Egg ecosystem")
    assert any(line.startswith("egg-security") and "1 (medium)" in line and "upgrade to 3.8.1" in line
               for line in lines)
    assert "EGG-UPD-002" in res.stdout and "# registry: not consulted" in res.stdout


def test_audit_json_sarif_and_fail_on(tmp_path, env, servers):
    app = _shop(tmp_path)
    res = run(env, "deps", app, "--registry", servers[0].url, "--format", "json")
    doc = json.loads(res.stdout)
    assert set(doc) == {"tool", "findings", "summary", "inventory"}
    (inv,) = doc["inventory"]
    egg = next(p for p in inv["packages"] if p["name"] == "egg")
    assert egg["latest"] == "4.0.10" and egg["behind"]["majors"] == 1 and egg["role"] == "core"
    assert {f["rule_id"] for f in doc["findings"]} >= {"EGG-UPD-002", "EGG-UPD-005"}
    sarif = run(env, "deps", app, "--offline", "--format", "sarif")
    jsonschema.validate(json.loads(sarif.stdout), SARIF)
    assert run(env, "deps", app, "--offline", "--fail-on", "none").returncode == 0
    assert run(env, "deps", app, "--offline", "--fail-on", "high").returncode == 0  # only medium findings


def test_cyclonedx_sbom(tmp_path, env):
    res = run(env, "deps", LOCKFILES / "npm3", "--offline", "--sbom", "cyclonedx")
    assert res.returncode == 0, res.stderr
    bom = json.loads(res.stdout)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.5"
    comps = {c["purl"]: c for c in bom["components"]}
    assert "pkg:npm/%40eggjs/ip@2.1.0" in comps and comps["pkg:npm/semver@5.7.0"]["scope"] == "excluded"
    assert comps["pkg:npm/lodash@4.17.15"]["hashes"][0]["alg"] == "SHA-512"
    refs = {c["bom-ref"] for c in bom["components"]} | {bom["metadata"]["component"]["bom-ref"]}
    assert all(d["ref"] in refs and set(d["dependsOn"]) <= refs for d in bom["dependencies"])


def test_bad_input_is_one_line_and_exit_2(tmp_path, env):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run(env, "deps", empty, "--offline")
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stderr.count("\n") <= 2
    broken = _shop(tmp_path)
    (broken / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {"": {')
    res = run(env, "deps", broken, "--offline")
    assert "package-lock.json: not valid JSON" in res.stdout + res.stderr and "Traceback" not in res.stderr
    assert "package.json ranges (unresolved" in res.stdout  # fell back and said so
    bad_sink = run(env, "deps", "watch", broken, "--notify", "pager=555")
    assert bad_sink.returncode == 2 and "unknown notification sink 'pager'" in bad_sink.stderr


def test_watch_reports_only_what_is_new_and_history_records_it(tmp_path, env, servers):
    reg, _, hook = servers
    hook.bodies.clear()
    app = _shop(tmp_path)
    watch = ["deps", "watch", app, "--notify", f"webhook={hook.url}eggshield", "--registry", reg.url, "--ttl", "0"]
    first = run(env, *watch)
    assert first.returncode == 0, first.stderr
    assert "first watch run" in first.stderr
    (body,) = hook.bodies
    assert [n["kind"] for n in body["notifications"]] == ["advisory"]
    assert "EGGSHIELD-2026-0001" in body["notifications"][0]["title"]
    second = run(env, *watch)
    assert second.returncode == 0 and len(hook.bodies) == 1  # nothing new: nothing sent
    egg = reg.docs["egg"]
    old = json.loads(json.dumps(egg))
    try:  # a new egg release appears, and the team upgrades egg-security
        egg["dist-tags"]["latest"] = "4.0.11"
        egg["versions"]["4.0.11"] = {"name": "egg", "version": "4.0.11"}
        egg["time"]["4.0.11"] = "2026-12-01T00:00:00.000Z"
        npm_lock(app, {"egg": "3.17.0", "egg-security": "3.8.1", "lodash": "4.18.0"})
        third = run(env, *watch)
        assert third.returncode == 0, third.stderr
        (note,) = hook.bodies[1]["notifications"]
        assert note["kind"] == "release" and note["title"] == "shop: egg 4.0.11 released (was 4.0.10)"
    finally:
        reg.docs["egg"] = old
    hist = run(env, "deps", "history", app)
    assert hist.returncode == 0
    text = hist.stdout
    assert "upgraded egg-security 3.7.0 -> 3.8.1" in text
    assert "resolved EGGSHIELD-2026-0001 for egg-security@3.7.0" in text
    assert "new release egg 4.0.11 (was 4.0.10)" in text
    doc = json.loads(run(env, "deps", "history", app, "--format", "json").stdout)
    assert [r["command"] for r in doc[0]["runs"]] == ["watch", "watch", "watch"]


def test_watch_keeps_undeliverable_notifications(tmp_path, env, servers):
    from deps_helpers import free_port

    app = _shop(tmp_path)
    port = free_port()
    args = ["deps", "watch", app, "--notify", f"webhook=http://127.0.0.1:{port}/x", "--offline", "--retries", "0",
            "--backoff", "0"]
    res = run(env, *args)
    assert res.returncode == 1 and "kept in the outbox for the next run" in res.stderr
    up = WebhookReceiver(port=port)
    try:
        again = run(env, *args)
        assert again.returncode == 0, again.stderr
        assert [n["kind"] for n in up.bodies[0]["notifications"]] == ["advisory"]
    finally:
        up.close()
