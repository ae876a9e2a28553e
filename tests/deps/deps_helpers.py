"""Real local servers for the deps and notify tests: an npm-registry stand-in serving recorded
documents, an OSV API serving recorded advisories, and a webhook receiver. All bind 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
LOCKFILES = FIXTURES / "lockfiles"
RECORDED = FIXTURES / "registry"


class _Server:
    def __init__(self, handler_cls, port: int = 0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler_cls)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RegistryServer(_Server):
    """Serves `<name>.json` documents like a registry: GET /<name> (scoped names %2f-encoded),
    ETag/If-None-Match, the abbreviated form (no `time`) for the install Accept header.
    `fail_next` makes the next N requests answer 503; `delay` slows every answer."""

    def __init__(self, docs: dict[str, dict] | None = None, directory: Path = RECORDED):
        self.docs: dict[str, dict] = {}
        for f in directory.glob("*.json"):
            doc = json.loads(f.read_text())
            self.docs[doc["name"]] = doc
        self.docs.update(docs or {})
        self.requests: list[tuple[str, str]] = []  # (path, accept)
        self.files: dict[str, bytes] = {}  # served at /-/files/<name>: package tarballs
        self.fail_next = 0
        self.fail_status = 503
        self.delay = 0.0
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        super().__init__(_RegistryHandler)


class _RegistryHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        srv: RegistryServer = self.server.owner  # type: ignore[attr-defined]
        with srv.lock:
            srv.requests.append((self.path, self.headers.get("Accept", "")))
            srv.active += 1
            srv.max_active = max(srv.max_active, srv.active)
            fail = srv.fail_next > 0
            if fail:
                srv.fail_next -= 1
        try:
            if srv.delay:
                time.sleep(srv.delay)
            if fail:
                self.send_response(srv.fail_status)
                self.end_headers()
                return
            if self.path.startswith("/-/files/") and self.path[len("/-/files/"):] in srv.files:
                body = srv.files[self.path[len("/-/files/"):]]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            name = urllib.parse.unquote(self.path.lstrip("/"))
            doc = srv.docs.get(name)
            if doc is None:
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error":"Not found"}')
                return
            abbreviated = "vnd.npm.install-v1" in self.headers.get("Accept", "")
            if abbreviated:
                doc = {k: v for k, v in doc.items() if k != "time"}
            body = json.dumps(doc).encode()
            etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with srv.lock:
                srv.active -= 1


class OsvServer(_Server):
    """POST /v1/querybatch and GET /v1/vulns/<id> over a list of OSV records."""

    def __init__(self, records: list[dict]):
        self.records = {r["id"]: r for r in records}
        self.requests: list[str] = []
        super().__init__(_OsvHandler)


class _OsvHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _json(self, obj, status=200):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        srv: OsvServer = self.server.owner  # type: ignore[attr-defined]
        srv.requests.append(self.path)
        length = int(self.headers.get("Content-Length", 0))
        queries = json.loads(self.rfile.read(length))["queries"]
        from eggshield.deps.advisories.interface import Advisory

        results = []
        for q in queries:
            name, version = q["package"]["name"], q["version"]
            vulns = [{"id": r["id"], "modified": r["modified"]} for r in srv.records.values()
                     if Advisory.from_osv(r, "test").affects(name, version)]
            results.append({"vulns": vulns} if vulns else {})
        self._json({"results": results})

    def do_GET(self):
        srv: OsvServer = self.server.owner  # type: ignore[attr-defined]
        srv.requests.append(self.path)
        vid = self.path.rsplit("/", 1)[-1]
        if vid in srv.records:
            self._json(srv.records[vid])
        else:
            self._json({"code": 5, "message": "Bug not found."}, 404)


class WebhookReceiver(_Server):
    """Records every POST body; `status` sets the answer (500 to simulate a broken receiver)."""

    def __init__(self, answer: bytes = b"ok", port: int = 0):
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.status = 200
        self.answer = answer
        super().__init__(_WebhookHandler, port)


class _WebhookHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        srv: WebhookReceiver = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        if srv.status == 200:
            srv.bodies.append(json.loads(raw))
            srv.paths.append(self.path)
        self.send_response(srv.status)
        self.send_header("Content-Length", str(len(srv.answer)))
        self.end_headers()
        self.wfile.write(srv.answer)


def free_port() -> int:
    """A port nothing listens on (bound then released): a receiver that is down."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_fixture(kind: str, dest: Path) -> Path:
    import shutil

    shutil.copytree(LOCKFILES / kind, dest, dirs_exist_ok=True)
    return dest


def npm_lock(root: Path, packages: dict[str, str | dict]) -> Path:
    """Write a package-lock.json v3 for the app at `root`: the root entry mirrors package.json,
    `packages` maps a name (or a node_modules/... key) to a version or a full entry."""
    pkg = json.loads((root / "package.json").read_text())
    entries: dict = {"": {"name": pkg["name"], "version": pkg.get("version", "1.0.0"),
                          **{k: pkg[k] for k in ("dependencies", "devDependencies", "optionalDependencies")
                             if k in pkg}}}
    for name, spec in packages.items():
        entry = {"version": spec} if isinstance(spec, str) else dict(spec)
        entries[name if name.startswith("node_modules/") else f"node_modules/{name}"] = entry
    path = root / "package-lock.json"
    path.write_text(json.dumps({"name": pkg["name"], "version": pkg.get("version", "1.0.0"), "lockfileVersion": 3,
                                "requires": True, "packages": entries}, indent=2))
    return path


CONFIG = {"config/config.default.js": "module.exports = appInfo => ({ keys: appInfo.name + '_k' });\n",
          "app/router.js": "module.exports = app => { app.router.get('/', app.controller.home.index); };\n"}
