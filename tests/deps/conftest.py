"""Markers of the deps tests (registered here: pyproject.toml belongs to another engineer)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "network: talks to the live npm registry (skipped only when it is unreachable)")
