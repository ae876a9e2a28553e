"""The npm registry client against a real local HTTP server serving recorded registry documents."""

from __future__ import annotations

import os
import stat
import time

import pytest
from deps_helpers import RegistryServer

from eggshield.deps.registry import RegistryClient, RegistryConfig, RegistryError, registry_config


@pytest.fixture(scope="module")
def server():
    srv = RegistryServer()
    yield srv
    srv.close()


@pytest.fixture()
def fresh(server):
    deadline = time.time() + 5
    while server.active and time.time() < deadline:  # a slow answer of an earlier test still running
        time.sleep(0.05)
    server.requests.clear()
    server.fail_next = 0
    server.delay = 0.0
    server.max_active = 0
    return server


def _client(server, tmp_path, **kw) -> RegistryClient:
    return RegistryClient(RegistryConfig(server.url, "test"), cache_dir=tmp_path, backoff=0.01, **kw)


def test_full_and_abbreviated_documents(fresh, tmp_path):
    client = _client(fresh, tmp_path)
    egg = client.fetch("egg", full=True)
    assert egg.latest and egg.latest in egg.versions and egg.time.get(egg.latest)
    scoped = client.fetch("@eggjs/security")
    assert "4.0.2" in scoped.versions and scoped.time == {}  # the install form has no dates
    assert fresh.requests[-1][0] == "/@eggjs%2Fsecurity"  # scoped names are %2f-encoded like npm does
    assert "vnd.npm.install-v1" in fresh.requests[-1][1]


def test_disk_cache_ttl_and_etag_revalidation(fresh, tmp_path):
    client = _client(fresh, tmp_path, ttl=3600)
    client.fetch("lodash")
    client.fetch("lodash")
    assert client.requests == 1  # the second answer came from the disk cache
    stale = _client(fresh, tmp_path, ttl=0)
    pack = stale.fetch("lodash")
    assert stale.requests == 1 and not pack.cached and pack.latest
    assert len(fresh.requests) == 2  # revalidated with If-None-Match: the server answered 304


def test_offline_answers_from_the_cache_only(fresh, tmp_path):
    _client(fresh, tmp_path).fetch("qs")
    before = len(fresh.requests)
    offline = _client(fresh, tmp_path, offline=True, ttl=0)
    assert offline.fetch("qs").cached
    with pytest.raises(RegistryError, match="not in the local registry cache"):
        offline.fetch("semver")
    assert len(fresh.requests) == before


def test_retries_with_backoff_then_success(fresh, tmp_path):
    fresh.fail_next = 2
    client = _client(fresh, tmp_path, retries=2)
    assert client.fetch("ms").latest
    assert len(fresh.requests) == 3


def test_failures_are_one_line(fresh, tmp_path):
    client = _client(fresh, tmp_path, retries=1)
    with pytest.raises(RegistryError) as err:
        client.fetch("no-such-package-here")
    assert "not found (404)" in str(err.value)
    fresh.fail_next, fresh.fail_status = 5, 401
    with pytest.raises(RegistryError, match="requires authentication"):
        client.fetch("debug")
    fresh.fail_next, fresh.fail_status = 5, 503
    with pytest.raises(RegistryError, match=r"HTTP 503.*after 2 attempts"):
        client.fetch("debug")
    fresh.fail_status = 503


def test_timeouts_and_unreachable_registries(fresh, tmp_path):
    fresh.delay = 1.0
    slow = _client(fresh, tmp_path, timeout=0.2, retries=0)
    with pytest.raises(RegistryError, match="timed out"):
        slow.fetch("csrf")
    fresh.delay = 0.0
    from deps_helpers import free_port

    down = RegistryClient(RegistryConfig(f"http://127.0.0.1:{free_port()}/", "test"), cache_dir=tmp_path, retries=0)
    result = down.fetch_many(["a", "b"])
    assert all(isinstance(v, RegistryError) and "\n" not in str(v) for v in result.values())


def test_bounded_concurrency(fresh, tmp_path):
    fresh.delay = 0.1
    names = [n for n in fresh.docs][:12]
    client = _client(fresh, tmp_path, concurrency=3)
    result = client.fetch_many(names)
    assert all(not isinstance(v, RegistryError) for v in result.values())
    assert 1 < fresh.max_active <= 3


def test_registry_comes_from_the_users_npm_config(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    project = tmp_path / "proj"
    project.mkdir()
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "")}
    (home / ".npmrc").write_text("registry=http://user.example.test/npm/\n@corp:registry=http://corp.example.test/\n")
    cfg = registry_config(project, env=env, npm=None)
    assert cfg.url == "http://user.example.test/npm/" and cfg.source == ".npmrc (user)"
    assert cfg.url_for("@corp/x") == "http://corp.example.test/@corp%2Fx"
    (project / ".npmrc").write_text("registry=${MIRROR}\n")
    cfg = registry_config(project, env={**env, "MIRROR": "http://mirror.example.test"}, npm=None)
    assert cfg.url == "http://mirror.example.test/" and cfg.source == ".npmrc (project)"
    cfg = registry_config(project, env={**env, "npm_config_registry": "http://env.example.test"}, npm=None)
    assert cfg.source == "npm_config_registry"
    (project / ".npmrc").unlink()
    (home / ".npmrc").unlink()
    with pytest.raises(RegistryError, match="no npm registry configured"):
        registry_config(project, env=env, npm=None)


def test_npm_config_get_registry_is_the_last_resort(tmp_path):
    """A stand-in `npm` on PATH answers `npm config get registry`, as the real one does."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "npm"
    fake.write_text('#!/bin/sh\n[ "$1 $2 $3" = "config get registry" ] && echo "http://cfg.example.test/"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {"HOME": str(tmp_path), "PATH": str(bindir)}
    cfg = registry_config(tmp_path, env=env)
    assert cfg.url == "http://cfg.example.test/" and cfg.source == "npm config get registry"


def test_a_corrupt_cache_entry_is_refetched(fresh, tmp_path):
    client = _client(fresh, tmp_path, ttl=3600)
    client.fetch("escape-html")
    for f in (tmp_path / "registry").rglob("*.json"):
        f.write_text("{not json")
    again = _client(fresh, tmp_path, ttl=3600)
    assert again.fetch("escape-html").latest and again.requests == 1
