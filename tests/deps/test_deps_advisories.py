"""Advisory sources: the bundled snapshot, eggshield's Egg file, and a live OSV refresh (local server)."""

from __future__ import annotations

import json

import pytest
from deps_helpers import OsvServer, free_port

from eggshield.deps.advisories import AdvisoryDB
from eggshield.deps.advisories.bundled import bundled_sources, data_dir
from eggshield.deps.advisories.interface import Advisory, cvss3_base_score
from eggshield.deps.advisories.live import LiveOsvSource
from eggshield.deps.registry import RegistryError


def _ids(db, name, version):
    return {a.id for a in db.match(name, version)}


def test_bundled_snapshot_matches_known_advisories():
    db = AdvisoryDB()
    assert "GHSA-c9j3-wqph-5xx9" in _ids(db, "egg-scripts", "2.8.0")
    assert _ids(db, "egg-scripts", "2.8.1") == set()
    assert {"GHSA-35jh-r3h4-6jhm", "GHSA-p6mc-m468-83gw"} <= _ids(db, "lodash", "4.17.15")
    assert "GHSA-x77j-w7wf-fjmw" in _ids(db, "nunjucks", "3.2.3") and not _ids(db, "nunjucks", "3.2.4")
    assert "GHSA-pxg6-pf52-xh8x" in _ids(db, "cookie", "0.6.0") and not _ids(db, "cookie", "0.7.0")
    # a version given by `versions` only (not a range) is matched exactly
    withdrawn = {line.split("\t")[0] for line in (data_dir() / "excluded-withdrawn.tsv").read_text().splitlines()[1:]}
    assert not any(a.id in withdrawn for s in bundled_sources() for a in s.advisories_for("marked"))


def test_egg_advisories_without_public_ids_have_exact_boundaries():
    db = AdvisoryDB()
    for version, hit in (("2.6.1", False), ("2.7.0", True), ("3.7.0", True), ("3.8.1", False)):
        assert ("EGGSHIELD-2026-0001" in _ids(db, "egg-security", version)) is hit, version
    for version, hit in (("4.0.1", True), ("4.0.2", False), ("5.0.0-beta.18", True), ("5.0.2-beta.9", True)):
        assert ("EGGSHIELD-2026-0001" in _ids(db, "@eggjs/security", version)) is hit, version
    egg_file = json.loads((data_dir() / "egg-advisories.json").read_text())
    for record in egg_file["records"]:
        assert record["database_specific"]["sources"], record["id"]  # every claim names how it was verified


def test_the_license_notice_ships_with_the_data():
    text = (data_dir() / "ADVISORIES.md").read_text()
    assert "CC-BY-4.0" in text and "GitHub Advisory Database" in text


def test_severity_from_database_then_cvss():
    rec = {"id": "X-1", "summary": "s", "affected": [],
           "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}
    assert Advisory.from_osv(rec, "t").severity == "critical"
    rec["database_specific"] = {"severity": "LOW"}
    assert Advisory.from_osv(rec, "t").severity == "low"
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == 9.8
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:H/A:N") == 5.9
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H") == 10.0
    assert cvss3_base_score("garbage") is None


NEW = {"id": "GHSA-test-live-0001", "summary": "Prototype pollution in ms (test record)",
       "modified": "2026-11-30T00:00:00Z", "database_specific": {"severity": "HIGH"},
       "affected": [{"package": {"ecosystem": "npm", "name": "ms"},
                     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.1.4"}]}]},
                    {"package": {"ecosystem": "PyPI", "name": "ms"}, "versions": ["1.0"]}],
       "references": [{"type": "WEB", "url": f"https://example.test/{i}"} for i in range(5)],
       "details": "x" * 2000}


@pytest.fixture(scope="module")
def osv():
    srv = OsvServer([NEW])
    yield srv
    srv.close()


def test_live_refresh_adds_records_in_the_snapshot_format(osv, tmp_path):
    live = LiveOsvSource(api=osv.url.rstrip("/"), cache_dir=tmp_path)
    assert live.refresh([("ms", "2.1.3"), ("lodash", "4.17.21")]) == 1
    stored = [json.loads(line) for line in live.path.read_text().splitlines()]
    assert [r["id"] for r in stored] == ["GHSA-test-live-0001"]
    assert len(stored[0]["details"]) == 500 and len(stored[0]["references"]) == 3
    assert [a["package"]["ecosystem"] for a in stored[0]["affected"]] == ["npm"]
    # used next to the bundled sources, and readable offline by a new process
    db = AdvisoryDB([LiveOsvSource(api=osv.url.rstrip("/"), cache_dir=tmp_path), *bundled_sources()])
    assert "GHSA-test-live-0001" in _ids(db, "ms", "2.1.3")
    osv.requests.clear()
    assert live.refresh([("ms", "2.1.3")]) == 0  # nothing newer: the record is not fetched again
    assert osv.requests == ["/v1/querybatch"]


def test_unreachable_api_is_one_line_and_not_retried_every_run(tmp_path):
    live = LiveOsvSource(api=f"http://127.0.0.1:{free_port()}", cache_dir=tmp_path, retries=0)
    with pytest.raises(RegistryError) as err:
        live.refresh([("ms", "2.1.3")])
    assert "advisory refresh failed" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(RegistryError, match="not retried for 60 minutes"):
        live.refresh([("ms", "2.1.3")])
