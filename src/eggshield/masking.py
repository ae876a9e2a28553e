"""Mask secrets before they reach any output: keep enough to recognise a value, never enough to use it."""

from __future__ import annotations

import re


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
