"""Session cookie rules EGG-CFG-010..015: each fires on what Egg will really send, and stays quiet on near misses."""

from __future__ import annotations

import pytest

from appfactory import make_app
from appfactory import rule_findings as findings

D, PROD, LOCAL, APPJS, PLUGIN = ("config/config.default.js", "config/config.prod.js", "config/config.local.js",
                                 "app.js", "config/plugin.js")
# a controller that logs users in through the session, so the session cookie is really sent
LOGIN = {"app/controller/user.js": "module.exports = app => class extends app.Controller {\n"
                                   "  async login() { this.ctx.session.userId = 1; this.ctx.body = 'ok'; }\n};\n",
         "app/router.js": "module.exports = app => { app.router.post('/login', app.controller.user.login); };\n"}


def app_with(tmp_path, files, *, egg="^3.17.0", login=True):
    base = {D: "exports.keys = process.env.EGG_KEYS;\n"}
    if login:
        base.update(LOGIN)
    return make_app(tmp_path, {**base, **files}, egg=egg)




def session_cfg(body: str) -> str:
    return f"exports.keys = process.env.EGG_KEYS;\nexports.session = {{ {body} }};\n"


# ---- EGG-CFG-010 httpOnly -----------------------------------------------------------------------
def test_http_only_off_fires_high_at_the_line(tmp_path):
    app = app_with(tmp_path, {D: session_cfg("httpOnly: false")})
    [f] = findings(app, "EGG-CFG-010")
    assert (f.severity, f.cwe, f.strategy, f.config_key) == ("high", 1004, 4, "session.httpOnly")
    assert (f.location.path, f.location.line) == (D, 2)


@pytest.mark.parametrize("files", [
    {},  # Egg's default: httpOnly true
    {LOCAL: "exports.session = { httpOnly: false };"},  # only the development env
    {D: session_cfg("httpOnly: false"), PROD: "exports.session = { httpOnly: true };"},
    {PLUGIN: "exports.session = false;", D: session_cfg("httpOnly: false")},  # no session at all
])
def test_http_only_near_misses(tmp_path, files):
    assert findings(app_with(tmp_path, files), "EGG-CFG-010") == []


def test_http_only_off_only_in_local_is_low_there(tmp_path):
    app = app_with(tmp_path, {LOCAL: "exports.session = { httpOnly: false };"})
    [f] = findings(app, "EGG-CFG-010", env="local")
    assert f.severity == "low" and f.env == "local"


def test_http_only_from_env_var_is_needs_review(tmp_path):
    app = app_with(tmp_path, {D: session_cfg("httpOnly: process.env.HTTP_ONLY === '1'")})
    [f] = findings(app, "EGG-CFG-010")
    assert (f.severity, f.confidence) == ("low", "low") and "Needs review" in f.message


def test_http_only_off_without_session_use_is_capped_low(tmp_path):
    app = app_with(tmp_path, {D: session_cfg("httpOnly: false")}, login=False)
    [f] = findings(app, "EGG-CFG-010")
    assert f.severity == "low" and "never reads or writes `ctx.session`" in f.message


# ---- EGG-CFG-011 encrypt ------------------------------------------------------------------------
def test_egg3_encrypt_off_fires_medium(tmp_path):
    [f] = findings(app_with(tmp_path, {D: session_cfg("encrypt: false")}), "EGG-CFG-011")
    assert (f.severity, f.cwe, f.config_key, f.location.line) == ("medium", 315, "session.encrypt", 2)


def test_encrypt_and_signature_off_is_forgeable_high(tmp_path):
    [f] = findings(app_with(tmp_path, {D: session_cfg("encrypt: false, signed: false")}), "EGG-CFG-011")
    assert f.severity == "high" and "change it" in f.message


def test_egg4_default_silently_drops_encryption(tmp_path):
    app = app_with(tmp_path, {PROD: "exports.session = { maxAge: 3600000 };"}, egg="^4.0.10")
    [f] = findings(app, "EGG-CFG-011")
    assert f.severity == "medium" and "strips" in f.message and "egg 4" in f.message
    assert f.config_key == "session.encrypt" and f.location.path == PROD  # where to set it for prod


@pytest.mark.parametrize("files,egg", [
    ({}, "^3.17.0"),  # egg 3 default: encrypted
    ({D: session_cfg("encrypt: true")}, "^4.0.10"),  # the explicit fix on egg 4
    ({D: session_cfg("encrypt: false"), APPJS: "module.exports = app => { app.sessionStore = { get() {}, set() {}, destroy() {} }; };"},
     "^3.17.0"),  # server-side store: the cookie holds only an id
    ({D: session_cfg("encrypt: false"), PROD: "exports.session = { encrypt: true };"}, "^3.17.0"),
])
def test_encrypt_near_misses(tmp_path, files, egg):
    assert findings(app_with(tmp_path, files, egg=egg), "EGG-CFG-011") == []


def test_egg4_default_is_quiet_when_no_session_is_ever_written(tmp_path):
    assert findings(app_with(tmp_path / "a", {}, egg="^4.0.10", login=False), "EGG-CFG-011") == []
    explicit = app_with(tmp_path / "b", {D: session_cfg("encrypt: false")}, login=False)
    assert [f.severity for f in findings(explicit, "EGG-CFG-011")] == ["low"]  # the app chose it: kept, capped


# ---- EGG-CFG-012 secure -------------------------------------------------------------------------
def test_secure_false_fires_medium(tmp_path):
    [f] = findings(app_with(tmp_path, {PROD: "exports.session = { secure: false };"}), "EGG-CFG-012")
    assert (f.severity, f.cwe, f.location.path) == ("medium", 614, PROD)


def test_cookies_default_secure_false_reaches_the_session(tmp_path):
    [f] = findings(app_with(tmp_path, {D: "exports.keys = process.env.K;\nexports.cookies = { secure: false };"}),
                   "EGG-CFG-012")
    assert f.config_key == "cookies.secure" and f.severity == "medium"


def test_secure_unset_without_proxy_is_needs_review(tmp_path):
    [f] = findings(app_with(tmp_path, {}), "EGG-CFG-012")
    assert (f.severity, f.confidence) == ("low", "low") and "proxy" in f.message


@pytest.mark.parametrize("files", [
    {PROD: "exports.proxy = true;"},  # Secure follows X-Forwarded-Proto
    {PROD: "exports.session = { secure: true };\nexports.proxy = true;"},
    {D: session_cfg("secure: true")},
])
def test_secure_near_misses(tmp_path, files):
    assert findings(app_with(tmp_path, files), "EGG-CFG-012") == []


def test_secure_is_not_asked_of_local_development(tmp_path):
    app = app_with(tmp_path, {LOCAL: "exports.session = { secure: false };"})
    assert findings(app, "EGG-CFG-012", env="local") == []


# ---- EGG-CFG-013 sameSite -----------------------------------------------------------------------
def test_no_same_site_is_low_and_medium_with_csrf_off(tmp_path):
    [f] = findings(app_with(tmp_path / "a", {}), "EGG-CFG-013")
    assert (f.severity, f.cwe) == ("low", 1275)
    off = app_with(tmp_path / "b", {D: "exports.keys = process.env.K;\nexports.security = { csrf: { enable: false } };"})
    [g] = findings(off, "EGG-CFG-013")
    assert g.severity == "medium" and "CSRF protection is off" in g.message


def test_same_site_none_fires_medium(tmp_path):
    [f] = findings(app_with(tmp_path, {D: session_cfg("sameSite: 'none', secure: true")}), "EGG-CFG-013")
    assert f.severity == "medium" and f.location.line == 2


@pytest.mark.parametrize("files", [
    {D: session_cfg("sameSite: 'lax'")},
    {D: session_cfg("sameSite: 'Strict'")},
    {D: "exports.keys = process.env.K;\nexports.cookies = { sameSite: 'lax' };"},  # egg-cookies default for all cookies
])
def test_same_site_near_misses(tmp_path, files):
    assert findings(app_with(tmp_path, files), "EGG-CFG-013") == []


def test_no_same_site_is_not_reported_when_nothing_uses_the_session(tmp_path):
    assert findings(app_with(tmp_path, {}, login=False), "EGG-CFG-013") == []


# ---- EGG-CFG-014 / 015 lifetime and renewal ----------------------------------------------------
@pytest.mark.parametrize("body,severity", [
    ("maxAge: 'session'", "medium"),
    ("maxAge: 60 * 24 * 3600 * 1000", "medium"),
    ("maxAge: 10 * 24 * 3600 * 1000", "low"),
    ("maxAge: Number(process.env.SESSION_MS) || 90 * 24 * 3600 * 1000", "low"),  # literal fallback: low confidence
])
def test_long_sessions_fire(tmp_path, body, severity):
    [f] = findings(app_with(tmp_path, {D: session_cfg(body)}), "EGG-CFG-014")
    assert f.severity == severity and f.cwe == 613 and f.location.line == 2
    if "process.env" in body:
        assert f.confidence == "low"


@pytest.mark.parametrize("body", ["maxAge: 3 * 24 * 3600 * 1000", "maxAge: 2 * 3600 * 1000",
                                  "maxAge: Number(process.env.SESSION_MS)"])
def test_session_lifetime_near_misses(tmp_path, body):
    assert findings(app_with(tmp_path, {D: session_cfg(body)}), "EGG-CFG-014") == []


def test_long_session_without_renew_fires_low(tmp_path):
    [f] = findings(app_with(tmp_path, {D: session_cfg("maxAge: 3 * 24 * 3600 * 1000")}), "EGG-CFG-015")
    assert f.severity == "low" and "renew" in f.message


@pytest.mark.parametrize("body", ["maxAge: 3 * 24 * 3600 * 1000, renew: true",
                                  "maxAge: 3 * 24 * 3600 * 1000, rolling: true", "maxAge: 24 * 3600 * 1000"])
def test_renew_near_misses(tmp_path, body):
    assert findings(app_with(tmp_path, {D: session_cfg(body)}), "EGG-CFG-015") == []


def test_rule_pages_have_every_section():
    from eggshield.checks.registry import REGISTRY, all_rules

    all_rules()
    for rid in ("EGG-CFG-010", "EGG-CFG-011", "EGG-CFG-012", "EGG-CFG-013", "EGG-CFG-014", "EGG-CFG-015"):
        doc = REGISTRY[rid].doc
        for section in ("## What", "## Why it matters", "## How to fix", "```", "## Not reported", "## References"):
            assert section in doc, (rid, section)


# ---- Egg is the oracle: what a real server sends -------------------------------------------------
RECORDINGS = __import__("pathlib").Path(__file__).parent / "fixtures" / "live-config-rules"
LIVE_LOGIN = {"app/controller/user.js": "module.exports = app => class extends app.Controller {\n"
                                        "  async login() { this.ctx.session.userId = 'u-4242'; this.ctx.body = 'ok'; }\n};\n",
              "app/router.js": "module.exports = app => { app.router.get('/login', app.controller.user.login); };\n",
              D: "exports.keys = 'live-test-key-not-a-secret-0123456789';\n"}


def _session_cookie_text(seen) -> str:
    import base64

    value = seen.cookies().get("EGG_SESS", "")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8", "replace")
    except ValueError:
        return ""


@pytest.fixture(scope="module")
def egg4_sessions(tmp_path_factory):
    from eggrt.observe import Req, observe

    out = {}
    for name, extra in (("egg4-default", {}), ("egg4-encrypt", {PROD: "exports.session = { encrypt: true };"})):
        app = make_app(tmp_path_factory.mktemp(name) / "app", {**LIVE_LOGIN, **extra}, egg="^4.0.10", name="live")
        [seen] = observe(app, [Req("/login")], RECORDINGS / f"session-{name}.json")
        out[name] = (app, seen)
    return out


def test_egg4_really_sends_a_readable_session_unless_encrypt_is_explicit(egg4_sessions):
    app, seen = egg4_sessions["egg4-default"]
    assert seen.status == 200 and '"userId":"u-4242"' in _session_cookie_text(seen)  # readable by anyone
    assert "EGG_SESS.sig" in seen.cookies()
    assert [f.severity for f in findings(app, "EGG-CFG-011")] == ["medium"]
    fixed_app, fixed = egg4_sessions["egg4-encrypt"]
    assert fixed.status == 200 and fixed.cookies().get("EGG_SESS") and "u-4242" not in _session_cookie_text(fixed)
    assert findings(fixed_app, "EGG-CFG-011") == []


def test_default_session_cookie_has_no_secure_and_no_samesite(egg4_sessions):
    app, seen = egg4_sessions["egg4-encrypt"]
    line = seen.set_cookie_line("EGG_SESS").lower()
    assert "httponly" in line and "samesite" not in line and "secure" not in line
    assert [f.rule_id for f in findings(app, "EGG-CFG-013")] == ["EGG-CFG-013"]
    assert [f.confidence for f in findings(app, "EGG-CFG-012")] == ["low"]


def test_without_a_registry_the_recorded_answers_stand_in(tmp_path, monkeypatch):
    """Offline (npm cannot reach the registry) the live checks read what Egg answered when recorded."""
    import eggrt.observe as observe_mod
    from eggrt import RuntimeUnavailable

    class Offline:
        def __init__(self, *a, **k):
            raise RuntimeUnavailable("npm ci failed: ENOTFOUND", offline=True)

    monkeypatch.setattr(observe_mod, "EggServer", Offline)
    [seen] = observe_mod.observe(tmp_path, [observe_mod.Req("/login")], RECORDINGS / "session-egg4-default.json")
    assert not seen.live and '"userId":"u-4242"' in _session_cookie_text(seen)
    with pytest.raises(RuntimeUnavailable):  # no recording: say so instead of passing
        observe_mod.observe(tmp_path, [observe_mod.Req("/login")], tmp_path / "missing.json")


def test_no_same_site_with_csrf_off_is_still_quiet_when_nothing_uses_the_session(tmp_path):
    app = app_with(tmp_path, {D: "exports.keys = process.env.K;\nexports.security = { csrf: { enable: false } };"},
                   login=False)
    assert findings(app, "EGG-CFG-013") == []
    explicit = app_with(tmp_path / "b", {D: session_cfg("sameSite: 'none'")}, login=False)
    assert [f.severity for f in findings(explicit, "EGG-CFG-013")] == ["low"]  # the app chose it: kept, capped
