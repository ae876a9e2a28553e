"""Hand watch alerts to the notify box (sinks: webhook, Slack, email, syslog, stdout; retries; outbox).

The notify box owns delivery, retries and keeping undelivered notifications; this module only
turns alerts into its `Notification`s and tells the watcher which ones it accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from eggshield.logs.watch import PendingAlert


class SinkError(ValueError):
    """A `--notify` value that cannot be used; one line for the user."""


def make_delivery(specs: list[str], store, retries: int = 1, backoff: float = 0.5,
                  on_error: Callable[[str], None] | None = None) -> Callable[[list[PendingAlert]], list[str]]:
    """A deliver function for Watcher: sends through every sink in `specs` (e.g. `webhook=URL`)."""
    from eggshield.notify import Notification, Outbox, parse_sink
    from eggshield.notify import deliver as notify_deliver

    try:
        sinks = [parse_sink(s) for s in specs]
    except Exception as exc:  # noqa: BLE001 - the notify box's own parse errors, shown as one line
        raise SinkError(str(exc)) from None
    outbox = Outbox(store)

    def deliver(batch: list[PendingAlert]) -> list[str]:
        """Queue and send `batch`; an empty batch just sends what the outbox holds that is due."""
        notes = [Notification(kind="log-alert", title=p.title, text=p.text, severity=p.severity, key=p.key,
                                     data=p.data,
                                     created=dt.datetime.fromtimestamp(p.created, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
                 for p in batch]
        try:
            # few quick retries: the watch polls again soon and the outbox keeps what failed
            notify_deliver(notes, sinks, outbox, retries=retries, backoff=backoff)
        except Exception as exc:  # noqa: BLE001 - a sink problem must not end the watch
            if on_error:
                on_error(f"delivery failed: {type(exc).__name__}: {exc}")
            return []
        return [p.key for p in batch]  # delivered, or kept in the outbox for its retries

    return deliver
