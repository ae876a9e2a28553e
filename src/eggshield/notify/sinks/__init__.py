"""Notification sinks, one module per kind; each defines `SCHEME` and `make(target, options) -> Sink`.

Modules here are discovered automatically: adding `syslog.py` with `SCHEME = "syslog"` makes
`--notify syslog=...` work without touching any other file.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Protocol

from eggshield.notify.model import Notification


class Sink(Protocol):
    #: shown in reports and used (hashed with the spec) to key the outbox; never holds a secret
    label: str

    def send(self, batch: list[Notification]) -> None:
        """Deliver the whole batch or raise notify.DeliveryError with a one-line message."""
        ...


def discover() -> dict[str, object]:
    """scheme -> sink module, for every module in this package that defines SCHEME and make()."""
    out: dict[str, object] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        scheme = getattr(module, "SCHEME", None)
        if isinstance(scheme, str) and callable(getattr(module, "make", None)):
            out[scheme] = module
    return out
