"""Egg log records as Elastic Common Schema (ECS 8.x) documents, one JSON object per line.

The shape Elasticsearch/OpenSearch ingest pipelines, Vector, Loki (JSON lines) and Filebeat's
`ndjson` input take as is. Secrets are redacted unless the caller says otherwise: a log
platform is one more place they would leak to. Egg writes local time without a zone; the
zone of this host (or `tz`) is attached.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlsplit

from eggshield.logs import sensitive
from eggshield.logs.record import LogRecord
from eggshield.logs.signals import signals_of, status_of, user_of

ECS_VERSION = "8.11.0"


def to_ecs(rec: LogRecord, tz: tzinfo | None = None, redact: bool = True, with_signals: bool = True) -> dict:
    text = sensitive.redact(rec.text) if redact else rec.text
    doc: dict = {"ecs": {"version": ECS_VERSION}}
    if rec.time is not None:
        t = rec.time.replace(tzinfo=tz) if tz is not None else rec.time.astimezone()
        doc["@timestamp"] = t.isoformat(timespec="milliseconds")
    doc["message"] = text
    doc["log"] = {"level": (rec.level or "").lower() or None, "logger": rec.logger or None,
                  "file": {"path": rec.file}, "offset": rec.offset}
    doc["event"] = {"kind": "event", "dataset": f"egg.{rec.logger}" if rec.logger else "egg", "module": "egg"}
    doc["eggshield"] = {"line": rec.line}  # not an ECS field: the record's line in its file
    if rec.duration_ms is not None:
        doc["event"]["duration"] = int(rec.duration_ms * 1_000_000)  # ECS: nanoseconds
    if rec.pid is not None:
        doc["process"] = {"pid": rec.pid}
    if rec.hostname:
        doc["host"] = {"hostname": rec.hostname}
    if rec.ip:
        doc["client"] = {"ip": rec.ip}
        doc["source"] = {"ip": rec.ip}
    user = user_of(rec)
    if user:
        doc["user"] = {"name": user} if not rec.user else {"id": rec.user}
    if rec.trace:
        doc["trace"] = {"id": rec.trace}
    if rec.method:
        http = {"request": {"method": rec.method}}
        status = status_of(rec)
        if status:
            http["response"] = {"status_code": status}
        doc["http"] = http
        parts = urlsplit(rec.url or "")
        url = {"original": rec.url, "path": parts.path}
        if parts.query:
            url["query"] = parts.query
        doc["url"] = url
    if rec.error_name:
        first, _, stack = text.partition("\n")
        doc["error"] = {"type": rec.error_name, "message": rec.error_message, "stack_trace": stack or None}
    if with_signals:
        sigs = signals_of(rec)
        hits = sensitive.find(sensitive.scan_text(rec.text))
        if sigs or hits:
            doc["event"]["kind"] = "alert" if any(s.kind != "error" for s in sigs) or hits else "event"
            doc["rule"] = {"id": sorted({s.rule for s in sigs} | {h.rule for h in hits})}
            doc["eggshield"]["signals"] = [s.kind for s in sigs] + [f"secret:{h.kind}" for h in hits]
    if rec.flags:
        doc.setdefault("eggshield", {})["flags"] = list(rec.flags)
    return _prune(doc)


def dumps(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _prune(v):
    if isinstance(v, dict):
        return {k: _prune(x) for k, x in v.items() if x is not None and x != {}}
    return v


def parse_tz(name: str | None) -> tzinfo | None:
    """'UTC', '+08:00', 'Asia/Shanghai' → tzinfo; None → this host's zone."""
    if not name:
        return None
    if name.upper() in ("UTC", "Z"):
        return UTC
    if name[:1] in "+-":
        return datetime.strptime(name.replace(":", ""), "%z").tzinfo
    from zoneinfo import ZoneInfo
    return ZoneInfo(name)
