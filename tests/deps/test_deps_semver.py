"""npm semver semantics: node-semver's own fixture tables, a differential run against the
node-semver inside npm, and OSV range events evaluated with npm's version order."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from eggshield.deps import semver as S

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "semver" / "node-semver-fixtures.json").read_text())


def _opts(row: list, index: int) -> dict:
    """node-semver's parseOptions: falsy -> {}, non-object truthy -> loose, object -> as is."""
    o = row[index] if len(row) > index else None
    if not o:
        return {"loose": False, "include_prerelease": False}
    if isinstance(o, dict) and not ({"$regexp", "$object"} & o.keys()):
        return {"loose": bool(o.get("loose")), "include_prerelease": bool(o.get("includePrerelease"))}
    return {"loose": True, "include_prerelease": False}


@pytest.mark.parametrize("row", FIXTURES["range-include"], ids=lambda r: f"{r[0]!r}~{r[1]!r}")
def test_node_semver_range_include(row):
    assert S.satisfies(row[1], row[0], **_opts(row, 2))


@pytest.mark.parametrize("row", FIXTURES["range-exclude"], ids=lambda r: f"{r[0]!r}!~{r[1]!r}")
def test_node_semver_range_exclude(row):
    assert not S.satisfies(row[1], row[0], **_opts(row, 2))


@pytest.mark.parametrize("row", FIXTURES["range-parse"], ids=lambda r: repr(r[0]))
def test_node_semver_range_desugaring(row):
    # the canonical comparator string node-semver builds (None = not a valid range)
    assert S.valid_range(row[0], **_opts(row, 2)) == row[1]


def test_node_semver_comparisons_and_equality():
    for row in FIXTURES["comparisons"]:
        loose = _opts(row, 2)["loose"]
        assert S.compare(row[0], row[1], loose) == 1, row
        assert S.compare(row[1], row[0], loose) == -1, row
    for row in FIXTURES["equality"]:
        assert S.compare(row[0], row[1], _opts(row, 2)["loose"]) == 0, row


def test_node_semver_valid_and_invalid_versions():
    for text, major, minor, patch, pre, build in FIXTURES["valid-versions"]:
        v = S.parse(text)
        assert v is not None, text
        assert (v.major, v.minor, v.patch, list(v.prerelease), list(v.build)) == (major, minor, patch, pre, build)
    for row in FIXTURES["invalid-versions"]:
        value = row[0] if isinstance(row[0], str) else None
        assert value is None or S.parse(value, loose=_opts(row, 2)["loose"]) is None, row[1]


VERSIONS = ["0.0.0", "0.0.1", "0.1.0", "0.1.9", "0.2.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2",
            "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.3-pr.1", "1.2.3", "1.2.4-alpha", "1.2.4", "1.3.0", "1.9.9",
            "2.0.0-0", "2.0.0", "2.1.3", "3.8.0", "3.8.1", "4.0.1", "4.0.2", "5.0.0-beta.18", "5.0.2-beta.9",
            "10.0.0", "1.2.3+build.5", "v1.2.3", "=1.2.3", "1.2", "x"]
RANGES = ["*", "", "^0.0.1", "^0.1.0", "^1.2.3", "^1.2.3-pr.0", "~1.2", "~1.2.3", "~0.1", "1.x", "1.2.x || 2.x",
          ">=1.0.0 <2.0.0", ">1.0.0-alpha <1.0.0", "1.0.0 - 2.0.0", "1.2 - 3", "<=1.2", ">1", "<2.0.0-0",
          ">=2.7.0 <3.8.1", "^3 || ^4.0.2", "4.0.x", ">=5.0.0-0 <=5.0.2-beta.9", "1.2.3 || >=4", "latest",
          "~> 1.2", ">= 1.0.0", "^ 1.2", "x.x.x", "<0.0.0-0", "1.2.3 - 2.x"]


def test_agrees_with_the_node_semver_npm_ships():
    """Every (range, version, options) cell of a grid, asked of npm's own node-semver in one node run."""
    npm_root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, check=True).stdout.strip()
    semver_dir = Path(npm_root) / "npm" / "node_modules" / "semver"
    assert semver_dir.is_dir(), f"npm's node-semver not found under {npm_root}"
    cells = [(r, v, o) for r in RANGES for v in VERSIONS for o in (0, 1, 2)]
    script = (
        "const s=require(process.argv[1]);const cells=JSON.parse(require('fs').readFileSync(0,'utf8'));"
        "const opt=[{}, {loose:true}, {includePrerelease:true}];"
        "process.stdout.write(JSON.stringify(cells.map(([r,v,o])=>[s.satisfies(v,r,opt[o]), s.validRange(r,opt[o])])))"
    )
    out = subprocess.run([shutil.which("node") or "node", "-e", script, str(semver_dir)], input=json.dumps(cells),
                         capture_output=True, text=True, check=True, timeout=60)
    expected = json.loads(out.stdout)
    mismatches = []
    for (r, v, o), (sat, valid) in zip(cells, expected, strict=True):
        kw = [{}, {"loose": True}, {"include_prerelease": True}][o]
        got = (S.satisfies(v, r, **kw), S.valid_range(r, **kw))
        if got != (sat, valid):
            mismatches.append((r, v, o, got, (sat, valid)))
    assert not mismatches, mismatches[:10]


def _affects(events, version):
    return S.osv_range_affects(events, S.parse(version, True))


def test_osv_introduced_fixed_with_prereleases():
    ev = [{"introduced": "0"}, {"fixed": "4.0.2"}]
    assert _affects(ev, "4.0.1")
    assert _affects(ev, "4.0.2-beta.1")  # a prerelease of the fix is still before it, as npm audit sees it
    assert not _affects(ev, "4.0.2")
    assert not _affects(ev, "5.0.0-beta.18")


def test_osv_several_introduced_fixed_pairs_and_last_affected():
    ev = [{"introduced": "2.7.0"}, {"fixed": "3.0.0"}, {"introduced": "3.1.0"}, {"fixed": "3.8.1"}]
    assert not _affects(ev, "2.6.1")
    assert _affects(ev, "2.7.0")
    assert not _affects(ev, "3.0.5")  # between a fix and the next introduction
    assert _affects(ev, "3.7.0")
    assert not _affects(ev, "3.8.1")
    la = [{"introduced": "5.0.0-0"}, {"last_affected": "5.0.2-beta.9"}]
    assert _affects(la, "5.0.0-beta.18") and _affects(la, "5.0.2-beta.9")
    assert not _affects(la, "5.0.2") and not _affects(la, "4.9.9")


def test_osv_limit_and_junk_events():
    assert not _affects([{"introduced": "1.0.0"}, {"limit": "2.0.0"}], "2.5.0")
    assert _affects([{"introduced": "1.0.0"}, {"limit": "2.0.0"}], "1.5.0")
    # unparsable event versions are skipped, not guessed at; wrong types are ignored
    assert not _affects([{"introduced": "not-a-version"}], "1.0.0")
    assert _affects([{"introduced": "1.0.0"}, "junk", {"fixed": 7}], "1.0.1")


def test_max_satisfying_and_diff_match_npm():
    vs = ["1.2.3", "1.2.4", "1.3.0-beta", "1.3.0", "2.0.0"]
    assert S.max_satisfying(vs, "^1.2.3") == "1.3.0"
    assert S.max_satisfying(vs, "~1.2.3") == "1.2.4"
    assert S.max_satisfying(vs, ">=3") is None
    assert S.diff("4.17.15", "4.17.21") == "patch"
    assert S.diff("3.7.0", "3.8.1") == "minor"
    assert S.diff("2.3.0", "3.0.0") == "major"
    assert S.diff("1.0.0-1", "1.0.0") == "major"


def test_hostile_ranges_are_rejected_quickly():
    assert S.parse_range("1" * 100_000) is None
    assert S.parse_range("^" + "1." * 50_000) is None
    assert S.parse("9007199254740992.0.0") is None  # above MAX_SAFE_INTEGER, as node-semver
    assert S.valid_range(">=1.0.0 " * 2000) == ">=1.0.0"
