"""Every lockfile kind gives the same inventory; broken and hostile lockfiles give one clear line."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from deps_helpers import LOCKFILES, copy_fixture

from eggshield.deps.model import LockfileError
from eggshield.deps.sources import load_inventory
from eggshield.deps.sources.npm_lock import NpmLockSource
from eggshield.deps.sources.pnpm_lock import parse_key
from eggshield.deps.sources.yamlish import YamlError, parse

WORKSPACE_KINDS = ["npm2", "npm3", "shrinkwrap", "yarn1", "berry", "pnpm7", "pnpm8", "pnpm9"]
EXPECTED = {"lodash@4.17.15", "lodash@4.17.21", "minimist@1.2.0", "ms@2.0.0", "ms@2.1.3", "qs@6.5.2",
            "semver@5.7.0", "egg-security@3.7.0", "debug@2.6.8", "escape-html@1.0.3"}


def _idents(inv) -> set[str]:
    return {p.ident for p in inv.packages.values() if p.origin == "registry"}


@pytest.mark.parametrize("kind", WORKSPACE_KINDS)
def test_every_lockfile_kind_gives_the_same_tree(kind):
    inv = load_inventory(LOCKFILES / kind)
    assert _idents(inv) >= EXPECTED
    assert set(inv.importers) == {".", "packages/lib-a"}
    assert inv.problems == []
    # the alias `mini: npm:minimist@1.2.0` is audited under its real name
    assert [p.name for p in inv.packages.values() if p.version == "1.2.0" and "mini" in p.key] == ["minimist"]
    # devDependencies only: semver; everything egg-security needs is production
    dev = {p.ident for p in inv.packages.values() if p.dev}
    assert dev == {"semver@5.7.0"}
    # who pulls a package in, through the workspace too
    qs = next(k for k, p in inv.packages.items() if p.name == "qs")
    assert [inv.describe_path(p) for p in inv.paths_to({qs})[qs]] == ["lib-a > qs@6.5.2"]
    esc = next(k for k, p in inv.packages.items() if p.name == "escape-html")
    assert inv.describe_path(inv.paths_to({esc})[esc][0]).endswith("> egg-security@3.7.0 > escape-html@1.0.3")
    assert isinstance(inv.line_of(inv.packages[esc]), int)


def test_nested_copies_resolve_like_node():
    inv = load_inventory(LOCKFILES / "npm3")
    debug = next(k for k, p in inv.packages.items() if p.name == "debug")
    ms = [d.target for d in inv.edges[debug] if d.name == "ms"]
    assert ms == ["node_modules/debug/node_modules/ms"] and inv.packages[ms[0]].version == "2.0.0"
    lib_lodash = next(d.target for d in inv.importers["packages/lib-a"].deps if d.name == "lodash")
    assert inv.packages[lib_lodash].version == "4.17.21"


def test_lockfile_v1_and_the_versions_pnpm_writes():
    v1 = load_inventory(LOCKFILES / "npm1")
    assert v1.source == "package-lock.json v1"
    assert {"lodash@4.17.15", "qs@6.5.2", "minimist@1.2.0", "semver@5.7.0"} <= _idents(v1)
    assert {p.ident for p in v1.packages.values() if p.dev} == {"semver@5.7.0"}
    for kind, version in (("single7", "5.4"), ("single8", "6.0"), ("single9", "9.0")):
        inv = load_inventory(LOCKFILES / kind)
        assert inv.source == f"pnpm-lock.yaml v{version}"
        assert {"react-dom@16.14.0", "react@16.14.0", "scheduler@0.19.1", "ms@2.0.0"} <= _idents(inv)
        assert {p.ident for p in inv.packages.values() if p.optional} == {"ms@2.0.0"}


def test_pnpm_keys_of_every_generation():
    assert parse_key("/@babel/core/7.0.0_react@16.14.0", 5) == ("@babel/core", "7.0.0")
    assert parse_key("/react-dom@16.14.0(react@16.14.0)", 6) == ("react-dom", "16.14.0")
    assert parse_key("@eggjs/ip@2.1.0", 9) == ("@eggjs/ip", "2.1.0")
    assert parse_key("registry.example.test/left-pad/1.3.0", 5) == ("left-pad", "1.3.0")


def test_node_modules_without_lockfile(tmp_path):
    app = tmp_path / "app"
    (app / "node_modules" / "a" / "node_modules" / "b").mkdir(parents=True)
    (app / "node_modules" / "b").mkdir()
    (app / "node_modules" / "@s" / "c").mkdir(parents=True)
    (app / "package.json").write_text(json.dumps({"name": "app", "dependencies": {"a": "^1", "@s/c": "2"}}))
    (app / "node_modules" / "a" / "package.json").write_text(json.dumps(
        {"name": "a", "version": "1.0.0", "dependencies": {"b": "^2"}}))
    (app / "node_modules" / "a" / "node_modules" / "b" / "package.json").write_text(json.dumps(
        {"name": "b", "version": "2.0.0", "dependencies": {"a": "^1"}}))  # a cycle back to a
    (app / "node_modules" / "b" / "package.json").write_text(json.dumps({"name": "b", "version": "1.0.0"}))
    (app / "node_modules" / "@s" / "c" / "package.json").write_text(json.dumps(
        {"name": "@s/c", "version": "2.0.0", "deprecated": "use d", "dependencies": {"b": "*"}}))
    inv = load_inventory(app)
    assert inv.source.startswith("node_modules")
    assert _idents(inv) == {"a@1.0.0", "b@2.0.0", "b@1.0.0", "@s/c@2.0.0"}
    c = inv.packages["node_modules/@s/c"]
    assert c.deprecated == "use d"
    assert [d.target for d in inv.edges["node_modules/@s/c"]] == ["node_modules/b"]  # hoisted copy
    nested_b = "node_modules/a/node_modules/b"
    assert [d.target for d in inv.edges[nested_b]] == ["node_modules/a"]  # the cycle closes, no recursion


def test_pnpm_style_node_modules_with_symlinks_and_a_link_leaving_the_tree(tmp_path):
    app = tmp_path / "app"
    store = app / "node_modules" / ".pnpm"
    (store / "a@1.0.0" / "node_modules" / "a").mkdir(parents=True)
    (store / "b@2.0.0" / "node_modules" / "b").mkdir(parents=True)
    (store / "a@1.0.0" / "node_modules" / "a" / "package.json").write_text(json.dumps(
        {"name": "a", "version": "1.0.0", "dependencies": {"b": "2", "evil": "1"}}))
    (store / "b@2.0.0" / "node_modules" / "b" / "package.json").write_text(json.dumps({"name": "b", "version": "2.0.0"}))
    os.symlink(store / "b@2.0.0" / "node_modules" / "b", store / "a@1.0.0" / "node_modules" / "b")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "package.json").write_text(json.dumps({"name": "evil", "version": "1.0.0"}))
    os.symlink(outside, store / "a@1.0.0" / "node_modules" / "evil")
    os.symlink(store / "a@1.0.0" / "node_modules" / "a", app / "node_modules" / "a")
    (app / "package.json").write_text(json.dumps({"name": "app", "dependencies": {"a": "1"}}))
    inv = load_inventory(app)
    assert _idents(inv) == {"a@1.0.0", "b@2.0.0"}
    assert any("outside the scanned tree" in p.message for p in inv.problems)


def test_package_json_only_is_unresolved_and_says_so(tmp_path):
    (tmp_path / "package.json").write_text(json.dumps(
        {"name": "x", "dependencies": {"egg": "^3.17.0", "egg-security": "3.7.0", "g": "github:u/r#abc"}}))
    inv = load_inventory(tmp_path)
    assert not inv.resolved and "unresolved" in inv.source
    by = {p.name: p for p in inv.packages.values()}
    assert by["egg"].version is None and by["egg"].spec == "^3.17.0"
    assert by["egg-security"].version == "3.7.0"  # an exact pin is a known version
    assert by["g"].origin == "git"


# -- broken and hostile lockfiles ------------------------------------------------------------------

def _npm(tmp_path: Path, text: str | bytes) -> Path:
    (tmp_path / "package.json").write_text('{"name":"x","dependencies":{"lodash":"^4"}}')
    target = tmp_path / "package-lock.json"
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    return target


@pytest.mark.parametrize("content,needle", ids=["truncated", "array", "wrong-types", "deep-nesting", "binary"], argvalues=[
    ('{"lockfileVersion": 3, "packages": {"": {"name": "x"}, "node_modules/lodash": {"vers', "truncated?"),
    ('[1, 2, 3]', "does not look like an npm lockfile"),
    ('{"lockfileVersion": 3, "packages": "nope", "dependencies": 7}', "nothing to read"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (b"\x00\x01binary\xff", "binary file"),
])
def test_broken_npm_lockfile_is_one_line_and_falls_back(tmp_path, content, needle):
    path = _npm(tmp_path, content)
    with pytest.raises(LockfileError) as err:
        NpmLockSource().load(path, tmp_path)
    assert needle in str(err.value) and "\n" not in str(err.value)
    inv = load_inventory(tmp_path)  # the run goes on with what is left: package.json's ranges
    assert not inv.resolved and any(needle in p.message for p in inv.problems)


def test_wrong_types_inside_entries_are_skipped_not_fatal(tmp_path):
    doc = {"lockfileVersion": 3, "packages": {
        "": {"name": "x", "dependencies": {"lodash": "^4", "bad": 5}},
        "node_modules/lodash": {"version": "4.17.15", "dependencies": ["not", "a", "map"]},
        "node_modules/weird": "a string", "node_modules/nover": {"resolved": 7}}}
    inv = NpmLockSource().load(_npm(tmp_path, json.dumps(doc)), tmp_path)
    assert "lodash@4.17.15" in _idents(inv)
    assert any("not objects" in p.message for p in inv.problems)
    assert any("has no version" in p.message for p in inv.problems)


def test_dependency_cycles_terminate(tmp_path):
    pk = {"": {"name": "x", "dependencies": {"a": "1"}}}
    for i, name in enumerate("abcde"):
        nxt = "abcde"[(i + 1) % 5]
        pk[f"node_modules/{name}"] = {"version": "1.0.0", "dependencies": {nxt: "1"}}
    inv = NpmLockSource().load(_npm(tmp_path, json.dumps({"lockfileVersion": 3, "packages": pk})), tmp_path)
    paths = inv.paths_to({"node_modules/e"})
    assert [inv.describe_path(p) for p in paths["node_modules/e"]] == [
        "x > a@1.0.0 > b@1.0.0 > c@1.0.0 > d@1.0.0 > e@1.0.0"]
    assert inv.reachable_from() == {f"node_modules/{n}" for n in "abcde"}


def test_a_fifty_megabyte_lockfile_is_parsed(tmp_path):
    parts = ['{\n  "lockfileVersion": 3,\n  "packages": {\n    "": {"name": "big", "dependencies": {'
             + ", ".join(f'"pkg-{i}": "^1"' for i in range(200)) + "}}"]
    for i in range(60_000):
        deps = ", ".join(f'"pkg-{(i * 7 + k) % 60_000}": "^1"' for k in range(4))
        parts.append(f',\n    "node_modules/pkg-{i}": {{\n      "version": "1.{i % 50}.{i % 7}",\n'
                     f'      "resolved": "https://registry.example.test/pkg-{i}/-/pkg-{i}.tgz",\n'
                     f'      "integrity": "sha512-{"A" * 86}==",\n      "license": "MIT",\n'
                     f'      "dependencies": {{{deps}}},\n      "engines": {{"node": ">=14"}},\n'
                     f'      "funding": {{"url": "https://example.test/{"f" * 400}"}}\n    }}')
    parts.append("\n  }\n}\n")
    text = "".join(parts)
    assert len(text) > 50_000_000
    path = _npm(tmp_path, text)
    inv = NpmLockSource().load(path, tmp_path)
    assert len(inv.packages) == 60_000
    assert len(inv.reachable_from()) == 60_000  # the root reaches 200, and the 4-way links reach the rest
    assert inv.line_of(inv.packages["node_modules/pkg-59999"]) == 5 + 59_999 * 9  # the entry of pkg-i starts on line 5 + 9i


def test_yarn_lockfiles_truncated_or_foreign(tmp_path):
    bad = tmp_path / "yarn.lock"
    (tmp_path / "package.json").write_text('{"name":"x"}')
    bad.write_text("# yarn lockfile v1\n\nlodash@^4:\n  version \"4.17.15\"\n  resolved \"x\"\n\nqs@^6:\n  resolved")
    inv = load_inventory(tmp_path)
    assert any("has no version" in p.message for p in inv.problems)
    bad.write_text("this is not a lockfile\n")
    with pytest.raises(LockfileError, match="does not look like a yarn lockfile"):
        from eggshield.deps.sources.yarn_lock import YarnLockSource

        YarnLockSource().load(bad, tmp_path)


def test_pnpm_yaml_outside_the_lockfile_subset_is_a_clear_error(tmp_path):
    (tmp_path / "package.json").write_text('{"name":"x"}')
    lock = tmp_path / "pnpm-lock.yaml"
    lock.write_text("lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies: &anchor\n      a: 1\n")
    inv = load_inventory(tmp_path)
    assert any("line 4" in p.message and "anchors" in p.message for p in inv.problems)
    lock.write_text("lockfileVersion: '3.1'\n")
    inv = load_inventory(tmp_path)
    assert any("not one eggshield reads" in p.message for p in inv.problems)


def test_yamlish_reads_what_pnpm_and_berry_write():
    doc = parse("a:\n  'b@1': {integrity: sha512-x==, tarball: 'https://h/x.tgz'}\n  c: [x64, arm]\n"
                "  d:\n    - one\n    - 'two'\n  e: \"q\\\"s\"\n  f: true\n  g:\n")
    assert doc == {"a": {"b@1": {"integrity": "sha512-x==", "tarball": "https://h/x.tgz"}, "c": ["x64", "arm"],
                         "d": ["one", "two"], "e": 'q"s', "f": True, "g": None}}
    with pytest.raises(YamlError):
        parse("a:\n\tb: 1\n")


def test_several_lockfiles_pick_what_npm_would_and_say_so(tmp_path):
    copy_fixture("npm3", tmp_path)
    shutil.copy(LOCKFILES / "yarn1" / "yarn.lock", tmp_path / "yarn.lock")
    inv = load_inventory(tmp_path)
    assert inv.source.startswith("package-lock.json") and any("several lockfiles" in n for n in inv.notes)


def test_the_real_fixture_lockfiles_parse_fast():
    start = time.perf_counter()
    for kind in (*WORKSPACE_KINDS, "npm1", "single7", "single8", "single9"):
        load_inventory(LOCKFILES / kind)
    assert time.perf_counter() - start < 5  # 12 small lockfiles; a sanity bound, the bench measures speed
