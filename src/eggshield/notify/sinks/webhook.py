"""Generic webhook: one JSON POST per batch, `{"source": "eggshield", "notifications": [...]}`."""

from __future__ import annotations

from eggshield.notify.model import Notification
from eggshield.notify.sinks._http import check_url, mask_url, post_json

SCHEME = "webhook"


class WebhookSink:
    def __init__(self, url: str, timeout: float = 10.0):
        self.url = url
        self.timeout = timeout
        self.label = f"webhook {mask_url(url)}"

    def send(self, batch: list[Notification]) -> None:
        post_json(self.url, {"source": "eggshield", "count": len(batch),
                             "notifications": [n.to_dict() for n in batch]}, self.label, self.timeout)


def make(target: str, options: dict) -> WebhookSink:
    return WebhookSink(check_url(target, SCHEME), timeout=float(options.get("timeout", 10)))
