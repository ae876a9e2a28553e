"""`eggshield plugins --online`: npm's `deprecated` field and latest version, from a real HTTP server on
127.0.0.1 standing in for the registry (npm_config_registry points the user's npm config at it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from appfactory import make_app
from plugin_helpers import plugin_js

PACKUMENTS = {
    "/egg-jwt": {"name": "egg-jwt", "dist-tags": {"latest": "3.1.7"},
                 "versions": {"3.1.7": {"deprecated": "egg-jwt is no longer maintained"}}},
    "/egg-mysql": {"name": "egg-mysql", "dist-tags": {"latest": "5.0.0"}, "versions": {"5.0.0": {}}},
}


class Registry(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        doc = PACKUMENTS.get(self.path)
        body = json.dumps(doc or {"error": "Not found"}).encode()
        self.send_response(200 if doc else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def run(root, registry_url, home):
    env = {**os.environ, "npm_config_registry": registry_url, "HOME": str(home),
           "EGGSHIELD_CACHE": str(home / "cache"), "XDG_CACHE_HOME": str(home / "cache")}
    return subprocess.run([sys.executable, "-m", "eggshield", "plugins", str(root), "--online", "--format", "json"],
                          capture_output=True, text=True, timeout=120, env=env)


def test_online_reports_npm_deprecation_for_the_locked_version(tmp_path, registry):
    root = make_app(tmp_path / "app", {
        "config/plugin.js": plugin_js(jwt="{ enable: true, package: 'egg-jwt' }",
                                      mysql="{ enable: true, package: 'egg-mysql' }"),
        "package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {
            "node_modules/egg-jwt": {"version": "3.1.7"}, "node_modules/egg-mysql": {"version": "5.0.0"}}}),
    })
    res = run(root, registry, tmp_path)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    rows = {p["name"]: p for p in doc["plugins"]}
    assert rows["jwt"]["npm"] == {"version": "3.1.7", "latest": "3.1.7", "deprecated": "egg-jwt is no longer maintained"}
    assert rows["mysql"]["npm"]["deprecated"] is None
    assert rows["i18n"]["npm"] is None  # framework defaults follow egg
    assert "npm: egg-jwt@3.1.7 is deprecated: egg-jwt is no longer maintained" in doc["notes"]


def test_unknown_package_and_dead_registry_are_problem_lines(tmp_path, registry):
    root = make_app(tmp_path / "app", {"config/plugin.js": plugin_js(acme="{ enable: true, package: 'egg-acme' }")})
    res = run(root, registry, tmp_path)
    assert res.returncode == 0 and "Traceback" not in res.stderr
    assert any("egg-acme" in p for p in json.loads(res.stdout)["problems"])
    dead = run(root, "http://127.0.0.1:9/", tmp_path / "dead")
    assert dead.returncode == 0 and "Traceback" not in dead.stderr
    assert json.loads(dead.stdout)["problems"]
