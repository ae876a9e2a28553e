"""POSTing JSON for the webhook-style sinks: one timeout, one-line errors, no secrets in them."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from eggshield import __version__
from eggshield.notify.errors import DeliveryError


def check_url(target: str, scheme: str) -> str:
    parts = urllib.parse.urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{scheme} needs an http(s) URL, got {mask_url(target)!r}")
    return target


def mask_url(url: str) -> str:
    """scheme://host[:port]/… : webhook paths and queries often carry the secret token."""
    parts = urllib.parse.urlsplit(url)
    if not parts.netloc:
        return url[:20] + ("…" if len(url) > 20 else "")
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    tail = "/…" if parts.path not in ("", "/") or parts.query else ""
    return f"{parts.scheme}://{host}{tail}"


def post_json(url: str, payload: dict, label: str, timeout: float) -> bytes:
    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "User-Agent": f"eggshield/{__version__}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) checked in make()
            return resp.read(1_000_000)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{label}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"{label}: cannot connect ({exc.reason})") from None
    except (TimeoutError, OSError) as exc:
        raise DeliveryError(f"{label}: {type(exc).__name__}: {exc}") from None
