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


def _triggers(text: str) -> set[str]:
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


_NOT_VALUE = re.compile(r"(?:bearer|basic|token|digest|true|false|null|undefined|none|\*+|x+|\[?redacted\]?|\[?masked\]?|\[?filtered\]?|<[^>]*>|"
                        r"\$\{[^}]*\}|\{\{[^}]*\}\}|string|number|required|missing|invalid|empty|ctx\.[\w.]+|"
                        r"this\.[\w.]+|[\w$]+\.[\w$.]+\(.*)", re.I)
CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CN_ID_CHECK = "10X98765432"


@lru_cache(maxsize=1)
def vendor_keys() -> tuple[tuple[str, str, re.Pattern, int], ...]:
    data = tomllib.loads(resources.files("eggshield.data").joinpath("log_sensitive_patterns.toml").read_text("utf-8"))
    return tuple((k["id"], k["label"], re.compile(k["pattern"]), int(k.get("keep", 4))) for k in data["key"])


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
    """Every secret or personal value in `text`, non-overlapping, in order."""
    if not text:
        return []
    on = _triggers(text)
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
        if re.search(r"[0-9+/=._~-]|.[A-Z]", cred):  # not prose ("Basic authentication")
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
            continue  # a placeholder, or already masked
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
    inside = [Hit(h.kind, h.rule, h.label, h.start - start, h.end - start, h.masked)
              for h in hits if h.start >= start and h.end <= end]
    masked = redact(text[start:end], inside)
    return ("…" if start > line_start else "") + masked + ("…" if end < line_end else "")


def iter_hits(text: str) -> Iterator[Hit]:
    yield from find(scan_text(text))
