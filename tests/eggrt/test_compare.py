"""Unit tests of the oracle comparison on hand-made inputs: the masking port must match Egg's
convertObject (egg-facts §1 examples), or the oracle would blame eggshield for our bugs."""

import pytest

from eggrt.compare import (
    AnyFunction,
    BufferJSON,
    Comparison,
    InstalledPath,
    compare_config,
    compare_meta,
    compare_plugins,
    decode_circular,
    expected_dump_value,
    is_masked_key,
    js_length,
    localize_dump,
    matches,
    meta_lookup,
    undocumented_mutations,
)


@pytest.mark.parametrize(
    "key",
    ["pass", "pwd", "passd", "passwd", "password", "keys", "masterKey", "accessKey", "secret", "accessKeySecret", "SECRET_X"],
)
def test_masked_key_names(key):
    assert is_masked_key(key)


@pytest.mark.parametrize("key", ["accessKeyId", "token", "apiKey", "PASSWORD", "passwords", "key", "Password"])
def test_unmasked_key_names(key):
    assert not is_masked_key(key)


@pytest.mark.parametrize(
    ("key", "value", "dumped"),
    [
        ("keys", "app_1700000000000_1234", "<String len: 22>"),
        ("password", "hunter2", "<String len: 7>"),
        ("secret", 123, "<Number>"),
        ("secret", 1.5, "<Number>"),
        ("pwd", True, "<Boolean>"),
        ("passwd", "", "<String len: 0>"),
        ("sessionSecrets", ["a", "b"], "<Array>"),
        ("clientSecret", {"$regexp": "/abc/i"}, "<RegExp>"),
        ("masterKey", None, None),
        ("token", "plain", "plain"),
        ("ignore", {"$regexp": "/^\\/api\\//"}, "/^\\/api\\//"),
        ("favicon", {"$buffer": 6463}, "<Buffer len: 6463>"),
        ("password", {"$buffer": 3}, "<Buffer len: 3>"),
        ("methods", {"$set": ["GET"]}, "<Set>"),
        ("count", 0, 0),
    ],
)
def test_expected_dump_value_leaves(key, value, dumped):
    assert expected_dump_value(key, value) == dumped


def test_plain_objects_are_recursed_even_under_a_masked_key():
    got = expected_dump_value("secret", {"password": "x", "host": "h", "nested": {"accessKey": "ab"}})
    assert got == {"password": "<String len: 1>", "host": "h", "nested": {"accessKey": "<String len: 2>"}}


def test_arrays_are_not_traversed_for_masking():
    # egg-facts: `dbs:[{password:'leak'}]` appears in clear
    assert expected_dump_value("dbs", [{"password": "leak"}]) == [{"password": "leak"}]


def test_non_json_values_inside_arrays_follow_json_stringify():
    got = expected_dump_value(
        "list", [{"$regexp": "/a/"}, {"$function": "config/x.js:3"}, {"$set": []}, {"fn": {"$function": "x:1"}, "a": 1}]
    )
    assert got == [{}, None, {}, {"a": 1}]
    buf = expected_dump_value("list", [{"$buffer": 2}])[0]
    assert isinstance(buf, BufferJSON)
    assert buf.matches({"type": "Buffer", "data": [1, 2]})
    assert not buf.matches({"type": "Buffer", "data": [1]})


def test_functions_compare_by_kind_only():
    exp = expected_dump_value("json", {"$function": "config/config.default.js:40"})
    assert isinstance(exp, AnyFunction)
    for dumped in ("<Function json>", "<Function anonymous>", "<AsyncFunction f>", "<GeneratorFunction g>", "<Class C>"):
        assert matches(exp, dumped)
    assert not matches(exp, "json")
    assert not matches(exp, None)


def test_js_length_counts_utf16_units():
    assert js_length("abc") == 3
    assert js_length("€") == 1
    assert js_length("😀") == 2
    assert expected_dump_value("password", "p😀") == "<String len: 3>"


def test_matches_keeps_json_types_apart():
    assert matches(1, 1.0)
    assert not matches(True, 1)
    assert not matches(1, True)
    assert not matches("1", 1)
    assert not matches({"a": 1}, {"a": 1, "b": 2})
    assert not matches([1, 2], [1])
    assert matches(None, None)


def test_decode_circular_resolves_references_and_tildes():
    doc = {
        "config": {
            "coreMiddleware": ["meta", "siteFile"],
            "coreMiddlewares": "~config~coreMiddleware",
            "home": "\\x7e/logs~x",
            "literal": "a\\\\x7e",
        }
    }
    got = decode_circular(doc)["config"]
    assert got["coreMiddlewares"] == ["meta", "siteFile"]
    assert got["home"] == "~/logs~x"
    assert got["literal"] == "a\\x7e"
    assert doc["config"]["coreMiddlewares"] == "~config~coreMiddleware"  # input untouched


def test_localize_dump():
    got = localize_dump(
        {"dir": "{baseDir}/app/public", "tpl": "{runtime}/node_modules/egg-onerror/lib/page.mustache",
         "dirs": ["{baseDir}/node_modules/@eggjs/session/dist/esm/config/locales"]},
        "/abs/app",
    )
    assert got["dir"] == "/abs/app/app/public"
    assert got["tpl"] == InstalledPath("egg-onerror/lib/page.mustache")
    assert got["tpl"].matches("/abs/app/node_modules/egg-onerror/lib/page.mustache")
    assert not got["tpl"].matches("/elsewhere/page.mustache")


def _cmp(es, final, loaded=None):
    return compare_config(es, final, loaded).mismatches


def test_compare_config_reports_each_kind_of_difference():
    es = {
        "keys": "abc",
        "security": {"csrf": {"enable": False}},
        "localOnly": True,
        "redis": {"host": {"$unknown": "process.env.REDIS_HOST", "fallback": "127.0.0.1"}},
        "api": {"$unknown": "process.env.API"},
    }
    final = {
        "keys": "<String len: 4>",
        "security": {"csrf": {"enable": True, "type": "ctoken"}},
        "redis": {"host": "10.0.0.1"},
    }
    got = {(m.kind, m.path) for m in _cmp(es, final)}
    assert got == {
        ("value", "keys"),
        ("value", "security.csrf.enable"),
        ("missing", "security.csrf.type"),
        ("extra", "localOnly"),
        ("fallback", "redis.host"),
    }


def test_compare_config_accepts_equal_masked_values():
    es = {"keys": "abcd", "dbs": [{"password": "x"}], "re": {"$regexp": "/a/"}, "fn": {"$function": "c.js:1"}}
    final = {"keys": "<String len: 4>", "dbs": [{"password": "x"}], "re": "/a/", "fn": "<Function fn>"}
    res = compare_config(es, final)
    assert res.mismatches == []
    assert res.compared == 4


def test_runtime_mutations_accept_the_files_value_or_the_final_one():
    loaded = {"coreMiddleware": ["meta"], "multipart": {"fileSize": "10mb"}, "session": {"key": "S"}}
    final = {"coreMiddleware": ["meta", "session"], "multipart": {"fileSize": 10485760},
             "session": {"key": "S", "genid": "<Function v4>"}}
    assert _cmp({"coreMiddleware": ["meta"], "multipart": {"fileSize": "10mb"}, "session": {"key": "S"}}, final, loaded) == []
    assert _cmp({"coreMiddleware": ["meta", "session"], "multipart": {"fileSize": 10485760}, "session": {"key": "S"}},
                final, loaded) == []
    bad = _cmp({"coreMiddleware": ["other"], "multipart": {"fileSize": "10mb"}, "session": {"key": "S"}}, final, loaded)
    assert [(m.kind, m.path) for m in bad] == [("value", "coreMiddleware")]


def test_undocumented_runtime_mutations_are_flagged():
    loaded = {"coreMiddleware": ["a"], "logger": {"level": "INFO"}, "x": 1}
    final = {"coreMiddleware": ["a", "b"], "logger": {"level": "WARN"}, "x": 1, "y": 2}
    assert {m.path for m in undocumented_mutations(loaded, final)} == {"logger.level", "y"}


def test_meta_lookup_handles_keys_with_dots():
    meta = {"siteFile": {"/favicon.ico": "egg", "cacheControl": "egg"}, "a": {"b": "f"}}
    assert meta_lookup(meta, "siteFile./favicon.ico") == "egg"
    assert meta_lookup(meta, "a.b") == "f"
    assert meta_lookup(meta, "a.c") is None


def test_compare_meta():
    meta = {
        "keys": "{baseDir}/config/config.default.js",
        "session": {"maxAge": "{baseDir}/config/config.prod.js", "key": "{runtime}/node_modules/egg-session/config/config.default.js"},
    }
    res = Comparison()
    compare_meta(
        {"keys": "config/config.default.ts:9", "session.maxAge": "config/config.default.ts:20",
         "session.key": "egg-session@3.3.0 config/config.default.js"},
        meta, ts=True, result=res,
    )
    assert [(m.kind, m.path, m.egg) for m in res.mismatches] == [("meta", "session.maxAge", "{baseDir}/config/config.prod.js")]
    res = Comparison()
    compare_meta({"keys": "egg@3.34.0 config/config.default.js"}, meta, ts=False, result=res)
    assert [m.path for m in res.mismatches] == ["keys"]


def test_compare_plugins_enabled_set():
    dump = {
        "schedule": {"enable": True, "package": "egg-schedule", "implicitEnable": True, "dependents": ["logrotator"]},
        "static": {"enable": False, "package": "egg-static"},
        "security": {"enable": True, "package": "egg-security", "from": "{baseDir}/config/plugin.js"},
    }
    es = {"schedule": {"enable": False}, "security": {"enable": True, "package": "egg-security", "from": "config/plugin.js"}}
    res = Comparison()
    compare_plugins(es, dump, "/abs", ts=False, result=res)
    assert [(m.path, m.note) for m in res.mismatches] == [("schedule.enable", "re-enabled implicitly, needed by logrotator")]


def test_class_instances():
    assert expected_dump_value("localStorage", {"$object": "AsyncLocalStorage"}) == "<AsyncLocalStorage>"
    url = expected_dump_value("/favicon.ico", {"$object": "URL"}, major=4)
    assert url.matches("file:///x/egg/dist/esm/config/favicon.png")
    assert not url.matches("<URL>")
    assert expected_dump_value("/favicon.ico", {"$object": "URL"}, major=3) == "<URL>"
    assert isinstance(expected_dump_value("Klass", {"$class": "config/x.js:1"}), AnyFunction)


def test_compare_meta_skips_unknown_values_and_accepts_required_modules():
    meta = {"biz": {"retries": "{baseDir}/config/config.default.js"}, "other": "{baseDir}/config/config.default.js"}
    prov = {"apiBase": "config/config.default.js:30", "biz.retries": "config/biz.js:3", "other": "config/biz.js:9"}
    res = Comparison()
    compare_meta(prov, meta, ts=False, result=res, config={"apiBase": {"$unknown": "process.env.API"}})
    assert res.mismatches == []
    res = Comparison()
    compare_meta({"apiBase": "config/config.default.js:30", "x": "config/biz.js:1"}, {"x": "{runtime}/node_modules/egg/config/config.default.js"},
                 ts=False, result=res, config={})
    assert [m.path for m in res.mismatches] == ["apiBase", "x"]
