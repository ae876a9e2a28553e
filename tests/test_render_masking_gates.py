"""`mask_secrets` skips a pass when a cheap gate says its pattern cannot match: that must never
let a secret through. Each gate has to be a necessary condition of its pattern; checked here on
random texts built from the pieces the patterns look for (case and Unicode variants included),
and the gated result compared with running every pass unconditionally."""

from __future__ import annotations

import random
import re
import sys

import pytest

from eggshield import masking
from eggshield.masking import _CONTROL, _PASSES, mask_secrets, printable
from test_report_masking import HARMLESS, SECRETS

# What the patterns look for, cut into pieces that random texts are glued from: names in mixed
# case (and with the characters re.I folds onto ASCII letters: long s, Kelvin sign, dotless and
# dotted i), operators and near misses, quotes, every kind of whitespace, vendor prefixes, tokens.
PIECES = [
    "password", "PassWord", "passwd", "pwd", "PWD", "secret", "\u017fecret", "token", "TOKEN", "to\u212aen",
    "api_key", "apiKey", "api-key", "access_key", "privateKey", "auth_key", "session-key", "signing_key",
    "encryption_key", "encryptKey", "keys", "KEYS", "auth", "Auth", "credential", "credentials", "cred\u0130ential",
    "cred\u0131ential", "salt", "SALT", "db_", "my", "$", "x",
    ":", "=", "==", "=>", " : ", " = ", " is ", " was ", " set to ", "is", "was", "set to", "+", " + ",
    "'", '"', "`", "'abc'", '"s3cr3t!"', "`tmpl`", "'_1513135333_4421'", "process.env.X", "ctx.body.x", "<x>", "${X}",
    " ", "  ", "\t", "\n", "\u3000", "\xa0", "\x85", "\u2028", ",", ";", "&", "(", ")", "{", "}", "[", "]", ".", "/",
    "-----BEGIN ", "RSA ", "OPENSSH ", "PRIVATE KEY", "-----", "-----END ", "MIIEow",
    "redis://", "mongodb://admin", "http://", ":pw", "@", "db.host:6379",
    "Bearer ", "bearer", "Basic ", "basic ", "dXNlcjpwYXNz", "Basic authentication",
    "eyJ", "eyJhbGciOiJIUzI1NiJ9", ".", "eyJzdWIiOiIxIn0", "sig_-",
    "AKIA", "ASIA", "ghp_", "gho_", "github_pat_", "xoxb-", "sk_live_", "sk_test_", "rk_live_", "npm_", "AIza",
    "IOSFODNN7EXAMPLE", "abcdefghijklmnop0123",
    "9f86d081884c7d659a2feaa0c55ad015", "a3bf4f1b2b0b822cd15d6c15b0f00a08", "kF3mXq9Zr2Lw8vT1bN6yH4cJ0pA7sD5eG",
    "==", "+/", "_-", "0123456789abcdef", "ZZZZ", "****", "é", "…",
]


def _run(rnd: random.Random, chars: str, lo: int, hi: int) -> str:
    return "".join(rnd.choice(chars) for _ in range(rnd.randint(lo, hi)))


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def _shape(rnd: random.Random) -> str:
    """A whole secret of one of the shapes the passes mask, often damaged into a near miss."""
    kind = rnd.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "PGP PRIVATE KEY BLOCK", "PUBLIC KEY",
                       "rsa private key"])
    shapes = [
        lambda: f"-----BEGIN {kind}-----\n{_run(rnd, B64URL, 4, 40)}" + rnd.choice(["", f"\n-----END {kind}-----"]),
        lambda: (rnd.choice(["redis", "mongodb+srv", "http", "x"]) + "://" + _run(rnd, "abc", 0, 4) + ":"
                 + rnd.choice(["p4ss", "****", "a/b", "pw word"]) + "@" + rnd.choice(["db", "h:1", ""])),
        lambda: rnd.choice(["Bearer", "bearer", "Basic", "BASIC"]) + rnd.choice([" ", "\t", "  "])
        + _run(rnd, B64URL + "+/=.~", 6, 20),
        lambda: "eyJ" + _run(rnd, B64URL, 3, 12) + "." + _run(rnd, B64URL, 3, 12) + rnd.choice([".", ""])
        + _run(rnd, B64URL, 0, 8),
        lambda: rnd.choice(["AKIA", "ASIA", "ghp_", "ghr_", "github_pat_", "xoxb-", "xoxz-", "sk_live_", "rk_live_",
                            "npm_", "AIza"]) + _run(rnd, B64URL, 9, 16),
        lambda: (rnd.choice(["keys", "secret", "apiKey", "'token'", "pass"]) + rnd.choice([": ", "=", " = ", "==", ":"])
                 + rnd.choice(["appInfo.name", "x.y", "'a'", "", "1,"]) + rnd.choice([" + ", "+", "\n+"])
                 + rnd.choice(["'_1513135333_4421'", '"abcd"', "'ab'", "y"])),
        lambda: _run(rnd, "0123456789abcdefABCDEF", 30, 40),
        lambda: _run(rnd, B64URL + "+/", 30, 40) + rnd.choice(["", "=", "=="]),
    ]
    text = rnd.choice(shapes)()
    if text and rnd.random() < 0.3:  # near miss: one character dropped or changed
        i = rnd.randrange(len(text))
        text = text[:i] + rnd.choice(["", " ", "-", "x", "\n"]) + text[i + 1:]
    return text


def random_texts(seed: int, n: int) -> list[str]:
    rnd = random.Random(seed)
    alphabet = "aAzZ09 _-+/=:'\"`@.\n\t\u017f\u212a\u0131\u0130"
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 12)):
            r = rnd.random()
            if r < 0.65:
                parts.append(rnd.choice(PIECES))
            elif r < 0.8:
                parts.append(_run(rnd, alphabet, 1, 6))
            else:
                parts.append(_shape(rnd))
        out.append("".join(parts))
    return out


TEXTS = random_texts(7, 6000) + [t for t, _ in SECRETS] + HARMLESS


def ungated(text: str) -> str:
    """What mask_secrets did before the gates: every pass, always."""
    for _gate, passes in _PASSES:
        for pattern, repl in passes:
            text = pattern.sub(repl, text)
    return text


def test_each_gate_holds_whenever_its_patterns_match():
    matched = [0] * len(_PASSES)
    for original in TEXTS:
        text = original
        for i, (gate, passes) in enumerate(_PASSES):
            if any(pattern.search(text) for pattern, _ in passes):
                matched[i] += 1
                assert gate(text), f"gate {i} refused a text its pattern matches: {text!r}"
            for pattern, repl in passes:
                text = pattern.sub(repl, text)
    # The corpus must exercise every pass, or this test proves nothing about it.
    assert all(n >= 50 for n in matched), matched


def test_gated_masking_equals_running_every_pass():
    masking._mask_memo.cache_clear()
    for text in TEXTS:
        assert mask_secrets(text) == ungated(text), repr(text)
    # and again from the memo
    assert [mask_secrets(t) for t in TEXTS[:500]] == [ungated(t) for t in TEXTS[:500]]


def test_long_texts_bypass_the_memo_and_are_masked_the_same():
    text = ("x" * 2000) + " password='hunter2secret' " + ("y " * 600)
    assert len(text) > masking.MEMO_MAX_LEN
    assert "hunter2secret" not in mask_secrets(text)
    assert mask_secrets(text) == ungated(text)


def test_the_name_lookahead_admits_every_character_re_i_folds_onto_a_first_letter():
    """`(?=[pstkac])` in the name gates must not reject a character that re.I lets one of the
    alternatives start with (the long s matches "s", the Kelvin sign "k", ...)."""
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    first_letters = set(re.findall(r"p|s|t|k|a|c", everything, re.I))
    assert {"\u017f", "\u212a"} <= first_letters
    assert first_letters == set(re.findall(r"[pstkac]", everything, re.I))


@pytest.mark.parametrize(("text", "secret"), SECRETS)
def test_every_known_secret_shape_still_masked(text, secret):
    assert secret not in mask_secrets(text)


def test_printable_fast_path_only_skips_text_with_nothing_to_escape():
    """`printable` returns printable text as it is: every character _CONTROL escapes (and the
    carriage return) is one str.isprintable rejects."""
    for c in range(sys.maxunicode + 1):
        ch = chr(c)
        if _CONTROL.match(ch):
            assert not ch.isprintable(), hex(c)
    for text in TEXTS[:3000] + ["plain text", "a\r\nb", "\x1b[31m", "x\u202ey", "tab\there"]:
        escaped = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100
                               else f"\\u{ord(m.group(0)):04x}", text.replace("\r\n", "\n"))
        assert printable(text) == escaped
