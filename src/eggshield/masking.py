"""Mask secrets before they reach any output: keep enough to recognise a value, never enough to use it."""

from __future__ import annotations


def mask_secret(value: str) -> str:
    """'demo_1700000000000_1234' -> 'dem*******************' (23 chars): shape kept, secret gone."""
    if not value:
        return "''"
    keep = 3 if len(value) >= 12 else 1 if len(value) >= 6 else 0
    return f"'{value[:keep]}{'*' * (len(value) - keep)}' ({len(value)} chars)"
