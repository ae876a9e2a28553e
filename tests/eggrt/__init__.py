"""Real Egg runtimes for the oracle tests: "Egg is the oracle" (DESIGN.md).

A runtime (egg 3 or egg 4.0.x, plus typescript) is installed with `npm ci` once per lockfile
into a cache directory, because an install costs 15-25 s and a whole node_modules keyed by the
lockfile hash is what makes the next run fast (egg-facts §7). Fixture apps are copied to a
temp dir, linked to that node_modules, compiled if they are TypeScript, and started
single-process by `launcher.mjs` (one Node process per app, as many at once as there are
cores); Egg writes its resolved config to `run/` once ready.

Dumps are returned *normalized*: absolute paths of the temp app dir become `{baseDir}` and of
the runtime become `{runtime}`, so a live dump can be compared with a recorded one
(`tests/fixtures/oracle/<fixture>/egg-dump.<env>.json`), which the tests fall back to when
the registry cannot be reached.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "oracle"
LAUNCHER = HERE / "launcher.mjs"
MARK = "@@EGGRT@@ "
MAJORS = (3, 4)

#: Seconds one app may take from start to dump; the whole batch gets this per app plus slack.
APP_TIMEOUT = float(os.environ.get("EGGSHIELD_TEST_APP_TIMEOUT", "60"))
#: Seconds `npm ci` may take; a hung network must not hang the test run forever.
NPM_TIMEOUT = float(os.environ.get("EGGSHIELD_TEST_NPM_TIMEOUT", "300"))

# npm output that means "no registry" rather than "broken lockfile": only these make the
# oracle fall back to recordings silently; any other install failure is an error.
_OFFLINE_PATTERNS = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|"
    r"ENOTCACHED|E_OFFLINE|network|socket hang up|request to \S+ failed",
    re.IGNORECASE,
)

# Files that are not part of the app as deployed: outputs of earlier runs and our recordings.
_COPY_IGNORE = shutil.ignore_patterns("node_modules", "run", "logs", "egg-dump.*.json", "*.tsbuildinfo")


class RuntimeUnavailable(Exception):
    """The runtime could not be installed; `offline` says whether the registry was unreachable."""

    def __init__(self, message: str, *, offline: bool):
        super().__init__(message)
        self.offline = offline


class EggStartError(Exception):
    """Egg did not produce a config dump for an app (start failed, timed out, tsc failed)."""


# ---------------------------------------------------------------------------------------------
# runtimes


def cache_root() -> Path:
    """Where runtimes live; shared between checkouts so a second clone costs nothing."""
    env = os.environ.get("EGGSHIELD_TEST_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "eggshield-tests"


def lockfile(major: int) -> Path:
    return HERE / f"egg{major}" / "package-lock.json"


def runtime_dir(major: int) -> Path:
    """The cache dir for `major`, keyed by the lockfile's hash so a lockfile change reinstalls."""
    digest = hashlib.sha256(lockfile(major).read_bytes()).hexdigest()[:16]
    return cache_root() / f"egg{major}-{digest}"


def _installed(d: Path) -> bool:
    return (d / "node_modules" / "egg" / "package.json").is_file() and (
        d / "node_modules" / "typescript" / "bin" / "tsc"
    ).is_file()


def is_cached(major: int) -> bool:
    return _installed(runtime_dir(major))


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive flock, so parallel test processes install a runtime once, not twice at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_runtime(major: int) -> Path:
    """Return the dir holding node_modules for egg `major`, running `npm ci` into the cache once.

    npm uses the user's own configuration (registry, cache, proxy). The install goes to a temp
    dir beside the final one and is renamed into place, so a killed install never leaves a
    half-filled runtime that later runs would trust. Raises RuntimeUnavailable.
    """
    final = runtime_dir(major)
    if _installed(final):
        return final
    if os.environ.get("EGGSHIELD_TEST_OFFLINE"):
        raise RuntimeUnavailable(
            f"EGGSHIELD_TEST_OFFLINE is set and egg {major} is not cached in {final}", offline=True
        )
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise RuntimeUnavailable("node/npm not found on PATH", offline=True)
    root = final.parent
    with _file_lock(root / f".{final.name}.lock"):
        if _installed(final):  # another process finished while we waited for the lock
            return final
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
        try:
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(HERE / f"egg{major}" / name, tmp / name)
            # --ignore-scripts: no package in these lockfiles has an install script, and an
            # install that runs no code cannot fetch anything behind npm's back.
            cmd = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
            try:
                proc = subprocess.run(
                    cmd, cwd=tmp, capture_output=True, text=True, timeout=NPM_TIMEOUT, stdin=subprocess.DEVNULL
                )
            except subprocess.TimeoutExpired as exc:
                raise RuntimeUnavailable(
                    f"npm ci for egg {major} timed out after {NPM_TIMEOUT:.0f} s (registry unreachable?)",
                    offline=True,
                ) from exc
            if proc.returncode != 0:
                out = (proc.stdout + proc.stderr).strip()
                net = _OFFLINE_PATTERNS.search(out)
                why = f"registry unreachable ({net.group()})" if net else "not a network error"
                raise RuntimeUnavailable(
                    f"npm ci for egg {major} failed ({proc.returncode}), {why}:\n{out[-3000:]}", offline=bool(net)
                )
            if not _installed(tmp):
                raise RuntimeUnavailable(f"npm ci for egg {major} left no egg/typescript in {tmp}", offline=False)
            if final.exists():  # a stale, incomplete dir from a foreign tool: replace it
                shutil.rmtree(final)
            os.rename(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return final


def egg_version(runtime: Path) -> str:
    return json.loads((runtime / "node_modules" / "egg" / "package.json").read_text())["version"]


# ---------------------------------------------------------------------------------------------
# fixtures


def fixture_dir(name: str) -> Path:
    return FIXTURES / name


def fixture_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if (p / "package.json").is_file())


def fixture_major(app_dir: Path) -> int:
    """The egg major an app declares (`"egg": "^3..."`), which decides the runtime it runs on."""
    pkg = json.loads((Path(app_dir) / "package.json").read_text())
    spec = pkg.get("dependencies", {}).get("egg", "")
    m = re.search(r"\d+", spec)
    if not m:
        raise ValueError(f"{app_dir}/package.json: no egg dependency")
    return int(m.group())


def fixture_env(app_dir: Path) -> str | None:
    """None when the app names its env in `config/env`: Egg must then be left to read it,
    because an explicit start env would win over the file (egg-facts §1)."""
    return None if (Path(app_dir) / "config" / "env").is_file() else "prod"


def is_typescript(app_dir: Path) -> bool:
    return (Path(app_dir) / "tsconfig.json").is_file()


# ---------------------------------------------------------------------------------------------
# starting apps


@dataclass
class Job:
    app_dir: Path
    major: int
    env: str | None = "prod"


def _node_env(home: Path) -> dict[str, str]:
    """A minimal environment: nothing the fixtures read (process.env.X) and none of Egg's own
    switches (NODE_ENV, EGG_SERVER_ENV, EGG_APP_CONFIG, EGG_TYPESCRIPT, ...) leak in. No
    TMPDIR either, so os.tmpdir() (multipart.tmpdir) is /tmp in every recording."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}


def _tsc(runtime: Path, app: Path) -> None:
    """Compile in place, as TS Egg apps are deployed (tsc, then start the .js)."""
    tsc = runtime / "node_modules" / "typescript" / "bin" / "tsc"
    proc = subprocess.run(
        ["node", str(tsc), "-p", str(app)], cwd=app, capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        raise EggStartError(f"tsc failed for {app.name}:\n{proc.stdout}{proc.stderr}")


def _run_one(job: Job, runtime: Path, workdir: Path, raw: bool) -> dict:
    """Copy, link, compile and start one app in its own Node process; return its dump.

    One process per app, not several apps per process: Egg keeps state in loaded modules
    (egg 4's @eggjs/i18n pushes every app's locale dirs onto the array its plugin config
    module shares), so a second app in the same process dumps values no real start has.
    A start costs ~0.5 s (egg 3) / ~1 s (egg 4); apps run in parallel on the cores instead.
    """
    workdir.mkdir(parents=True)
    (workdir / "node_modules").symlink_to(runtime / "node_modules", target_is_directory=True)
    shutil.copyfile(LAUNCHER, workdir / "launcher.mjs")
    base = workdir / Path(job.app_dir).name
    shutil.copytree(job.app_dir, base, ignore=_COPY_IGNORE, symlinks=False)
    (base / "node_modules").symlink_to(runtime / "node_modules", target_is_directory=True)
    if is_typescript(base):
        _tsc(runtime, base)
    spec = {
        "id": 0,
        "baseDir": str(base),
        "env": job.env,
        "home": str(base),
        "timeoutMs": int(APP_TIMEOUT * 1000),
        "loadedFile": str(workdir / "loaded_config.json"),
    }
    (workdir / "jobs.json").write_text(json.dumps([spec]))
    proc = subprocess.Popen(
        ["node", str(workdir / "launcher.mjs"), str(job.major), str(workdir / "jobs.json")],
        cwd=workdir,
        env=_node_env(workdir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=APP_TIMEOUT + 30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, _ = proc.communicate()
    res = None
    for line in out.splitlines():
        if line.startswith(MARK):
            msg = json.loads(line[len(MARK):])
            if msg.get("id") == 0 and "ok" in msg:
                res = msg
    if not res or not res["ok"]:
        why = res["error"] if res else f"launcher exited ({proc.returncode}) before reporting"
        tail = "\n".join(out.splitlines()[-30:])
        raise EggStartError(f"{Path(job.app_dir).name} (egg {job.major}): {why}\n--- launcher output ---\n{tail}")
    dump = _read_dump(spec, runtime, job.major, egg_version(runtime), raw=raw)
    if not raw and str(workdir) in json.dumps(dump):
        # a path normalization does not know (e.g. another app's dir): a recording would rot
        raise EggStartError(f"{Path(job.app_dir).name}: dump holds temp paths outside {{baseDir}}/{{runtime}}")
    return dump


def dump_configs(
    jobs: Iterable[Job], *, raw: bool = False, workers: int | None = None, return_errors: bool = False
) -> list:
    """Dump every job's app (see `dump_config`), `workers` (default: the cores) at a time.

    Runtimes are installed first (RuntimeUnavailable if that fails). An app that produces no
    dump raises EggStartError naming every such app. With `return_errors` nothing is raised:
    the EggStartError or RuntimeUnavailable takes the app's place in the result list, so one
    major can run live while the other cannot.
    """
    from concurrent.futures import ThreadPoolExecutor

    jobs = list(jobs)
    majors = sorted({j.major for j in jobs})

    def install(major: int) -> Path | RuntimeUnavailable:
        try:
            return Path(os.path.realpath(ensure_runtime(major)))
        except RuntimeUnavailable as exc:
            if not return_errors:
                raise
            return exc

    with ThreadPoolExecutor(max_workers=len(majors) or 1) as pool:  # two cold installs at once
        runtimes = dict(zip(majors, pool.map(install, majors), strict=True))
    with tempfile.TemporaryDirectory(prefix="eggrt-") as tmp_name:
        tmp = Path(os.path.realpath(tmp_name))

        def run(i_job):
            i, job = i_job
            if isinstance(runtimes[job.major], RuntimeUnavailable):
                return runtimes[job.major]
            try:
                return _run_one(job, runtimes[job.major], tmp / f"app{i}", raw)
            except EggStartError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
            results = list(pool.map(run, enumerate(jobs)))
    errors = [str(r) for r in results if isinstance(r, EggStartError)]
    if errors and not return_errors:
        raise EggStartError("Egg produced no dump for:\n" + "\n\n".join(errors))
    return results


def dump_config(app_dir: Path, major: int, env: str | None = "prod", *, raw: bool = False) -> dict:
    """Egg's own resolved config for one app: {config, plugins, meta} as Egg writes them to
    run/application_config{,_meta}.json, plus `appInfo`, `env`, `egg` {major, version} and
    `loaded_config`. `env=None` lets Egg choose (config/env, ...). Paths are normalized
    (`{baseDir}`, `{runtime}`) unless `raw`."""
    return dump_configs([Job(Path(app_dir), major, env)], raw=raw)[0]


def dump_fixtures(names: Iterable[str], *, return_errors: bool = False) -> dict[str, dict]:
    """Dump the named fixture apps, each on the egg major and in the env it declares."""
    names = list(names)
    jobs = [Job(fixture_dir(n), fixture_major(fixture_dir(n)), fixture_env(fixture_dir(n))) for n in names]
    return dict(zip(names, dump_configs(jobs, return_errors=return_errors), strict=True))


def _read_dump(spec: dict, runtime: Path, major: int, version: str, *, raw: bool) -> dict:
    base = Path(spec["baseDir"])
    run = base / "run"
    doc = json.loads((run / "application_config.json").read_text())
    meta = json.loads((run / "application_config_meta.json").read_text())
    loaded = json.loads(Path(spec["loadedFile"]).read_text())
    dump = {
        "env": doc["appInfo"]["env"],
        "egg": {"major": major, "version": version},
        "config": doc["config"],
        "plugins": doc["plugins"],
        "appInfo": doc["appInfo"],
        "meta": meta,
        # The config right after the loader merged the files, before any plugin boot code ran
        # (see launcher.mjs); same masking and encoding as `config`.
        "loaded_config": loaded["config"],
    }
    if raw:
        return dump
    return normalize_paths(dump, {str(base): "{baseDir}", str(runtime): "{runtime}"})


def normalize_paths(obj, mapping: dict[str, str]):
    """Replace absolute paths (longest first) in every string and key, so dumps taken in
    different temp dirs or caches are equal."""
    pairs = sorted(mapping.items(), key=lambda kv: -len(kv[0]))

    def fix(s: str) -> str:
        for src, dst in pairs:
            if src in s:
                s = s.replace(src, dst)
        return s

    def walk(v):
        if isinstance(v, str):
            return fix(v)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {fix(k): walk(x) for k, x in v.items()}
        return v

    return walk(obj)


# ---------------------------------------------------------------------------------------------
# recordings


def recording_path(name: str, env: str) -> Path:
    return fixture_dir(name) / f"egg-dump.{env}.json"


def load_recording(name: str, env: str) -> dict | None:
    p = recording_path(name, env)
    return json.loads(p.read_text()) if p.is_file() else None


def write_recording(name: str, dump: dict) -> Path:
    """Stable formatting (sorted keys off: Egg's key order is part of what we record)."""
    p = recording_path(name, dump["env"])
    p.write_text(json.dumps(dump, indent=1, ensure_ascii=False) + "\n")
    return p


#: Lines for the end of the pytest run (tests/conftest.py prints them): which oracle was used.
REPORT: list[str] = []


def report(line: str) -> None:
    print(line)
    REPORT.append(line)


def timed(fn, *args, **kwargs):
    """(result, seconds): the oracle reports what its phases cost, to keep the suite under budget."""
    t0 = time.monotonic()
    res = fn(*args, **kwargs)
    return res, time.monotonic() - t0

