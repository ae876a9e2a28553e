"""Secrets never leave unmasked (DESIGN.md): one module for every box that prints values.

`mask_secret`/`mask_tree` mask values eggshield knows are secrets (by key name); `mask_secrets`
is the last-line defence over free text (evidence, messages, log lines, problem lines): greedy and
idempotent, it masks secret shapes wherever they appear; `printable` makes hostile text safe to show.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache


def mask_secret(value: str) -> str:
    """'demo_1700000000000_1234' -> 'dem*******************' (23 chars): shape kept, secret gone."""
    if not value:
        return "''"
    keep = 3 if len(value) >= 12 else 1 if len(value) >= 6 else 0
    return f"'{value[:keep]}{'*' * (len(value) - keep)}' ({len(value)} chars)"


# Key names whose values are secrets: Egg's own dump list (pass, pwd, passd, passwd, password, keys,
# masterKey, accessKey, /secret/i) widened to what real apps use (token, apiKey, privateKey, ...).
SECRET_KEY = re.compile(
    r"^(pass|pwd|passd|passwd|keys|masterKey|accessKey)$|secret|passw|token|api_?key|private_?key|credential"
    r"|auth_?key|access_?key|session_?key|signing_?key|salt$", re.IGNORECASE)


_NOT_SECRET = re.compile(r"(name|header|field|type|length|expires?|ttl|url|path|enable|options)$", re.IGNORECASE)


def is_secret_key(name: str) -> bool:
    return bool(SECRET_KEY.search(name)) and not _NOT_SECRET.search(name)


def mask_tree(value, key: str = ""):
    """Mask every string under a secret-looking key, inside arrays too (Egg's dump leaves arrays in clear)."""
    if isinstance(value, dict):
        if set(value) <= {"$unknown", "fallback"} and "$unknown" in value:
            if key and is_secret_key(key) and isinstance(value.get("fallback"), str):
                return {**value, "fallback": mask_secret(value["fallback"])}
            return value
        return {k: mask_tree(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_tree(v, key) for v in value]
    if isinstance(value, str) and key and is_secret_key(key) and value:
        return mask_secret(value)
    return value

MASK = "****"

# PEM private keys (RSA, EC, OPENSSH, ENCRYPTED, PGP ... BLOCK); a block cut off by
# evidence truncation is masked to the end of the text.
_PEM = re.compile(
    r"-----BEGIN (?P<kind>(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END (?P=kind)-----|\Z)",
    re.S,
)
_URL_CREDS = re.compile(r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'\"`]*:)(?P<pw>[^@/\s'\"`]+)@")
_AUTH_HEADER = re.compile(r"\b(?P<scheme>[Bb]earer|[Bb]asic)(?P<sep>\s+)(?P<cred>[A-Za-z0-9._~+/-]{8,}=*)")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# Vendor tokens with a recognisable prefix: the prefix stays, so the reader knows what leaked.
_PREFIXED = re.compile(
    r"\b(?P<prefix>AKIA|ASIA|gh[pousr]_|github_pat_|xox[abprs]-|sk_live_|sk_test_|rk_live_|npm_|AIza)"
    r"(?P<body>[A-Za-z0-9_-]{12,})"
)
_SECRET_NAME = (
    r"[A-Za-z0-9_$-]*?(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|auth[_-]?key|session[_-]?key|signing[_-]?key|encrypt(?:ion)?[_-]?key)"
    r"|keys|auth|credentials?|salt"
)
_ASSIGN = re.compile(
    r"(?<![A-Za-z0-9_$])(?P<name>[\"']?(?:" + _SECRET_NAME + r")[\"']?)(?![A-Za-z0-9_$])"
    r"(?P<op>\s*(?::|=(?![=>]))\s*|\s+(?:is|was|set to)\s+(?=[\"'`]))"  # prose only before a quoted value
    r"(?:(?P<q>[\"'`])(?P<qv>(?:\\.|(?!(?P=q)).)*)(?P=q)|(?P<bv>[^\s,;&'\"`{}()\[\]][^\s,;&'\"`})\]]*))",
    re.I,
)
# `keys: appInfo.name + '_1513135333_4421'` (Egg's scaffold key): literals concatenated into a secret.
_CONCAT = re.compile(
    r"(?<![A-Za-z0-9_$])[\"']?(?:" + _SECRET_NAME + r")[\"']?(?![A-Za-z0-9_$])\s*(?::|=(?![=>]))[^,;\n]*?\+[^,;\n]*",
    re.I,
)
_LITERAL = re.compile(r"(?P<q>[\"'`])(?P<v>(?:\\.|(?!(?P=q)).)*)(?P=q)")
_HEX = re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])")
_B64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/=_-])")

# Bare values that are code or types, not secrets: `password: ctx.request.body.password`.
_NOT_A_VALUE = re.compile(
    r"(?:true|false|null|undefined|none|string|number|boolean|any|unknown|function|async|await|new|"
    r"[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+(?:\(.*)?|[A-Za-z_$][\w$.]*\(.*)",
    re.I,
)
_PLACEHOLDER = re.compile(r"<[^<>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}")


def _already_masked(value: str) -> bool:
    v = value.strip()
    return not v or "***" in v or set(v) <= {"*", "x", "X", "•"} or v.lower() in {"<masked>", "[masked]", "redacted", "[redacted]"}


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values())


def _keep_prefix(token: str) -> str:
    return token[:4] + MASK


def _mask_assignment(m: re.Match) -> str:
    value = m.group("qv") if m.group("q") else m.group("bv")
    if _already_masked(value) or _PLACEHOLDER.fullmatch(value):
        return m.group(0)
    if not m.group("q") and (_NOT_A_VALUE.fullmatch(value) or value.startswith("=")):
        return m.group(0)
    if m.group("q"):
        return f"{m.group('name')}{m.group('op')}{m.group('q')}{MASK}{m.group('q')}"
    return f"{m.group('name')}{m.group('op')}{MASK}"


def _mask_auth(m: re.Match) -> str:
    cred = m.group("cred")
    # "Basic authentication" is prose; a credential has digits, symbols or inner capitals.
    if not re.search(r"[0-9+/=._~-]|.[A-Z]", cred):
        return m.group(0)
    return f"{m.group('scheme')}{m.group('sep')}{MASK}"


def _mask_concat(m: re.Match) -> str:
    def literal(lm: re.Match) -> str:
        v = lm.group("v")
        if len(v) < 4 or _already_masked(v) or _PLACEHOLDER.fullmatch(v):
            return lm.group(0)
        return f"{lm.group('q')}{MASK}{lm.group('q')}"

    return _LITERAL.sub(literal, m.group(0))


def _mask_b64(m: re.Match) -> str:
    tok = m.group(0)
    classes = sum(bool(re.search(p, tok)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    if classes < 3 or tok.count("/") > len(tok) // 20 + 1 or _entropy(tok) < 4.2:
        return tok
    return _keep_prefix(tok)


def _mask_pem(m: re.Match) -> str:
    return f"-----BEGIN {m.group('kind')}-----{MASK}-----END {m.group('kind')}-----"


def _mask_url_creds(m: re.Match) -> str:
    return m.group(0) if _already_masked(m.group("pw")) else f"{m.group('pre')}{MASK}@"


# Gates: each is a NECESSARY condition for its pattern to match (a pattern that cannot match
# leaves the text as it is), far cheaper than the pattern itself, so a pass is skipped only when
# it would have changed nothing. Why each holds is written beside it;
# tests/test_render_masking_gates.py checks it on random and adversarial texts.
#
# Every _ASSIGN/_CONCAT match has a secret name, whose last word is one of these (case-insensitively,
# with the same re.I folding since the gates carry the same flags: `api_key` ends in "key", ...),
# followed by an optional quote and the assignment operator (`:`/`=`, or prose `is|was|set to`).
# The lookahead only restates that every alternative starts with p/s/t/k/a/c; it lets the scan
# skip the other positions quickly.
_NAME_END = r"(?=[pstkac])(?:passw(?:or)?d|pwd|secret|token|keys?|auth|credentials?|salt)[\"']?"
_ASSIGN_GATE = re.compile(_NAME_END + r"(?:\s*[:=]|\s+(?:is|was|set to)\s)", re.I)
# _CONCAT: a name, `:`/`=`, then a `+` before any of `,;` or a newline.
_CONCAT_GATE = re.compile(_NAME_END + r"\s*[:=][^,;\n]*\+", re.I)
# _HEX and _B64: a run of 32 characters of [A-Za-z0-9+/_-] (hex digits are a subset). The
# lookbehind only starts the scan at the beginning of a run: a run of >= 32 has such a start.
_TOKEN_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32}")


def _gate_prefixed(text: str) -> bool:
    # AKIA, ASIA, AIza, gh[pousr]_ ("gh"), github_pat_, xox[abprs]-, sk_live_ and rk_live_ ("k_live_"), ...
    return ("AKIA" in text or "ASIA" in text or "AIza" in text or "gh" in text or "github_pat_" in text
            or "xox" in text or "k_live_" in text or "sk_test_" in text or "npm_" in text)


#: (gate, ((pattern, replacement), ...)) applied in this order; a group's passes run only when its
#: gate holds on the text as the earlier groups left it. In a group of several passes the gate is a
#: necessary condition of each: a pass that matches nothing leaves the text the next one sees as is.
_PASSES: tuple = (
    (lambda t: "-----BEGIN " in t, ((_PEM, _mask_pem),)),  # the pattern starts with this literal
    (lambda t: "://" in t and "@" in t, ((_URL_CREDS, _mask_url_creds),)),  # scheme://user:pw@
    (lambda t: "earer" in t or "asic" in t, ((_AUTH_HEADER, _mask_auth),)),  # [Bb]earer | [Bb]asic
    (lambda t: "eyJ" in t, ((_JWT, "eyJ" + MASK),)),  # the pattern starts with this literal
    (_gate_prefixed, ((_PREFIXED, lambda m: m.group("prefix") + MASK),)),
    (_ASSIGN_GATE.search, ((_ASSIGN, _mask_assignment),)),
    (lambda t: "+" in t and _CONCAT_GATE.search(t), ((_CONCAT, _mask_concat),)),
    (_TOKEN_RUN.search, ((_HEX, lambda m: _keep_prefix(m.group(0))), (_B64, _mask_b64))),
)

#: texts up to this long are memoised (at most MEMO_SIZE of them, a few MB at worst): reports
#: repeat the same fix, message and evidence texts thousands of times
MEMO_MAX_LEN = 1024
MEMO_SIZE = 4096


def _mask_all(text: str) -> str:
    for gate, passes in _PASSES:
        if gate(text):
            for pattern, repl in passes:
                text = pattern.sub(repl, text)
    return text


_mask_memo = lru_cache(maxsize=MEMO_SIZE)(_mask_all)


def mask_secrets(text: str | None) -> str:
    """Mask private key blocks, credentials in URLs, auth headers, vendor tokens,
    `password=`-style assignments and long high-entropy hex/base64 tokens in `text`.

    Applied by every report format to messages, evidence, fixes and input problems,
    so a secret that a check failed to mask still never reaches an output.
    """
    if not text:
        return text or ""
    return _mask_memo(text) if len(text) <= MEMO_MAX_LEN else _mask_all(text)


# C0/C1 controls (ESC starts terminal escape sequences) and bidi overrides ("Trojan Source")
# arrive in hostile log lines and file names; shown as escapes they cannot drive a terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str | None) -> str:
    """`text` with control and bidi-override characters shown as `\\xNN`/`\\uNNNN` escapes
    (newlines and tabs kept), so evidence from hostile input cannot drive a terminal."""
    if not text:
        return ""
    if text.isprintable():  # every character _CONTROL matches (and "\r") is unprintable (Cc/Cf)
        return text
    text = text.replace("\r\n", "\n")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100 else f"\\u{ord(m.group(0)):04x}", text)
