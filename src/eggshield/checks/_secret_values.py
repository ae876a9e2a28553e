"""Is this config value a secret, a placeholder, a provider token? (knowledge in data/secret_patterns.toml)

Shared by the secrets rules (EGG-CFG-040 … 043). Names decide what a value is *for*; the value
decides whether it is worth reporting: a placeholder (`'your-secret'`, `'${DB_PASSWORD}'`, `'xxx'`)
leaks nothing, a provider token (`AKIA…`, `ghp_…`) is a live credential under any key name.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources

from eggshield.masking import is_secret_key, mask_secret


@dataclass(frozen=True)
class TokenShape:
    id: str
    provider: str
    regex: re.Pattern
    severity: str = "high"
    min_entropy: float = 0.0
    not_if: re.Pattern | None = None
    secret_group: str | None = None  # the part of the match that is the secret (URL password, query token)
    keywords: tuple[str, ...] = ()  # lower-case substrings one of which the text must contain


@dataclass(frozen=True)
class TokenHit:
    shape: TokenShape
    start: int  # offset of the secret in the scanned text
    end: int

    def masked(self, text: str) -> str:
        """`text` with the secret masked: a whole-string token as `mask_secret` shows it, a secret inside a
        longer string in place (`mongodb://cnode:*****@host/db`), keeping as many characters as mask_secret."""
        secret = text[self.start:self.end]
        if self.start == 0 and self.end == len(text):
            return mask_secret(secret)
        keep = 3 if len(secret) >= 12 else 1 if len(secret) >= 6 else 0
        return text[: self.start] + secret[:keep] + "*" * (len(secret) - keep) + text[self.end:]


@cache
def _data() -> dict:
    raw = resources.files("eggshield.data").joinpath("secret_patterns.toml").read_text("utf-8")
    return tomllib.loads(raw)


@cache
def token_shapes() -> tuple[TokenShape, ...]:
    shapes = []
    for entry in _data()["token"]:
        shapes.append(TokenShape(
            id=entry["id"], provider=entry["provider"], regex=re.compile(entry["regex"]),
            severity=entry.get("severity", "high"), min_entropy=float(entry.get("min_entropy", 0.0)),
            not_if=re.compile(entry["not_if"]) if entry.get("not_if") else None,
            secret_group=entry.get("secret_group"), keywords=tuple(entry.get("keywords", ()))))
    return tuple(shapes)


@cache
def _any_keyword() -> re.Pattern:
    words = {k for shape in token_shapes() for k in shape.keywords}
    if any(not shape.keywords for shape in token_shapes()):
        return re.compile("")  # a shape without keywords: always run the regexes
    return re.compile("|".join(re.escape(w) for w in sorted(words)))


@cache
def _placeholder_re() -> re.Pattern:
    return re.compile("|".join(f"(?:{r})" for r in _data()["placeholders"]["regexes"]), re.IGNORECASE)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character (gitleaks' measure)."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def find_tokens(text: str, limit: int = 4) -> list[TokenHit]:
    """Provider-shaped credentials in `text`, at most `limit`, non-overlapping, in order."""
    hits: list[TokenHit] = []
    if len(text) < 8:
        return hits
    lower = text.lower()
    if not _any_keyword().search(lower):
        return hits
    for shape in token_shapes():
        if shape.keywords and not any(k in lower for k in shape.keywords):
            continue
        for m in shape.regex.finditer(text):
            start, end = m.span(shape.secret_group) if shape.secret_group else m.span()
            secret = text[start:end]
            if entropy(secret) < shape.min_entropy or is_placeholder(secret):
                continue
            if shape.not_if is not None and shape.not_if.fullmatch(secret):
                continue
            if any(h.start < end and start < h.end for h in hits):
                continue
            hits.append(TokenHit(shape, start, end))
            break
        if len(hits) >= limit:
            break
    return sorted(hits, key=lambda h: h.start)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def is_placeholder(value: str, *names: str) -> bool:
    """A value that only stands in for a secret: a template marker, 'xxx', 'your-…', prose, or the
    name of the key itself (`secret: 'secret'` is reported, `client_secret: 'client_secret'` is a
    stand-in when `names` holds 'client_secret')."""
    v = value.strip()
    if not v:
        return True
    if _placeholder_re().fullmatch(v):
        return True
    if any(n and _norm(v) == _norm(n) and len(_norm(n)) > 6 for n in names):
        return True
    # prose ('The client secret you received from GitHub', 'write access_token'): words and spaces only
    words = [w for w in re.split(r"[\s,.'’()]+", v) if w]
    return len(words) >= 2 and all(re.fullmatch(r"[A-Za-z][A-Za-z_:/-]*", w) for w in words)


# Key names that hold something about a secret rather than the secret itself.
_NOT_A_SECRET_VALUE = re.compile(
    r"(id|ids|name|names|header|headers|field|fields|type|types|length|len|expires?|expiresin|expire_?in"
    r"|expiration|ttl|max_?age|age|url|uri|urls|path|paths|file|files|dir|enable|enabled|options|prefix|algorithm"
    r"|algorithms|mode|size|count|timeout|in|at|key_?name|query|param|params|cookie|env|var|version)$",
    re.IGNORECASE)
_EXTRA_SECRET = re.compile(r"(en|de)?crypt(ion)?_?key|aes_?key|hmac|sign(ing)?_?key|master_?key|pass_?phrase"
                           r"|client_?secret|app_?secret", re.IGNORECASE)
_PASSWORD = re.compile(r"^(pass|passwd|passd|pwd|password|passphrase)$|password$|passwd$|_pass$|_pwd$", re.IGNORECASE)
_SIGNING = re.compile(r"jwt|session|cookie|csrf|sign|hmac|encrypt|crypt|cipher|token|secret_?key|keys?$|salt",
                      re.IGNORECASE)


def is_secret_name(key: str) -> bool:
    """A key whose value is a secret: Egg's own list, widened (token, apiKey, clientSecret, …)."""
    if _NOT_A_SECRET_VALUE.search(key) and not _PASSWORD.search(key):
        return False
    return is_secret_key(key) or bool(_EXTRA_SECRET.search(key))


def is_password_name(key: str) -> bool:
    return bool(_PASSWORD.search(key))


def is_signing_path(path: str) -> bool:
    """A secret the app itself signs or encrypts with (JWT, session, cookies): a guessable one forges logins."""
    return bool(_SIGNING.search(path))


def egg_dump_masks(key: str) -> bool:
    """Whether Egg's run/application_config.json masks a value under this key (outside arrays)."""
    dump = _data()["egg_dump"]
    return key in dump["masked_keys"] or bool(re.search(dump["masked_regex"], key))


@cache
def datastore_keys() -> frozenset[str]:
    return frozenset(_data()["datastores"]["config_keys"])


@cache
def datastore_password_keys() -> frozenset[str]:
    return frozenset(_data()["datastores"]["password_keys"])
