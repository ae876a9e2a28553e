"""A real Egg app serving HTTP on 127.0.0.1, for tests that read the logs Egg writes.

`tests/eggrt/__init__.py` starts apps only long enough to dump their config; the log tests need
requests served and log files written, so this starts one app single-process with
`logserver.mjs` (egg.start + http.createServer on an ephemeral port) on the cached runtime of
its egg major. EGG_HOME is the app dir, so prod logs land in `<app>/logs/<name>/` (egg-facts §7).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from eggrt import _COPY_IGNORE, MARK, EggStartError, ensure_runtime

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "logserver.mjs"
START_TIMEOUT = float(os.environ.get("EGGSHIELD_TEST_APP_TIMEOUT", "60"))


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes


@dataclass
class LogApp:
    """A running app: `request()` talks to it, `log_dir` is where Egg writes, `stop()` flushes and ends it."""

    base: Path
    name: str
    port: int
    proc: subprocess.Popen
    tmp: Path
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_dir(self) -> Path:
        return self.base / "logs" / self.name

    def request(self, method: str, path: str, *, headers: dict | None = None, body: bytes | None = None,
                timeout: float = 10) -> Response:
        """One HTTP request; 4xx/5xx are answers, not exceptions. Never follows redirects."""
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=timeout) as res:
                return Response(res.status, dict(res.headers), res.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, dict(exc.headers), exc.read())

    def stop(self) -> None:
        """SIGTERM: the launcher closes the app, which flushes the buffered loggers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def wait_for(self, filename: str, needle: str, timeout: float = 10) -> str:
        """The text of `filename` once it holds `needle` (prod loggers flush about once a second)."""
        path = self.log_dir / filename
        deadline = time.monotonic() + timeout
        while True:
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
            if needle in text:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not in {path} after {timeout} s:\n{text[-2000:]}")
            time.sleep(0.1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def start_log_app(app_dir: Path, major: int, env: str = "prod") -> LogApp:
    """Copy `app_dir` to a temp dir, link the egg `major` runtime, start it; raises EggStartError."""
    runtime = Path(os.path.realpath(ensure_runtime(major)))
    tmp = Path(os.path.realpath(tempfile.mkdtemp(prefix="eggrt-logs-")))
    (tmp / "node_modules").symlink_to(runtime / "node_modules", target_is_directory=True)
    shutil.copyfile(LAUNCHER, tmp / "logserver.mjs")
    base = tmp / Path(app_dir).name
    shutil.copytree(app_dir, base, ignore=_COPY_IGNORE)
    (base / "node_modules").symlink_to(runtime / "node_modules", target_is_directory=True)
    name = json.loads((base / "package.json").read_text())["name"]
    env_vars = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp), "LANG": "C.UTF-8",
                "EGG_HOME": str(base)}
    proc = subprocess.Popen(["node", str(tmp / "logserver.mjs"), str(major), str(base), env], cwd=tmp,
                            env=env_vars, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    output: list[str] = []
    ready: dict = {}
    got = threading.Event()

    def pump() -> None:  # keep draining stdout so Egg never blocks on a full pipe
        for line in proc.stdout:
            output.append(line)
            if line.startswith(MARK) and not got.is_set():
                ready.update(json.loads(line[len(MARK):]))
                got.set()
        got.set()

    threading.Thread(target=pump, daemon=True).start()
    if not got.wait(START_TIMEOUT) or not ready.get("ok"):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
        why = ready.get("error") or "no answer from the launcher"
        raise EggStartError(f"{name} (egg {major}) did not start: {why}\n{''.join(output[-30:])}")
    return LogApp(base=base, name=name, port=int(ready["port"]), proc=proc, tmp=tmp, output=output)
