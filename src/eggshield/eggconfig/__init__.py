"""Resolve an Egg app's configuration and plugin list per env, exactly as Egg merges them."""

from eggshield.eggconfig.model import MISSING, PluginEntry, ResolvedConfig
from eggshield.eggconfig.resolve import resolve

__all__ = ["MISSING", "PluginEntry", "ResolvedConfig", "resolve"]
