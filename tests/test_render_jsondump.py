"""The JSON and SARIF reports (and `logs analyze --format json`) are written by report.jsondump,
which must give exactly the bytes `json.dumps(obj, indent=2, ensure_ascii=False)` gives: other
tools diff, hash and parse these documents."""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, fields
from enum import IntEnum
from pathlib import Path

import pytest

from eggshield.finding import Finding
from eggshield.report.jsondump import Encoded, dumps
from report_samples import many_findings

RECORDED = Path(__file__).parent / "fixtures" / "logs" / "recorded"


class Level(IntEnum):
    LOW = 1


STRINGS = ["", "plain", 'quo"te', "back\\slash", "new\nline", "tab\t", "\x00\x1f\x7f", "é…中文", "\u2028\u2029",
           "emoji 🙂", "\ud800", "</script>", "a" * 300]


def random_value(rnd: random.Random, depth: int = 0):
    r = rnd.random()
    if depth < 6 and r < 0.35:
        if rnd.random() < 0.5:
            keys = [rnd.choice(STRINGS), rnd.randint(-5, 5), rnd.choice([True, False, None]), rnd.random(), "k"]
            return {rnd.choice(keys): random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 5))}
        seq = [random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 5))]
        return tuple(seq) if rnd.random() < 0.2 else seq
    return rnd.choice([
        lambda: rnd.choice(STRINGS),
        lambda: rnd.randint(-10**20, 10**20),
        lambda: rnd.choice([True, False, None, Level.LOW, 0, -0.0, 1e300, 1.5, math.inf, -math.inf, math.nan]),
        lambda: rnd.random() * 10 ** rnd.randint(-8, 8),
    ])()


def stdlib(obj, level: int = 0) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False).replace("\n", "\n" + "  " * level)


def test_same_bytes_as_the_stdlib_on_random_documents():
    rnd = random.Random(3)
    for _ in range(3000):
        value = random_value(rnd)
        level = rnd.choice([0, 0, 1, 2, 5])
        assert dumps(value, level) == stdlib(value, level)


def test_parts_encoded_beforehand_at_their_depth_give_the_same_document():
    rnd = random.Random(4)
    items = [random_value(rnd) for _ in range(200)]
    doc = {"tool": {"name": "x"}, "findings": items, "summary": {}}
    pre = {"tool": {"name": "x"}, "findings": [Encoded(dumps(v, 2)) for v in items], "summary": {}}
    assert dumps(pre) == stdlib(doc)


def test_deep_nesting_and_errors_are_the_stdlibs():
    deep: list = []
    node = deep
    for _ in range(100):
        node.append([])
        node = node[0]
    assert dumps(deep) == stdlib(deep)
    circular: list = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps(circular)
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"when": object()})
    with pytest.raises(TypeError, match="keys must be"):
        dumps({(1, 2): "tuple key"})


def test_finding_to_dict_is_every_contract_field_in_order():
    """Explicit instead of dataclasses.asdict: same keys, order and values, `extra` left out."""
    names = [f.name for f in fields(Finding) if f.name != "extra"]
    for finding in many_findings():
        finding.extra = {"count": 3, "ips": ["10.0.0.1"]}
        data = finding.to_dict()
        assert list(data) == names
        expected = asdict(finding)
        expected.pop("extra")
        expected["location"] = finding.location.to_dict()
        assert data == expected


def test_logs_json_tail_equals_adding_the_keys_and_dumping_again():
    """`logs analyze --format json` writes summary.logs and events in pieces: same document as the
    slow way (load, add, dump) on logs a real Egg app wrote."""
    from eggshield.checks.logs_context import LogCheckContext, run_log_rules
    from eggshield.cli.commands.logs import _logs_json_parts
    from eggshield.logs.analyze import analyze
    from eggshield.report import FORMATS, Report

    result = analyze([RECORDED / "egg3"])
    assert result.events, "the recorded logs have security events"
    findings, problems = run_log_rules(LogCheckContext(result))
    text = FORMATS["json"].render(Report(findings=findings, problems=problems))
    fast = "".join(_logs_json_parts(text, result, result.read))
    slow = "".join(_logs_json_parts(text.rstrip("\n"), result, result.read))  # not the layout: the certain way
    assert fast == slow
    assert json.loads(fast)["events"] == [e.to_dict() for e in result.events]
