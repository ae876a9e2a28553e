"""Notifications: sinks (webhook, Slack, email, stdout, ...), an SQLite outbox, and delivery.

    from eggshield.notify import Notification, parse_sink, Outbox, deliver
    sinks = [parse_sink("webhook=http://127.0.0.1:9000/hook"), parse_sink("stdout")]
    report = deliver([Notification(kind="advisory", title="...", text="...", key="GHSA-..@lodash@4.17.15")],
                     sinks, Outbox(Store()))

A notification with a key already delivered to a sink is never sent to it again; one that
could not be delivered stays in the outbox (attempts, next try, last error) and goes out on a
later run. Sink modules live in `notify/sinks/` and are discovered by their `SCHEME`.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from eggshield.notify.errors import DeliveryError, SinkSpecError
from eggshield.notify.model import Notification
from eggshield.notify.outbox import Outbox, notification_key, sink_id
from eggshield.notify.sinks import Sink, discover

__all__ = ["DeliveryError", "DeliveryReport", "Notification", "Outbox", "Sink", "SinkResult", "SinkSpecError",
           "deliver", "parse_sink", "schemes"]

MAX_BATCH = 100
MAX_NEXT_TRY = 3600.0


def schemes() -> list[str]:
    return sorted(discover())


def parse_sink(spec: str) -> Sink:
    """`scheme=target[?opt=v&...]` (or a bare scheme such as `stdout`) -> a Sink; SinkSpecError on a bad spec.

    http(s) targets keep their own query string; for other targets the part after `?` holds
    the sink's options (`email=ops@example.com?smtp=127.0.0.1:2525&from=eggshield@example.com`).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise SinkSpecError("empty --notify value; expected SCHEME=TARGET, e.g. webhook=https://hooks.example/x")
    spec = spec.strip()
    scheme, sep, rest = spec.partition("=")
    scheme = scheme.strip().lower()
    modules = discover()
    if scheme not in modules:
        raise SinkSpecError(f"unknown notification sink {scheme!r} in {_mask_spec(spec)!r}; "
                            f"known: {', '.join(sorted(modules))}")
    target, options = rest.strip(), {}
    if not target.lower().startswith(("http://", "https://")) and "?" in target:
        target, _, query = target.partition("?")
        try:
            options = dict(urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=True))
        except ValueError:
            raise SinkSpecError(f"{scheme}: cannot read the options after '?' ({query[:60]!r}); "
                                "expected key=value&key=value") from None
    try:
        sink = modules[scheme].make(target, options)
    except SinkSpecError:
        raise
    except (ValueError, TypeError) as exc:
        raise SinkSpecError(f"{scheme}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    sink.spec = spec  # type: ignore[attr-defined]  # the outbox keys undelivered rows on it (hashed)
    return sink


def _mask_spec(spec: str) -> str:
    return spec if len(spec) < 40 else spec[:37] + "..."


@dataclass
class SinkResult:
    label: str
    delivered: int = 0
    kept: int = 0  # could not be delivered; waiting in the outbox
    duplicates: int = 0  # already delivered earlier (same key): not sent again
    error: str | None = None


@dataclass
class DeliveryReport:
    sinks: list[SinkResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.error is None for s in self.sinks)

    @property
    def delivered(self) -> int:
        return sum(s.delivered for s in self.sinks)

    @property
    def kept(self) -> int:
        return sum(s.kept for s in self.sinks)

    def lines(self) -> list[str]:
        out = []
        for s in self.sinks:
            line = f"{s.label}: {s.delivered} delivered"
            if s.duplicates:
                line += f", {s.duplicates} already sent before"
            if s.kept:
                line += f", {s.kept} kept in the outbox for the next run ({s.error})"
            out.append(line)
        return out


def deliver(notifications: list[Notification], sinks: list[Sink], outbox: Outbox, *, retries: int = 3,
            backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.time) -> DeliveryReport:
    """Queue `notifications` for every sink, then send each sink everything due for it (earlier
    failures included) in batches, retrying `retries` times with exponential backoff."""
    report = DeliveryReport()
    for sink in sinks:
        label = str(getattr(sink, "label", "") or type(sink).__name__)
        sid = sink_id(getattr(sink, "spec", None) or label)
        now = clock()
        before = outbox.delivered_keys(sid) if notifications else set()
        outbox.enqueue(sid, label, notifications, now=now)
        result = SinkResult(label=label,
                            duplicates=sum(1 for n in notifications if notification_key(n) in before))
        while True:
            due = outbox.due(sid, now=now, limit=MAX_BATCH)
            if not due:
                break
            ids = [i for i, _ in due]
            batch = [n for _, n in due]
            error: str | None = None
            for attempt in range(retries + 1):
                try:
                    sink.send(batch)
                    error = None
                    break
                except DeliveryError as exc:
                    error = " ".join(str(exc).split()) or "delivery failed"
                except Exception as exc:  # noqa: BLE001 - a buggy sink is one line, not a traceback
                    error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
                if attempt < retries:
                    sleep(backoff * (2 ** attempt))
            if error is None:
                outbox.mark_delivered(ids, now=clock())
                result.delivered += len(ids)
                continue
            next_try = clock() + min(backoff * (2 ** (retries + 1)), MAX_NEXT_TRY)
            outbox.mark_failed(ids, error, next_try, attempts=retries + 1)
            remaining = len(outbox.pending(sid))
            result.kept = remaining
            result.error = error
            break
        report.sinks.append(result)
    return report
