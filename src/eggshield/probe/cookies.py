"""Set-Cookie lines as the browser would read them, and whether a session cookie is readable.

http.cookies.SimpleCookie drops attributes it does not know and chokes on some real lines,
so Set-Cookie is split by hand (RFC 6265 §5.2: name=value, then `;`-separated attributes).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SetCookie:
    name: str
    value: str
    attrs: dict[str, str] = field(default_factory=dict)  # lower-cased attribute names

    @property
    def http_only(self) -> bool:
        return "httponly" in self.attrs

    @property
    def secure(self) -> bool:
        return "secure" in self.attrs

    @property
    def same_site(self) -> str | None:
        value = self.attrs.get("samesite")
        return value.lower() if value else None

    @property
    def deletes(self) -> bool:
        """A line that clears the cookie (empty value or expired): nothing to judge."""
        return self.value == "" or self.attrs.get("max-age") == "0" or "1970" in self.attrs.get("expires", "")

    def flags(self) -> str:
        bits = [f"{k}={v}" if v else k for k, v in self.attrs.items() if k not in ("expires",)]
        return "; ".join(bits) or "no attributes"


def parse_set_cookie(line: str) -> SetCookie | None:
    parts = [p.strip() for p in line.split(";")]
    if not parts or "=" not in parts[0]:
        return None
    name, _, value = parts[0].partition("=")
    attrs: dict[str, str] = {}
    for part in parts[1:]:
        if not part:
            continue
        key, _, val = part.partition("=")
        attrs[key.strip().lower()] = val.strip()
    name = name.strip()
    return SetCookie(name=name, value=value.strip().strip('"'), attrs=attrs) if name else None


def cookies_of(set_cookie_lines: list[str]) -> list[SetCookie]:
    return [c for c in (parse_set_cookie(line) for line in set_cookie_lines) if c is not None]


def decode_readable(value: str) -> dict | None:
    """The JSON object inside a base64/base64url cookie value, or None when it is opaque.

    koa-session without `encrypt` stores `base64(JSON.stringify(session))` (egg 4's default,
    egg-facts §2); an encrypted cookie is AES output and decodes to bytes that are not JSON.
    """
    raw = value.strip()
    if len(raw) < 8:
        return None
    candidate = raw.replace("-", "+").replace("_", "/")
    candidate += "=" * (-len(candidate) % 4)
    try:
        data = base64.b64decode(candidate, validate=True)
        doc = json.loads(data.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


class CookieJar:
    """The cookies a browser would send back to the origin (name -> value), updated per response."""

    def __init__(self, values: dict[str, str] | None = None):
        self.values: dict[str, str] = dict(values or {})

    def update(self, set_cookie_lines: list[str]) -> None:
        for c in cookies_of(set_cookie_lines):
            if c.deletes:
                self.values.pop(c.name, None)
            else:
                self.values[c.name] = c.value

    def header(self, skip: tuple[str, ...] = (), extra: dict[str, str] | None = None) -> str:
        values = {k: v for k, v in self.values.items() if k not in skip}
        values.update(extra or {})
        return "; ".join(f"{k}={v}" for k, v in values.items())

    def copy(self) -> CookieJar:
        return CookieJar(self.values)
