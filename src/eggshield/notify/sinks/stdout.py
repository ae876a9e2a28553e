"""Print notifications, one block each: for cron mail, CI logs, or piping elsewhere."""

from __future__ import annotations

import sys

from eggshield.notify.errors import DeliveryError
from eggshield.notify.model import Notification

SCHEME = "stdout"


class StdoutSink:
    def __init__(self, stream_name: str = "stdout"):
        self.stream_name = stream_name
        self.label = stream_name

    def send(self, batch: list[Notification]) -> None:
        stream = sys.stderr if self.stream_name == "stderr" else sys.stdout
        try:
            for n in batch:
                stream.write(f"[{n.severity}] {n.title}\n")
                for line in n.text.splitlines():
                    stream.write(f"    {line}\n")
            stream.flush()
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"{self.label}: {exc}") from None


def make(target: str, options: dict) -> StdoutSink:
    if target not in ("", "-", "stdout", "stderr"):
        raise ValueError(f"stdout takes no target (or 'stderr'), got {target!r}")
    return StdoutSink("stderr" if target == "stderr" else "stdout")
