"""Errors of the notification box (kept apart so sink modules can import them without cycles)."""


class DeliveryError(Exception):
    """A sink could not deliver a batch; the message is one line (no secrets, no traceback)."""


class SinkSpecError(ValueError):
    """A `--notify` value that names no sink or is malformed; the message is one line."""
