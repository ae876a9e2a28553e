"""Real Egg servers on 127.0.0.1 for the live-probe tests: "probes are tested against real
running Egg servers, never against a mock of Egg" (DESIGN.md).

`EggServer(app_dir)` copies a fixture app to a temp dir, links it to a cached runtime's
node_modules and starts it single-process with `serve.mjs` (`egg.start` + `http.createServer`,
egg-facts §7) on a port the kernel picks; `.url` is where it answers, `.stop()` ends it.

Runtimes: an app that needs only egg runs on the shared runtime (`eggrt.ensure_runtime`). An
app that depends on more (egg-cors) runs on a probe runtime, `tests/eggrt/egg<major>-probe/`,
a manifest + lockfile of its own installed by `ensure_probe_runtime` with the same logic as
`eggrt.ensure_runtime` (npm ci into the cache keyed by the lockfile hash, under a file lock,
renamed into place), so the shared runtimes stay exactly as the oracle tests pin them.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import eggrt
from eggrt import RuntimeUnavailable

HERE = Path(__file__).resolve().parent
SERVE = HERE / "serve.mjs"
MARK = "@@EGGSERVE@@ "
#: Seconds an app may take to answer after its start (egg 3 ~1 s, egg 4 ~2 s on this machine).
START_TIMEOUT = float(os.environ.get("EGGSHIELD_TEST_APP_TIMEOUT", "60"))


# ---------------------------------------------------------------------------------------------
# probe runtimes (egg + extra plugins)


def probe_manifest_dir(major: int) -> Path:
    return HERE / f"egg{major}-probe"


def probe_runtime_dir(major: int) -> Path:
    lock = probe_manifest_dir(major) / "package-lock.json"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()[:16]
    return eggrt.cache_root() / f"egg{major}-probe-{digest}"


def _manifest_deps(manifest_dir: Path) -> list[str]:
    return sorted(json.loads((manifest_dir / "package.json").read_text()).get("dependencies", {}))


def _probe_installed(runtime: Path, deps: list[str]) -> bool:
    return all((runtime / "node_modules" / name / "package.json").is_file() for name in deps)


def ensure_probe_runtime(major: int) -> Path:
    """Install `tests/eggrt/egg<major>-probe` (npm ci, once per lockfile) and return its dir.

    The same steps as `eggrt.ensure_runtime`, for another manifest dir: the user's own npm
    configuration, no install scripts, a temp dir renamed into place under a file lock.
    Raises RuntimeUnavailable (offline=True when the registry cannot be reached).
    """
    manifest = probe_manifest_dir(major)
    deps = _manifest_deps(manifest)
    final = probe_runtime_dir(major)
    if _probe_installed(final, deps):
        return final
    if os.environ.get("EGGSHIELD_TEST_OFFLINE"):
        raise RuntimeUnavailable(f"EGGSHIELD_TEST_OFFLINE is set and {manifest.name} is not cached", offline=True)
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise RuntimeUnavailable("node/npm not found on PATH", offline=True)
    root = final.parent
    with eggrt._file_lock(root / f".{final.name}.lock"):
        if _probe_installed(final, deps):
            return final
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
        try:
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(manifest / name, tmp / name)
            cmd = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
            try:
                proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True,
                                      timeout=eggrt.NPM_TIMEOUT, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired as exc:
                raise RuntimeUnavailable(f"npm ci for {manifest.name} timed out", offline=True) from exc
            if proc.returncode != 0:
                out = (proc.stdout + proc.stderr).strip()
                net = eggrt._OFFLINE_PATTERNS.search(out)
                raise RuntimeUnavailable(f"npm ci for {manifest.name} failed ({proc.returncode}):\n{out[-3000:]}",
                                         offline=bool(net))
            if not _probe_installed(tmp, deps):
                raise RuntimeUnavailable(f"npm ci for {manifest.name} left {deps} incomplete", offline=False)
            if final.exists():
                shutil.rmtree(final)
            os.rename(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return final


def runtime_for(app_dir: Path) -> tuple[int, Path]:
    """(major, runtime dir) for an app: the shared runtime unless it depends on more than egg."""
    pkg = json.loads((Path(app_dir) / "package.json").read_text())
    major = eggrt.fixture_major(app_dir)
    extra = sorted(set(pkg.get("dependencies", {})) - {"egg"})
    if not extra:
        return major, eggrt.ensure_runtime(major)
    manifest = probe_manifest_dir(major)
    missing = sorted(set(extra) - set(_manifest_deps(manifest))) if manifest.is_dir() else extra
    if missing:
        raise RuntimeUnavailable(f"{Path(app_dir).name} needs {missing}, which no egg{major} runtime has",
                                 offline=False)
    return major, ensure_probe_runtime(major)


# ---------------------------------------------------------------------------------------------
# servers


class EggStartError(Exception):
    """The app did not start listening; the message carries the end of its output."""


class EggServer:
    """One running Egg app. Use as a context manager, or call `start()` / `stop()`."""

    def __init__(self, app_dir: Path, env: str | None = None):
        self.app_dir = Path(app_dir)
        # None: let Egg read config/env (an explicit env would win over the file, egg-facts §1)
        self.env = env if env is not None else eggrt.fixture_env(self.app_dir)
        self.major: int | None = None
        self.port: int | None = None
        self.egg_env: str | None = None
        self.base: Path | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._proc: subprocess.Popen | None = None
        self._lines: collections.deque[str] = collections.deque(maxlen=400)
        self._ready = threading.Event()
        self._status: dict | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return "\n".join(self._lines)

    def start(self) -> EggServer:
        self.major, runtime = runtime_for(self.app_dir)
        runtime = Path(os.path.realpath(runtime))
        self._tmp = tempfile.TemporaryDirectory(prefix="eggserve-")
        work = Path(os.path.realpath(self._tmp.name))
        (work / "node_modules").symlink_to(runtime / "node_modules", target_is_directory=True)
        shutil.copyfile(SERVE, work / "serve.mjs")
        self.base = work / self.app_dir.name
        shutil.copytree(self.app_dir, self.base, ignore=eggrt._COPY_IGNORE, symlinks=False)
        (self.base / "node_modules").symlink_to(runtime / "node_modules", target_is_directory=True)
        env = eggrt._node_env(work)
        env["EGG_HOME"] = str(self.base)  # prod logs stay inside the app copy (egg-facts §7)
        self._proc = subprocess.Popen(
            ["node", str(work / "serve.mjs"), str(self.major), str(self.base), self.env or ""],
            cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, errors="replace", start_new_session=True)
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._ready.wait(START_TIMEOUT) or not (self._status or {}).get("ok"):
            why = (self._status or {}).get("error") or f"no answer within {START_TIMEOUT:.0f} s"
            self.stop()
            raise EggStartError(f"{self.app_dir.name} (egg {self.major}): {why}\n--- output ---\n{self.output[-3000:]}")
        self.port = int(self._status["port"])
        self.egg_env = self._status.get("env")
        return self

    def _pump(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            line = line.rstrip("\n")
            if line.startswith(MARK) and self._status is None:
                self._status = json.loads(line[len(MARK):])
                self._ready.set()
            else:
                self._lines.append(line)
        self._ready.set()  # the process ended before it said anything

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def logs(self) -> str:
        """Everything the app wrote under its logs dir so far (for assertions on what Egg logged)."""
        if self.base is None:
            return ""
        time.sleep(1.2)  # prod loggers buffer for about 1 s (egg-facts §7)
        return "\n".join(p.read_text(errors="replace") for p in sorted((self.base / "logs").rglob("*.log")))

    def __enter__(self) -> EggServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
