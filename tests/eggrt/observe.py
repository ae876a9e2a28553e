"""What a real Egg server answers to a few requests, for the config-rule tests ("Egg is the oracle").

`observe(app_dir, requests, recording)` starts the app once with `server.EggServer` (a real
egg 3 / egg 4 on 127.0.0.1), sends the requests in order without following redirects, and
returns one `Seen` per request. A live run writes `recording` (JSON) when it is missing or
EGGSHIELD_RERECORD is set (as the oracle tests do), and when no runtime can be installed because
the registry is unreachable, the recording is returned instead, so the tests still check the
rule's premise offline against what Egg really did when it was recorded.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eggrt import RuntimeUnavailable
from eggrt.server import EggServer


@dataclass
class Req:
    path: str  # "{base}" in it becomes the server's own URL, percent-encoded (for requests that make the app call itself)
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    upload: tuple[str, str, bytes] | None = None  # (field, filename, content) as multipart/form-data
    keep_cookies: bool = True  # send back the cookies earlier answers set


@dataclass
class Seen:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with "\n"
    body: str
    live: bool = True

    def cookies(self) -> dict[str, str]:
        out = {}
        for line in self.headers.get("set-cookie", "").split("\n"):
            if "=" in line:
                name, _, rest = line.partition("=")
                out[name.strip()] = rest.split(";", 1)[0]
        return out

    def set_cookie_line(self, name: str) -> str:
        return next((line for line in self.headers.get("set-cookie", "").split("\n")
                     if line.startswith(name + "=")), "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _send(base: str, req: Req, jar: dict[str, str]) -> Seen:
    headers = dict(req.headers)
    body = req.body
    if req.upload is not None:
        boundary = uuid.uuid4().hex
        name, filename, content = req.upload
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    if req.keep_cookies and jar:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
    path = req.path.replace("{base}", urllib.parse.quote(base, safe=""))
    request = urllib.request.Request(base + path, data=body or None, method=req.method, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=15) as res:
            status, raw, got = res.status, res.read(), res.headers
    except urllib.error.HTTPError as err:
        status, raw, got = err.code, err.read(), err.headers
    merged: dict[str, list[str]] = {}
    for key, value in got.items():
        merged.setdefault(key.lower(), []).append(value)
    seen = Seen(status, {k: "\n".join(v) for k, v in merged.items()}, raw.decode("utf-8", "replace")[:4000])
    for name, value in seen.cookies().items():
        jar[name] = value
    return seen


def observe(app_dir: Path, requests: list[Req], recording: Path, env: str = "prod") -> list[Seen]:
    try:
        with EggServer(Path(app_dir), env=env) as server:
            jar: dict[str, str] = {}
            seen = [_send(server.url, r, jar) for r in requests]
    except RuntimeUnavailable as exc:
        if not exc.offline or not recording.is_file():
            raise
        return [Seen(**{**s, "live": False}) for s in json.loads(recording.read_text())]
    if recording.is_file() and not os.environ.get("EGGSHIELD_RERECORD"):
        return seen
    recording.parent.mkdir(parents=True, exist_ok=True)
    recording.write_text(json.dumps([{k: v for k, v in asdict(s).items() if k != "live"} for s in seen],
                                    indent=2, ensure_ascii=False) + "\n")
    return seen
