"""A live refresh of advisories from an OSV API, kept on disk in the snapshot's own format.

`refresh(packages)` asks `POST {api}/v1/querybatch` which advisories affect the installed
versions, fetches the records it does not have yet (`GET {api}/v1/vulns/{id}`) and appends
them, trimmed like the bundled snapshot, to `<cache>/advisories/live-osv.jsonl`. Reading
that file needs no network, so `--offline` still benefits from the last refresh. A failed
refresh is remembered for a while so an air-gapped cron job does not wait on every run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

from eggshield.deps.advisories.bundled import JsonlSource
from eggshield.deps.registry import HttpClient, RegistryError, default_cache_dir

DEFAULT_API = "https://api.osv.dev"
BATCH = 1000
FAILURE_TTL = 3600.0
_KEEP = ("id", "aliases", "summary", "details", "severity", "published", "modified", "database_specific",
         "affected", "references", "withdrawn")


def osv_api_url() -> str:
    return os.environ.get("EGGSHIELD_OSV_API", DEFAULT_API).rstrip("/")


def trim(record: dict) -> dict:
    """The snapshot's shape: npm entries only, details cut to 500 characters, 3 references."""
    out = {k: record[k] for k in _KEEP if k in record and record[k] not in (None, [], {}, "")}
    if isinstance(out.get("details"), str):
        out["details"] = out["details"][:500]
    affected = []
    for a in record.get("affected") or []:
        if isinstance(a, dict) and isinstance(a.get("package"), dict) and a["package"].get("ecosystem") == "npm":
            affected.append({k: a[k] for k in ("package", "ranges", "versions") if k in a})
    out["affected"] = affected
    if isinstance(out.get("references"), list):
        out["references"] = [{"type": r.get("type"), "url": r.get("url")} for r in out["references"][:3]
                             if isinstance(r, dict)]
    return out


class LiveOsvSource(JsonlSource):
    def __init__(self, api: str | None = None, cache_dir: Path | None = None, timeout: float = 10.0,
                 retries: int = 1):
        self.api = (api or osv_api_url()).rstrip("/")
        self.dir = (cache_dir or default_cache_dir()) / "advisories"
        super().__init__(self.dir / "live-osv.jsonl", f"live OSV refresh ({self.api})")
        self.http = HttpClient(timeout=timeout, retries=retries)
        self.last_error: str | None = None
        self.optional = True  # listed in reports only once a refresh stored something

    def _load(self):
        if not self.path.exists():
            self._index = {}
            return self._index
        return super()._load()

    def _records(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        try:
            with open(self.path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        r = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(r, dict) and isinstance(r.get("id"), str):
                        out[r["id"]] = r
        except OSError:
            pass
        return out

    def _failure_marker(self) -> Path:
        return self.dir / "live-osv.failed"

    def refresh(self, packages: Iterable[tuple[str, str]]) -> int:
        """Fetch what is new for these name@versions; returns how many records were added or
        updated. Raises RegistryError (one line) when the API cannot be used."""
        marker = self._failure_marker()
        try:
            if time.time() - marker.stat().st_mtime < FAILURE_TTL:
                raise RegistryError(f"{self.api}: unreachable at the last attempt ({marker.read_text().strip()}); "
                                    f"not retried for {int(FAILURE_TTL // 60)} minutes")
        except FileNotFoundError:
            pass
        queries = [{"package": {"name": n, "ecosystem": "npm"}, "version": v} for n, v in sorted(set(packages)) if v]
        have = self._records()
        wanted: dict[str, str] = {}
        try:
            for i in range(0, len(queries), BATCH):
                body = json.dumps({"queries": queries[i:i + BATCH]}).encode()
                status, _, raw = self.http.request(f"{self.api}/v1/querybatch", data=body, method="POST",
                                                   headers={"Content-Type": "application/json"})
                results = json.loads(raw).get("results", [])
                for res in results:
                    for vuln in (res or {}).get("vulns", []) or []:
                        if isinstance(vuln, dict) and isinstance(vuln.get("id"), str):
                            wanted[vuln["id"]] = str(vuln.get("modified", ""))
            changed = 0
            for vid, modified in sorted(wanted.items()):
                old = have.get(vid)
                if old is not None and str(old.get("modified", "")) >= modified:
                    continue
                _, _, raw = self.http.request(f"{self.api}/v1/vulns/{vid}")
                have[vid] = trim(json.loads(raw))
                changed += 1
        except (RegistryError, ValueError, AttributeError) as exc:
            self.dir.mkdir(parents=True, exist_ok=True)
            marker.write_text(str(exc).splitlines()[0][:200], encoding="utf-8")
            self.last_error = str(exc)
            raise RegistryError(f"advisory refresh failed: {exc}") from None
        marker.unlink(missing_ok=True)
        if changed:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for _, r in sorted(have.items())),
                           encoding="utf-8")
            os.replace(tmp, self.path)
            self._index = None
            self.count = 0
        return changed
