"""Egg is the oracle (DESIGN.md): eggshield's statically resolved config must agree with the
config Egg itself dumps to run/application_config.json when it starts the same app.

Every fixture app under tests/fixtures/oracle/ is started once per module (in parallel, one
Node process each) on the egg major it declares. Without a registry and without a cached
runtime the recorded dumps (egg-dump.<env>.json) stand in, and the test that keeps the
recordings honest is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import eggrt
from eggrt import compare

pytestmark = pytest.mark.oracle

FIXTURES = eggrt.fixture_names()

# Fixture facts the apps were written to exhibit, checked against Egg so that a fixture cannot
# silently stop testing what its name says: (fixture, dotted key, expected dump value or ABSENT).
ABSENT = object()
EXPECTED_IN_DUMP = [
    ("egg3-fn-exports", "localOnly", ABSENT),  # config.local.js must not reach prod
    ("egg3-fn-exports", "session.maxAge", 2 * 3600 * 1000),  # config.prod.js overrides
    ("egg3-fn-exports", "pageSize", 50),
    ("egg3-config-env", "localOnly", ABSENT),
    ("egg3-config-env", "onerror.errorPageUrl", "/error.html"),  # env read from config/env
    ("egg3-legacy-config", "legacy", "prod"),
    ("egg3-async-fn", "asyncOnly", ABSENT),  # egg 3 does not await a config function
    ("egg3-async-fn", "security.csrf.enable", True),
    ("egg4-async-fn", "asyncOnly", "resolved"),  # egg 4 does
    ("egg4-async-fn", "security.csrf.enable", False),
    ("egg4-fn-exports", "localOnly", ABSENT),
    ("egg3-exports-assign", "redis.client.host", "127.0.0.1"),  # env var unset: the fallback
    ("egg3-exports-assign", "redis.client.password", ABSENT),  # undefined is skipped by the merge
    ("egg3-exports-assign", "apiBase", ABSENT),
    ("egg3-secrets-arrays", "dbs", [{"host": "db1.internal", "user": "app", "password": "leak-in-array"},
                                    {"host": "db2.internal", "password": "second"}]),
    ("egg3-secrets-arrays", "mysql.client.password", "<String len: 7>"),
    ("egg3-secrets-arrays", "jwt.PASSWORD", "UPPER"),
    ("egg3-object-exports", "jsonp.whiteList", [{}, {}]),  # regexps inside an array
    ("egg3-object-exports", "siteFile./robots.txt", "<Buffer len: 26>"),
    ("egg4-object-exports", "dbs", [{"name": "replica", "password": "leak-in-array"}]),
]
EXPECTED_PLUGINS = [
    # (fixture, plugin, enabled in prod, implicitly re-enabled)
    ("egg3-plugins", "static", False, False),
    ("egg3-plugins", "jsonp", False, False),
    ("egg3-plugins", "view", False, False),  # env: ['local', 'unittest']
    ("egg3-plugins", "i18n", True, False),  # plugin.prod.js turns it back on
    ("egg3-plugins", "schedule", True, True),  # needed by logrotator
    ("egg4-plugins", "schedule", True, True),
    ("egg4-plugins", "view", False, False),
    ("egg4-esm-default", "jsonp", False, False),
    ("egg3-ts", "static", False, False),
]


@dataclass
class Oracle:
    """Egg's dumps for this run: live where a runtime could be had, else the recordings."""

    live: dict[str, dict]  # fixture -> live dump
    errors: dict[str, str]  # fixture -> why Egg produced no dump although its runtime is there
    unavailable: dict[str, eggrt.RuntimeUnavailable]  # fixture -> why its runtime could not be had
    eggshield: dict[str, dict | str]  # fixture -> eggshield JSON, or the error text

    def dump(self, name: str) -> tuple[dict, str]:
        if name in self.errors:
            pytest.fail(f"{name}: Egg produced no dump:\n{self.errors[name]}")
        if name in self.live:
            return self.live[name], "live"
        env = eggrt.fixture_env(eggrt.fixture_dir(name)) or "prod"
        rec = eggrt.load_recording(name, env)
        if rec is None:
            pytest.fail(f"{name}: no Egg runtime ({self.unavailable.get(name)}) and no recording at "
                        f"{eggrt.recording_path(name, env)}")
        return rec, "recorded"


def eggshield_cmd() -> list[str]:
    """The installed console script (what a user runs), else the module."""
    script = shutil.which("eggshield", path=str(Path(sys.executable).parent)) or shutil.which("eggshield")
    return [script] if script else [sys.executable, "-m", "eggshield"]


def run_eggshield(name: str) -> dict | str:
    # --show-secrets: the comparison applies Egg's own masking to the clear values; eggshield's
    # masked rendering ("'egg****' (34 chars)") is not what Egg holds.
    cmd = [*eggshield_cmd(), "config", str(eggrt.fixture_dir(name)), "--env", "prod", "--format", "json", "--show-secrets"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{' '.join(cmd)}: {exc}"
    if proc.returncode != 0:
        return f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stderr[-3000:]}"
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        return f"{' '.join(cmd)}: output is not JSON ({exc}): {proc.stdout[:500]!r}"


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    """Start every fixture app once and run eggshield on every fixture, both at the same time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        es_future = pool.submit(lambda: {n: run_eggshield(n) for n in FIXTURES})
        live: dict[str, dict] = {}
        errors: dict[str, str] = {}
        unavailable: dict[str, eggrt.RuntimeUnavailable] = {}
        dumps, secs = eggrt.timed(eggrt.dump_fixtures, FIXTURES, return_errors=True)
        for name, dump in dumps.items():
            if isinstance(dump, eggrt.RuntimeUnavailable):
                unavailable[name] = dump
            elif isinstance(dump, Exception):
                errors[name] = str(dump)
            else:
                live[name] = dump
        if live:
            eggrt.report(f"oracle: live Egg dumps of {len(live)} fixture apps in {secs:.1f} s")
        for why in dict.fromkeys(str(e).splitlines()[0] for e in unavailable.values()):
            eggrt.report(f"oracle: using RECORDED Egg dumps: {why}")
        for name, dump in live.items():
            if eggrt.load_recording(name, dump["env"]) is None or os.environ.get("EGGSHIELD_RERECORD"):
                eggrt.report(f"oracle: recorded {eggrt.write_recording(name, dump)}")
        return Oracle(live, errors, unavailable, es_future.result())


def _get(d: dict, dotted: str):
    return compare.meta_lookup(d, dotted, default=ABSENT)


def _decoded(dump: dict, key: str = "config") -> dict:
    doc = {"config": dump[key], "plugins": dump["plugins"], "appInfo": dump["appInfo"]}
    return compare.decode_circular(doc)


@pytest.mark.parametrize("name", FIXTURES)
def test_eggshield_agrees_with_egg(oracle: Oracle, name: str):
    """Every leaf eggshield claims to know equals Egg's (masked) value; the key sets, the
    enabled plugins and the app files named in provenance agree too (see eggrt/compare.py)."""
    dump, source = oracle.dump(name)
    es = oracle.eggshield[name]
    if isinstance(es, str):
        pytest.fail(f"{name}: eggshield config failed: {es}")
    app = str(eggrt.fixture_dir(name))
    final = compare.localize_dump(_decoded(dump)["config"], app)
    loaded = compare.localize_dump(_decoded(dump, "loaded_config")["config"], app)
    res = compare.Comparison()
    if es.get("env") != dump["env"]:
        res.add("value", "(env)", es.get("env"), dump["env"])
    if (es.get("egg") or {}).get("major") != dump["egg"]["major"]:
        res.add("value", "(egg.major)", (es.get("egg") or {}).get("major"), dump["egg"]["major"])
    if (es.get("egg") or {}).get("version") not in (None, dump["egg"]["version"]):
        # the fixtures have no node_modules or lockfile, so null is the honest answer
        res.add("value", "(egg.version)", es["egg"]["version"], dump["egg"]["version"])
    major = dump["egg"]["major"]
    compare.compare_config(es.get("config") or {}, final, loaded, major=major, result=res)
    ts = eggrt.is_typescript(eggrt.fixture_dir(name))
    compare.compare_plugins(es.get("plugins") or {}, dump["plugins"], app, ts=ts, result=res)
    compare.compare_meta(es.get("provenance") or {}, dump["meta"], ts=ts, result=res, config=es.get("config") or {})
    label = f"{source} egg {dump['egg']['version']}"
    if res.mismatches:  # one readable message with every mismatch, not pytest's repr of the list
        pytest.fail(compare.format_report(name, label, res), pytrace=False)
    assert res.compared > 0, f"{name}: eggshield's config has no known leaf to compare"


@pytest.mark.parametrize("name", FIXTURES)
def test_runtime_mutations_are_documented(oracle: Oracle, name: str):
    """Leniency is granted only to keys whose change by Egg's boot code is explained."""
    dump, _ = oracle.dump(name)
    extra = compare.undocumented_mutations(_decoded(dump, "loaded_config")["config"], _decoded(dump)["config"])
    assert not extra, f"{name}: Egg changed these keys at runtime; explain them in compare.RUNTIME_MUTATIONS:\n" + "\n".join(
        f"  {m}" for m in extra
    )


@pytest.mark.parametrize("name", FIXTURES)
def test_live_dump_matches_recording(oracle: Oracle, name: str):
    """Recordings are what offline runs trust: a live dump that differs means they rotted
    (a lockfile bump, a changed fixture). EGGSHIELD_RERECORD=1 rewrites them."""
    if name in oracle.unavailable:
        exc = oracle.unavailable[name]
        if exc.offline:
            pytest.skip(f"offline, no live Egg dump to check the recording against: {str(exc).splitlines()[0]}")
        pytest.fail(f"no live Egg dump and not offline: {exc}")
    live, _ = oracle.dump(name)
    rec = eggrt.load_recording(name, live["env"])
    assert rec is not None, f"{name}: recording missing"
    live = json.loads(json.dumps(live))
    if live != rec:
        out = eggrt.cache_root() / "live-dumps" / f"{name}.egg-dump.{live['env']}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(live, indent=1, ensure_ascii=False) + "\n")
        diffs = _diff_paths(rec, live)
        pytest.fail(
            f"{name}: live Egg dump differs from {eggrt.recording_path(name, live['env'])} at {len(diffs)} path(s):\n  "
            + "\n  ".join(diffs[:30])
            + f"\nlive dump written to {out}; rerun with EGGSHIELD_RERECORD=1 if the change is intended"
        )


def _diff_paths(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in dict.fromkeys([*a, *b]):
            p = f"{path}.{k}" if path else k
            if k not in a or k not in b:
                out.append(f"{p}: {'only live' if k in b else 'only recorded'}")
            else:
                out += _diff_paths(a[k], b[k], p)
        return out
    return [] if a == b else [f"{path}: recorded {json.dumps(a)[:80]}, live {json.dumps(b)[:80]}"]


@pytest.mark.parametrize(("name", "key", "value"), EXPECTED_IN_DUMP, ids=[f"{n}:{k}" for n, k, _ in EXPECTED_IN_DUMP])
def test_fixture_exhibits_what_it_is_for(oracle: Oracle, name: str, key: str, value):
    dump, source = oracle.dump(name)
    got = _get(_decoded(dump)["config"], key)
    assert got == value, f"{name} ({source}): Egg has {key} = {got!r}, the fixture expects {value!r}"


@pytest.mark.parametrize(("name", "plugin", "enabled", "implicit"), EXPECTED_PLUGINS,
                         ids=[f"{n}:{p}" for n, p, _, _ in EXPECTED_PLUGINS])
def test_fixture_plugins_as_designed(oracle: Oracle, name: str, plugin: str, enabled: bool, implicit: bool):
    dump, source = oracle.dump(name)
    p = dump["plugins"][plugin]
    assert (p["enable"], bool(p.get("implicitEnable"))) == (enabled, implicit), f"{name} ({source}): {plugin} = {p}"


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_sets_keys(oracle: Oracle, name: str):
    """Without config.keys every request of the app 500s: fixtures must look like real apps."""
    dump, source = oracle.dump(name)
    assert dump["config"]["keys"] not in ("", "<String len: 0>"), f"{name} ({source}): config.keys is empty"
