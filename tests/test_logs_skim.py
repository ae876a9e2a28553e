"""The fast reader (`logs.skim` + `logs.prefilter`) skips records it judges quiet and memoises the rest:
neither may ever change what `analyze` reports. Random records built from every word the finders
react to (in any case, with digits anywhere) must give exactly the items the line-by-line parser and
`analyze.prepare` give."""

from __future__ import annotations

import random

from eggshield.logs import prefilter, signals
from eggshield.logs.analyze import Brief, prepare
from eggshield.logs.lines import Block, lines_of
from eggshield.logs.skim import Skimmer
from eggshield.logs.textfmt import parse_text

FRAGMENTS = [
    "list items", "page={n}", "took {n}ms", "login failed", "Login Failed for user u{n}", "invalid password",
    "sign-in attempt denied", "authentication failure", "401 Unauthorized", "access denied", "not allowed to",
    "Forbidden", "missing csrf token", "invalid csrf referer or origin", "redirection is prohibited",
    "[egg-security] please configure `config.security.ssrf` first", "jsonp request security validate failed",
    "ER_PARSE_ERROR", "You have an error in your SQL syntax", "ORA-00933", "status={s}", '"statusCode":{s}',
    "GET /x {s} 2ms", "POST /y {s}", "password=hunter{n}", "token: abcdef{n}ghij", "api_key=AKIA{n}ABCDEFGHIJKLM",
    "Authorization: Bearer abc.def{n}.ghi", "Basic dXNlcjpwYXNz{n}", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx{n}In0.sig{n}abcdefgh",
    "-----BEGIN PRIVATE KEY-----", "card 4111 1111 1111 {n4}", "phone 138{n8}", "+44{n8}", "id 11010519491231002X",
    "mail u{n}@example.com", "phone 138-{n4}-{n4}", "card 4111-1111-1111-1111",
    "EGG_SESS=abcdefghij{n}", "sid=abcdefgh{n}", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "xoxb-{n}-abc", "LTAI{n}abcdefghij", "monkey", "keyword", "bypass", "pinned", "otp", "shipping", "{n}", "{n4}-{n}",
    "ok", "done", "\x1b[31m", "\x07bell", "tab\there", "100%", "a+b", "user=bob", "security", "credential",
]
QUIET = ["list items", "page={n}", "took {n}ms", "ok", "done", "{n}", "cache warm", "GET-ish", "tab\tstop"]
URLS = ["/api/items/{n}", "/login", "/.env", "/wp-admin/", "/pma", "/HNAP1", "/package.json", "/x?f=../../etc/passwd",
        "/s?q=1%27%20OR%201%3D1--", "/a+b", "/q?a={n}&b=x.y", "/p;x", "/u?x=%0d%0a", "/s?q=<script>", "/ok_path-{n}",
        "/x/../y", "/actuator", "/console/", "/q?next=javascript:alert(1)", "/search?q=union+select"]
ERRORS = ["ForbiddenError: missing csrf token", "UnauthorizedError: no", "NotFoundError: Not Found",
          "Error: order {n} failed", "BadRequestError: bad", "MethodNotAllowedError: x", "TypeError: cannot read x",
          "InternalServerError: boom"]


def _fill(text: str, rnd: random.Random) -> str:
    return text.format(n=rnd.randint(0, 99999), n4=rnd.randint(1000, 9999), n8=rnd.randint(10**7, 10**8 - 1),
                       s=rnd.choice([200, 302, 401, 403, 404, 500]))


def _case(text: str, rnd: random.Random) -> str:
    return rnd.choice([text, text.upper(), text.lower(), text.title()])


def random_record(rnd: random.Random, second: int) -> str:
    level = rnd.choice(["INFO", "INFO", "WARN", "DEBUG", "ERROR"])
    head = f"2026-12-03 10:{second // 60 % 60:02d}:{second % 60:02d},{rnd.randint(0, 999):03d} {level} {rnd.randint(1, 99999)}"
    prefix = ""
    if rnd.random() < 0.5:
        user = rnd.choice(["-", "", "alice", "u@x.io"])
        url = _fill(rnd.choice(URLS), rnd) if rnd.random() < 0.5 else f"/api/items/{rnd.randint(1, 999)}"
        prefix = f" [{user}/10.0.0.{rnd.randint(1, 9)}/-/{rnd.randint(1, 99)}ms {rnd.choice(['GET', 'POST'])} {url}]"
    if rnd.random() < 0.2:
        msg = "nodejs." + _fill(rnd.choice(ERRORS), rnd) + "\n    at x (/app/login.js:1:1)\n" \
              + f"status: {rnd.choice([401, 403, 404, 500])}\nname: \"X\"\npid: 1\nhostname: h\n"
    else:
        # at most one fragment that may matter, among quiet words: each trigger must also be tested alone
        parts = [_fill(rnd.choice(QUIET), rnd) for _ in range(rnd.randint(0, 3))]
        if rnd.random() < 0.7:
            parts.insert(rnd.randint(0, len(parts)), _case(_fill(rnd.choice(FRAGMENTS), rnd), rnd))
        msg = " ".join(parts)
        if rnd.random() < 0.1:
            msg += "\n  " + _case(_fill(rnd.choice(FRAGMENTS), rnd), rnd) + "\n"
    return f"{head}{prefix} {msg}".rstrip(" ") + "\n"


def reference_items(text: str) -> list:
    records = list(parse_text(lines_of(text.encode()), "f.log", "f"))
    out = []
    for rec in records:
        found = prepare(rec, True)
        if found is not None:
            out.append((Brief.of(rec), *found))
    return out


def skim_items(text: str) -> list:
    sk = Skimmer("f.log", "f", True)
    sk.feed([Block(1, 0, text)])
    return sk.finish().items


def test_random_records_give_the_items_the_line_by_line_path_gives():
    rnd = random.Random(2026)
    quiet = 0
    for batch in range(60):
        text = "".join(random_record(rnd, batch * 100 + i) for i in range(100))
        assert skim_items(text) == reference_items(text), f"batch {batch}"
        quiet += 100 - len(reference_items(text))
    assert quiet > 1000, "the corpus must also hold quiet records, or the prefilter is not tested"


def test_repeated_records_hit_the_memo_and_still_carry_their_own_line_time_and_ip():
    rec = "2026-12-03 10:00:{s:02d},000 WARN 1 [-/10.0.0.{ip}/-/2ms POST /login] nodejs.ForbiddenError: missing csrf token\n" \
          "    at x\nmessage: \"missing csrf token\"\npid: 1\nhostname: h\n\n"
    text = "".join(rec.format(s=s, ip=s % 7) for s in range(50)) + "2026-12-03 10:01:00,000 INFO 1 ok\n"
    items = skim_items(text)
    assert items == reference_items(text)
    assert [i[0][1] for i in items] == [1 + 6 * s for s in range(50)]  # header line of each record
    assert {i[0][3] for i in items} == {f"10.0.0.{k}" for k in range(7)}


def test_the_trigger_words_are_necessary_conditions_of_the_hints():
    words = prefilter.trigger_words(False)
    _, gates = signals._plan()
    for where in ("message", "text"):
        for hint in gates[where]:
            if hint.isascii():
                assert any(w in prefilter.normalise(hint) for w in words), hint


def test_quiet_urls():
    assert prefilter.url_is_quiet("/api/items/12?page=3")
    for url in ("/pma", "/.env", "/x?f=../../etc/passwd", "/a+b", "/s?q=%27", "/weird]x", "/HNAP1"):
        assert not prefilter.url_is_quiet(url), url
