"""The recorded registry documents still look like what the live registry (the one npm uses) answers."""

from __future__ import annotations

import json

import pytest
from deps_helpers import RECORDED

from eggshield.deps.registry import RegistryClient, RegistryError, registry_config


@pytest.mark.network
def test_recorded_documents_match_the_live_registry_shape(tmp_path):
    try:
        config = registry_config(tmp_path)
    except RegistryError as exc:
        pytest.skip(f"no npm registry configured here: {exc}")
    client = RegistryClient(config, cache_dir=tmp_path, timeout=20, retries=1)
    try:
        live = client.fetch("egg", full=True)
    except RegistryError as exc:
        if any(s in str(exc) for s in ("cannot", "timed out", "Errno", "URLError", "error:", "attempts")):
            pytest.skip(f"npm registry unreachable (offline): {exc}")
        raise
    recorded = json.loads((RECORDED / "egg.json").read_text())
    assert set(recorded) <= {"name", "dist-tags", "versions", "time", "modified"}
    assert {"dist-tags", "versions", "time"} <= set(recorded)
    assert live.latest and live.latest in live.versions and live.time.get(live.latest)
    # nothing the tests rely on has vanished, and the recorded latest is not newer than the live one
    assert set(recorded["versions"]) <= set(live.versions)
    from eggshield.deps import semver

    assert semver.compare(recorded["dist-tags"]["latest"], live.latest) <= 0
