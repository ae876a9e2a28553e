"""The harness itself: runtime cache keys, offline detection, fixture metadata, path
normalization. Offline detection decides between "fall back to recordings" and "fail", so it
is tested against a real npm that cannot reach its registry."""

import json
import shutil

import pytest

import eggrt


def test_runtime_dir_is_keyed_by_lockfile(monkeypatch, tmp_path):
    monkeypatch.setenv("EGGSHIELD_TEST_CACHE", str(tmp_path))
    d3, d4 = eggrt.runtime_dir(3), eggrt.runtime_dir(4)
    assert d3.parent == d4.parent == tmp_path
    assert d3.name.startswith("egg3-") and len(d3.name) == len("egg3-") + 16
    assert d3.name[5:] != d4.name[5:]


@pytest.mark.parametrize("major", eggrt.MAJORS)
def test_lockfile_matches_package_json(major):
    """npm ci refuses a lockfile out of sync with package.json; catch that offline too."""
    pkg = json.loads((eggrt.HERE / f"egg{major}" / "package.json").read_text())
    lock = json.loads(eggrt.lockfile(major).read_text())
    assert lock["packages"][""]["dependencies"] == pkg["dependencies"]
    assert lock["packages"]["node_modules/egg"]["version"].startswith(f"{major}.")
    assert "resolved" not in eggrt.lockfile(major).read_text(), "lockfiles must not name a registry host"


def test_offline_switch_without_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("EGGSHIELD_TEST_CACHE", str(tmp_path))
    monkeypatch.setenv("EGGSHIELD_TEST_OFFLINE", "1")
    with pytest.raises(eggrt.RuntimeUnavailable) as exc:
        eggrt.ensure_runtime(3)
    assert exc.value.offline


@pytest.mark.skipif(not shutil.which("npm"), reason="npm not installed")
def test_unreachable_registry_counts_as_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("EGGSHIELD_TEST_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EGGSHIELD_TEST_OFFLINE", raising=False)
    # a closed loopback port and an empty npm cache: npm fails at once with ECONNREFUSED
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("npm_config_offline", "false")
    monkeypatch.setenv("npm_config_prefer_offline", "false")
    with pytest.raises(eggrt.RuntimeUnavailable) as exc:
        eggrt.ensure_runtime(3)
    assert exc.value.offline, str(exc.value)
    # the failed install left nothing a later run would trust
    assert not eggrt.runtime_dir(3).exists()
    assert [p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")] == []


def test_fixture_metadata():
    names = eggrt.fixture_names()
    assert {eggrt.fixture_major(eggrt.fixture_dir(n)) for n in names} == {3, 4}
    for n in names:
        assert n.startswith(f"egg{eggrt.fixture_major(eggrt.fixture_dir(n))}-"), n
    assert eggrt.fixture_env(eggrt.fixture_dir("egg3-config-env")) is None
    assert eggrt.fixture_env(eggrt.fixture_dir("egg3-fn-exports")) == "prod"
    assert eggrt.is_typescript(eggrt.fixture_dir("egg4-ts"))


def test_fixtures_ship_no_build_output():
    """The fixtures are source trees: no node_modules, no compiled .js beside .ts, no run/."""
    for n in eggrt.fixture_names():
        d = eggrt.fixture_dir(n)
        assert not (d / "node_modules").exists() and not (d / "run").exists() and not (d / "logs").exists(), n
        if eggrt.is_typescript(d):
            assert not list(d.rglob("*.js")), n


def test_normalize_paths_longest_first():
    got = eggrt.normalize_paths(
        {"a": "/t/app/x", "b": ["/t/rt/node_modules/egg", "/t/app"], "/t/app/k": 1},
        {"/t/app": "{baseDir}", "/t": "{tmp}", "/t/rt": "{runtime}"},
    )
    assert got == {"a": "{baseDir}/x", "b": ["{runtime}/node_modules/egg", "{baseDir}"], "{baseDir}/k": 1}
