"""`sensitive.find` runs each finder only where a match can start (gates, start positions, ASSIGN
located from its operators): that must never change a single hit. The finders as they were, each
pattern run over the whole text with `finditer`, are kept below as the oracle; random and hostile
texts built from every shape the finders look for (and near misses, quotes, escapes, the
characters re.I folds onto ASCII letters, other scripts' digits, long digit runs, CRLF) must give
the same hits, the same redacted text and the same evidence."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from eggshield.logs import sensitive
from eggshield.logs.sensitive import (
    _NOT_VALUE,
    ASSIGN,
    BEARER,
    CARD,
    CN_ID,
    CN_MOBILE,
    COOKIE,
    E164,
    EMAIL,
    JWT,
    KV_WORDS,
    LONG_NUMBER,
    PEM,
    VENDOR_PREFIXES,
    Hit,
    _stars,
    cn_id_ok,
    luhn_ok,
    mask_value,
    vendor_keys,
)

# --- the oracle: sensitive.find before it learnt where matches can start --------------------------


def old_triggers(text: str) -> set[str]:
    low = text.lower()
    on = set()
    for w in KV_WORDS:
        if w in low:
            on.add("kv")
            break
    if "bearer" in low or "basic" in low or "token" in low:
        on.add("auth")
    if "eyJ" in text:
        on.add("jwt")
    if "-----BEGIN" in text:
        on.add("pem")
    if LONG_NUMBER.search(text):
        on.add("num")
    if "@" in text:
        on.add("email")
    if "+" in text:
        on.add("plus")
    if "sess" in low or "sid=" in low:
        on.add("cookie")
    for p in VENDOR_PREFIXES:
        if p in text:
            on.add("vendor")
            break
    return on


def old_find(text: str) -> list[Hit]:
    if not text:
        return []
    on = old_triggers(text)
    if not on:
        return []
    hits: list[Hit] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, rule: str, label: str, start: int, end: int, masked: str) -> None:
        for a, b in taken:
            if start < b and a < end:
                return
        taken.append((start, end))
        hits.append(Hit(kind, rule, label, start, end, masked))

    for m in PEM.finditer(text) if "pem" in on else ():
        end = text.find("-----END", m.end())
        end = text.find("-----", end + 8) + 5 if end >= 0 else len(text)
        add("private-key", "EGG-LOG-153", "PEM private key", m.start(), max(end, m.end()), m.group(0) + "****")
    for m in JWT.finditer(text) if "jwt" in on else ():
        add("jwt", "EGG-LOG-151", "JSON Web Token", m.start(), m.end(), "eyJ" + "*" * 8)
    for m in BEARER.finditer(text) if "auth" in on else ():
        cred = m.group("cred")
        if re.search(r"[0-9+/=._~-]|.[A-Z]", cred):
            add("bearer", "EGG-LOG-151", f"{m.group('scheme')} credential", m.start("cred"), m.end(),
                mask_value(cred))
    for _vid, label, rx, keep in vendor_keys() if "vendor" in on else ():
        for m in rx.finditer(text):
            g = 1 if rx.groups else 0
            value = m.group(g)
            add("api-key", "EGG-LOG-152", label, m.start(g), m.end(g), value[:keep] + "*" * 8)
    for m in COOKIE.finditer(text) if "cookie" in on else ():
        add("cookie", "EGG-LOG-158", f"session cookie {m.group('name')}", m.start("value"), m.end("value"),
            mask_value(m.group("value")))
    for m in ASSIGN.finditer(text) if "kv" in on else ():
        grp = "dq" if m.group("dq") is not None else "bare"
        value = m.group(grp)
        if value.startswith(("${", "{{", "<")) or "***" in value:
            continue
        key = m.group("key").strip("\"'")
        if _NOT_VALUE.fullmatch(value) or len(value) < 3:
            continue
        if key.lower() in ("token", "pin", "otp", "signature", "authorization") and len(value) < 6:
            continue
        if key.lower() == "authorization" and BEARER.match(value):
            continue
        add("password", "EGG-LOG-150", f"{key} value", m.start(grp), m.end(grp), mask_value(value))
    for m in CN_ID.finditer(text) if "num" in on else ():
        if cn_id_ok(m.group(0)):
            v = m.group(0)
            add("cn-id", "EGG-LOG-157", "Chinese resident ID number", m.start(), m.end(), _stars(v, 3, 2))
    for m in CARD.finditer(text) if "num" in on else ():
        raw = m.group(0)
        digits = raw.replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and digits[0] in "3456" and luhn_ok(digits) and len(set(digits)) > 1:
            add("card", "EGG-LOG-154", "payment card number", m.start(), m.end(), _stars(digits, 0, 4))
    for m in EMAIL.finditer(text) if "email" in on else ():
        local, _, domain = m.group(0).partition("@")
        add("email", "EGG-LOG-155", "e-mail address", m.start(), m.end(), f"{local[:1]}***@{domain}")
    for rx, label in ((CN_MOBILE, "mainland China mobile number"), (E164, "phone number")) if "num" in on or "plus" in on else ():
        for m in rx.finditer(text):
            v = m.group(0)
            digits = re.sub(r"\D", "", v)
            add("phone", "EGG-LOG-156", label, m.start(), m.end(), _stars(digits, 3, 4))
    hits.sort(key=lambda h: h.start)
    return hits


def old_redact(text: str, hits: list[Hit] | None = None) -> str:
    hits = old_find(text) if hits is None else hits
    if not hits:
        return text
    out = []
    pos = 0
    for h in hits:
        out.append(text[pos:h.start])
        out.append(h.masked)
        pos = h.end
    out.append(text[pos:])
    return "".join(out)


def old_evidence(text: str, hit: Hit, width: int = 60, hits: list[Hit] | None = None) -> str:
    hits = old_find(text) if hits is None else hits
    line_start = text.rfind("\n", 0, hit.start) + 1
    line_end = text.find("\n", hit.end)
    line_end = len(text) if line_end < 0 else line_end
    start = max(line_start, hit.start - width)
    end = min(line_end, hit.end + width)
    for h in hits:
        if h.start < start < h.end:
            start = h.start
        if h.start < end < h.end:
            end = h.end
    inside = [Hit(h.kind, h.rule, h.label, h.start - start, h.end - start, h.masked)
              for h in hits if h.start >= start and h.end <= end]
    masked = old_redact(text[start:end], inside)
    return ("…" if start > line_start else "") + masked + ("…" if end < line_end else "")


# --- random and hostile texts ---------------------------------------------------------------------

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
B64URL = ALNUM + "_-"
# characters re.I folds onto ASCII letters, other scripts' digits, blanks `\s` matches beyond ASCII
ODD = ["\u017f", "\u212a", "\u0131", "\u0130", "\u0663", "\uff13", "\u0966", "\xa0", "\u3000", "\x1c", "\x0b", "\u2028",
       "é", "中", "…"]
NAMES = ["password", "Password", "PASSWORD", "passwd", "passwrd", "pass", "pwd", "passphrase", "secret", "client_secret",
         "clientSecret", "app_secret", "api_key", "apiKey", "apikey", "access_token", "accessToken", "refresh_token",
         "id_token", "auth_token", "token", "Token", "private_key", "secret_key", "access_key_secret",
         "accesskeysecret", "credential", "credentials", "authorization", "Authorization", "signature", "otp", "pin",
         "cvv", "cvc", "security_code", "密码", "口令", "用户密码", "db_密码", "x_口令", "my_password", "user_pass",
         "old_pwd", "mypassword", "passwords", "keyword", "key", "pinned", "spin", "_token", "__secret", "a_b_secret",
         "pa\u017f\u017fword", "to\u212aen", "\u212aey", "p\u0131n", "P\u0130N", "se\u017fsion", "sec_ret", "pass_word"]
OPS = ["=", ":", " = ", " : ", "=>", " => ", ":=", "==", "\t:\t", " ", "", "\u3000=", ": \r\n", "=\n", "：", "= ",
       "\x1c=", "\x1f: ", "\x0b=", "\x85:", "\xa0="]
VALUES = ["hunter2", "s3cr3t!", "pw163xyz!", "ab", "abc", "x", "abcdef", "abcdefghijklmnop", "${DB_PASS}", "{{pw}}",
          "<redacted>", "****", "xxxxxx", "null", "true", "undefined", "ctx.request.body.pw", "this.app.secret",
          "Bearer abcdefghijklmnopqrstu", "Basic dXNlcjpwYXNzd29yZA==", "a b", "a,b", "a;b", "a&b", "a}b",
          "p\u017f\u212a", "中文密码", "'quoted'", '"dq"', "x" * 600, ""]
QUOTES = ["", '"', "'", '\\"', "\\'", '"', '""']


def _run(rnd: random.Random, chars: str, lo: int, hi: int) -> str:
    return "".join(rnd.choice(chars) for _ in range(rnd.randint(lo, hi)))


def _luhn_complete(digits: str) -> str:
    for d in "0123456789":
        if luhn_ok(digits + d):
            return digits + d
    raise AssertionError


def _cn_id(rnd: random.Random) -> str:
    body = f"{rnd.randint(110000, 659999)}{rnd.choice(['18', '19', '20'])}{rnd.randint(0, 99):02d}" \
           f"{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
    s = sum(int(c) * w for c, w in zip(body, sensitive.CN_ID_WEIGHTS, strict=True))
    return body + rnd.choice([sensitive.CN_ID_CHECK[s % 11], rnd.choice("0123456789Xx")])


def _digits_with(rnd: random.Random, digits: str) -> str:
    """`digits` with random single separators, sometimes a double one."""
    out = []
    for i, d in enumerate(digits):
        out.append(d)
        if i < len(digits) - 1 and rnd.random() < 0.25:
            out.append(rnd.choice([" ", "-", " ", "-", "  ", " -", "."]))
    return "".join(out)


def _shape(rnd: random.Random) -> str:
    """One secret of a shape some finder looks for, often damaged into a near miss."""
    q = rnd.choice(QUOTES)
    shapes = [
        lambda: q + rnd.choice(NAMES) + q + rnd.choice(OPS) + rnd.choice(QUOTES) + rnd.choice(VALUES) + rnd.choice(QUOTES),
        lambda: '{"' + rnd.choice(NAMES) + '":"' + rnd.choice(VALUES) + '","' + rnd.choice(NAMES) + '":' + rnd.choice(VALUES) + "}",
        lambda: "\\\"" + rnd.choice(NAMES) + "\\\":\\\"" + rnd.choice(VALUES) + "\\\"",
        lambda: rnd.choice(["Bearer", "Basic", "Token", "bearer", "BASIC"]) + rnd.choice([" ", "\t", "  ", "\n"])
        + _run(rnd, B64URL + "+/=.~", 4, 30),
        lambda: "Authorization: " + rnd.choice(["Bearer ", "Basic ", "Token ", ""]) + _run(rnd, B64URL + ".=", 5, 30),
        lambda: "eyJ" + _run(rnd, B64URL, 6, 20) + "." + rnd.choice(["eyJ", "ey", ""]) + _run(rnd, B64URL, 6, 20)
        + "." + _run(rnd, B64URL, 6, 20),
        lambda: "-----BEGIN " + rnd.choice(["RSA ", "EC ", "", "OPENSSH "]) + rnd.choice(["PRIVATE KEY", "PUBLIC KEY"])
        + rnd.choice(["-----", " BLOCK-----", "----"]) + "\n" + _run(rnd, B64URL, 0, 30)
        + rnd.choice(["", "\n-----END PRIVATE KEY-----", "\n-----END"]),
        lambda: _digits_with(rnd, _luhn_complete(rnd.choice(["4", "5", "3", "6", "1"]) + _run(rnd, "0123456789", 11, 17))),
        lambda: _digits_with(rnd, _run(rnd, "0123456789", 1, 30)),
        lambda: _cn_id(rnd) if rnd.random() < 0.8 else _digits_with(rnd, _cn_id(rnd)),
        lambda: "id " + _cn_id(rnd) + rnd.choice([" ", ",", "", "x"]),
        lambda: rnd.choice(["", "+86", "86", "+86 ", "86-", "+", "0"]) + _digits_with(
            rnd, "1" + rnd.choice("0123456789") + _run(rnd, "0123456789", 8, 10)),
        lambda: rnd.choice(["", "+86", "86", "+86 ", "+86-", "86 ", "+"]) + "1" + rnd.choice("3456789")
        + _run(rnd, "0123456789", 1, 1) + rnd.choice(["", " ", "-"]) + _run(rnd, "0123456789", 4, 4)
        + rnd.choice(["", " ", "-"]) + _run(rnd, "0123456789", 4, 4),
        lambda: _luhn_complete(rnd.choice(["4", "5", "3", "6"]) + _run(rnd, "0123456789", 11, 11)),
        lambda: "+" + rnd.choice(["44", "1", "86", "0", "9"]) + _run(rnd, "0123456789", 5, 16),
        lambda: rnd.choice(["", "a", "x.y", "a_b", "a+b", "%", "-", ".", "u163", _run(rnd, ALNUM + "._%+-", 60, 70),
                            _run(rnd, ALNUM, 62, 66), _run(rnd, "a", 1, 3) + "@" + _run(rnd, ALNUM, 60, 66)]) + "@"
        + rnd.choice(["example.com", "x.co", "a-b.cn", "x", "x.c", "中.cn", "ex.com.", "@x.com", "x." + "a" * 30]),
        lambda: rnd.choice(["a@b.cn ", "", "x@y.z,"]) + _run(rnd, ALNUM + ".", 58, 68) + "@example.com",
        lambda: rnd.choice(NAMES[:20]) + rnd.choice(["\x1c", "\x1d\x1e", "\x1f", "\x0b"]) + rnd.choice("=:") + "hunter22",
        lambda: rnd.choice(["EGG_SESS", "EGG_SESS.sig", "koa.sess", "koa:sess.sig", "connect.sid", "JSESSIONID",
                            "PHPSESSID", "SESSION", "sessionid", "sid", "xsid", "se\u017f\u017fion"])
        + rnd.choice(["=", " =", "=="]) + _run(rnd, B64URL + ".%", 4, 24),
        lambda: rnd.choice(["AKIA", "ASIA", "ABIA", "ACCA", "LTAI", "AKID", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
                            "github_pat_", "glpat-", "xoxb-", "xoxp-1-", "sk_live_", "rk_test_", "AIza", "npm_",
                            "sk-proj-", "akia", "Ghp_"]) + _run(rnd, ALNUM + "_-", 10, 40),
        lambda: rnd.choice(["AKIA", "ASIA", "ABIA", "ACCA"]) + _run(rnd, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 15, 17),
        lambda: rnd.choice(["LTAI" + _run(rnd, ALNUM, 11, 21), "AKID" + _run(rnd, ALNUM, 31, 33),
                            "AIza" + _run(rnd, B64URL, 34, 36), "npm_" + _run(rnd, ALNUM, 35, 37)]),
        lambda: rnd.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + _run(rnd, ALNUM, 35, 40),
        lambda: rnd.choice(["github_pat_" + _run(rnd, ALNUM + "_", 21, 30), "glpat-" + _run(rnd, B64URL, 19, 26),
                            "xox" + rnd.choice("abposrz") + "-" + rnd.choice(["", "123-"]) + _run(rnd, ALNUM + "-", 9, 20),
                            rnd.choice(["sk", "rk"]) + rnd.choice(["_live_", "_test_", "_prod_"]) + _run(rnd, ALNUM, 19, 30)]),
        lambda: "sk-" + _run(rnd, B64URL, 20, 24) + "T3BlbkFJ" + _run(rnd, B64URL, 20, 24),
        lambda: "https://hooks.slack.com/" + rnd.choice(["services/", "workflows/"]) + _run(rnd, ALNUM + "+/", 15, 30),
        lambda: "https://oapi.dingtalk.com/robot/send?access_token=" + _run(rnd, "0123456789abcdef", 60, 66),
        lambda: rnd.choice(["aws_secret_access_key", "AWS_SECRET", "aws_Secret", "awssecret", "aws_\u017fecret"])
        + rnd.choice(["=", ": ", '":"', "="]) + _run(rnd, ALNUM + "/+", 38, 42),
    ]
    text = rnd.choice(shapes)()
    if text and rnd.random() < 0.3:  # near miss: one character dropped, doubled or changed
        i = rnd.randrange(len(text))
        text = text[:i] + rnd.choice(["", text[i] * 2, " ", "-", "x", "\n", "\r\n", "=", ":", '"', "\\"] + ODD) + text[i + 1:]
    if rnd.random() < 0.1:
        text = text.upper() if rnd.random() < 0.5 else text.lower()
    return text


def random_texts(seed: int, n: int) -> list[str]:
    rnd = random.Random(seed)
    noise = "aAzZ09 _-+/=:'\"\\@.,;&{}[]()\n\r\t" + "".join(ODD)
    fillers = ["signup", "login ok for", "user", "list items page=35 took 7ms", "status=200", "GET /x 200",
               "2026-12-03 12:13:20,016", "12:30", "ok", "x=1", "a:b", " ", "\r\n", "\n", "\t", "中文", "…"]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 8)):
            r = rnd.random()
            if r < 0.55:
                parts.append(_shape(rnd))
            elif r < 0.8:
                parts.append(rnd.choice(fillers))
            else:
                parts.append(_run(rnd, noise, 1, 12))
        out.append(rnd.choice(["", " ", ",", "&", ";", "\n", "\r\n", '"', "\t"]).join(parts))
    return out


def _as_tuples(hits: list) -> list[tuple]:
    return [(h.kind, h.rule, h.label, h.start, h.end, h.masked) for h in hits]


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    texts = random_texts(20261203, 12000)
    texts += [
        "", "x", 'signup {"email":"u163@example.com","password":"pw163xyz!","phone":"13843800696"}',
        "password=", "password:", ":password=hunter22", "==password==hunter22", "a" * 2000 + "password=hunter22",
        "1" * 40, "4111 1111 1111 1111", "-4111111111111111", ".4111111111111111", "4111111111111111.",
        "\u0664\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661",
        "+86 138 0013 8000", "+8613800138000", "86-13800138000", "1380013800012345678", "11010519491231002X",
        "id 11010519491231002Xa", "\\\"password\\\":\\\"hunter22\\\"", "密码=中文密码很长", "用户_密码：abc", "x_口令=abcd",
        "pa\u017f\u017fword=hunter22 to\u212aen=abcdefgh p\u0130n=123456", "PASSWORD=HUNTER22\r\nToken: abcdefghij",
    ]
    return texts


def test_find_gives_the_hits_every_pattern_over_the_whole_text_gives(corpus):
    kinds = Counter()
    paths = Counter()
    for text in corpus:
        expected = _as_tuples(old_find(text))
        assert _as_tuples(sensitive.find(text)) == expected, text
        kinds.update(h[0] for h in expected)
        if expected and not text.isascii():
            paths["non-ascii text with hits"] += 1
        for h in expected:
            if h[0] == "password" and ("密码" in h[2] or "口令" in h[2]):
                paths["cjk name"] += 1
            if h[0] == "password" and not h[2].isascii():
                paths["folded name"] += 1
            if h[0] == "password" and "\\" in text[max(0, h[3] - 3):h[3]]:
                paths["escaped quote"] += 1
    # the corpus must exercise every finder, and the paths the new code takes apart, many times over
    for kind in ("password", "bearer", "jwt", "api-key", "private-key", "card", "email", "phone", "cn-id", "cookie"):
        assert kinds[kind] >= 100, (kind, kinds)
    for path in ("non-ascii text with hits", "cjk name", "folded name", "escaped quote"):
        assert paths[path] >= 20, (path, paths)
    labels = Counter(h.label for text in corpus for h in old_find(text) if h.kind == "api-key")
    assert len(labels) == len(vendor_keys()) and min(labels.values()) >= 20, labels  # every vendor format


def test_redact_and_evidence_are_unchanged(corpus):
    for text in corpus[:6000]:
        hits = old_find(text)
        assert sensitive.redact(text) == old_redact(text), text
        new_hits = sensitive.find(text)
        assert sensitive.redact(text, new_hits) == old_redact(text, hits)
        for h, nh in zip(hits, new_hits, strict=True):
            assert sensitive.evidence(text, nh) == old_evidence(text, h), text
            assert sensitive.evidence(text, nh, width=7, hits=new_hits) == old_evidence(text, h, width=7, hits=hits)


def test_the_trigger_gates_are_unchanged(corpus):
    for text in corpus[:4000]:
        assert sensitive._triggers(text) == old_triggers(text), text


def test_assign_and_email_matches_are_those_of_finditer(corpus):
    """The match objects themselves, not only the hits made of them (an opening quote, for one, is
    in ASSIGN's key but stripped from the label)."""
    for text in corpus:
        got = [(m.span(), m.groupdict()) for m in sensitive._assign_matches(text, text.lower())]
        assert got == [(m.span(), m.groupdict()) for m in ASSIGN.finditer(text)], text
        assert [m.span() for m in sensitive._email_matches(text)] == [m.span() for m in EMAIL.finditer(text)], text
