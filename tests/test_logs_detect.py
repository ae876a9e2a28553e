"""Detectors: signals per record, secrets and PII (CWE-532), and alert rules over sliding windows."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from eggshield.logs import sensitive
from eggshield.logs.analyze import Analyzer
from eggshield.logs.lines import lines_of
from eggshield.logs.signals import signals_of
from eggshield.logs.textfmt import parse_text
from eggshield.logs.windows import Observation, RulesError, WindowEngine, load_rules

T0 = datetime(2026, 12, 3, 10, 0, 0)


def rec(msg: str, url: str = "/", method: str = "GET", ip: str = "203.0.113.5", level: str = "WARN",
        t: datetime = T0, user: str = "-", extra: str = ""):
    line = f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d} {level} 100 [{user}/{ip}/-/2ms {method} {url}] {msg}\n"
    [r] = parse_text(lines_of((line + extra).encode()), "app-web.log", "app-web")
    return r


def kinds(r):
    return {s.kind for s in signals_of(r)}


# --- signals: each fires on its case and stays quiet on a near miss -------------------------------

@pytest.mark.parametrize("msg,url,fires", [
    ("nodejs.ForbiddenError: missing csrf token", "/login", "csrf_failure"),
    ("nodejs.ForbiddenError: invalid csrf referer or origin", "/login", "csrf_failure"),
    ("nodejs.UnauthorizedError: jwt expired", "/api/me", "auth_failure"),
    ("login failed for user bob", "/login", "auth_failure"),
    ("用户名或密码错误 user=bob", "/login", "auth_failure"),
    ("nodejs.ForbiddenError: not your order", "/orders/2", "forbidden"),
    ("nodejs.MethodNotAllowedError: Method Not Allowed", "/", "method_not_allowed"),
    ("nodejs.BadRequestError: Bad Request", "/%2e%2e/%2e%2e/etc/passwd", "traversal_blocked"),
    ("hit", "/search?q=1%27%20OR%201%3D1--", "sqli_payload"),
    ("hit", "/p?id=1+union+select+password+from+users", "sqli_payload"),
    ("hit", "/s?q=%3Cscript%3Ealert(1)%3C/script%3E", "xss_payload"),
    ("hit", "/download?file=../../etc/passwd", "traversal_payload"),
    ("hit", "/ping?host=127.0.0.1;cat%20/etc/passwd", "cmdi_payload"),
    ("hit", "/x?a=${jndi:ldap://x/a}", "cmdi_payload"),
    ("hit", "/x?a=%0d%0a2026-12-03%20fake", "log_forging"),
    ("not found", "/.env", "scanner_probe"),
    ("not found", "/wp-admin/install.php", "scanner_probe"),
    ("Error: ER_PARSE_ERROR: You have an error in your SQL syntax", "/q", "sql_error"),
    ("[egg-security] please configure `config.security.ssrf` first", "/c", "ssrf_unconfigured"),
    ("GET /x 401 3ms", "/x", "auth_failure"),
])
def test_signal_fires(msg, url, fires):
    assert fires in kinds(rec(msg, url))


@pytest.mark.parametrize("msg,url,quiet", [
    ("nodejs.ForbiddenError: missing csrf token", "/login", "forbidden"),  # reported as CSRF, not twice
    ("login succeeded for user bob", "/login", "auth_failure"),
    ("nodejs.BadRequestError: Bad Request", "/api/items?name=", "traversal_blocked"),  # a validation 400
    ("hit", "/search?q=union+station+select+seats", "sqli_payload"),
    ("hit", "/blog/scripts-and-more", "xss_payload"),
    ("hit", "/docs/v1..v2/changes", "traversal_payload"),
    ("hit", "/catalog?category=cats", "cmdi_payload"),
    ("not found", "/envelope", "scanner_probe"),
    ("connect ECONNREFUSED 10.0.0.5:3306", "/q", "sql_error"),
    ("hello world", "/", "log_forging"),
])
def test_signal_near_miss(msg, url, quiet):
    assert quiet not in kinds(rec(msg, url))


def test_user_taken_from_prefix_or_message():
    from eggshield.logs.signals import user_of
    assert user_of(rec("x", user="alice")) == "alice"
    assert user_of(rec("login failed for user bob")) == "bob"
    assert user_of(rec('auth failed {"username":"carol","password":"x"}')) == "carol"


# --- sensitive data ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text,kind,secret", [
    ('signup {"email":"a@b.io","password":"Hunter2-secret!"}', "password", "Hunter2-secret!"),
    ("db connect password=s3cr3tP4ss host=x", "password", "s3cr3tP4ss"),
    ("client_secret: 'abcDEF123456'", "password", "abcDEF123456"),
    ("Authorization: Bearer 9f8e7d6c5b4a39281726354", "bearer", "9f8e7d6c5b4a39281726354"),
    ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt",
     "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("aws key AKIAIOSFODNN7EXAMPLE used", "api-key", "IOSFODNN7EXAMPLE"),
    ("gh token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 ok", "api-key", "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
    ("oss accessKeyId LTAI5tQ8wJx3N4bGm2Kz9PqR ready", "api-key", "5tQ8wJx3N4bGm2Kz9PqR"),
    ("slack xoxb-123456789012-abcdefABCDEF123 sent", "api-key", "abcdefABCDEF123"),
    ("key -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "private-key",
     "MIIEowIBAAKCAQEA"),
    ("paid with 4111 1111 1111 1111 today", "card", "4111 1111 1111 1111"),
    ("contact li.lei@example.com", "email", "li.lei@example.com"),
    ("sms to 13812345678 sent", "phone", "13812345678"),
    ("sms to +86 138-1234-5678 sent", "phone", "138-1234-5678"),
    ("call +14155552671", "phone", "4155552671"),
    ("id 11010519491231002X verified", "cn-id", "11010519491231002X"),
    ("cookie: EGG_SESS=Qk9HVVMtc2Vzc2lvbi12YWx1ZQ; csrfToken=abc", "cookie", "Qk9HVVMtc2Vzc2lvbi12YWx1ZQ"),
])
def test_sensitive_found_and_masked(text, kind, secret):
    hits = sensitive.find(text)
    assert kind in {h.kind for h in hits}, hits
    red = sensitive.redact(text)
    assert secret not in red
    h = next(h for h in hits if h.kind == kind)
    assert secret not in sensitive.evidence(text, h)


@pytest.mark.parametrize("text,kind", [
    ("password=****", "password"),
    ("password: ctx.request.body.password", "password"),
    ("password=${DB_PASS}", "password"),
    ("password: [REDACTED]", "password"),
    ("Basic authentication is enabled", "bearer"),
    ("order 4111 1111 1111 1112 placed", "card"),  # fails Luhn
    ("id 110105194912310021 verified", "cn-id"),  # wrong check digit
    ("build 1700000000000 done", "phone"),  # a timestamp, not a mobile
    ("user@localhost", "email"),
    ("AKIA is a prefix", "api-key"),
])
def test_sensitive_near_miss(text, kind):
    assert kind not in {h.kind for h in sensitive.find(text)}


def test_secret_scan_skips_stack_frames():
    text = "nodejs.Error: x\n    at token=abcdefghijk (/app/a.js:1:1)\nmessage: \"x\""
    assert sensitive.find(sensitive.scan_text(text)) == []


def test_redact_keeps_json_valid():
    import json
    line = '{"message":"signup {\\"password\\":\\"Hunter2-secret!\\",\\"phone\\":\\"13812345678\\"}","level":"INFO"}'
    out = sensitive.redact(line)
    assert "Hunter2" not in out and "13812345678" not in out
    assert json.loads(out)["level"] == "INFO"


# --- windows and alert rules -------------------------------------------------------------------------

def feed(records):
    an = Analyzer(load_rules())
    for r in records:
        an.feed(r)
    return an.analysis


def test_brute_force_fires_at_threshold_not_below():
    nine = [rec("login failed for user bob", "/login", "POST", t=T0 + timedelta(seconds=i)) for i in range(9)]
    assert "EGG-LOG-105" not in feed(nine).groups
    ten = nine + [rec("login failed for user bob", "/login", "POST", t=T0 + timedelta(seconds=10))]
    groups = feed(ten).groups["EGG-LOG-105"]
    assert any(g.burst.rule.id == "brute-force-ip" and g.burst.count == 10 for g in groups.values())


def test_failures_spread_beyond_the_window_do_not_fire():
    slow = [rec("login failed for user bob", "/login", "POST", t=T0 + timedelta(minutes=2 * i)) for i in range(12)]
    assert "EGG-LOG-105" not in feed(slow).groups or all(
        g.burst.rule.id != "brute-force-ip" for g in feed(slow).groups["EGG-LOG-105"].values())


def test_credential_stuffing_many_users_one_ip_and_spraying_many_ips_one_user():
    stuffing = [rec(f"login failed for user u{i}", "/login", "POST", t=T0 + timedelta(seconds=i)) for i in range(5)]
    g = feed(stuffing).groups["EGG-LOG-106"]
    assert any(x.burst.rule.id == "credential-stuffing" for x in g.values())
    spray = [rec("login failed for user admin", "/login", "POST", ip=f"198.51.100.{i}", t=T0 + timedelta(seconds=i))
             for i in range(5)]
    g = feed(spray).groups["EGG-LOG-106"]
    assert any(x.burst.rule.id == "password-spraying" for x in g.values())
    four_users = stuffing[:4]
    assert "EGG-LOG-106" not in feed(four_users).groups


def test_scanning_distinct_paths_from_one_ip():
    paths = ["/.env", "/.git/config", "/wp-admin/", "/phpmyadmin/", "/actuator/env", "/.DS_Store", "/server-status",
             "/xmlrpc.php", "/config.json", "/backup.zip"]
    recs = [rec("nodejs.NotFoundError: Not Found", p, t=T0 + timedelta(seconds=i)) for i, p in enumerate(paths)]
    groups = feed(recs).groups["EGG-LOG-107"]
    assert any(g.burst is not None and g.burst.rule.id == "scanning" for g in groups.values())
    same = [rec("nodejs.NotFoundError: Not Found", "/.env", t=T0 + timedelta(seconds=i)) for i in range(10)]
    assert all(g.burst is None for g in feed(same).groups["EGG-LOG-107"].values())


def test_error_spike_and_new_error_type_after_learning_period():
    base = [rec("nodejs.TypeError: x is undefined", "/a", level="ERROR", t=T0 + timedelta(seconds=i))
            for i in range(10)]
    spike = [rec("nodejs.Error: boom", "/b", level="ERROR", t=T0 + timedelta(hours=2, seconds=i / 2))
             for i in range(50)]
    a = feed(base + spike)
    assert any(g.burst.rule.id == "error-spike" for g in a.groups["EGG-LOG-112"].values())
    new = a.groups["EGG-LOG-113"]
    assert [g.burst.group for g in new.values()] == ["Error: boom"], "TypeError was seen in the first hour"
    assert "EGG-LOG-112" not in feed(base).groups


def test_cooldown_deduplicates_and_state_round_trips():
    rules = load_rules()
    eng = WindowEngine(rules)
    obs = [Observation(time=T0.timestamp() + i, kind="csrf_failure", ip="1.1.1.1", rule="EGG-LOG-100")
           for i in range(12)]
    fired = [a for o in obs for a in eng.observe(o)]
    assert len(fired) == 1, "5 in 5 minutes fires once, then the 15 minute cooldown holds"
    eng2 = WindowEngine(rules, state=eng.state())
    later = Observation(time=T0.timestamp() + 13, kind="csrf_failure", ip="1.1.1.1", rule="EGG-LOG-100")
    assert eng2.observe(later) == [], "cooldown survives a restart"
    other = WindowEngine(rules, state=eng.state())
    four_more = [Observation(time=T0.timestamp() + 20 * 60 + i, kind="csrf_failure", ip="1.1.1.1",
                             rule="EGG-LOG-100") for i in range(5)]
    assert sum(len(other.observe(o)) for o in four_more) == 1


@pytest.mark.parametrize("body,error", [
    ("[[rule]]\nid='x'\nsignals=['csrf_failure']\ngroup_by='planet'\n", "group_by must be one of"),
    ("[[rule]]\nid='x'\nsignals=['csrf_failure']\nwindow='soon'\n", "not a duration"),
    ("[[rule]]\nid='x'\nsignals=['csrf_failure']\nthreshhold=3\n", "unknown field(s) threshhold"),
    ("[[rule]]\nsignals=['csrf_failure']\n", "missing field 'id'"),
    ("[[rule]]\nid='x'\nsignals=['a']\n[[rule]]\nid='x'\nsignals=['b']\n", "used twice"),
    ("rule = [", "not valid TOML"),
    ("[settings]\ncooldown='1m'\n", "no [[rule]] tables"),
])
def test_bad_rules_file_gives_one_clear_line(tmp_path, body, error):
    f = tmp_path / "rules.toml"
    f.write_text(body)
    with pytest.raises(RulesError) as exc:
        load_rules(f)
    assert error in str(exc.value) and str(f) in str(exc.value) and "\n" not in str(exc.value)


def test_default_rules_file_is_valid_and_documented():
    rules = load_rules()
    assert {r.id for r in rules.rules} >= {"brute-force-ip", "credential-stuffing", "scanning", "error-spike"}
    text = Path(rules.source).read_text()
    assert "group_by" in text and "threshold" in text and "cooldown" in text
