"""eggshield: audit and harden Egg.js applications."""

__version__ = "0.1.0"
