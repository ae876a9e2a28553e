"""Discovery on small trees built per test: layouts, lockfile forms, monorepos and bad input."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from eggshield.finding import InputProblem
from eggshield.project.discover import discover, major_from_range
from eggshield.project.files import read_source
from eggshield.project.model import NotAnEggApp


def make(root: Path, files: dict[str, str | bytes | dict]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            content = json.dumps(content, indent=2)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def pkg(name="app", deps=None, dev=None, **extra) -> dict:
    data = {"name": name, "version": "1.0.0", "dependencies": deps if deps is not None else {"egg": "^3.17.0"}}
    if dev:
        data["devDependencies"] = dev
    data.update(extra)
    return data


def only(discovery):
    assert len(discovery.projects) == 1, [p.root for p in discovery.projects]
    return discovery.projects[0]


def rel(project, paths) -> list[str]:
    return sorted(project.rel(p) for p in paths)


def relmap(project, mapping) -> dict[str, str]:
    return {k: project.rel(v) for k, v in mapping.items()}


# -- layouts ----------------------------------------------------------------------------------------

def test_full_js_app_layout(tmp_path):
    make(tmp_path, {
        "package.json": pkg(dev={"egg-bin": "^5"}),
        "config/config.default.js": "module.exports = {};",
        "config/config.js": "module.exports = {};",  # legacy, recorded even though default exists
        "config/config.prod.js": "", "config/config.local.js": "", "config/config.unittest.js": "",
        "config/config.aliyun.js": "", "config/config.aliyun_prod.js": "",
        "config/config.default.d.ts": "",
        "config/plugin.js": "", "config/plugin.prod.js": "", "config/plugin.default.js": "",
        "config/env": "prod\n",
        "config/helpers/db.js": "",
        "app/router.js": "", "app/router/api.js": "", "app/router/web/admin.js": "",
        "app/controller/home.js": "", "app/controller/api/user.js": "",
        "app/service/user.js": "", "app/middleware/auth.js": "",
        "app/extend/context.js": "", "app/extend/helper.js": "",
        "app/schedule/clean.js": "",
        "app/model/user.js": "", "app/io/controller/chat.js": "",
        "app/view/home.js": "", "app/view/layout.html": "",
        "app/public/js/app.js": "",
        "app.js": "", "agent.js": "", "index.js": "",
        "lib/util.js": "",
        "lib/plugin/egg-auth/package.json": {"name": "egg-auth", "eggPlugin": {"name": "auth"}},
        "lib/plugin/egg-auth/app/middleware/check.js": "",
        "lib/plugin/inline/config/config.default.js": "",
        "lib/plugin/notaplugin/index.js": "",
        "test/app/controller/home.test.js": "",
        "node_modules/egg/index.js": "",
        "run/application_config.json": "{}",
    })
    project = only(discover(tmp_path))
    assert project.root == tmp_path.resolve() and project.scan_root == tmp_path.resolve()
    assert project.name == "app" and project.framework == "egg" and project.kind == "app"
    assert (project.egg_major, project.egg_version, project.egg_version_source) == (3, None, "range ^3.17.0")
    assert (project.language, project.module_system) == ("js", "cjs")
    assert project.config_dir == tmp_path.resolve() / "config"
    assert relmap(project, project.config_files) == {
        "default": "config/config.default.js", "legacy": "config/config.js", "prod": "config/config.prod.js",
        "local": "config/config.local.js", "unittest": "config/config.unittest.js",
        "aliyun": "config/config.aliyun.js", "aliyun_prod": "config/config.aliyun_prod.js"}
    assert relmap(project, project.plugin_files) == {
        "legacy": "config/plugin.js", "prod": "config/plugin.prod.js", "default": "config/plugin.default.js"}
    assert project.rel(project.env_file) == "config/env"
    assert rel(project, project.config_other_files) == ["config/helpers/db.js"]
    assert [project.rel(p) for p in project.router_files] == [
        "app/router.js", "app/router/api.js", "app/router/web/admin.js"]
    assert rel(project, project.controller_files) == ["app/controller/api/user.js", "app/controller/home.js"]
    assert rel(project, project.service_files) == ["app/service/user.js"]
    assert rel(project, project.middleware_files) == ["app/middleware/auth.js"]
    assert rel(project, project.extend_files) == ["app/extend/context.js", "app/extend/helper.js"]
    assert rel(project, project.schedule_files) == ["app/schedule/clean.js"]
    assert [project.rel(p) for p in project.boot_files] == ["app.js", "agent.js"]
    assert rel(project, project.other_files) == [
        "app/io/controller/chat.js", "app/model/user.js", "lib/plugin/egg-auth/app/middleware/check.js",
        "lib/plugin/inline/config/config.default.js", "lib/plugin/notaplugin/index.js", "lib/util.js"]
    assert relmap(project, project.local_plugins) == {"auth": "lib/plugin/egg-auth", "inline": "lib/plugin/inline"}
    assert all(p.is_absolute() for p in project.source_files)
    assert project.problems == [] and project.notes == []


def test_legacy_config_alone(tmp_path):
    make(tmp_path, {"package.json": pkg(), "config/config.js": "", "config/plugin.js": ""})
    project = only(discover(tmp_path))
    assert relmap(project, project.config_files) == {"legacy": "config/config.js"}
    assert relmap(project, project.plugin_files) == {"legacy": "config/plugin.js"}


def test_ts_app_with_compiled_js_next_to_ts(tmp_path):
    files = {"package.json": pkg(egg={"typescript": True}), "tsconfig.json": "{}",
             "typings/index.d.ts": "", "app.ts": "", "app.js": ""}
    for stem in ("config/config.default", "config/config.prod", "config/plugin", "app/router",
                 "app/controller/home", "app/service/news", "app/extend/helper"):
        files[stem + ".ts"] = "export default {};"
        files[stem + ".js"] = '"use strict";'
        files[stem + ".d.ts"] = ""
    files["app/controller/plain.js"] = ""  # a JS file with no TS source is kept
    make(tmp_path, files)
    project = only(discover(tmp_path))
    assert project.language == "ts" and project.typescript is True
    assert relmap(project, project.config_files) == {"default": "config/config.default.ts",
                                                     "prod": "config/config.prod.ts"}
    assert relmap(project, project.plugin_files) == {"legacy": "config/plugin.ts"}
    assert [project.rel(p) for p in project.router_files] == ["app/router.ts"]
    assert rel(project, project.controller_files) == ["app/controller/home.ts", "app/controller/plain.js"]
    assert [project.rel(p) for p in project.boot_files] == ["app.ts"]
    assert project.notes == []


def test_ts_detected_from_files_alone(tmp_path):
    make(tmp_path, {"package.json": pkg(), "config/config.default.ts": ""})
    assert only(discover(tmp_path)).language == "ts"


def test_esm_egg4_prefers_mjs_when_both_exist(tmp_path):
    make(tmp_path, {"package.json": pkg(deps={"egg": "^4.0.10"}, type="module"),
                    "config/config.default.mjs": "", "config/config.default.js": "",
                    "config/plugin.cjs": "", "config/plugin.js": ""})
    project = only(discover(tmp_path))
    assert project.module_system == "esm" and project.egg_major == 4
    assert relmap(project, project.config_files) == {"default": "config/config.default.mjs"}
    assert relmap(project, project.plugin_files) == {"legacy": "config/plugin.js"}
    assert project.notes == ["config/config.default.mjs chosen over config.default.js",
                             "config/plugin.js chosen over plugin.cjs"]


def test_egg3_loads_js_not_cjs(tmp_path):
    make(tmp_path, {"package.json": pkg(), "config/config.default.cjs": "", "config/config.default.js": ""})
    project = only(discover(tmp_path))
    assert relmap(project, project.config_files) == {"default": "config/config.default.js"}


def test_tegg_modules_are_other_files(tmp_path):
    make(tmp_path, {
        "package.json": pkg(deps={"egg": "^3.30.0", "@eggjs/tegg": "^3.30.0", "@eggjs/tegg-plugin": "^3"}),
        "config/config.default.ts": "", "config/plugin.ts": "",
        "app/module/foo/package.json": {"name": "foo", "eggModule": {"name": "foo"}},
        "app/module/foo/FooController.ts": "", "app/module/foo/FooService.ts": "",
        "app/module/foo/test/Foo.test.ts": "",  # under app/: Egg-style loaders may load it, kept
    })
    project = only(discover(tmp_path))
    assert rel(project, project.other_files) == [
        "app/module/foo/FooController.ts", "app/module/foo/FooService.ts", "app/module/foo/test/Foo.test.ts"]
    assert project.controller_files == [] and project.router_files == []


def test_midway_v1_src_layout(tmp_path):
    make(tmp_path, {
        "package.json": pkg("sandbox-mvp", deps={"midway": "^1.0.2"}, dev={"midway-bin": "^0.3.2"}),
        "tsconfig.json": "{}",
        "src/config/config.default.ts": "", "src/config/plugin.ts": "", "src/config/environment.ts": "",
        "src/app/controller/home.ts": "", "src/app/middleware/user.ts": "", "src/app/extend/context.ts": "",
        "src/app/public/favicon.js": "", "src/app/view/index.html": "",
        "src/app.ts": "", "src/lib/adapter/x.ts": "", "src/service/user.ts": "",
        "dist/config/config.default.js": "",  # midway-bin build output
        "test/app/controller/home.test.ts": "",
    })
    project = only(discover(tmp_path))
    assert project.framework == "midway" and project.language == "ts"
    assert project.source_dir == tmp_path.resolve() / "src"
    assert project.config_dir == tmp_path.resolve() / "src" / "config"
    assert relmap(project, project.config_files) == {"default": "src/config/config.default.ts"}
    assert relmap(project, project.plugin_files) == {"legacy": "src/config/plugin.ts"}
    assert rel(project, project.controller_files) == ["src/app/controller/home.ts"]
    assert [project.rel(p) for p in project.boot_files] == ["src/app.ts"]
    assert rel(project, project.other_files) == ["src/lib/adapter/x.ts", "src/service/user.ts"]
    # no lockfile: midway ^1 is known to run on egg 2 (data/frameworks.toml)
    assert project.egg_major == 2 and project.egg_version_source == "midway ^1.0.2"
    assert project.notes == ["midway ^1.0.2 runs on egg 2 (no lockfile says which egg)"]


def test_midway_with_lockfile_reports_egg_underneath(tmp_path):
    make(tmp_path, {
        "package.json": pkg(deps={"midway": "^1.0.2"}),
        "src/config/config.default.ts": "",
        "yarn.lock": YARN_CLASSIC.replace("egg@^3.0.0, egg@^3.11.0:", "egg@^2.0.0:").replace("3.17.5", "2.37.0"),
    })
    project = only(discover(tmp_path))
    assert (project.framework, project.egg_major, project.egg_version, project.egg_version_source) == \
        ("midway", 2, "2.37.0", "yarn.lock")


def test_framework_apps(tmp_path):
    make(tmp_path, {
        "beidou-app/package.json": pkg("b", deps={"beidou": "^2.3.0"}), "beidou-app/config/config.default.js": "",
        "custom/package.json": pkg("c", deps={"yadan": "^1"}, egg={"framework": "yadan"}),
        "custom/app/router.js": "",
        "yadan/package.json": pkg("yadan", deps={"egg": "^1.10.1"}), "yadan/config/config.default.js": "",
    })
    projects = {p.name: p for p in discover(tmp_path).projects}
    assert {n: (p.framework, p.kind) for n, p in projects.items()} == {
        "b": ("beidou", "app"), "c": ("yadan", "app"), "yadan": ("egg", "framework")}


# -- version sources --------------------------------------------------------------------------------

PACKAGE_LOCK_V1 = {
    "name": "app", "version": "1.0.0", "lockfileVersion": 1, "requires": True,
    "dependencies": {
        "egg": {"version": "2.37.0", "resolved": "https://registry.npmjs.org/egg/-/egg-2.37.0.tgz",
                "integrity": "sha512-AAAA", "requires": {"egg-core": "^4.18.0"}},
        "egg-mock": {"version": "4.2.1", "dev": True,
                     "dependencies": {"egg": {"version": "3.1.0", "dev": True}}},
    },
}

PACKAGE_LOCK_V3 = {
    "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
    "packages": {
        "": {"name": "app", "version": "1.0.0", "dependencies": {"egg": "^3.17.0"}},
        "node_modules/egg": {"version": "3.17.5", "resolved": "https://registry.npmjs.org/egg/-/egg-3.17.5.tgz",
                             "integrity": "sha512-BBBB", "dependencies": {"egg-core": "^5.3.0"}},
        "node_modules/egg-mock/node_modules/egg": {"version": "3.30.0", "dev": True},
    },
}

YARN_CLASSIC = """\
# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@eggjs/router@^2.0.0":
  version "2.0.1"
  resolved "https://registry.yarnpkg.com/@eggjs/router/-/router-2.0.1.tgz#aaaa"
  integrity sha512-CCCC
  dependencies:
    koa-compose "^3.0.0"

egg-core@^5.0.0:
  version "5.3.1"
  resolved "https://registry.yarnpkg.com/egg-core/-/egg-core-5.3.1.tgz#bbbb"

egg@^2.0.0:
  version "2.37.0"
  resolved "https://registry.yarnpkg.com/egg/-/egg-2.37.0.tgz#cccc"

egg@^3.0.0, egg@^3.11.0:
  version "3.17.5"
  resolved "https://registry.yarnpkg.com/egg/-/egg-3.17.5.tgz#dddd"
  integrity sha512-DDDD
  dependencies:
    egg-core "^5.0.0"
"""

YARN_BERRY = """\
# This file is generated by running "yarn install" inside your project.
# Manual changes might be lost - proceed with caution!

__metadata:
  version: 6
  cacheKey: 8

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    egg: ^3.0.0
  languageName: unknown
  linkType: soft

"egg-core@npm:^5.0.0":
  version: 5.3.1
  resolution: "egg-core@npm:5.3.1"
  checksum: 1111
  languageName: node
  linkType: hard

"egg@npm:^3.0.0":
  version: 3.17.5
  resolution: "egg@npm:3.17.5"
  dependencies:
    egg-core: ^5.0.0
  checksum: 2222
  languageName: node
  linkType: hard
"""

PNPM_V5 = """\
lockfileVersion: 5.4

specifiers:
  egg: ^3.0.0
  egg-bin: ^5.0.0

dependencies:
  egg: 3.17.5

devDependencies:
  egg-bin: 5.19.0

packages:

  /egg-bin/5.19.0:
    resolution: {integrity: sha512-EEEE}
    dev: true

  /egg/3.17.5:
    resolution: {integrity: sha512-FFFF}
    engines: {node: '>= 14.17.0'}
    dependencies:
      egg-core: 5.3.1
    dev: false
"""

PNPM_V6 = """\
lockfileVersion: '6.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

dependencies:
  egg:
    specifier: ^3.17.0
    version: 3.17.5(typescript@5.2.2)

packages:

  /egg@3.17.5(typescript@5.2.2):
    resolution: {integrity: sha512-GGGG}
    engines: {node: '>= 14.17.0'}
"""

PNPM_V9 = """\
lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      egg:
        specifier: ^4.0.10
        version: 4.0.10(typescript@5.7.2)
    devDependencies:
      '@eggjs/bin':
        specifier: ^7.0.0
        version: 7.3.1

packages:

  egg@4.0.10:
    resolution: {integrity: sha512-HHHH}
    engines: {node: '>= 18.19.0'}

snapshots:

  egg@4.0.10(typescript@5.7.2):
    dependencies:
      '@eggjs/core': 6.5.0
"""


@pytest.mark.parametrize(("lock_name", "content", "spec", "expected"), [
    ("package-lock.json", PACKAGE_LOCK_V1, "^2.0.0", (2, "2.37.0")),
    ("package-lock.json", PACKAGE_LOCK_V3, "^3.17.0", (3, "3.17.5")),
    ("npm-shrinkwrap.json", PACKAGE_LOCK_V3, "^3.17.0", (3, "3.17.5")),
    ("yarn.lock", YARN_CLASSIC, "^3.11.0", (3, "3.17.5")),
    ("yarn.lock", YARN_CLASSIC, "^2.0.0", (2, "2.37.0")),
    ("yarn.lock", YARN_BERRY, "^3.0.0", (3, "3.17.5")),
    ("pnpm-lock.yaml", PNPM_V5, "^3.0.0", (3, "3.17.5")),
    ("pnpm-lock.yaml", PNPM_V6, "^3.17.0", (3, "3.17.5")),
    ("pnpm-lock.yaml", PNPM_V9, "^4.0.10", (4, "4.0.10")),
])
def test_egg_version_from_lockfile(tmp_path, lock_name, content, spec, expected):
    make(tmp_path, {"package.json": pkg(deps={"egg": spec}), "config/config.default.js": "", lock_name: content})
    project = only(discover(tmp_path))
    assert (project.egg_major, project.egg_version) == expected
    assert project.egg_version_source == lock_name
    assert project.lockfile == tmp_path.resolve() / lock_name
    assert project.problems == [] and project.notes == []


def test_shrinkwrap_wins_over_package_lock(tmp_path):
    v1 = json.loads(json.dumps(PACKAGE_LOCK_V3))
    v1["packages"]["node_modules/egg"]["version"] = "3.9.0"
    make(tmp_path, {"package.json": pkg(), "npm-shrinkwrap.json": v1, "package-lock.json": PACKAGE_LOCK_V3})
    project = only(discover(tmp_path))
    assert (project.egg_version, project.egg_version_source) == ("3.9.0", "npm-shrinkwrap.json")


def test_pnpm_packages_section_when_egg_is_transitive(tmp_path):
    lock = PNPM_V5.replace("dependencies:\n  egg: 3.17.5\n", "dependencies:\n  midway: 1.20.3\n")
    lock = lock.replace("/egg/3.17.5:", "/egg/2.37.0_typescript@4.9.5:")
    make(tmp_path, {"package.json": pkg(deps={"midway": "^1.20.0"}), "src/config/config.default.ts": "",
                    "pnpm-lock.yaml": lock})
    project = only(discover(tmp_path))
    assert (project.framework, project.egg_major, project.egg_version) == ("midway", 2, "2.37.0")


def test_several_egg_versions_without_a_range_picks_highest_with_note(tmp_path):
    make(tmp_path, {"package.json": pkg(deps={"beidou": "^2"}), "config/config.default.js": "",
                    "yarn.lock": YARN_CLASSIC})
    project = only(discover(tmp_path))
    assert project.egg_version == "3.17.5"
    assert project.notes == ["yarn.lock holds several egg versions (2.37.0, 3.17.5); assumed 3.17.5"]


def test_node_modules_fallback(tmp_path):
    make(tmp_path, {"package.json": pkg(), "config/config.default.js": "",
                    "node_modules/egg/package.json": {"name": "egg", "version": "3.34.0"}})
    project = only(discover(tmp_path))
    assert (project.egg_major, project.egg_version, project.egg_version_source) == (3, "3.34.0", "node_modules")


@pytest.mark.parametrize(("spec", "major", "has_note"), [
    ("^2.3.0", 2, False), ("~3.1.0", 3, False), ("3", 3, False), ("2.x", 2, False), ("4.0.10", 4, False),
    ("^4.1.2-beta.2", 4, False), (">=3 <5", 3, False), ("<5 >=3", 3, False), ("1 || ^2.0.0", 1, False),
    ("2.0.0 - 3.0.0", 2, False), ("npm:egg@^3.0.0", 3, False),
    ("~0.1.0", 1, True), ("beta", 4, True), ("latest", None, True), ("next", 4, True),
    ("*", None, True), ("", None, True), ("file:../egg", None, True), ("github:eggjs/egg", None, True),
    ("<3", None, True), ("^5.0.0", 5, True),
])
def test_major_from_range(spec, major, has_note):
    got, note = major_from_range(spec)
    assert got == major
    assert bool(note) == has_note


def test_range_fallback_notes(tmp_path):
    make(tmp_path, {
        "old/package.json": pkg("old", deps={"egg": "~0.1.0"}), "old/config/config.js": "",
        "beta/package.json": pkg("beta", deps={"egg": "beta"}), "beta/config/config.default.ts": "",
    })
    projects = {p.name: p for p in discover(tmp_path).projects}
    assert (projects["old"].egg_major, projects["old"].egg_version_source) == (1, "range ~0.1.0")
    assert projects["old"].notes == ["egg ~0.1.0 is a pre-1.0 release; treated as egg 1"]
    assert (projects["beta"].egg_major, projects["beta"].egg_version_source) == (4, "range beta")
    assert projects["beta"].notes == ["egg range 'beta' is a dist-tag; taken as egg 4 (its current releases)"]


def test_workspace_root_lockfile_npm(tmp_path):
    lock = {"name": "mono", "lockfileVersion": 3, "packages": {
        "": {"name": "mono", "workspaces": ["packages/*"]},
        "node_modules/egg": {"version": "3.17.5"},
        "packages/legacy/node_modules/egg": {"version": "2.37.0"},
        "node_modules/api": {"resolved": "packages/api", "link": True},
    }}
    make(tmp_path, {
        "package.json": {"name": "mono", "private": True, "workspaces": ["packages/*"]},
        "package-lock.json": lock,
        "packages/api/package.json": pkg("api", deps={"egg": "^3.17.0"}), "packages/api/config/config.default.js": "",
        "packages/legacy/package.json": pkg("legacy", deps={"egg": "^2"}),
        "packages/legacy/config/config.default.js": "",
    })
    # scanning the whole monorepo, and one app directly: the root lockfile governs both
    projects = {p.name: p for p in discover(tmp_path).projects}
    assert (projects["api"].egg_version, projects["legacy"].egg_version) == ("3.17.5", "2.37.0")
    direct = only(discover(tmp_path / "packages" / "legacy"))
    assert (direct.egg_major, direct.egg_version, direct.egg_version_source) == (2, "2.37.0", "package-lock.json")
    assert direct.lockfile == tmp_path.resolve() / "package-lock.json"


def test_workspace_root_lockfile_pnpm_importers(tmp_path):
    lock = """\
lockfileVersion: 5.4

importers:

  .:
    specifiers:
      typescript: ^4.9.0
    devDependencies:
      typescript: 4.9.5

  packages/api:
    specifiers:
      egg: ^2.37.0
    dependencies:
      egg: 2.37.0_typescript@4.9.5

  packages/web:
    dependencies:
      egg:
        specifier: ^3.0.0
        version: 3.17.5

packages:

  /egg/2.37.0_typescript@4.9.5:
    resolution: {integrity: sha512-IIII}

  /egg/3.17.5:
    resolution: {integrity: sha512-JJJJ}
"""
    make(tmp_path, {
        "package.json": {"name": "mono", "private": True}, "pnpm-workspace.yaml": "packages:\n  - packages/*\n",
        "pnpm-lock.yaml": lock,
        "packages/api/package.json": pkg("api", deps={"egg": "^2.37.0"}), "packages/api/app/router.js": "",
        "packages/web/package.json": pkg("web", deps={"egg": "^3.0.0"}), "packages/web/app/router.js": "",
    })
    projects = {p.name: p for p in discover(tmp_path).projects}
    assert (projects["api"].egg_version, projects["web"].egg_version) == ("2.37.0", "3.17.5")
    assert projects["api"].egg_version_source == "pnpm-lock.yaml"


# -- monorepos and search -----------------------------------------------------------------------------

def test_monorepo_with_two_apps(tmp_path):
    make(tmp_path, {
        "package.json": {"name": "mono", "private": True, "devDependencies": {"lerna": "^6"}},
        "lerna.json": "{}",
        "packages/web/package.json": pkg("web"), "packages/web/config/config.default.js": "",
        "packages/web/app/controller/home.js": "",
        "packages/admin/package.json": pkg("admin", deps={"egg": "^2.29.0"}),
        "packages/admin/app/router.js": "",
        "packages/egg-foo/package.json": {"name": "egg-foo", "eggPlugin": {"name": "foo"},
                                          "devDependencies": {"egg": "^3"}},
        "packages/egg-foo/test/fixtures/apps/demo/package.json": pkg("demo"),
        "packages/util/package.json": {"name": "util", "dependencies": {"lodash": "^4"}},
        "node_modules/some-app/package.json": pkg("nm"),
        "test/fixtures/app/package.json": pkg("fixture"),
        "examples/deep/a/b/c/package.json": pkg("deep"),
    })
    discovery = discover(tmp_path)
    assert sorted(p.name for p in discovery.projects) == ["admin", "deep", "web"]
    assert discovery.problems == []
    by_name = {p.name: p for p in discovery.projects}
    assert by_name["web"].scan_root == tmp_path.resolve()
    assert by_name["web"].rel(by_name["web"].controller_files[0]) == "packages/web/app/controller/home.js"
    assert (by_name["admin"].egg_major, by_name["web"].egg_major) == (2, 3)


def test_search_depth_limit(tmp_path):
    make(tmp_path, {"a/b/c/d/e/f/g/package.json": pkg("too-deep"), "x/y/package.json": pkg("ok")})
    assert [p.name for p in discover(tmp_path).projects] == ["ok"]
    assert sorted(p.name for p in discover(tmp_path, max_depth=8).projects) == ["ok", "too-deep"]


def test_fixture_apps_recognised_by_layout_use_the_enclosing_egg(tmp_path):
    make(tmp_path, {
        "package.json": {"name": "egg-security", "eggPlugin": {"name": "security"},
                         "devDependencies": {"egg": "^3.26.0"}},
        "test/fixtures/apps/csrf-enable-false/package.json": {"name": "csrf-enable-false"},
        "test/fixtures/apps/csrf-enable-false/config/config.default.js": "exports.keys = 'x';",
        "test/fixtures/apps/no-layout/package.json": {"name": "no-layout"},
        "test/fixtures/apps/legacy-only/package.json": {"name": "legacy-only"},
        "test/fixtures/apps/legacy-only/config/config.js": "",
    })
    discovery = discover(tmp_path / "test" / "fixtures" / "apps")
    assert [p.name for p in discovery.projects] == ["csrf-enable-false", "legacy-only"]
    project = discovery.projects[0]
    assert project.name == "csrf-enable-false" and project.egg_major == 3
    assert project.egg_version_source == "range ^3.26.0"
    assert project.notes[0].startswith("package.json declares no egg dependency; recognised as an Egg app by "
                                       "config/config.default.js")
    assert project.notes[1].startswith("egg version taken from ")


# -- not an app ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("files", "reason"), [
    ({"README.md": "hi"}, "no package.json in {root}; no Egg app below it either (searched 6 levels)"),
    ({"package.json": {"name": "web", "dependencies": {"koa": "^2"}}},
     "package.json does not depend on egg or name an egg.framework ({root}); no Egg app below it either "
     "(searched 6 levels)"),
    ({"package.json": {"name": "lib", "dependencies": {"@eggjs/core": "^6"}}},
     "package.json does not depend on egg or name an egg.framework (it depends on @eggjs/core, a library apps "
     "use together with egg) ({root}); no Egg app below it either (searched 6 levels)"),
    ({"package.json": '{\n  "name": "x",\n  "dependencies": {\n    "egg": "^3"\n    "koa": "2"\n  }\n}'},
     "package.json is not valid JSON: line 5 column 5: Expecting ',' delimiter; no Egg app below it either "
     "(searched 6 levels)"),
    ({"package.json": "[1, 2]"}, "package.json is not a JSON object; no Egg app below it either (searched 6 levels)"),
    ({"package.json": {"name": "egg-foo", "eggPlugin": {"name": "foo"}, "devDependencies": {"egg": "^3"}}},
     "{root}/package.json declares eggPlugin: an Egg plugin, not an app"),
    ({"package.json": {"name": "core", "dependencies": {"midway-web": "^1"}}, "src/app/controller/a.ts": ""},
     "package.json depends on midway-web but there is no config/ or src/config in {root}: a library, not an app; "
     "no Egg app below it either (searched 6 levels)"),
])
def test_not_an_egg_app_reasons(tmp_path, files, reason):
    make(tmp_path, files)
    with pytest.raises(NotAnEggApp) as info:
        discover(tmp_path)
    message = str(info.value)
    assert message == reason.format(root=tmp_path.resolve())
    assert "\n" not in message


def test_not_an_egg_app_path_errors(tmp_path):
    with pytest.raises(NotAnEggApp, match="^no such directory: "):
        discover(tmp_path / "nope")
    make(tmp_path, {"file.txt": "x", "package.json": pkg(), "config/config.default.js": ""})
    with pytest.raises(NotAnEggApp, match="^not a directory: "):
        discover(tmp_path / "file.txt")
    assert only(discover(tmp_path / "package.json")).root == tmp_path.resolve()


# -- bad input: one clear line each, the rest still discovered -------------------------------------------

def test_hostile_app_each_bad_input_is_one_line(tmp_path):
    outside = make(tmp_path / "outside", {"secret.js": "s"})
    root = make(tmp_path / "app", {
        "package.json": pkg(),
        "config/config.default.js": "module.exports = {};",
        "app/router.js": "", "app/controller/home.js": "ok",
        "app/controller/huge.js": "x" * 2_000_001,
        "app/controller/logo.js": b"\x89PNG\r\n\x1a\n\x00\x00",
        "app/service/latin.js": b"const s = 'caf\xe9';",
        "app/service/user.js": "",
    })
    os.symlink(outside / "secret.js", root / "agent.js")
    make(root, {"app.js": "x" * 2_000_001})
    os.symlink("..", root / "app" / "controller" / "loop")
    os.symlink(outside / "secret.js", root / "app" / "service" / "stolen.js")
    os.mkfifo(root / "app" / "service" / "pipe.js")
    (root / "app" / "middleware" / "auth.js").mkdir(parents=True)  # a directory where a file should be

    project = only(discover(root))
    assert sorted(str(p) for p in project.problems) == [
        f"agent.js: symlink points outside the scanned tree (-> {outside.resolve() / 'secret.js'}); not followed",
        "app.js: too large: 2,000,001 bytes, over the 2,000,000-byte limit; not analysed",
        "app/controller/huge.js: too large: 2,000,001 bytes, over the 2,000,000-byte limit; not analysed",
        "app/controller/loop: symlink loop: points to its own ancestor directory; not followed",
        f"app/service/stolen.js: symlink points outside the scanned tree (-> {outside.resolve() / 'secret.js'}); "
        "not followed",
    ]
    assert rel(project, project.controller_files) == ["app/controller/home.js", "app/controller/logo.js"]
    assert rel(project, project.service_files) == ["app/service/latin.js", "app/service/user.js"]
    assert project.middleware_files == [] and project.boot_files == []
    assert relmap(project, project.config_files) == {"default": "config/config.default.js"}
    # content problems surface, once, when the file is read
    reads = {project.rel(p): read_source(p, project.scan_root) for p in project.source_files}
    bad = sorted(str(r) for r in reads.values() if isinstance(r, InputProblem))
    assert bad == ["app/controller/logo.js: binary file (NUL byte at offset 8); not analysed",
                   "app/service/latin.js: not valid UTF-8 (byte 0xe9 on line 1, offset 14); not analysed"]
    assert reads["app/controller/home.js"] == "ok"


def test_invalid_package_json_in_monorepo_is_one_problem(tmp_path):
    make(tmp_path, {
        "packages/good/package.json": pkg("good"), "packages/good/config/config.default.js": "",
        "packages/bad/package.json": '{"name": "bad", "dependencies": {"egg": "^3"',
    })
    discovery = discover(tmp_path)
    assert [p.name for p in discovery.projects] == ["good"]
    assert [str(p) for p in discovery.problems] == [
        "packages/bad/package.json: package.json is not valid JSON: line 1 column 45: "
        "Expecting ',' delimiter"]


def test_invalid_top_package_json_with_apps_below(tmp_path):
    make(tmp_path, {"package.json": "{oops", "apps/a/package.json": pkg("a")})
    discovery = discover(tmp_path)
    assert [p.name for p in discovery.projects] == ["a"]
    assert [str(p) for p in discovery.problems] == [
        "package.json: package.json is not valid JSON: line 1 column 2: "
        "Expecting property name enclosed in double quotes"]


def test_invalid_local_plugin_package_json(tmp_path):
    make(tmp_path, {"package.json": pkg(), "lib/plugin/x/package.json": "{", "lib/plugin/x/config/config.default.js": ""})
    project = only(discover(tmp_path))
    assert [p.path for p in project.problems] == ["lib/plugin/x/package.json"]
    assert list(project.local_plugins) == ["x"]


def test_truncated_package_lock_falls_back_to_range(tmp_path):
    text = json.dumps(PACKAGE_LOCK_V3, indent=2)
    make(tmp_path, {"package.json": pkg(), "config/config.default.js": "", "package-lock.json": text[:300]})
    project = only(discover(tmp_path))
    assert (project.egg_major, project.egg_version, project.egg_version_source) == (3, None, "range ^3.17.0")
    assert len(project.problems) == 1
    message = str(project.problems[0])
    assert message.startswith("package-lock.json: not valid JSON: line ")
    assert message.endswith("(truncated?); egg version not read from it")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("yarn.lock", YARN_CLASSIC[: YARN_CLASSIC.index('  version "3.17.5"')],
     "yarn.lock: looks truncated: the last entry (egg@^3.0.0, egg@^3.11.0) has no version; "
     "egg version not read from it"),
    ("yarn.lock", YARN_CLASSIC.replace('  version "2.37.0"\n', ""),
     "yarn.lock: entry egg@^2.0.0 has no version (truncated or corrupt); egg version not read from it"),
    ("yarn.lock", "<<<<<<< HEAD\nwhatever\n",
     "yarn.lock: does not look like a yarn lockfile (no 'yarn lockfile v1' header or __metadata); "
     "egg version not read from it"),
    ("pnpm-lock.yaml", PNPM_V6[: PNPM_V6.index("    version:")],
     "pnpm-lock.yaml: looks truncated: the egg entry has no version; egg version not read from it"),
    ("pnpm-lock.yaml", "{}\n", "pnpm-lock.yaml: does not look like a pnpm lockfile (no lockfileVersion on the "
                               "first line); egg version not read from it"),
    ("package-lock.json", b"\x00\x01binary", "package-lock.json: binary file (NUL byte at offset 0); not analysed"),
    ("package-lock.json", {"hello": 1}, "package-lock.json: does not look like an npm lockfile (no lockfileVersion, "
                                        "packages or dependencies); egg version not read from it"),
])
def test_broken_lockfiles_are_one_problem(tmp_path, name, content, message):
    make(tmp_path, {"package.json": pkg(), "config/config.default.js": "", name: content})
    project = only(discover(tmp_path))
    assert [str(p) for p in project.problems] == [message]
    assert (project.egg_major, project.egg_version_source) == (3, "range ^3.17.0")


def test_broken_workspace_lockfile_is_reported_once(tmp_path):
    make(tmp_path, {
        "package.json": {"name": "mono", "workspaces": ["packages/*"]}, "package-lock.json": '{"lockfileVersion": 3,',
        "packages/a/package.json": pkg("a"), "packages/b/package.json": pkg("b"),
    })
    discovery = discover(tmp_path)
    assert sorted(p.name for p in discovery.projects) == ["a", "b"]
    assert len(discovery.problems) == 1 and discovery.problems[0].path == "package-lock.json"
    assert all(p.problems == [] and p.egg_major == 3 for p in discovery.projects)


# -- speed ----------------------------------------------------------------------------------------------

def test_discovery_of_10k_file_tree_is_fast(tmp_path):
    make(tmp_path, {"package.json": pkg(), "config/config.default.js": "", "config/plugin.js": ""})
    for area in ("controller", "service", "module"):
        for d in range(34):
            folder = tmp_path / "app" / area / f"d{d}"
            folder.mkdir(parents=True)
            for f in range(98):
                (folder / f"f{f}.js").write_text("module.exports = 1;\n")
    start = time.perf_counter()
    project = only(discover(tmp_path))
    elapsed = time.perf_counter() - start
    assert len(project.source_files) == 3 * 34 * 98 + 2 == 9_998
    assert elapsed < 3, f"discovery of 10k files took {elapsed:.2f}s"


def test_workspace_root_listing_egg_for_tooling_is_not_an_app(tmp_path):
    make(tmp_path, {
        "package.json": {"name": "mono", "workspaces": ["packages/*"], "devDependencies": {"egg": "^3"}},
        "packages/site/package.json": pkg("site"), "packages/site/app/router.js": "",
    })
    assert [p.name for p in discover(tmp_path).projects] == ["site"]
    make(tmp_path, {"packages/site/package.json": {"name": "site", "dependencies": {"koa": "^2"}}})
    (tmp_path / "packages/site/app/router.js").unlink()
    with pytest.raises(NotAnEggApp, match="is a workspace root with no app/ or config/ of its own; no Egg app"):
        discover(tmp_path)


def test_workspace_root_that_is_also_an_app(tmp_path):
    make(tmp_path, {
        "package.json": pkg("root", workspaces=["plugins/*", "services/*"]), "config/config.default.js": "",
        "services/worker/package.json": pkg("worker"), "services/worker/app/schedule/job.js": "",
    })
    assert [p.name for p in discover(tmp_path).projects] == ["root", "worker"]


def test_legacy_config_alone_is_not_enough_outside_an_egg_package(tmp_path):
    make(tmp_path, {"package.json": {"name": "svc", "dependencies": {"express": "^4"}}, "config/config.js": ""})
    with pytest.raises(NotAnEggApp, match="^package.json does not depend on egg"):
        discover(tmp_path)
