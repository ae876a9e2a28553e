"""Grading knowledge for the CSRF and header rules: data/headers.toml and data/csrf.toml, loaded once."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources


@cache
def load(name: str) -> dict:
    """The parsed data file `name` ("headers" or "csrf")."""
    return tomllib.loads(resources.files("eggshield.data").joinpath(f"{name}.toml").read_text("utf-8"))


def header_names() -> dict[str, str]:
    """Lower-case header name → the egg-security option that sets it."""
    return load("headers")["headers"]["names"]


def public_suffixes() -> frozenset[str]:
    return frozenset(load("csrf")["domains"]["public_suffixes"])
