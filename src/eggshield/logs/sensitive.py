"""Secrets and personal data written to logs (CWE-532), found, masked, and redacted.

Vendor key formats come from `data/log_sensitive_patterns.toml`; the finders that need code
are here: `password=`-style assignments (key=value, JSON, `key: value`), bearer/basic
credentials, JWTs, PEM private keys, card numbers (Luhn), e-mail addresses, phone numbers
(mainland China mobiles and `+CC` E.164), Chinese resident ID numbers (GB 11643-1999 check
digit) and session cookies. Evidence never carries a value in clear.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from eggshield.logs import regex_gates


@dataclass(frozen=True)
class Hit:
    kind: str  # "password", "bearer", "jwt", "api-key", "private-key", "card", "email", "phone", "cn-id", "cookie"
    rule: str  # EGG-LOG-15x
    label: str  # what the report calls it: "password in key=value", "GitHub token", ...
    start: int
    end: int
    masked: str  # the matched text with the secret part masked (evidence and --redact use it)


SECRET_NAMES = (r"pass(?:word|wd|wrd)?|pwd|passphrase|secret|client_?secret|app_?secret|api_?key|apikey|"
                r"access_?token|refresh_?token|id_?token|auth_?token|token|private_?key|secret_?key|access_?key_?secret|"
                r"credentials?|authorization|signature|otp|pin|cvv|cvc|security_?code|密码|口令")
# `password=x`, `password: x`, `"password":"x"`, `password => 'x'`; value up to a delimiter
ASSIGN = re.compile(
    r"(?P<key>(?:\\?[\"'])?(?<![A-Za-z0-9_])(?:[A-Za-z0-9_]*?_)?(?:" + SECRET_NAMES + r")(?:\\?[\"'])?)"
    r"(?P<op>\s*(?:=>|[=:])\s*)"
    r"(?:(?P<qo>\\?[\"'])(?P<dq>(?:(?!(?P=qo)).){1,512}?)(?P=qo)|(?P<bare>[^\s,;&\"'}\])\\]{1,512}))",
    re.I)
BEARER = re.compile(r"\b(?P<scheme>Bearer|Basic|Token)\s+(?P<cred>[A-Za-z0-9._~+/-]{12,}=*)")
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
PEM = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
CARD = re.compile(r"(?<![\d.-])(?:\d[ -]?){12,18}\d(?![\d])")
EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b")
CN_MOBILE = re.compile(r"(?<![\d.])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![\d])")
E164 = re.compile(r"(?<![\w+])\+(?!86)[1-9]\d{7,14}(?![\d])")
CN_ID = re.compile(r"(?<![\d])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])")
COOKIE = re.compile(r"(?P<name>\bEGG_SESS(?:\.sig)?|\bkoa[.:]sess(?:\.sig)?|\bconnect\.sid|\bJSESSIONID|\bPHPSESSID|"
                    r"\bSESSION(?:ID)?|\bsid)=(?P<value>[^;\s,\"']{8,})", re.I)
# cheap gates: plain substring tests (C speed) tell which finders can match at all
KV_WORDS = ("pass", "pwd", "secret", "token", "key", "credential", "authorization", "signature", "otp", "pin",
            "cvv", "cvc", "security", "密码", "口令")
VENDOR_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "LTAI", "AKID", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
                   "github_pat_", "glpat-", "xox", "sk_", "rk_", "AIza", "npm_", "sk-", "hooks.slack", "dingtalk",
                   "aws_secret", "AWS_SECRET", "aws_Secret")
LONG_NUMBER = re.compile(r"\d{4}[ -]?\d{3}")
_any_kv_word = regex_gates.any_in(KV_WORDS)
_any_vendor_prefix = regex_gates.any_in(VENDOR_PREFIXES)


def _triggers(text: str) -> set[str]:
    """Which finders `find` runs on `text` (logs/prefilter.py mirrors these words): tests at C speed."""
    return _Gates(text).on


class _Gates:
    """The trigger gates of one text, and what the finders behind them reuse.

    An ASCII text is also read as bytes with every digit turned into `0` (`digits0`): a digit is then
    one literal byte, which `bytes.find` and `re` skip to at memchr speed, where a `\\d` class would be
    tried at every position. Positions are the text's (one byte per character)."""

    __slots__ = ("on", "low", "digits0", "number_at")

    def __init__(self, text: str):
        self.low = low = text.lower()
        on = set()
        if _any_kv_word(low):
            on.add("kv")
        if "bearer" in low or "basic" in low or "token" in low:
            on.add("auth")
        if "eyJ" in text:
            on.add("jwt")
        if "-----BEGIN" in text:
            on.add("pem")
        if text.isascii():
            self.digits0 = text.encode("ascii").translate(_DIGIT0)
            m = _LONG_NUMBER0.search(self.digits0)
        else:
            self.digits0 = None
            m = LONG_NUMBER.search(text)
        self.number_at = m.start() if m else -1  # where LONG_NUMBER first matches
        if m:
            on.add("num")
        if "@" in text:
            on.add("email")
        if "+" in text:
            on.add("plus")
        if "sess" in low or "sid=" in low:
            on.add("cookie")
        if _any_vendor_prefix(text):
            on.add("vendor")
        self.on = on


_DIGIT0 = bytes.maketrans(b"123456789", b"000000000")
_SEPARATOR0 = bytes.maketrans(b" -", b"00")
_LONG_NUMBER0 = re.compile(rb"0000[ -]?000")  # LONG_NUMBER on `digits0`
_NON_DIGIT = re.compile(r"\D")
_NOT_PROSE = re.compile(r"[0-9+/=._~-]|.[A-Z]")  # a credential, not "Basic authentication"
# ASSIGN's operators read backwards (the text reversed): an operator, then what ASSIGN allows between a
# name and it (blanks, a closing quote), then the last letters of a secret name: every name SECRET_NAMES
# spells ends with one of NAME_ENDS
NAME_ENDS = ("pass", "word", "wd", "wrd", "phrase", "secret", "key", "token", "credential", "credentials",
             "authorization", "signature", "otp", "pin", "cvv", "cvc", "code", "密码", "口令")
_ENDS_REVERSED = "|".join(w[::-1] for w in sorted(NAME_ENDS, key=len, reverse=True))
_KEY_OP_REVERSED = re.compile(r"[=:]\s*(?:[\"']\\?)?(?P<end>" + _ENDS_REVERSED + ")", re.I)
_WORD_RUN = re.compile(r"[A-Za-z0-9_]*", re.I)  # the characters of ASSIGN's name prefix and look-behind
# the same on an ASCII text lowercased and as bytes, every `:` read as `=` (one literal for `re` to skip
# to); `\s` spelled out as the ASCII characters it matches
_COLON_AS_EQUALS = bytes.maketrans(b":", b"=")
_KEY_OP_REVERSED0 = re.compile(rb"=[\t\n\x0b\x0c\r\x1c-\x1f ]*(?:[\"']\\?)?(?P<end>"
                               + "|".join(w[::-1] for w in sorted(NAME_ENDS, key=len, reverse=True)
                                          if w.isascii()).encode() + rb")")
_WORD_RUN0 = re.compile(rb"[a-z0-9_]*")


def _assign_matches(text: str, low: str) -> Iterator[re.Match]:
    """`ASSIGN.finditer(text)`, trying ASSIGN only where a match can start (`low` = `text.lower()`).

    A match's operator is a `=` or `:` with, before it, blanks, maybe a closing quote, and a name; the
    name and the `..._` prefix before it are one run of `[A-Za-z0-9_]` characters (re.I) that ASSIGN's
    look-behind makes whole, so the run's start `w` is fixed by the operator, and the match starts at
    `w` or at an opening quote (`"`, `\\"`) just before it. Every such start is collected, then tried in
    order with `ASSIGN.match`: the first that matches from the end of the previous match on is the one
    finditer returns (search tries the positions in order, match at one position is what search does
    there, and the look-behind sees the text before the position either way)."""
    n = len(text)
    starts = []
    if text.isascii():  # re.I on ASCII is lowercase
        rev: str | bytes = low.encode("ascii")[::-1].translate(_COLON_AS_EQUALS)
        ops, run, cjk = _KEY_OP_REVERSED0.finditer(rev), _WORD_RUN0.match, False
    else:
        rev = text[::-1]
        ops, run, cjk = _KEY_OP_REVERSED.finditer(rev), _WORD_RUN.match, True
    for m in ops:
        end = m.start("end")  # in `rev`; the name ends at n - end in the text
        if cjk and rev[end] in "码令":
            end += 2  # 密码 / 口令 are not run characters: the prefix run ends before them
        w = n - run(rev, end).end()
        if w and text[w - 1] in "\"'":
            if w > 1 and text[w - 2] == "\\":
                starts.append(w - 2)
            starts.append(w - 1)
        starts.append(w)
    if len(starts) > 1:
        starts.sort()
    pos = 0
    match = ASSIGN.match
    for s in starts:
        if s >= pos:
            m = match(text, s)
            if m:
                yield m
                pos = m.end()


def _email_matches(text: str) -> Iterator[re.Match]:
    """`EMAIL.finditer(text)`, searching only from 64 characters before the next `@`: a match is at most
    64 characters of local part, its `@`, then the domain."""
    at = text.find("@")
    pos = max(0, at - 64)
    search = EMAIL.search
    while at >= 0:
        m = search(text, pos)
        if m is None:
            return
        yield m
        pos = m.end()
        at = text.find("@", pos)
        pos = max(pos, at - 64)


_NOT_VALUE = re.compile(r"(?:bearer|basic|token|digest|true|false|null|undefined|none|\*+|x+|\[?redacted\]?|\[?masked\]?|\[?filtered\]?|<[^>]*>|"
                        r"\$\{[^}]*\}|\{\{[^}]*\}\}|string|number|required|missing|invalid|empty|ctx\.[\w.]+|"
                        r"this\.[\w.]+|[\w$]+\.[\w$.]+\(.*)", re.I)
CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CN_ID_CHECK = "10X98765432"


@lru_cache(maxsize=1)
def vendor_keys() -> tuple[tuple[str, str, re.Pattern, int], ...]:
    data = tomllib.loads(resources.files("eggshield.data").joinpath("log_sensitive_patterns.toml").read_text("utf-8"))
    return tuple((k["id"], k["label"], re.compile(k["pattern"]), int(k.get("keep", 4))) for k in data["key"])


@lru_cache(maxsize=1)
def _vendor_plan() -> tuple[tuple[str, re.Pattern, int, int, regex_gates.Needs | None], ...]:
    """(label, pattern, group of the key, characters kept, words the pattern cannot match without)."""
    return tuple((label, rx, 1 if rx.groups else 0, keep, regex_gates.needs(rx)) for _vid, label, rx, keep in vendor_keys())


_BEARER_NEEDS = regex_gates.needs(BEARER)  # the scheme, case-sensitive: Bearer, Basic or Token


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def cn_id_ok(number: str) -> bool:
    """GB 11643-1999 check digit (ISO 7064 MOD 11-2) of an 18-character resident ID."""
    s = sum(int(c) * w for c, w in zip(number[:17], CN_ID_WEIGHTS, strict=True))
    return CN_ID_CHECK[s % 11] == number[17].upper()


def _stars(value: str, keep_start: int = 0, keep_end: int = 0) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + (value[-keep_end:] if keep_end else "")


def mask_value(value: str) -> str:
    """A secret's value: at most 2 leading characters and its length, never enough to use it."""
    keep = 2 if len(value) >= 12 else 0
    return f"{value[:keep]}{'*' * min(max(len(value) - keep, 4), 24)}"


def find(text: str) -> list[Hit]:
    """Every secret or personal value in `text`, non-overlapping, in order.

    The finders run in a fixed order, each hit kept unless it overlaps an earlier one; each runs only
    when its trigger gate opens (`_triggers`), and then only from where a match can start."""
    if not text:
        return []
    gates = _Gates(text)
    on = gates.on
    if not on:
        return []
    kept: list[tuple[int, int, str, str, str, str]] = []

    def add(kind: str, rule: str, label: str, start: int, end: int, masked: str) -> None:
        for k in kept:
            if start < k[1] and k[0] < end:
                return
        kept.append((start, end, kind, rule, label, masked))

    for m in PEM.finditer(text) if "pem" in on else ():
        end = text.find("-----END", m.end())
        end = text.find("-----", end + 8) + 5 if end >= 0 else len(text)
        add("private-key", "EGG-LOG-153", "PEM private key", m.start(), max(end, m.end()), m.group(0) + "****")
    for m in JWT.finditer(text) if "jwt" in on else ():
        add("jwt", "EGG-LOG-151", "JSON Web Token", m.start(), m.end(), "eyJ" + "*" * 8)
    if "auth" in on and (_BEARER_NEEDS is None or _BEARER_NEEDS.met_by(text)):
        for m in BEARER.finditer(text):
            cred = m.group("cred")
            if _NOT_PROSE.search(cred):
                add("bearer", "EGG-LOG-151", f"{m.group('scheme')} credential", m.start("cred"), m.end(),
                    mask_value(cred))
    if "vendor" in on:
        for label, rx, g, keep, needs in _vendor_plan():
            if needs is not None and not needs.met_by(text):
                continue
            for m in rx.finditer(text):
                value = m.group(g)
                add("api-key", "EGG-LOG-152", label, m.start(g), m.end(g), value[:keep] + "*" * 8)
    if "cookie" in on and "=" in text:  # every COOKIE match holds its `=`
        for m in COOKIE.finditer(text):
            add("cookie", "EGG-LOG-158", f"session cookie {m.group('name')}", m.start("value"), m.end("value"),
                mask_value(m.group("value")))
    if "kv" in on and ("=" in text or ":" in text):  # every ASSIGN match holds its operator
        for m in _assign_matches(text, gates.low):
            grp = "dq" if m.group("dq") is not None else "bare"
            value = m.group(grp)
            if value.startswith(("${", "{{", "<")) or "***" in value:
                continue  # a placeholder, or already masked
            key = m.group("key").strip("\"'")
            if _NOT_VALUE.fullmatch(value) or len(value) < 3:
                continue
            if key.lower() in ("token", "pin", "otp", "signature", "authorization") and len(value) < 6:
                continue
            if key.lower() == "authorization" and BEARER.match(value):
                continue
            add("password", "EGG-LOG-150", f"{key} value", m.start(grp), m.end(grp), mask_value(value))
    number_at = gates.number_at
    digits0 = gates.digits0
    # each digit finder searches from where a match can first start; every match of CN_ID starts with
    # 17 digits in a row (which start a LONG_NUMBER match), of CARD with 13 digits, spaces or dashes
    if number_at >= 0:
        at = digits0.find(b"00000000000000000") if digits0 is not None else number_at
        for m in CN_ID.finditer(text, at) if at >= 0 else ():
            if cn_id_ok(m.group(0)):
                v = m.group(0)
                add("cn-id", "EGG-LOG-157", "Chinese resident ID number", m.start(), m.end(), _stars(v, 3, 2))
        at = digits0.translate(_SEPARATOR0).find(b"0000000000000") if digits0 is not None else 0
        for m in CARD.finditer(text, at) if at >= 0 else ():
            raw = m.group(0)
            digits = raw.replace(" ", "").replace("-", "")
            if 13 <= len(digits) <= 19 and digits[0] in "3456" and luhn_ok(digits) and len(set(digits)) > 1:
                add("card", "EGG-LOG-154", "payment card number", m.start(), m.end(), _stars(digits, 0, 4))
    for m in _email_matches(text) if "email" in on else ():
        local, _, domain = m.group(0).partition("@")
        add("email", "EGG-LOG-155", "e-mail address", m.start(), m.end(), f"{local[:1]}***@{domain}")
    # CN_MOBILE's 11 digits hold a LONG_NUMBER match (at their start, or 4 digits in when a separator
    # follows the first 3) at most 8 characters after the match's start (`+86 ` before them)
    for m in CN_MOBILE.finditer(text, max(0, number_at - 8)) if number_at >= 0 else ():
        v = m.group(0)
        add("phone", "EGG-LOG-156", "mainland China mobile number", m.start(), m.end(),
            _stars(_NON_DIGIT.sub("", v), 3, 4))
    at = text.find("+") if "num" in on or "plus" in on else -1  # every E164 match starts with its `+`
    for m in E164.finditer(text, at) if at >= 0 else ():
        add("phone", "EGG-LOG-156", "phone number", m.start(), m.end(), _stars(_NON_DIGIT.sub("", m.group(0)), 3, 4))
    kept.sort()  # by start: hits do not overlap, and none is empty
    return [_hit(kind, rule, label, start, end, masked) for start, end, kind, rule, label, masked in kept]


def _hit(kind: str, rule: str, label: str, start: int, end: int, masked: str, _new=object.__new__) -> Hit:
    """`Hit(...)` at half the cost: a frozen dataclass's `__init__` sets each field through
    `object.__setattr__`; this fills the same `__dict__` directly (equal, hashable, picklable alike)."""
    h = _new(Hit)
    d = h.__dict__
    d["kind"] = kind
    d["rule"] = rule
    d["label"] = label
    d["start"] = start
    d["end"] = end
    d["masked"] = masked
    return h


def scan_text(text: str) -> str:
    """The part of a record worth scanning: stack frames (`    at ...`) hold paths, not data."""
    if "\n    at " not in text:
        return text
    return "\n".join(ln for ln in text.split("\n") if not ln.startswith("    at "))


def redact(text: str, hits: list[Hit] | None = None) -> str:
    """`text` with every hit replaced by its masked form."""
    hits = find(text) if hits is None else hits
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


def evidence(text: str, hit: Hit, width: int = 60, hits: list[Hit] | None = None) -> str:
    """A short window of `text`'s line around `hit`, every hit in it masked, none cut in half."""
    hits = find(text) if hits is None else hits
    line_start = text.rfind("\n", 0, hit.start) + 1
    line_end = text.find("\n", hit.end)
    line_end = len(text) if line_end < 0 else line_end
    start = max(line_start, hit.start - width)
    end = min(line_end, hit.end + width)
    for h in hits:  # widen so no other secret is cut at an edge and left half in clear
        if h.start < start < h.end:
            start = h.start
        if h.start < end < h.end:
            end = h.end
    out = ["…"] if start > line_start else []
    pos = start
    for h in hits:  # `redact` of the window, in the text's own positions
        if h.start >= start and h.end <= end:
            out.append(text[pos:h.start])
            out.append(h.masked)
            pos = h.end
    out.append(text[pos:end])
    if end < line_end:
        out.append("…")
    return "".join(out)


def iter_hits(text: str) -> Iterator[Hit]:
    yield from find(scan_text(text))
