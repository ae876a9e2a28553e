"""`eggshield plugins PATH` as users run it: the table, JSON, markdown, versions, envs, bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from appfactory import make_app
from plugin_helpers import FIXTURES, audit_app, plugin_js

APP = FIXTURES / "inventory-app"


def run(*args):
    return subprocess.run([sys.executable, "-m", "eggshield", "plugins", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def doc():
    res = run(APP, "--format", "json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def plugin(doc, name):
    return next(p for p in doc["plugins"] if p["name"] == name)


def test_json_inventory_row_carries_package_version_envs_origin_use_and_why(doc):
    mysql = plugin(doc, "mysql")
    assert (mysql["package"], mysql["version"], mysql["version_source"]) == ("egg-mysql", "5.0.0", "yarn.lock")
    assert mysql["envs"] == ["prod", "local", "unittest"] and mysql["enabled"] is True
    assert mysql["from"] == {"kind": "app", "path": "config/plugin.js", "line": 11, "required_by": None,
                             "local_dir": None, "text": "config/plugin.js:11"}
    assert mysql["used"]["state"] == "used"
    assert mysql["used"]["evidence"][0] == {"what": "app.mysql", "path": "app/service/item.js", "line": 7}
    assert mysql["justification"] == {"text": "orders and users live in MySQL (app/service/*)",
                                      "where": "config/plugin.js:11"}
    assert mysql["knowledge"]["usage_rule"].startswith("Used when code reads app.mysql")


def test_justification_from_toml_and_local_plugin_version(doc):
    assert plugin(doc, "jwt")["justification"]["where"] == ".eggshield.toml"
    audit = plugin(doc, "audit")
    assert audit["version"] == "0.3.0" and audit["from"]["local_dir"] == "lib/plugin/egg-audit"
    assert audit["used"]["evidence"][0]["what"] == "ctx.auditLog"


def test_framework_default_implicit_and_local_only_rows(doc):
    i18n = plugin(doc, "i18n")
    assert i18n["from"]["kind"] == "framework" and i18n["version_source"] == "egg default"
    assert i18n["used"]["state"] == "unused"
    schedule = plugin(doc, "schedule")
    assert schedule["from"]["kind"] == "implicit" and schedule["from"]["required_by"] == ["logrotator"]
    jsonp = plugin(doc, "jsonp")
    assert jsonp["enabled"] is False and jsonp["envs"] == []
    logview = plugin(doc, "logview")  # only plugin.local.js lists it
    assert logview["envs"] == ["local"] and logview["enabled"] is False and logview["version"] == "^2.0.1"


def test_text_table_has_the_columns_and_first_use(tmp_path):
    res = run(APP)
    assert res.returncode == 0 and "Traceback" not in res.stderr
    head = res.stdout.splitlines()[2]
    for column in ("plugin", "package@version", "enabled in", "from", "used?", "justification"):
        assert column in head
    assert "yes: app/service/item.js:7 (app.mysql)" in res.stdout
    assert "unused: session, i18n, multipart, view" in res.stdout


def test_markdown_and_output_file(tmp_path):
    out = tmp_path / "PLUGINS.md"
    res = run(APP, "--format", "markdown", "-o", out)
    assert res.returncode == 0
    text = out.read_text()
    assert text.startswith("## inventory-app") and "| plugin | package@version |" in text
    assert "| mysql | egg-mysql@5.0.0 |" in text


def test_env_option_changes_what_is_on(tmp_path):
    res = run(APP, "--env", "local", "--format", "json")
    logview = plugin(json.loads(res.stdout), "logview")
    assert logview["enabled"] is True and logview["used"]["state"] == "active"


def test_not_an_egg_app_exits_2(tmp_path):
    (tmp_path / "package.json").write_text('{"name": "x", "dependencies": {"express": "4"}}')
    res = run(tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_broken_plugin_file_is_one_line_and_the_rest_is_audited(tmp_path):
    root = make_app(tmp_path, {"config/plugin.js": "exports.mysql = { enable: true, package: 'egg-mysql' \n",
                               "app/controller/a.js": "exports.a = async ctx => { ctx.session.x = 1; };\n"})
    res = run(root)
    assert res.returncode == 0 and "Traceback" not in res.stderr + res.stdout
    assert "problem: config/plugin.js: syntax error" in res.stdout
    assert "yes: app/controller/a.js:1 (ctx.session)" in res.stdout


def test_binary_and_huge_sources_do_not_stop_the_audit(tmp_path):
    root = make_app(tmp_path, {"config/plugin.js": plugin_js(redis="{ enable: true, package: 'egg-redis' }"),
                               "app/service/cache.js": "module.exports = app => app.redis;\n"})
    (root / "app" / "service" / "blob.js").write_bytes(b"\x00\x01\x02binary")
    (root / "app" / "service" / "big.js").write_text("// x\n" * 600_000)
    res = run(root)
    assert res.returncode == 0 and "Traceback" not in res.stderr
    assert "binary file" in res.stdout and "too large" in res.stdout
    assert "yes: app/service/cache.js:1 (app.redis)" in res.stdout
    assert "(medium confidence)" not in res.stdout.split("redis", 1)[1].splitlines()[0]


def test_monorepo_lists_each_app(tmp_path):
    make_app(tmp_path / "a", {"config/plugin.js": plugin_js(cors="{ enable: true, package: 'egg-cors' }")}, name="a")
    make_app(tmp_path / "b", {"config/plugin.js": plugin_js(jwt="{ enable: true, package: 'egg-jwt' }")}, name="b")
    res = run(tmp_path, "--format", "json")
    docs = json.loads(res.stdout)
    assert sorted(d["name"] for d in docs) == ["a", "b"]


# ---- versions ------------------------------------------------------------------------------------------
def test_versions_from_node_modules_beat_the_lockfile(tmp_path):
    root = tmp_path / "app"
    shutil.copytree(APP, root)
    (root / "node_modules" / "egg-mysql").mkdir(parents=True)
    (root / "node_modules" / "egg-mysql" / "package.json").write_text('{"name": "egg-mysql", "version": "5.1.0"}')
    row = audit_app(root).rows["mysql"]
    assert (row.version.version, row.version.source) == ("5.1.0", "node_modules")


@pytest.mark.parametrize("name,body", [
    ("package-lock.json", json.dumps({"lockfileVersion": 3, "packages": {
        "": {"dependencies": {"egg-redis": "^2"}}, "node_modules/egg-redis": {"version": "2.6.1"},
        "node_modules/x/node_modules/egg-redis": {"version": "1.0.0"}}})),
    ("package-lock.json", json.dumps({"lockfileVersion": 1, "dependencies": {"egg-redis": {"version": "2.6.1"}}})),
    ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      egg-redis:\n"
                       "        specifier: ^2.0.0\n        version: 2.6.1\n\npackages:\n\n  egg-redis@2.6.1:\n"
                       "    resolution: {integrity: sha512-x}\n"),
    ("pnpm-lock.yaml", "lockfileVersion: 5.4\n\nspecifiers:\n  egg-redis: ^2.0.0\n\ndependencies:\n"
                       "  egg-redis: 2.6.1\n"),
    ("yarn.lock", '__metadata:\n  version: 6\n\n"egg-redis@npm:^2.0.0":\n  version: 2.6.1\n  resolution: "x"\n'),
])
def test_lockfile_forms(tmp_path, name, body):
    root = make_app(tmp_path, {"config/plugin.js": plugin_js(redis="{ enable: true, package: 'egg-redis' }"),
                               name: body}, pkg={"dependencies": {"egg": "^3.17.0", "egg-redis": "^2.0.0"}})
    row = audit_app(root).rows["redis"]
    assert (row.version.version, row.version.source) == ("2.6.1", name)


def test_broken_lockfile_falls_back_to_the_range_with_a_problem_line(tmp_path):
    root = make_app(tmp_path, {"config/plugin.js": plugin_js(redis="{ enable: true, package: 'egg-redis' }"),
                               "package-lock.json": '{"lockfileVersion": 3, "packages": {'},
                    pkg={"dependencies": {"egg": "^3.17.0", "egg-redis": "^2.0.0"}})
    audit = audit_app(root)
    assert (audit.rows["redis"].version.version, audit.rows["redis"].version.source) == ("^2.0.0", "range")
    assert any("package-lock.json" in p for p in audit.problems)
