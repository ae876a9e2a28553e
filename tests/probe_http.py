"""Real local HTTP servers for the probe tests: a stdlib server that records what it receives,
and the CLI run as a user runs it."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


class Receiver:
    """A real HTTP server that records every request line it gets."""

    def __init__(self, routes: dict | None = None):
        self.seen: list[tuple[float, str, str, dict]] = []
        receiver = self
        routes = routes or {}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                receiver.seen.append((time.monotonic(), self.command, self.path, dict(self.headers)))
                length = int(self.headers.get("Content-Length") or 0)
                if length and length < 10_000_000:
                    self.rfile.read(min(length, 65536))
                default = (200, {"Content-Type": "text/html"}, b"<h1>hi</h1>")
                status, headers, body = routes.get((self.command, self.path), routes.get(self.path, default))
                if callable(body):
                    body = body(self)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_TRACE = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def methods(self) -> set[str]:
        return {m for _, m, _, _ in self.seen}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "eggshield", "probe", *args], capture_output=True, text=True,
                          timeout=timeout, env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
