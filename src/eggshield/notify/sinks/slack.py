"""Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): `{"text": ..., "blocks": [...]}`."""

from __future__ import annotations

from eggshield.notify.errors import DeliveryError
from eggshield.notify.model import Notification
from eggshield.notify.sinks._http import check_url, mask_url, post_json

SCHEME = "slack"
ICON = {"critical": ":rotating_light:", "high": ":red_circle:", "medium": ":large_orange_diamond:",
        "low": ":large_blue_diamond:", "info": ":information_source:"}
MAX_BLOCKS = 45  # Slack allows 50 blocks per message


def render(batch: list[Notification]) -> dict:
    head = f"eggshield: {len(batch)} new notification{'s' if len(batch) != 1 else ''}"
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": head[:150]}}]
    for n in batch[:MAX_BLOCKS]:
        body = f"{ICON.get(n.severity, '')} *{_esc(n.title)}*\n{_esc(n.text)}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}})
    if len(batch) > MAX_BLOCKS:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                        "text": f"and {len(batch) - MAX_BLOCKS} more"}]})
    fallback = head + "\n" + "\n".join(f"- [{n.severity}] {n.title}" for n in batch)
    return {"text": fallback[:3000], "blocks": blocks}


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackSink:
    def __init__(self, url: str, timeout: float = 10.0):
        self.url = url
        self.timeout = timeout
        self.label = f"slack {mask_url(url)}"

    def send(self, batch: list[Notification]) -> None:
        answer = post_json(self.url, render(batch), self.label, self.timeout)
        text = answer.decode("utf-8", "replace").strip()
        if text and text not in ("ok", "{}") and not text.startswith("{"):
            raise DeliveryError(f"{self.label}: the webhook answered {text[:80]!r}")


def make(target: str, options: dict) -> SlackSink:
    return SlackSink(check_url(target, SCHEME), timeout=float(options.get("timeout", 10)))
