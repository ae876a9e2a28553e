"""A notification: what any part of eggshield (deps watch, log follow) hands to the sinks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

SEVERITIES = ("critical", "high", "medium", "low", "info")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Notification:
    kind: str  # "advisory", "release", "log-alert", ...
    title: str
    text: str
    severity: str = "info"
    key: str = ""  # de-duplication key: a notification with a key already delivered to a sink is not sent again
    data: dict = field(default_factory=dict)
    created: str = field(default_factory=utc_now)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Notification:
        return cls(kind=str(data.get("kind", "")), title=str(data.get("title", "")), text=str(data.get("text", "")),
                   severity=str(data.get("severity", "info")), key=str(data.get("key", "")),
                   data=data.get("data") if isinstance(data.get("data"), dict) else {},
                   created=str(data.get("created") or utc_now()))
