"""Benchmark: `eggshield probe` of a local Egg app, beside shcheck and Mozilla's httpobs scanner.

Run: python bench/probe_bench.py [--app egg3-weak] [--runs 5] [--peers-bin DIR]

A real Egg app (tests/fixtures/probe/<app>, started like the tests start it) sits behind a small
counting proxy on 127.0.0.1, so every tool's requests are counted the same way, at the server.
Prints median wall-clock seconds, requests per run and the ratio to eggshield's safe-mode probe.

Peers (PyPI, installed by hand into a separate venv, never by this script):
  shcheck       `pip install shcheck`            -> shcheck.py (one HEAD request, headers only)
  httpobs 0.9.3 `pip install --no-deps httpobs requests beautifulsoup4 publicsuffixlist celery`
                -> httpobs-local-scan (Mozilla HTTP Observatory's scanner run locally; its full
                dependency list pulls psycopg2 and uWSGI for the hosted API, which the local
                scanner does not use and which do not build here)
`--peers-bin` is the venv's bin dir (default: PATH). A peer that is missing is listed as such.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from eggrt.server import EggServer  # noqa: E402

HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te", "trailer"}


class CountingProxy:
    """Forwards every request to the Egg server unchanged and counts it."""

    def __init__(self, upstream_port: int):
        self.count = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                proxy.count += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length > 1024 * 1024:
                    # a declared size larger than what is sent (eggshield's oversized-body probe):
                    # pass on what arrives, with the declared length, as a direct connection would
                    self.connection.settimeout(0.3)
                    try:
                        body = self.rfile.read1(65536)
                    except OSError:
                        body = b""
                    self.close_connection = True
                else:
                    body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                    conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                    for k, v in headers.items():
                        conn.putheader(k, v)
                    conn.endheaders(body)
                    resp = conn.getresponse()
                    data = resp.read()
                    self.send_response_only(resp.status, resp.reason)
                    for k, v in resp.getheaders():
                        if k.lower() not in HOP and k.lower() != "content-length":
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                except OSError:
                    self.close_connection = True
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_TRACE = _forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _tool(name: str, peers_bin: str | None) -> str | None:
    if peers_bin:
        cand = Path(peers_bin) / name
        return str(cand) if cand.exists() else None
    return shutil.which(name)


def _run(cmd: list[str], proxy: CountingProxy) -> tuple[float, int, int]:
    before = proxy.count
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    elapsed = time.perf_counter() - t0
    return elapsed, proxy.count - before, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--app", default="egg3-weak")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peers-bin", default=None, help="bin dir of the venv holding shcheck.py and httpobs-local-scan")
    args = ap.parse_args()

    app_dir = ROOT / "tests" / "fixtures" / "probe" / args.app
    with EggServer(app_dir) as server:
        proxy = CountingProxy(server.port)
        py = sys.executable
        sh = _tool("shcheck.py", args.peers_bin)
        obs = _tool("httpobs-local-scan", args.peers_bin)

        def tools(port: int) -> list[tuple[str, list[str] | None, str]]:
            url = f"http://127.0.0.1:{port}"
            return [
                ("eggshield probe (safe mode, --rate 1000)",
                 [py, "-m", "eggshield", "probe", url, "--format", "json", "--rate", "1000", "--fail-on", "none"],
                 "headers on page + errors, cookies, CORS, error disclosure"),
                ("eggshield probe --project --allow-unsafe-methods (--rate 1000)",
                 [py, "-m", "eggshield", "probe", url, "--project", str(app_dir), "--allow-unsafe-methods",
                  "--format", "json", "--rate", "1000", "--fail-on", "none"],
                 "all of the above + routes + CSRF matrix"),
                ("eggshield probe (safe mode, default --rate 10)",
                 [py, "-m", "eggshield", "probe", url, "--format", "json", "--fail-on", "none"],
                 "same as the first row, at the polite default rate"),
                ("shcheck 1.7", [sh, "-d", "-j", url] if sh else None, "headers of one response"),
                ("httpobs 0.9.3 (httpobs-local-scan)",
                 [obs, "--http-port", str(port), "--format", "json", "127.0.0.1"] if obs else None,
                 "Observatory tests on the page (http + an https attempt on :443)"),
            ]

        rows = []
        for (label, cmd, what), (_, counted_cmd, _) in zip(tools(server.port), tools(proxy.port), strict=True):
            if cmd is None:
                rows.append((label, None, None, what))
                continue
            _, count, _ = _run(counted_cmd, proxy)  # once through the counting proxy: the request count
            _run(cmd, proxy)  # warm-up
            times = [_run(cmd, proxy)[0] for _ in range(args.runs)]  # timed direct, without the proxy
            rows.append((label, statistics.median(times), count, what))
        proxy.close()

    base = rows[0][1]
    print(f"probe of tests/fixtures/probe/{args.app} (egg {server.major}, env {server.egg_env}), "
          f"median of {args.runs} direct runs; requests counted at a proxy in front of the server")
    print(f"{'tool':<66} {'seconds':>8} {'requests':>9} {'vs eggshield':>13}  covers")
    for label, seconds, count, what in rows:
        if seconds is None:
            print(f"{label:<66} {'not installed':>32}  {what}")
            continue
        print(f"{label:<66} {seconds:>8.2f} {count:>9.0f} {seconds / base:>12.2f}x  {what}")


if __name__ == "__main__":
    main()
