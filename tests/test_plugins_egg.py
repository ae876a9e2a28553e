"""Egg is the oracle for EGG-PLG-007: egg 3 and egg 4 refuse to start when any listed plugin's package is
missing, even a disabled entry or one whose env list excludes the running env. Real apps are started on
the cached runtimes (tests/eggrt); offline, the outcomes recorded from such a run are checked instead."""

from __future__ import annotations

import json

import pytest

import eggrt
from appfactory import make_app
from plugin_helpers import FIXTURES, findings, plugin_js

RECORDED = FIXTURES / "egg-start-outcomes.json"
CASES = {
    "disabled-entry": plugin_js(nunjucks="{ enable: false, package: 'egg-view-nunjucks' }"),
    "env-excluded-entry": plugin_js(nunjucks="{ enable: true, package: 'egg-view-nunjucks', env: ['local'] }"),
    "no-entry": plugin_js(static="false"),
}
KEYS = "exports.keys = 'a-test-key-that-is-long-enough-0123456789';\n"


def _start_all(tmp_path) -> dict[str, str]:
    """'ok' or the first line naming the missing package, per case and major."""
    jobs, names = [], []
    for major in eggrt.MAJORS:
        for case, plugin in CASES.items():
            root = make_app(tmp_path / f"{case}-{major}", {"config/plugin.js": plugin, "config/config.default.js": KEYS},
                            egg=f"^{major}.0.0", name=f"{case}-{major}")
            jobs.append(eggrt.Job(root, major, "prod"))
            names.append(f"{case}/egg{major}")
    results = eggrt.dump_configs(jobs, return_errors=True)
    out = {}
    for name, res in zip(names, results, strict=True):
        if isinstance(res, eggrt.RuntimeUnavailable):
            raise res
        if isinstance(res, dict):
            out[name] = "ok"
        else:
            line = next((ln.strip() for ln in str(res).splitlines()
                         if "Can not find plugin" in ln or "Cannot find module" in ln), str(res).splitlines()[0])
            line = line.split(" in \"", 1)[0].removeprefix("[cause]: ")
            out[name] = line[line.index("Error:"):] if "Error:" in line else line
    return out


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    try:
        live = _start_all(tmp_path_factory.mktemp("egg-plugins"))
    except eggrt.RuntimeUnavailable as exc:
        if not exc.offline:
            raise
        return json.loads(RECORDED.read_text())
    assert live == json.loads(RECORDED.read_text()), "recorded Egg outcomes are stale: re-record them"
    return live


def test_egg_refuses_to_start_with_a_missing_package_even_when_the_entry_is_off(outcomes):
    assert outcomes["disabled-entry/egg3"] == "Error: Can not find plugin egg-view-nunjucks"
    assert outcomes["env-excluded-entry/egg3"] == "Error: Can not find plugin egg-view-nunjucks"
    assert outcomes["disabled-entry/egg4"] == "Error: Cannot find module 'egg-view-nunjucks/package.json'"
    assert outcomes["env-excluded-entry/egg4"] == "Error: Cannot find module 'egg-view-nunjucks/package.json'"
    assert outcomes["no-entry/egg3"] == outcomes["no-entry/egg4"] == "ok"


def test_eggshield_flags_exactly_the_apps_egg_refuses(tmp_path, outcomes):
    for case, plugin in CASES.items():
        root = make_app(tmp_path / case, {"config/plugin.js": plugin, "config/config.default.js": KEYS})
        flagged = bool(findings(root, "EGG-PLG-007"))
        assert flagged is (outcomes[f"{case}/egg3"] != "ok"), case
