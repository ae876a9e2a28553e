"""`deps plan`: upgrades grouped by risk, peer conflicts, changelog entries read from real tarballs."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from deps_helpers import CONFIG, RegistryServer, npm_lock

from appfactory import make_app
from eggshield.deps import DepsOptions
from eggshield.deps.changelog import between, from_tarball, parse
from eggshield.deps.plan import build, render
from eggshield.deps.registry import HttpClient
from eggshield.pipeline_deps import run_deps

HISTORY = """
2.0.0 / 2026-01-01
==================

**BREAKING**
* feat: egg 4 only

1.1.0 / 2025-06-01
==================

* fix: escape user input in ctx.helper.demo (security, GHSA-demo-0001)
* feat: new option

## [1.0.1](https://example.test/compare/v1.0.0...v1.0.1) (2025-01-01)

* docs: typo

1.0.0 / 2024-01-01
==================

* first release
"""


def _tgz(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture(scope="module")
def registry():
    srv = RegistryServer()
    base = srv.url + "-/files/"
    srv.files = {f"egg-demo-{v}.tgz": _tgz({"package.json": "{}", "History.md": HISTORY})
                 for v in ("1.0.0", "1.1.0", "2.0.0")}
    srv.docs["egg-demo"] = {  # a synthetic plugin: 2.0.0 needs egg 4 as a peer
        "name": "egg-demo", "dist-tags": {"latest": "2.0.0"},
        "versions": {v: {"name": "egg-demo", "version": v, "dist": {"tarball": f"{base}egg-demo-{v}.tgz"},
                         **({"peerDependencies": {"egg": ">=4"}} if v == "2.0.0" else {})}
                     for v in ("1.0.0", "1.1.0", "2.0.0")},
        "time": {"1.0.0": "2024-01-01T00:00:00Z", "1.1.0": "2025-06-01T00:00:00Z", "2.0.0": "2026-01-01T00:00:00Z"}}
    yield srv
    srv.close()


def test_changelog_parsing_of_both_heading_styles():
    entries = parse(HISTORY)
    assert [e.version for e in entries] == ["2.0.0", "1.1.0", "1.0.1", "1.0.0"]
    picked = between(entries, "1.0.0", "1.1.0")
    assert [e.version for e in picked] == ["1.1.0", "1.0.1"]
    assert picked[0].security == ["* fix: escape user input in ctx.helper.demo (security, GHSA-demo-0001)"]
    assert from_tarball(_tgz({"README.md": "x"}), "x.tgz") is None
    with pytest.raises(Exception, match="not a readable package tarball"):
        from_tarball(b"not a tarball", "bad.tgz")


def test_plan_groups_by_risk_with_peer_conflicts_and_changelogs(tmp_path, registry):
    root = make_app(tmp_path / "app", CONFIG, name="app", pkg={"dependencies": {
        "egg": "^3.17.0", "egg-demo": "^1.0.0", "egg-security": "^3.7.0"}})
    npm_lock(root, {"egg": "3.17.0", "egg-demo": "1.0.0", "egg-security": "3.7.0"})
    run = run_deps(root, DepsOptions(registry_url=registry.url, cache_dir=tmp_path / "cache",
                                     refresh_advisories=False))
    (_, audit), = run.audits
    plan = build(audit, "app", cache_dir=tmp_path / "cache", http=HttpClient(timeout=5, retries=0))
    groups = {g: [(s.name, s.target) for s in steps] for g, steps in plan.grouped().items()}
    assert ("egg-demo", "1.1.0") in groups["minor"] and ("egg-security", "3.8.1") in groups["minor"]
    assert ("egg", "4.0.10") in groups["major"]
    assert groups["peer conflicts"] == [("egg-demo", "2.0.0")]
    demo = next(s for s in plan.steps if s.name == "egg-demo" and s.target == "1.1.0")
    assert [e.version for e in demo.changelog.entries] == ["1.1.0", "1.0.1"]
    sec = next(s for s in plan.steps if s.name == "egg-security")
    assert "clears 1 advisory (EGGSHIELD-2026-0001)" in sec.reasons
    text = render([plan])
    assert "peer conflict: egg-demo@2.0.0 wants egg >=4, installed 3.17.0" in text
    assert "! * fix: escape user input in ctx.helper.demo (security, GHSA-demo-0001)" in text
    # offline, the tarballs already read come from the cache; nothing is downloaded
    before = len(registry.requests)
    offline = build(audit, "app", cache_dir=tmp_path / "cache", offline=True)
    assert len(registry.requests) == before
    assert next(s for s in offline.steps if s.name == "egg-demo" and s.target == "1.1.0").changelog.entries


def test_plan_cli_json(tmp_path, registry):
    import subprocess
    import sys

    root = make_app(tmp_path / "app", CONFIG, name="app", pkg={"dependencies": {"egg": "^3.17.0",
                                                                              "egg-demo": "^1.0.0"}})
    npm_lock(root, {"egg": "3.17.0", "egg-demo": "1.0.0"})
    env = {"EGGSHIELD_CACHE": str(tmp_path / "cache"), "EGGSHIELD_DB": str(tmp_path / "db"),
           "EGGSHIELD_OSV_API": "http://127.0.0.1:9", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run([sys.executable, "-m", "eggshield", "deps", "plan", root, "--registry", registry.url,
                          "--format", "json"], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    (doc,) = json.loads(res.stdout)
    steps = {(s["name"], s["target"]): s for s in doc["steps"]}
    assert steps[("egg-demo", "2.0.0")]["group"] == "peer conflicts"
    assert steps[("egg-demo", "1.1.0")]["changelog"]["entries"][0]["security"]
