"""Shared pytest hooks."""

import sys


def pytest_terminal_summary(terminalreporter):
    """Say which Egg oracle the oracle tests used (live or recorded dumps), even without -s."""
    eggrt = sys.modules.get("eggrt")
    for line in getattr(eggrt, "REPORT", []):
        terminalreporter.write_line(line)
