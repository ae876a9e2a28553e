"""Each deps rule fires on the app that has the problem and stays silent on its near miss."""

from __future__ import annotations

import json

import pytest
from deps_helpers import CONFIG, RegistryServer, npm_lock

from appfactory import make_app
from eggshield.deps import DepsOptions
from eggshield.pipeline_deps import run_deps

DEPRECATED_DOCS = {  # synthetic registry documents: the recorded registry marks nothing deprecated
    "egg-oldplugin": {"name": "egg-oldplugin", "dist-tags": {"latest": "2.0.0"},
                      "versions": {"1.0.0": {"deprecated": "renamed to @eggjs/oldplugin"}, "2.0.0": {}},
                      "time": {"1.0.0": "2020-01-01T00:00:00.000Z", "2.0.0": "2024-01-01T00:00:00.000Z"}},
    "left-pad": {"name": "left-pad", "dist-tags": {"latest": "1.3.0"},
                 "versions": {"1.1.0": {}, "1.3.0": {"deprecated": "use String.prototype.padStart()"}}},
}


@pytest.fixture(scope="module")
def registry():
    srv = RegistryServer(docs=DEPRECATED_DOCS)
    yield srv
    srv.close()


def _app(tmp_path, deps: dict[str, str], locked: dict, *, egg="3.17.0", files=None, dev=None, name="shop"):
    declared = {"egg": f"^{egg}" if egg[0].isdigit() else egg, **deps}
    root = make_app(tmp_path / name, {**CONFIG, **(files or {})}, egg=declared["egg"], name=name,
                    pkg={"dependencies": declared, **({"devDependencies": dev} if dev else {})})
    if locked is not None:
        npm_lock(root, {"egg": egg, **locked})
    return root


def _run(root, tmp_path, registry=None, **kw):
    opts = DepsOptions(offline=registry is None, cache_dir=tmp_path / "cache", refresh_advisories=False,
                       registry_url=registry.url if registry else "http://127.0.0.1:9/", **kw)
    return run_deps(root, opts)


def _by_rule(run, rule_id):
    return [f for f in run.findings if f.rule_id == rule_id]


def test_vulnerable_core_fires_on_koa_under_egg_and_not_on_a_fixed_koa(tmp_path):
    egg_koa = {"egg": {"version": "3.17.0", "dependencies": {"koa": "^2.14.0"}}}
    bad = _run(_app(tmp_path / "a", {}, {**egg_koa, "koa": "2.14.0"}), tmp_path)
    found = _by_rule(bad, "EGG-UPD-001")
    assert {f.package for f in found} == {"koa@2.14.0"}
    crit = next(f for f in found if "GHSA-593f-38f6-jp5m" in f.message)
    assert crit.severity == "critical" and crit.cwe == 1395 and crit.strategy == 1
    assert "fixed in 2.15.4" in crit.message and "2.16.4" in crit.fix  # the smallest release clearing all
    assert crit.location.path == "package-lock.json" and crit.location.line  # transitive: lockfile entry
    good = _run(_app(tmp_path / "b", {}, {**egg_koa, "koa": "2.16.4"}), tmp_path)
    assert _by_rule(good, "EGG-UPD-001") == []


def test_egg_specific_advisory_without_public_id(tmp_path):
    bad = _run(_app(tmp_path / "a", {"egg-security": "3.7.0"}, {"egg-security": "3.7.0"}), tmp_path)
    (f,) = [f for f in _by_rule(bad, "EGG-UPD-002") if "EGGSHIELD-2026-0001" in f.message]
    assert f.package == "egg-security@3.7.0" and f.severity == "medium"
    assert f.location.path == "package.json" and f.location.line  # declared: the package.json line
    assert "3.8.1" in f.fix and "npm install egg-security@^3.8.1" in f.fix
    assert f.config_key is None or f.config_key.startswith("plugin.")
    good = _run(_app(tmp_path / "b", {"egg-security": "3.8.1"}, {"egg-security": "3.8.1"}), tmp_path)
    assert _by_rule(good, "EGG-UPD-002") == []


def test_egg4_session_advisory_follows_the_apps_config(tmp_path):
    locked = {"egg": {"version": "4.0.10", "dependencies": {"@eggjs/session": "^4.0.1"}}, "@eggjs/session": "4.0.1"}
    bad = _run(_app(tmp_path / "a", {}, locked, egg="4.0.10"), tmp_path)
    assert [f.package for f in _by_rule(bad, "EGG-UPD-002") if "EGGSHIELD-2026-0002" in f.message] == \
        ["@eggjs/session@4.0.1"]
    fixed_cfg = {"config/config.default.js": "module.exports = { keys: 'k', session: { encrypt: true } };\n"}
    good = _run(_app(tmp_path / "b", {}, locked, egg="4.0.10", files=fixed_cfg), tmp_path)
    assert not [f for f in good.findings if "EGGSHIELD-2026-0002" in f.message]
    (rep,) = [p for _, a in good.audits for p in a.packages if p.name == "@eggjs/session"]
    assert rep.suppressed and "session.encrypt is set to True" in rep.suppressed[0][1]


def test_vulnerable_transitive_dependency_names_who_pulls_it_in(tmp_path):
    locked = {"egg-view-nunjucks": {"version": "2.3.0", "dependencies": {"nunjucks": "^3.2.2"}}, "nunjucks": "3.2.3"}
    bad = _run(_app(tmp_path / "a", {"egg-view-nunjucks": "^2.3.0"}, locked), tmp_path)
    (f,) = [f for f in _by_rule(bad, "EGG-UPD-003") if "GHSA-x77j-w7wf-fjmw" in f.message]
    assert "shop > egg-view-nunjucks@2.3.0 > nunjucks@3.2.3" in f.evidence
    assert '"overrides": { "nunjucks": "^3.2.4" }' in f.fix
    locked["nunjucks"] = "3.2.4"
    good = _run(_app(tmp_path / "b", {"egg-view-nunjucks": "^2.3.0"}, locked), tmp_path)
    assert not [f for f in _by_rule(good, "EGG-UPD-003") if f.package.startswith("nunjucks@")]


def test_malicious_package(tmp_path):
    bad = _run(_app(tmp_path / "a", {"requestt": "*"}, {"requestt": "1.0.0"}), tmp_path)
    (f,) = _by_rule(bad, "EGG-UPD-004")
    assert f.severity == "critical" and "rotate" in f.fix and not _by_rule(bad, "EGG-UPD-003")
    good = _run(_app(tmp_path / "b", {"request": "*"}, {"request": "2.88.2"}), tmp_path)
    assert _by_rule(good, "EGG-UPD-004") == []


def test_outdated_egg_core(tmp_path, registry):
    major = _run(_app(tmp_path / "a", {}, {}, egg="3.17.0"), tmp_path, registry)
    (f,) = _by_rule(major, "EGG-UPD-005")
    assert f.package == "egg@3.17.0" and f.cwe == 1104 and "1 major behind" in f.message and "4.0.10" in f.message
    patch = _run(_app(tmp_path / "b", {}, {}, egg="4.0.5"), tmp_path, registry)
    assert [f.package for f in _by_rule(patch, "EGG-UPD-006")] == ["egg@4.0.5"] and not _by_rule(patch, "EGG-UPD-005")
    assert "5 patches behind" in _by_rule(patch, "EGG-UPD-006")[0].message
    current = _run(_app(tmp_path / "c", {}, {}, egg="4.0.10"), tmp_path, registry)
    assert not _by_rule(current, "EGG-UPD-005") and not _by_rule(current, "EGG-UPD-006")


def test_outdated_plugins(tmp_path, registry):
    major = _run(_app(tmp_path / "a", {"egg-redis": "^1.0.1"}, {"egg-redis": "1.0.1"}), tmp_path, registry)
    assert [f.package for f in _by_rule(major, "EGG-UPD-007")] == ["egg-redis@1.0.1"]
    minor = _run(_app(tmp_path / "b", {"egg-redis": "^2.4.0"}, {"egg-redis": "2.4.0"}), tmp_path, registry)
    (f,) = _by_rule(minor, "EGG-UPD-008")
    assert "2 minors behind" in f.message and "already allows 2.6.1" in f.fix
    current = _run(_app(tmp_path / "c", {"egg-redis": "^2.6.1"}, {"egg-redis": "2.6.1"}), tmp_path, registry)
    assert not _by_rule(current, "EGG-UPD-007") and not _by_rule(current, "EGG-UPD-008")
    devonly = _run(_app(tmp_path / "d", {}, {"egg-redis": {"version": "1.0.1", "dev": True}},
                        dev={"egg-redis": "^1.0.1"}), tmp_path, registry)
    assert not _by_rule(devonly, "EGG-UPD-007")  # a devDependency is not what production runs


def test_deprecated_packages(tmp_path, registry):
    bad = _run(_app(tmp_path / "a", {"egg-oldplugin": "^1.0.0", "left-pad": "^1.3.0"},
                    {"egg-oldplugin": "1.0.0", "left-pad": "1.3.0"}), tmp_path, registry, all_packages=True)
    assert [f.package for f in _by_rule(bad, "EGG-UPD-009")] == ["egg-oldplugin@1.0.0"]
    assert "renamed to @eggjs/oldplugin" in _by_rule(bad, "EGG-UPD-009")[0].message
    assert [f.package for f in _by_rule(bad, "EGG-UPD-010")] == ["left-pad@1.3.0"]
    good = _run(_app(tmp_path / "b", {"egg-oldplugin": "^2.0.0", "left-pad": "1.1.0"},
                     {"egg-oldplugin": "2.0.0", "left-pad": "1.1.0"}), tmp_path, registry, all_packages=True)
    assert not _by_rule(good, "EGG-UPD-009") and not _by_rule(good, "EGG-UPD-010")


def test_lockfile_out_of_sync(tmp_path):
    bad = _run(_app(tmp_path / "a", {"ms": "^2.1.3"}, {"ms": "2.0.0"}), tmp_path)
    (f,) = _by_rule(bad, "EGG-UPD-011")
    assert "asks for ms ^2.1.3" in f.message and "2.0.0" in f.message
    good = _run(_app(tmp_path / "b", {"ms": "^2.0.0"}, {"ms": "2.0.0"}), tmp_path)
    assert not _by_rule(good, "EGG-UPD-011")
    missing = _run(_app(tmp_path / "c", {"ms": "^2.0.0", "qs": "^6.14.0"}, {"ms": "2.0.0"}), tmp_path)
    assert [f.message for f in _by_rule(missing, "EGG-UPD-011")] == [
        "package.json asks for qs ^6.14.0 but package-lock.json has no entry for it"]


def test_no_lockfile_is_unresolved_and_exact_pins_still_audited(tmp_path):
    root = _app(tmp_path / "a", {"egg-security": "3.7.0", "lodash": "^4.17.0"}, None)
    run = _run(root, tmp_path)
    (f,) = _by_rule(run, "EGG-UPD-012")
    assert "3 dependencies known only by their ranges (1 exact pins)" in f.message
    assert [x.package for x in _by_rule(run, "EGG-UPD-002")] == ["egg-security@3.7.0"]
    # a range whose newest versions are fixed is not reported as vulnerable
    assert not [x for x in run.findings if x.package and x.package.startswith("lodash")]
    locked = _run(_app(tmp_path / "b", {}, {}), tmp_path)
    assert not _by_rule(locked, "EGG-UPD-012")


def test_git_dependency_is_not_auditable(tmp_path):
    bad = _run(_app(tmp_path / "a", {"mylib": "github:corp/mylib#abc123"},
                    {"mylib": {"version": "1.0.0", "resolved": "git+ssh://git@github.com/corp/mylib.git#abc123"}}),
               tmp_path)
    (f,) = _by_rule(bad, "EGG-UPD-013")
    assert f.package == "mylib@1.0.0" and "git" in f.message
    good = _run(_app(tmp_path / "b", {"ms": "^2.0.0"}, {"ms": "2.1.3"}), tmp_path)
    assert not _by_rule(good, "EGG-UPD-013")


def test_every_deps_rule_has_a_complete_page():
    from eggshield.checks.registry import all_rules

    rules = [r for r in all_rules() if r.id.startswith("EGG-UPD-")]
    assert len(rules) == 13 and all(r.kind == "deps" and r.strategy == 1 and r.cwe in (1395, 1104) for r in rules)
    for r in rules:
        for section in ("## What", "## Why it matters", "## How to fix", "## Not reported"):
            assert section in r.doc, (r.id, section)
        assert "```" in r.doc, r.id


def test_finding_json_carries_the_contract_fields(tmp_path):
    run = _run(_app(tmp_path / "a", {"lodash": "4.17.15"}, {"lodash": "4.17.15"}), tmp_path)
    d = next(f for f in run.findings if f.package == "lodash@4.17.15").to_dict()
    assert set(d) >= {"rule_id", "strategy", "severity", "confidence", "cwe", "location", "message", "package",
                      "evidence", "fix", "config_key", "env"}
    assert json.dumps(d)


def test_workspace_findings_point_at_the_workspace_manifest(tmp_path):
    from deps_helpers import LOCKFILES

    run = _run(LOCKFILES / "npm3", tmp_path)
    assert run.not_egg  # a plain npm workspace: every importer is audited
    qs = [f for f in run.findings if f.package == "qs@6.5.2"]
    assert qs and {(f.location.path, f.location.line) for f in qs} == {("packages/lib-a/package.json", 5)}
    assert all("in packages/lib-a" in f.fix for f in qs)
