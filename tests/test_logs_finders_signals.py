"""`signals._signals_of`, `status_of` and `user_of` skip a pattern when a word it cannot match without
is missing (`regex_gates.needs`): that must never lose a signal. The functions as they were, every
gated pattern searched whenever its hint allowed, are the oracle below; random records built from
every signature's phrases (and near misses, the characters re.I folds onto ASCII letters, statuses,
payload URLs, parser flags) must give the same signals, statuses and users."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from eggshield.logs import signals
from eggshield.logs.record import LogRecord
from eggshield.logs.signals import (
    SAFE_URL,
    STATUS,
    STATUS_SIGNAL,
    USER_IN_MESSAGE,
    Signal,
    _control_evidence,
    _error_status,
    _evidence,
    _plan,
    body_of,
    decoded,
    error_type,
    prefilters,
    signatures,
)

# --- the oracle: the functions before the word gates ----------------------------------------------


def _has_any(words, text):
    return any(w in text for w in words)


def old_signals_of(rec: LogRecord, body: str | None = None) -> list[Signal]:
    found: dict[str, Signal] = {}
    raw_url = rec.url
    if raw_url:
        plain = SAFE_URL.fullmatch(raw_url) is not None
        url = None if plain else decoded(raw_url)
        path = raw_url.split("?", 1)[0]
        path = decoded(path) if "%" in path or "+" in path else path
    else:
        url = path = None
    subjects = {"url": url, "path": path, "error": rec.error_name, "message": rec.message,
                "text": body if body is not None else body_of(rec.text)}
    gates = _plan()[1]
    lowered: dict[str, str] = {}
    live = []
    for where, subject in subjects.items():
        if not subject:
            continue
        if where == "url":
            if prefilters()["url"].search(url + " " + raw_url) is None:
                continue
        else:
            gate = gates.get(where)
            if gate is not None:
                low = lowered[where] = subject.lower()
                if not _has_any(gate, low):
                    continue
        live.append(where)
    if not live:
        return old_tail(rec, found)
    for sig in (s for s in signatures() if s.where in live):
        if sig.kind in found:
            continue
        where = sig.where
        subject = subjects[where]
        if sig.hint:
            low = lowered.get(where)
            if low is None:
                low = lowered[where] = subject.lower()
            if not _has_any(sig.hint, low):
                continue
        m = sig.regex.search(subject if where != "url" or sig.kind != "log_forging" else raw_url or "")
        if not m:
            continue
        if sig.needs_url is not None and not (raw_url and sig.needs_url.search(raw_url)):
            continue
        evidence = (raw_url or "") if where in ("url", "path") else _evidence(rec, m)
        found[sig.kind] = Signal(sig.kind, sig.rule, evidence, sig.status)
    return old_tail(rec, found)


def old_tail(rec: LogRecord, found: dict[str, Signal]) -> list[Signal]:
    if "csrf_failure" in found:
        found.pop("forbidden", None)
    if "traversal_blocked" in found:
        found.pop("traversal_payload", None)
    status = old_status_of(rec)
    if status in STATUS_SIGNAL:
        kind, rule = STATUS_SIGNAL[status]
        if kind not in found and not (kind == "forbidden" and "csrf_failure" in found):
            found[kind] = Signal(kind, rule, _evidence(rec, None), status)
    if rec.level == "ERROR" or (rec.error_name and status is not None and status >= 500):
        found["error"] = Signal("error", "EGG-LOG-112", error_type(rec), status)
    if "control-chars" in rec.flags and "orphan" not in rec.flags:
        found.setdefault("log_forging", Signal("log_forging", "EGG-LOG-117", _control_evidence(rec.text)))
    elif "out-of-order" in rec.flags:
        found.setdefault("log_forging", Signal("log_forging", "EGG-LOG-117",
                                               "record dated earlier than the one before it: " + rec.message[:120]))
    return list(found.values())


def old_status_of(rec: LogRecord) -> int | None:
    st = rec.props.get("status") if rec.props else None
    if isinstance(st, int):
        return st
    if rec.error_name:
        status = _error_status(rec.error_name)
        if status is not None:
            return status
    m = STATUS.search(rec.message) if rec.message else None
    return int(m.group(1)) if m else None


def old_user_of(rec: LogRecord) -> str | None:
    if rec.user:
        return rec.user
    m = USER_IN_MESSAGE.search(rec.message or "")
    return m.group(1) if m else None


# --- random records -------------------------------------------------------------------------------

PHRASES = [
    "missing csrf token", "invalid csrf referer or origin", "both ctoken and referer check error", "Missing CSRF Token",
    "missing  csrf token", "csrf ok", "login failed for user bob", "Log-in attempt denied", "sign in failure",
    "signin error", "signup ok", "Authentication failed", "auth rejected", "password check failed",
    "password verification error", "invalid password", "wrong credentials", "bad username or password",
    "incorrect user name or password", "incorrect username or password", "invalid login", "failed login",
    "unsuccessful sign-in", "failed authentication", "401 Unauthorized", "401 x unauthorised", "HTTP 401 ok",
    "登录失败", "密码错误", "用户名或密码错误", "认证失败", "登录成功", "access denied", "permission denied",
    "not allowed to", "not authorized to", "not authorised to view", "not permitted to", "Forbidden", "无权限",
    "没有权限", "a security problem has been detected for url \"http://x\", redirection is prohibited",
    "[egg-security] please configure `config.security.ssrf` first",
    "[@eggjs/security] please configure `config.security.ssrf` first",
    "[egg-jsonp] SECURITY WARNING!! csrf check and referrer check are both closed",
    "jsonp request security validate failed", "ER_PARSE_ERROR", "ER_BAD_FIELD_ERROR: x",
    "You have an error in your SQL syntax", "SequelizeDatabaseError", "syntax error at or near \"x\"",
    "SQLITE_ERROR: near \"x\"", "unterminated quoted string", "ORA-00933", "ORA-00936", "ORA-00934",
    "status=401", "status: 403", "\"status\":404", "statusCode=500", "\"statusCode\": \"401\"", "Status=401",
    "GET /x 404 ", "POST /login 401 3ms", "DELETE /a 403 ", "get /x 401 ", "user=bob", "username: alice",
    "\"email\":\"u1@example.com\"", "for account carol", "for user  dave", "login=eve", "account:frank",
    # re.I folds these onto ASCII letters: the patterns match them, the lowercase hints do not
    "\u017fign in failed", "log\u0131n failed", "LOG\u0130N FAILED", "\u212aey", "u\u017fer=bob", "acces\u017f denied",
    "ok", "list items page=35 took 7ms", "12:30", "中文", "", " ", "\t", "x=1", "done",
]
URLS = ["/", "/login", "/api/items/12", "/.env", "/.git/config", "/wp-admin/", "/PMA", "/actuator", "/x/../y",
        "/s?q=1%27%20OR%201%3D1--", "/p?id=1+union+select+a+from+b", "/s?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/download?file=../../etc/passwd", "/x?f=%252e%252e%252fetc%252fpasswd", "/ping?h=1;cat%20/etc/passwd",
        "/x?a=${jndi:ldap://x/a}", "/x?a=%0d%0afake", "/x?a=\\r\\nfake", "/q?a=1&b=x.y", "/a+b", "/%2e%2e/x",
        "/x?n=javascript:alert(1)", "/x?o=onerror=1", "/x?u=file:///etc/hosts", "/x?c=__proto__", "/x?t={{7*7}}",
        "/x?s=sleep(5)", "/x?s=\u017fleep(5)", "/x?q=1%27%20or%20%271%27=%271", "/x?a=%E5%98%8A"]
ERRORS = [None, None, None, "UnauthorizedError", "JsonWebTokenError", "TokenExpiredError", "AuthenticationError",
          "ForbiddenError", "AccessDenied", "PermissionDeniedError", "MethodNotAllowedError", "BadRequestError",
          "NotFoundError", "InternalServerError", "Error", "TypeError", "unauthorizederror", "\u017fomeError"]


def random_record(rnd: random.Random) -> LogRecord:
    words = [rnd.choice(PHRASES) for _ in range(rnd.randint(1, 4))]
    if rnd.random() < 0.15:
        words = [w.upper() if rnd.random() < 0.5 else w.title() for w in words]
    message = rnd.choice([" ", ", ", ": ", ""]).join(words)
    lines = [message]
    if rnd.random() < 0.4:
        lines += ["    at x (/app/login.js:1:1)", rnd.choice(PHRASES), 'code: "ER_X"', "pid: 1"]
    error = rnd.choice(ERRORS)
    props = rnd.choice([{}, {}, {"status": 401}, {"status": 403}, {"status": "404"}, {"status": 500}])
    url = rnd.choice(URLS) if rnd.random() < 0.8 else None
    return LogRecord(file="a.log", line=1, time=None, level=rnd.choice(["INFO", "WARN", "ERROR"]), pid=1,
                     message=message, text="\n".join(lines), user=rnd.choice([None, None, "u1"]),
                     url=url, method="GET" if url else None, error_name=error,
                     error_message=rnd.choice(PHRASES) if error else None, props=props,
                     flags=rnd.choice([(), (), ("control-chars",), ("control-chars", "orphan"), ("out-of-order",)]))


@pytest.fixture(scope="module")
def records() -> list[LogRecord]:
    rnd = random.Random(20261203)
    return [random_record(rnd) for _ in range(12000)]


def test_signals_statuses_and_users_are_those_of_the_ungated_patterns(records):
    kinds = Counter()
    folded = 0
    for rec in records:
        expected = old_signals_of(rec)
        assert signals._signals_of(rec) == expected, rec
        assert signals._signals_of(rec, body_of(rec.text)) == expected
        assert signals.status_of(rec) == old_status_of(rec), rec
        assert signals.user_of(rec) == old_user_of(rec), rec
        kinds.update(s.kind for s in expected)
        if not rec.message.isascii() and old_user_of(rec) and not rec.user:
            folded += 1
    gated = {s.kind for s in signatures() if signals._needs(s.regex) is not None}
    assert gated >= {"csrf_failure", "auth_failure", "forbidden", "sql_error", "sqli_payload", "xss_payload"}
    for kind in gated | {"scanner_probe", "ssrf_unconfigured", "jsonp_unprotected", "not_found", "error"}:
        assert kinds[kind] >= 50, (kind, kinds)  # every gated signature fires, many times over
    assert folded >= 20  # users found in messages that only re.I's folding matches


def test_a_near_miss_of_a_gated_pattern_still_stays_quiet():
    rec = LogRecord(file="a.log", line=1, time=None, level="WARN", pid=1, message="login ok, password checked",
                    text="login ok, password checked")
    assert signals._signals_of(rec) == old_signals_of(rec) == []
