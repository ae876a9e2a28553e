"""The npm registry the user's npm uses: latest versions, release dates, deprecations.

The registry URL comes from the user's own npm configuration, never from us: the
`npm_config_registry` environment variable, the project's `.npmrc`, the user's `.npmrc`, and
finally `npm config get registry` (which also knows npm's built-in default). Scoped
registries (`@corp:registry=`) are honoured. Responses are cached on disk with a TTL and
revalidated with ETags; requests run with bounded concurrency, timeouts and retries with
backoff; `offline=True` answers from the cache only. Nothing here authenticates: a registry
that demands a token is reported as such.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from eggshield import __version__

CACHE_FORMAT = 2  # bump when Packument keeps different fields: old cache entries are then ignored
ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
USER_AGENT = f"eggshield/{__version__} (+dependency audit)"
_ENV_REF = re.compile(r"\$\{([^}]+)\}")


class RegistryError(Exception):
    """One line: what failed for which package (or the registry as a whole)."""


@dataclass(frozen=True)
class RegistryConfig:
    url: str  # with a trailing slash
    source: str  # where it came from: "npm_config_registry", ".npmrc (project)", "npm config get registry"
    scopes: tuple[tuple[str, str], ...] = ()  # ("@corp", "https://npm.corp.example/")

    def url_for(self, name: str) -> str:
        base = self.url
        if name.startswith("@"):
            scope = name.split("/", 1)[0]
            for s, u in self.scopes:
                if s == scope:
                    base = u
        return base + urllib.parse.quote(name, safe="@")


def _read_npmrc(path: Path, env: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip().strip('"').strip("'")
        value = _ENV_REF.sub(lambda m: env.get(m.group(1), ""), value)
        out[key.strip()] = value
    return out


def _norm(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def registry_config(project_dir: Path | None = None, env: dict | None = None,
                    npm: str | None = "npm") -> RegistryConfig:
    """The registry npm would use for a project in `project_dir`; RegistryError when none is known."""
    env = dict(os.environ if env is None else env)
    lowered = {k.lower(): v for k, v in env.items()}
    files: list[tuple[str, Path]] = []
    if project_dir is not None:
        files.append((".npmrc (project)", Path(project_dir) / ".npmrc"))
    userconfig = lowered.get("npm_config_userconfig") or str(Path(env.get("HOME", str(Path.home()))) / ".npmrc")
    files.append((".npmrc (user)", Path(userconfig)))
    configs = [(label, _read_npmrc(p, env)) for label, p in files]
    scopes: dict[str, str] = {}
    for _, conf in reversed(configs):  # project settings win over the user's
        for k, v in conf.items():
            if k.startswith("@") and k.endswith(":registry") and v.startswith(("http://", "https://")):
                scopes[k[: -len(":registry")]] = _norm(v)
    scoped = tuple(sorted(scopes.items()))
    explicit = lowered.get("npm_config_registry")
    if explicit:
        return RegistryConfig(_norm(explicit), "npm_config_registry", scoped)
    for label, conf in configs:
        if conf.get("registry", "").startswith(("http://", "https://")):
            return RegistryConfig(_norm(conf["registry"]), label, scoped)
    exe = shutil.which(npm, path=env.get("PATH")) if npm else None
    if exe:
        try:
            out = subprocess.run([exe, "config", "get", "registry"], cwd=str(project_dir or Path.cwd()),
                                 capture_output=True, text=True, timeout=30, env=env)
            url = out.stdout.strip()
            if out.returncode == 0 and url.startswith(("http://", "https://")):
                return RegistryConfig(_norm(url), "npm config get registry", scoped)
        except (OSError, subprocess.SubprocessError):
            pass
    raise RegistryError("no npm registry configured: set npm_config_registry or `registry=` in .npmrc "
                        "(or install npm so `npm config get registry` can answer)")


@dataclass
class Packument:
    """What eggshield keeps of a registry document: tags, versions (with deprecations), dates."""

    name: str
    dist_tags: dict[str, str] = field(default_factory=dict)
    versions: dict[str, dict] = field(default_factory=dict)  # version -> {"deprecated": str?}
    time: dict[str, str] = field(default_factory=dict)  # version -> ISO date (full documents only)
    modified: str = ""
    fetched_at: float = 0.0
    cached: bool = False  # answered from the disk cache, not the network
    full: bool = False

    @property
    def latest(self) -> str | None:
        return self.dist_tags.get("latest")

    def peers(self, version: str) -> dict[str, str]:
        p = self.versions.get(version, {}).get("peerDependencies")
        return p if isinstance(p, dict) else {}

    def tarball(self, version: str) -> str | None:
        t = self.versions.get(version, {}).get("tarball")
        return t if isinstance(t, str) else None

    def deprecated(self, version: str) -> str | None:
        d = self.versions.get(version, {}).get("deprecated")
        return d if isinstance(d, str) and d else None

    @classmethod
    def from_document(cls, name: str, doc: dict, full: bool) -> Packument:
        if not isinstance(doc, dict):
            raise RegistryError(f"{name}: registry answer is not a JSON object")
        tags = doc.get("dist-tags") if isinstance(doc.get("dist-tags"), dict) else {}
        versions: dict[str, dict] = {}
        raw_versions = doc.get("versions") if isinstance(doc.get("versions"), dict) else {}
        for v, meta in raw_versions.items():
            if not isinstance(v, str):
                continue
            kept: dict = {}
            if isinstance(meta, dict):
                dep = meta.get("deprecated")
                if isinstance(dep, str) and dep:
                    kept["deprecated"] = dep
                # what `deps plan` needs, present in both document forms: peer ranges, the tarball
                peers = meta.get("peerDependencies")
                if isinstance(peers, dict) and peers:
                    kept["peerDependencies"] = {k: x for k, x in peers.items()
                                                if isinstance(k, str) and isinstance(x, str)}
                dist = meta.get("dist")
                if isinstance(dist, dict) and isinstance(dist.get("tarball"), str):
                    kept["tarball"] = dist["tarball"]
                elif isinstance(meta.get("tarball"), str):  # our own cache format
                    kept["tarball"] = meta["tarball"]
            versions[v] = kept
        times = doc.get("time") if isinstance(doc.get("time"), dict) else {}
        return cls(name=name, dist_tags={k: v for k, v in tags.items() if isinstance(v, str)}, versions=versions,
                   time={k: v for k, v in times.items() if isinstance(v, str)},
                   modified=str(doc.get("modified") or times.get("modified") or ""), full=full)

    def to_cache(self) -> dict:
        return {"name": self.name, "dist-tags": self.dist_tags, "versions": self.versions, "time": self.time,
                "modified": self.modified, "full": self.full}

    @classmethod
    def from_cache(cls, data: dict, fetched_at: float) -> Packument:
        p = cls.from_document(data.get("name", "?"), data, bool(data.get("full")))
        p.fetched_at, p.cached = fetched_at, True
        return p


def default_cache_dir() -> Path:
    explicit = os.environ.get("EGGSHIELD_CACHE")
    base = Path(explicit) if explicit else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "eggshield"
    return base


class HttpClient:
    """JSON over HTTP with a timeout, retries with exponential backoff, and one-line errors."""

    def __init__(self, timeout: float = 15.0, retries: int = 2, backoff: float = 0.5):
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def request(self, url: str, *, data: bytes | None = None, headers: dict | None = None,
                method: str | None = None) -> tuple[int, dict, bytes]:
        """(status, headers, body); 304 is returned, other 4xx raise at once, 5xx/429/network retry."""
        hdrs = {"User-Agent": USER_AGENT, **(headers or {})}
        last = ""
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - http(s) only
                    return resp.status, dict(resp.headers), resp.read(64 * 1024 * 1024 + 1)
            except urllib.error.HTTPError as exc:
                if exc.code == 304:
                    return 304, dict(exc.headers or {}), b""
                if exc.code == 404:
                    raise RegistryError(f"{_short(url)}: not found (404)") from None
                if exc.code in (401, 403):
                    raise RegistryError(f"{_short(url)}: the registry requires authentication ({exc.code}); "
                                        "eggshield does not send credentials") from None
                if exc.code not in (429, 500, 502, 503, 504):
                    raise RegistryError(f"{_short(url)}: HTTP {exc.code} {exc.reason}") from None
                last = f"HTTP {exc.code} {exc.reason}"
                retry_after = (exc.headers or {}).get("Retry-After") if exc.code == 429 else None
                delay = float(retry_after) if retry_after and retry_after.isdigit() else None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                last = f"{type(reason).__name__ if not isinstance(reason, str) else 'error'}: {reason}"
                if "timed out" in str(reason):
                    last = f"timed out after {self.timeout:g}s"
                delay = None
            if attempt < self.retries:
                time.sleep(min(delay if delay is not None else self.backoff * (2 ** attempt), 30))
        raise RegistryError(f"{_short(url)}: {last} (after {self.retries + 1} attempts)")


def _short(url: str) -> str:
    return url if len(url) < 120 else url[:117] + "..."


class RegistryClient:
    """Packuments for many packages at once, from a disk cache or the registry."""

    def __init__(self, config: RegistryConfig | None, *, cache_dir: Path | None = None, ttl: float = 3600.0,
                 offline: bool = False, concurrency: int = 8, timeout: float = 15.0, retries: int = 2,
                 backoff: float = 0.5):
        self.config = config
        self.cache_dir = (cache_dir or default_cache_dir()) / "registry"
        self.ttl = ttl
        self.offline = offline or config is None
        self.concurrency = max(1, concurrency)
        self.http = HttpClient(timeout=timeout, retries=retries, backoff=backoff)
        self.requests = 0  # network requests made (for reports and tests)
        self._lock = threading.Lock()

    def _cache_path(self, name: str, full: bool) -> Path:
        reg = self.config.url_for(name) if self.config else name
        digest = hashlib.sha256(f"{CACHE_FORMAT}|{reg}|{'full' if full else 'abbrev'}".encode()).hexdigest()[:32]
        return self.cache_dir / digest[:2] / f"{digest}.json"

    def _read_cache(self, name: str, full: bool) -> tuple[Packument | None, str | None, float]:
        for want_full in ((True,) if full else (False, True)):
            path = self._cache_path(name, want_full)
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
                return Packument.from_cache(entry["data"], entry["fetched_at"]), entry.get("etag"), entry["fetched_at"]
            except (OSError, ValueError, KeyError, TypeError, RegistryError):
                continue
        return None, None, 0.0

    def _write_cache(self, name: str, full: bool, pack: Packument, etag: str | None) -> None:
        path = self._cache_path(name, full)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps({"fetched_at": pack.fetched_at, "etag": etag, "data": pack.to_cache()}),
                           encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs a refetch

    def fetch(self, name: str, full: bool = False) -> Packument:
        cached, etag, fetched = self._read_cache(name, full)
        fresh = cached is not None and (time.time() - fetched) < self.ttl
        if fresh or (self.offline and cached is not None):
            return cached  # type: ignore[return-value]
        if self.offline:
            raise RegistryError(f"{name}: not in the local registry cache (offline)")
        headers = {"Accept": "application/json" if full else ABBREVIATED}
        if etag and cached is not None:
            headers["If-None-Match"] = etag
        with self._lock:
            self.requests += 1
        try:
            status, resp_headers, body = self.http.request(self.config.url_for(name), headers=headers)  # type: ignore[union-attr]
        except RegistryError:
            if cached is not None:  # stale beats nothing; the report says which data is cached
                return cached
            raise
        now = time.time()
        if status == 304 and cached is not None:
            cached.fetched_at, cached.cached = now, False
            self._write_cache(name, full, cached, etag)
            return cached
        try:
            doc = json.loads(body)
        except ValueError:
            raise RegistryError(f"{name}: the registry answered with something that is not JSON") from None
        pack = Packument.from_document(name, doc, full)
        pack.fetched_at = now
        self._write_cache(name, full, pack, resp_headers.get("ETag") or resp_headers.get("etag"))
        return pack

    def fetch_many(self, names: Iterable[str], full: bool = False) -> dict[str, Packument | RegistryError]:
        names = sorted(set(names))
        out: dict[str, Packument | RegistryError] = {}

        def one(n: str) -> tuple[str, Packument | RegistryError]:
            try:
                return n, self.fetch(n, full)
            except RegistryError as exc:
                return n, exc

        if len(names) <= 1:
            return dict(one(n) for n in names)
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(names))) as pool:
            for n, result in pool.map(one, names):
                out[n] = result
        return out
