"""Checks: one module per concern, each rule registered in `registry`; checks read models, never files."""
