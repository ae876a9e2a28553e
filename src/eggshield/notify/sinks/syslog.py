"""Syslog sink: RFC 5424 messages over UDP or TCP (RFC 6587 octet counting).

    --notify syslog=udp://127.0.0.1:514     (default port 514, default transport UDP)
    --notify syslog=tcp://logs.internal:601?facility=local3&app=eggshield

Severity maps to syslog severity (critical→crit 2, high→err 3, medium→warning 4, low→notice 5,
info→info 6); the notification's data travels as an RFC 5424 structured-data element so a
collector can index rule, finding and group without parsing the text.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from eggshield.notify.errors import DeliveryError

SCHEME = "syslog"
FACILITIES = {"kern": 0, "user": 1, "daemon": 3, "auth": 4, "syslog": 5, "authpriv": 10,
              **{f"local{i}": 16 + i for i in range(8)}}
SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
SD_ID = "eggshield@32473"  # 32473: the example Private Enterprise Number RFC 5424 itself uses
MAX_UDP = 8192


def _sd_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _token(value: str, limit: int) -> str:
    """PRINTUSASCII without spaces, as RFC 5424 header fields require; '-' when empty."""
    out = "".join(ch for ch in value if 33 <= ord(ch) <= 126)[:limit]
    return out or "-"


class SyslogSink:
    def __init__(self, host: str, port: int, transport: str = "udp", facility: int = 16, app: str = "eggshield",
                 timeout: float = 5.0):
        self.host, self.port, self.transport = host, port, transport
        self.facility, self.app, self.timeout = facility, app, timeout
        self.hostname = _token(socket.gethostname(), 255)
        self.label = f"syslog={self.transport}://{self.host}:{self.port}"

    def __repr__(self) -> str:
        return self.label

    def format(self, note) -> bytes:
        """One RFC 5424 message: <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] BOM MSG."""
        pri = self.facility * 8 + SEVERITY.get(getattr(note, "severity", "info"), 6)
        created = getattr(note, "created", None) or datetime.now(UTC)
        if created.tzinfo is None:
            created = created.astimezone()
        ts = created.isoformat(timespec="milliseconds")
        data = getattr(note, "data", None) or {}
        params = {"kind": getattr(note, "kind", ""), "key": getattr(note, "key", "")}
        for k in ("rule", "finding", "severity", "group", "count"):
            if k in data:
                params[k] = str(data[k])
        sd = "[" + SD_ID + "".join(f' {k}="{_sd_escape(str(v))}"' for k, v in params.items() if v != "") + "]"
        msgid = _token(str(data.get("finding") or getattr(note, "kind", "") or "-"), 32)
        text = f"{note.title}\n{note.text}" if getattr(note, "text", "") else note.title
        if data:
            text += "\n" + json.dumps(data, ensure_ascii=False, sort_keys=True)
        head = f"<{pri}>1 {ts} {self.hostname} {_token(self.app, 48)} {os.getpid()} {msgid} {sd} "
        return head.encode("utf-8") + b"\xef\xbb\xbf" + text.encode("utf-8")

    def send(self, batch) -> None:
        messages = [self.format(n) for n in batch]
        try:
            if self.transport == "udp":
                with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_DGRAM) as s:
                    for m in messages:
                        s.sendto(m[:MAX_UDP], (self.host, self.port))
            else:
                with socket.create_connection((self.host, self.port), timeout=self.timeout) as s:
                    for m in messages:
                        s.sendall(str(len(m)).encode() + b" " + m)
        except OSError as exc:
            raise DeliveryError(f"syslog {self.transport}://{self.host}:{self.port}: {exc.strerror or exc}") from None


def make(target: str, options: dict | None = None) -> SyslogSink:
    """`udp://host:port`, `tcp://host:port` or `host[:port]` (UDP); options facility=, app=."""
    options = dict(options or {})
    if "://" not in target:
        target = "udp://" + target
    parts = urlsplit(target)
    if parts.scheme not in ("udp", "tcp"):
        raise ValueError(f"syslog target {target!r}: transport must be udp:// or tcp://")
    if not parts.hostname:
        raise ValueError(f"syslog target {target!r}: no host")
    for k, v in parse_qs(parts.query).items():
        options.setdefault(k, v[-1])
    facility = options.get("facility", "local0")
    if str(facility) not in FACILITIES and not str(facility).isdigit():
        raise ValueError(f"syslog facility {facility!r}: use one of {', '.join(FACILITIES)}")
    fac = FACILITIES.get(str(facility))
    fac = int(facility) if fac is None else fac
    return SyslogSink(parts.hostname, parts.port or 514, parts.scheme, fac, str(options.get("app", "eggshield")))
