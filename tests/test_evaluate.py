"""The static evaluator: every config form Egg accepts, and honest Unknowns for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from eggshield.js.evaluate import EvalError, Evaluator
from eggshield.js.values import UNDEFINED, JSFunction, JSObject, JSRegExp, Unknown, to_json


def _appinfo(env: str = "prod") -> JSObject:
    info = JSObject()
    for key, value in {"name": "demo", "baseDir": "/srv/demo", "env": env, "scope": ""}.items():
        info.set(key, value, None)
    info.set("HOME", Unknown("appInfo.HOME"), None)
    return info


def evaluate(tmp_path: Path, files: dict[str, str], entry: str = "config/config.default.js", env: str = "prod"):
    for name, body in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    ev = Evaluator(rel=lambda p: p.relative_to(tmp_path).as_posix(), read=lambda p: p.read_text())
    value = ev.load(tmp_path / entry).value
    if isinstance(value, JSFunction):
        value = ev.call(value, [_appinfo(env)])
    return value, ev


def test_function_export_with_exports_alias(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": """
        'use strict';
        module.exports = appInfo => {
          const config = exports = {};
          config.keys = appInfo.name + '_1513765449219_5858';
          config.security = { csrf: { enable: false } };
          return config;
        };"""})
    assert value["keys"] == "demo_1513765449219_5858"
    assert value["security"]["csrf"]["enable"] is False
    assert value.locs["keys"].line == 5


def test_object_export_and_exports_assignments(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": "exports.keys = 'k';\nexports.a = { b: [1, 'x'] };"})
    assert to_json(value) == {"keys": "k", "a": {"b": [1, "x"]}}
    value, _ = evaluate(tmp_path, {"config/config.prod.js": "module.exports = { logger: { level: 'WARN' } };"},
                        entry="config/config.prod.js")
    assert value["logger"]["level"] == "WARN"


def test_spreads_templates_arithmetic_and_path(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": """
        const path = require('path');
        module.exports = appInfo => {
          const config = {};
          config.session = { maxAge: 30 * 24 * 3600 * 1000 };
          config.logger = { dir: path.join(appInfo.baseDir, 'logs', `${appInfo.name}-x`) };
          config.static = { dir: path.resolve(appInfo.baseDir, '../public') };
          const bizConfig = { sourceUrl: `https://github.com/eggjs/examples/tree/master/${appInfo.name}` };
          return { ...config, ...bizConfig, port: 7000 + 1, half: 3 / 2, s: 'a' + 1 + 2 };
        };"""})
    assert value["session"]["maxAge"] == 2592000000
    assert value["logger"]["dir"] == "/srv/demo/logs/demo-x"
    assert value["static"]["dir"] == "/srv/public"
    assert value["sourceUrl"].endswith("/demo")
    assert (value["port"], value["half"], value["s"]) == (7001, 1.5, "a12")


def test_env_vars_are_unknown_and_keep_fallback(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": """
        module.exports = { keys: process.env.EGG_KEYS || 'fallback-key', pwd: process.env.DB_PWD,
                           port: Number(process.env.PORT), url: `mysql://${process.env.DB_HOST}/db` };"""})
    keys = value["keys"]
    assert isinstance(keys, Unknown) and keys.env_var == "EGG_KEYS" and keys.fallback == "fallback-key"
    assert to_json(keys) == {"$unknown": "process.env.EGG_KEYS", "fallback": "fallback-key"}
    assert value["pwd"].env_var == "DB_PWD" and not value["pwd"].has_fallback
    assert isinstance(value["port"], Unknown)
    assert isinstance(value["url"], Unknown) and "DB_HOST" in value["url"].reason


def test_conversions_keep_the_env_var_and_convert_the_fallback(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js":
                                   "module.exports = { port: Number(process.env.PORT || 6379), s: String(process.env.S || 1) };"})
    assert to_json(value) == {"port": {"$unknown": "process.env.PORT", "fallback": 6379},
                              "s": {"$unknown": "process.env.S", "fallback": "1"}}


def test_functions_and_regexps_are_values_with_location(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": """module.exports = {
  multipart: { whitelist: filename => true },
  onerror: { json(err, ctx) { ctx.body = err.message; } },
  security: { csrf: { ignore: /^\\/api\\//i, match: [ /a/, new RegExp('b', 'g') ] } },
};"""})
    wl = value["multipart"]["whitelist"]
    assert isinstance(wl, JSFunction) and to_json(wl) == {"$function": "config/config.default.js:2"}
    assert value["onerror"]["json"].name == "json"
    assert to_json(value["security"]["csrf"]["ignore"]) == {"$regexp": "/^\\/api\\//i"}
    assert [str(r) for r in value["security"]["csrf"]["match"]] == ["/a/", "/b/g"]


def test_local_require_and_import(tmp_path):
    value, _ = evaluate(tmp_path, {
        "config/db.js": "module.exports = { host: 'db', port: 3306 };",
        "config/secret.ts": "export const token = 'abc';\nexport default { a: 1 };",
        "config/config.default.ts": """
            import db from './db';
            import conf, { token } from './secret';
            import * as path from 'path';
            export default (appInfo: any) => ({ db, token, a: conf.a, p: path.join('/x', 'y') });"""},
        entry="config/config.default.ts")
    assert to_json(value) == {"db": {"host": "db", "port": 3306}, "token": "abc", "a": 1, "p": "/x/y"}
    assert value["db"].locs["host"].path == "config/db.js"


def test_typescript_forms(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.ts": """
import { EggAppConfig, EggAppInfo, PowerPartial } from 'egg';
export type DefaultConfig = PowerPartial<EggAppConfig>;
interface Biz { sourceUrl: string }
export default (appInfo: EggAppInfo) => {
  const config = {} as PowerPartial<EggAppConfig>;
  config.keys = appInfo.name + '_123456';
  const bizConfig: Biz = { sourceUrl: <string>'x' };
  const n = (config as any).keys!.length;
  return { ...config, ...bizConfig, n } satisfies object;
};"""}, entry="config/config.default.ts")
    assert to_json(value) == {"keys": "demo_123456", "sourceUrl": "x", "n": 11}


def test_esm_default_and_async_function(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.mjs": """
export default async function (appInfo) {
  const config = {};
  config.keys = await Promise.resolve('x');
  config.name = appInfo.name;
  return config;
}"""}, entry="config/config.default.mjs")
    assert value["name"] == "demo"
    assert isinstance(value["keys"], Unknown)


def test_env_conditions_are_followed_and_unknown_conditions_are_honest(tmp_path):
    files = {"config/config.default.js": """
module.exports = appInfo => {
  const config = { debug: false };
  if (appInfo.env === 'prod') { config.level = 'WARN'; } else { config.level = 'DEBUG'; }
  if (process.env.FEATURE) { config.debug = true; }
  config.mode = appInfo.env === 'local' ? 'dev' : 'live';
  return config;
};"""}
    value, _ = evaluate(tmp_path, files)
    assert value["level"] == "WARN" and value["mode"] == "live"
    assert isinstance(value["debug"], Unknown) and "FEATURE" in value["debug"].reason
    value, _ = evaluate(tmp_path, files, env="local")
    assert value["level"] == "DEBUG" and value["mode"] == "dev"


def test_object_assign_and_array_helpers(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": """
const config = {};
Object.assign(config, { a: 1 }, { b: [1, 2].map(x => x * 10) });
config.keys = ['k1', 'k2'].join(',');
config.list = 'a, b'.split(',').map(s => s.trim());
module.exports = config;"""})
    assert to_json(value) == {"a": 1, "b": [10, 20], "keys": "k1,k2", "list": ["a", "b"]}


def test_local_helper_functions_are_called(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": """
function db(name, { port = 3306 } = {}) { return { database: name, port }; }
const mk = (x) => ({ x });
module.exports = { mysql: { clients: { a: db('a'), b: db('b', { port: 1 }) } }, m: mk(2) };"""})
    assert to_json(value) == {"mysql": {"clients": {"a": {"database": "a", "port": 3306},
                                                    "b": {"database": "b", "port": 1}}}, "m": {"x": 2}}


def test_calls_that_would_run_code_are_never_run(tmp_path):
    marker = tmp_path / "pwned"
    value, _ = evaluate(tmp_path, {"config/config.default.js": f"""
const cp = require('child_process');
const fs = require('fs');
cp.execSync('touch {marker}');
fs.writeFileSync('{marker}', 'x');
module.exports = {{ keys: cp.execSync('cat /etc/hostname').toString(), other: 1 }};"""})
    assert not marker.exists()
    assert isinstance(value["keys"], Unknown) and value["other"] == 1


def test_assigning_under_undefined_is_reported_as_a_throw(tmp_path):
    with pytest.raises(EvalError, match="would throw TypeError"):
        evaluate(tmp_path, {"config/config.default.js": "const config = {};\nconfig.security.csrf = {};\nmodule.exports = config;"})


def test_syntax_error_is_one_line(tmp_path):
    with pytest.raises(EvalError, match=r"syntax error at line 2"):
        evaluate(tmp_path, {"config/config.default.js": "module.exports = {\n  a: ,\n};"})


def test_throw_at_load_is_reported(tmp_path):
    with pytest.raises(EvalError, match="throws when loaded"):
        evaluate(tmp_path, {"config/config.default.js": "throw new Error('no config');"})


def test_circular_require_does_not_hang(tmp_path):
    value, ev = evaluate(tmp_path, {"config/a.js": "module.exports = require('./b');",
                                    "config/b.js": "module.exports = require('./a');",
                                    "config/config.default.js": "module.exports = { x: require('./a') };"})
    assert isinstance(value["x"], Unknown)
    assert any("circular" in n for n in ev.notes)


def test_infinite_loop_and_recursion_are_bounded(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": """
function f(n) { return f(n + 1); }
while (true) {}
module.exports = { a: f(1), b: 2 };"""})
    assert isinstance(value["a"], Unknown) and value["b"] == 2


def test_strings_escapes_and_numbers(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": r"""
module.exports = { a: 'it\'s\n', b: "\u00e9\x41", c: 0x10, d: 1_000, e: 1e3, f: .5, g: -2, h: '\
x' };"""})
    assert to_json(value) == {"a": "it's\n", "b": "éA", "c": 16, "d": 1000, "e": 1000, "f": 0.5, "g": -2, "h": "x"}


def test_undefined_values_are_dropped_in_json(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": "module.exports = { a: undefined, b: null, c: void 0 };"})
    assert value["a"] is UNDEFINED and to_json(value) == {"b": None}


def test_regexp_literal_object(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": "module.exports = { r: /a\\/b/g };"})
    assert isinstance(value["r"], JSRegExp) and str(value["r"]) == "/a\\/b/g"


def test_typescript_enums_and_reexports(tmp_path):
    value, _ = evaluate(tmp_path, {
        "app/constants.ts": "export enum Mode { none = 'none', full = 'full' }\nexport enum Level { A, B = 5, C }",
        "app/index.ts": "export * from './constants';",
        "config/config.default.ts": """
import { Mode, Level } from '../app/index';
export default () => ({ mode: Mode.none, c: Level.C, name: Level[5], keys: 'k' });"""},
        entry="config/config.default.ts")
    assert to_json(value) == {"mode": "none", "c": 6, "name": "B", "keys": "k"}


def test_egg4_define_config_wrappers_and_ts_export_assign(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.ts": """
import { defineConfigFactory } from 'egg';
export default defineConfigFactory(appInfo => ({ keys: appInfo.name + '123456' }));"""},
        entry="config/config.default.ts")
    assert value["keys"] == "demo123456"
    value, _ = evaluate(tmp_path, {"config/config.prod.ts": "import path = require('path');\n"
                                   "export = () => ({ dir: path.join('/a', 'b/'), n: Number.MAX_SAFE_INTEGER });"},
                        entry="config/config.prod.ts")
    assert to_json(value) == {"dir": "/a/b/", "n": 9007199254740991}


def test_loops_over_known_values_run_and_unknown_loops_taint(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js": """
const ignore = []; for (const p of ['/api', '/hook']) ignore.push(p);
const config = { security: { csrf: { enable: true, ignore } }, other: 1, names: {} };
for (const k of ['csrf']) Object.assign(config.security[k], { enable: false });
for (const k in { a: 1, b: 2 }) config.names[k] = k.toUpperCase();
require('fs').readdirSync(__dirname).forEach(f => { config.other = f; });
module.exports = config;"""})
    assert value["security"]["csrf"]["enable"] is False
    assert value["security"]["csrf"]["ignore"] == ["/api", "/hook"]
    assert to_json(value["names"]) == {"a": "A", "b": "B"}
    assert isinstance(value["other"], Unknown) and "callback" in value["other"].reason


def test_delete_removes_a_key(tmp_path):
    value, _ = evaluate(tmp_path, {"config/config.default.js":
                                   "const c = { security: { csrf: { enable: false }, x: 1 } };\n"
                                   "delete c.security.csrf;\nmodule.exports = c;"})
    assert to_json(value) == {"security": {"x": 1}}
