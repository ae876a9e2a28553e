"""Egg is the oracle for the CSRF and header rules: what eggshield claims a config does, real Egg does.

Two deliberately weakened apps (tests/fixtures/security-live/) are started on real egg 3 and
egg 4 (tests/eggrt/server.py), once per module, and sent the requests that decide each rule's
claim: a JSON POST without a token passes (ignoreJSON), `/apix` is not under the `/api`
exemption (path-to-regexp prefixes are whole segments), PUT goes unchecked, a JSONP endpoint
answers a foreign Referer, no Referrer-Policy is sent although it is enabled, the CSP nonce
neutralises 'unsafe-inline', and so on. Where no runtime can be had (offline, nothing cached),
the responses recorded from an earlier live run (observed.egg<major>.json) stand in; a live run
that differs from its recording fails, so recordings cannot rot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import eggrt
from eggrt.server import EggServer
from eggshield.pipeline import scan

HERE = Path(__file__).resolve().parent / "fixtures" / "security-live"
APPS = ("csrf-weak", "headers-weak")
MAJORS = (3, 4)
RECORD = bool(os.environ.get("EGGSHIELD_TEST_RECORD"))

# (id, method, path, headers, body): what each app is asked
REQUESTS = {
    "csrf-weak": [
        ("api-exempt", "POST", "/api/order", {"content-type": "application/x-www-form-urlencoded"}, b"a=1"),
        ("apix-checked", "POST", "/apix", {"content-type": "application/x-www-form-urlencoded"}, b"a=1"),
        ("json-skipped", "POST", "/form", {"content-type": "application/json"}, b'{"a":1}'),
        ("form-checked", "POST", "/form", {"content-type": "application/x-www-form-urlencoded"}, b"a=1"),
        ("put-unchecked", "PUT", "/thing", {"content-type": "application/x-www-form-urlencoded"}, b"a=1"),
        ("jsonp-open", "GET", "/jsonp?callback=cb", {"referer": "https://evil.test/"}, None),
        ("jsonp-whitelisted", "GET", "/jsonp-safe?callback=cb", {"referer": "https://evil.test/"}, None),
    ],
    "headers-weak": [("home", "GET", "/", {}, None)],
}
KEPT_HEADERS = ("strict-transport-security", "content-security-policy", "x-frame-options", "x-content-type-options",
                "referrer-policy", "x-xss-protection")


def _request(base: str, method: str, path: str, headers: dict, body: bytes | None) -> dict:
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20) as res:
            status, got, text = res.status, res.headers, res.read(200).decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        status, got, text = err.code, err.headers, err.read(200).decode("utf-8", "replace")
    kept = {k: re.sub(r"nonce-[A-Za-z0-9_-]+", "nonce-<random>", got[k]) for k in KEPT_HEADERS if got.get(k)}
    return {"status": status, "headers": kept, "body": text[:60]}


def _app_copy(name: str, major: int, root: Path) -> Path:
    dst = root / f"{name}-egg{major}"
    shutil.copytree(HERE / name, dst)
    pkg = json.loads((dst / "package.json").read_text())
    pkg["dependencies"]["egg"] = f"^{major}.0.0" if major == 4 else "^3.17.0"
    (dst / "package.json").write_text(json.dumps(pkg))
    return dst


def _observe(name: str, major: int, root: Path) -> tuple[dict, str]:
    """(responses, "live"/"recorded") for one app on one egg major."""
    recording = HERE / name / f"observed.egg{major}.json"
    try:
        with EggServer(_app_copy(name, major, root), env="prod") as server:
            seen = {rid: _request(server.url, *req) for rid, *req in REQUESTS[name]}
    except eggrt.RuntimeUnavailable as exc:
        if not exc.offline or not recording.is_file():
            raise
        return json.loads(recording.read_text()), "recorded"
    if RECORD or not recording.is_file():
        recording.write_text(json.dumps(seen, indent=1, sort_keys=True) + "\n")
    return seen, "live"


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    root = tmp_path_factory.mktemp("security-live")
    jobs = [(name, major) for name in APPS for major in MAJORS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(jobs, pool.map(lambda j: _observe(*j, root), jobs), strict=True))
    eggrt.report("security-live: " + ", ".join(f"{n}@egg{m} {how}" for (n, m), (_, how) in results.items()))
    return results


def _findings(name: str, major: int, tmp_path: Path) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in scan(_app_copy(name, major, tmp_path)).report.findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


@pytest.mark.parametrize("major", MAJORS)
def test_recordings_cover_every_request_and_match_live_egg(observed, major):
    for name in APPS:
        seen, how = observed[(name, major)]
        recorded = json.loads((HERE / name / f"observed.egg{major}.json").read_text())
        assert set(recorded) == {rid for rid, *_ in REQUESTS[name]}, f"re-record {name} (EGGSHIELD_TEST_RECORD=1)"
        if how == "live":
            assert seen == recorded, f"{name} on egg {major} no longer behaves as recorded"


@pytest.mark.parametrize("major", MAJORS)
def test_csrf_rules_agree_with_egg(observed, major, tmp_path):
    seen, _ = observed[("csrf-weak", major)]
    status = {rid: r["status"] for rid, r in seen.items()}
    assert status == {"api-exempt": 200, "apix-checked": 403, "json-skipped": 200, "form-checked": 403,
                      "put-unchecked": 200, "jsonp-open": 200, "jsonp-whitelisted": 403}
    assert "cb(" in seen["jsonp-open"]["body"]  # the foreign page gets the data
    found = _findings("csrf-weak", major, tmp_path)
    assert [f.severity for f in found["EGG-CSRF-002"]] == ["medium"]  # what json-skipped shows
    [prefix] = found["EGG-CSRF-003"]
    assert "everything under `/api`" in prefix.message and "/apix" not in prefix.message
    [put] = found["EGG-CSRF-005"]
    assert put.severity == "low" and "PUT on /thing" in put.message and "POST" not in put.message
    assert [f.location.line for f in found["EGG-CSRF-008"]] == [8]  # /jsonp, not /jsonp-safe
    assert "EGG-CSRF-009" not in found and "EGG-CSRF-001" not in found


@pytest.mark.parametrize("major", MAJORS)
def test_header_rules_agree_with_egg(observed, major, tmp_path):
    headers = observed[("headers-weak", major)][0]["home"]["headers"]
    assert "referrer-policy" not in headers  # enabled, yet silently not sent: EGG-HDR-009
    assert headers["content-security-policy"] == "script-src 'self' 'unsafe-inline' 'nonce-<random>';" \
        "object-src 'none';base-uri 'self'"  # the nonce neutralises 'unsafe-inline': no EGG-HDR-005
    assert headers["x-frame-options"] == "ALLOW-FROM https://partner.example"  # sent as is: EGG-HDR-007
    assert "x-content-type-options" not in headers  # EGG-HDR-008
    assert headers["strict-transport-security"] == "max-age=86400"  # EGG-HDR-003, both parts
    assert headers["x-xss-protection"] == "0"
    found = _findings("headers-weak", major, tmp_path)
    assert set(found) >= {"EGG-HDR-003", "EGG-HDR-007", "EGG-HDR-008", "EGG-HDR-009"}
    assert {f.config_key for f in found["EGG-HDR-003"]} == {"security.hsts.maxAge", "security.hsts.includeSubdomains"}
    assert not {"EGG-HDR-002", "EGG-HDR-004", "EGG-HDR-005", "EGG-HDR-011"} & set(found)
