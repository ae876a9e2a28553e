"""The knowledge base file, justification comments and `.eggshield.toml` [plugins] tables."""

from __future__ import annotations

import pytest

from eggshield.eggconfig.defaults import load_defaults
from eggshield.js.parse import parse
from eggshield.plugins.justification import comment_near, is_reason, load_plugin_policy
from eggshield.plugins.knowledge import build_knowledge, load_knowledge


def test_knowledge_covers_40_plugins_and_every_framework_default_of_egg_3_and_4():
    kb = load_knowledge()
    assert kb.problems == [] and len(kb.specs) >= 40
    for major in (3, 4):
        for name, spec in load_defaults(major).plugins.items():
            found = kb.lookup(name, spec["package"])
            assert found is not None and found.name == name, (major, name)
    for name in ("mysql", "redis", "sequelize", "mongoose", "validate", "jwt", "cors", "passport", "io", "nunjucks",
                 "ejs", "alinode", "routerPlus", "swaggerdoc", "oss", "tracer", "typeorm", "bull", "mailer"):
        assert name in kb.specs, name


def test_every_entry_says_how_usage_is_decided_and_where_facts_come_from():
    for spec in load_knowledge().specs.values():
        assert spec.usage and spec.source and spec.what, spec.name
        assert spec.always or spec.adds or spec.files or spec.config_use or spec.detector, spec.name
        if spec.status in ("unmaintained", "superseded", "deprecated"):
            assert spec.status_source and spec.status_note, spec.name


def test_lookup_prefers_the_package_over_the_name():
    kb = load_knowledge()
    assert kb.lookup("io", "egg-socket.io").name == "io"
    assert kb.lookup("socket", "egg-socket.io").name == "io"  # the app chose another key
    assert kb.lookup("mysql", "egg-my-own-mysql") is None  # same key, other package: not the same plugin
    assert kb.lookup("validate", None).name == "validate"


@pytest.mark.parametrize("raw,problem", [
    ({"packages": ["x"], "what": "w", "usage": "u"}, "missing source"),
    ({"packages": ["x"], "what": "w", "usage": "u", "source": "s", "adds": ["app"]}, "bad surface"),
    ({"packages": ["x"], "what": "w", "usage": "u", "source": "s", "cost": "huge"}, "unknown cost"),
    ({"packages": "x", "what": "w", "usage": "u", "source": "s"}, "must be a list"),
])
def test_broken_entries_become_problem_lines_not_crashes(raw, problem):
    kb = build_knowledge({"plugin": {"bad": raw, "good": {"packages": ["egg-good"], "what": "w", "usage": "u",
                                                          "source": "s", "adds": ["app.good"]}}})
    assert "good" in kb.specs and "bad" not in kb.specs
    assert len(kb.problems) == 1 and problem in kb.problems[0]


# ---- comments next to entries -----------------------------------------------------------------------
SOURCE = b"""'use strict';
/** @type Egg.EggPlugin */
module.exports = {
  // had enabled by egg
  // static: {
  //   enable: true,
  // }
  validate: {
    enable: true,
    package: 'egg-validate',
  },
  // orders and users live in MySQL
  mysql: { enable: true, package: 'egg-mysql' }, // see app/service
  redis: {
    enable: true, // cache for sessions
    package: 'egg-redis',
  },
  // doraAdsPluginBegin
  ads: true,
  /* token auth
   * for the mobile API */
  jwt: true,
  oss: true, // uploads
  cors: true,
};
"""


@pytest.mark.parametrize("line,expected", [
    (8, None),  # only boilerplate and commented-out code above
    (13, "orders and users live in MySQL see app/service"),
    (14, "cache for sessions"),  # inside the entry; the trailing comment of the line above is mysql's
    (19, None),  # generator marker
    (22, "token auth for the mobile API"),
    (23, "uploads"),
    (24, None),  # the trailing comment above belongs to oss
])
def test_comment_near_entry(line, expected):
    assert comment_near(parse(SOURCE, "plugin.js"), line) == expected


@pytest.mark.parametrize("text,ok", [
    ("needed for the admin login", True),
    ("exports.static = true;", False),
    ("enable: true,", False),
    ("doraAdsPluginEnd", False),
    ("eslint-disable-next-line", False),
    ("", False),
])
def test_is_reason(text, ok):
    assert is_reason(text) is ok


def test_plugin_policy_reads_why_and_reports_bad_tables(tmp_path):
    (tmp_path / ".eggshield.toml").write_text(
        'fail_on = "high"\n[plugins.mysql]\nwhy = "orders"\n[plugins.redis]\nreason = "typo"\n')
    policy = load_plugin_policy(tmp_path)
    assert policy.why == {"mysql": "orders"}
    assert len(policy.problems) == 1 and "plugins.redis" in policy.problems[0]


def test_invalid_toml_is_one_problem_line(tmp_path):
    (tmp_path / ".eggshield.toml").write_text("[plugins.mysql\nwhy = 1\n")
    policy = load_plugin_policy(tmp_path)
    assert policy.why == {} and len(policy.problems) == 1 and ".eggshield.toml" in policy.problems[0]
