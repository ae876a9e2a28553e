"""The window engine's fast path fires exactly the alerts of the plain algorithm it replaced.

`WindowEngine.sight` keeps sightings as tuples, counts distinct values with a tally and makes the
samples of an alert only when read; `PlainEngine` below is the straightforward version (deques of
(time, value), a set per count, Observations kept as samples) that `logs analyze` used before. Both
get the same random streams, with out-of-order times, missing fields, sweeps, compaction of big
distinct windows and restarts from a checkpoint, and must agree on every alert and its samples.
"""

from __future__ import annotations

import json
import random
from collections import deque

import pytest

from eggshield.logs.windows import AlertRule, Observation, RuleSet, WindowEngine

RULES = RuleSet(rules=[
    AlertRule("count-ip", ("auth_failure",), "ip", threshold=3, window=60, cooldown=120, finding="EGG-LOG-105"),
    AlertRule("count-user", ("auth_failure", "csrf_failure"), "user", threshold=5, window=300, cooldown=0),
    AlertRule("count-big", ("csrf_failure",), "ip", threshold=70, window=600, cooldown=30),  # a deque window
    AlertRule("count-all", ("error",), "none", threshold=4, window=20, cooldown=45, finding="EGG-LOG-112"),
    AlertRule("few-one", ("sqli_payload", "xss_payload"), "ip", threshold=1, window=60, cooldown=90),
    AlertRule("few-two", ("sqli_payload",), "route", threshold=2, window=30, cooldown=0),
    AlertRule("distinct-url", ("not_found", "scanner_probe"), "ip", threshold=4, window=120, distinct="url",
              cooldown=60, finding="EGG-LOG-107"),
    AlertRule("distinct-one", ("auth_failure",), "user", threshold=1, window=50, distinct="ip", cooldown=200),
    AlertRule("distinct-all", ("not_found", "scanner_probe"), "none", threshold=6, window=400, distinct="url",
              cooldown=100),  # windows past MAX_DISTINCT: compacted
    AlertRule("new-error", ("error",), "evidence", new_value=True, finding="EGG-LOG-113"),
    AlertRule("new-user", ("auth_failure",), "user", new_value=True),
], learn=100.0)
KINDS = ["auth_failure", "csrf_failure", "error", "sqli_payload", "xss_payload", "not_found", "scanner_probe",
         "forbidden"]


class PlainEngine:
    """The window engine as it was: one Observation per signal, deques, a set per distinct count."""

    def __init__(self, ruleset: RuleSet, sweep_every: int, max_distinct: int, state: dict | None = None):
        self.ruleset = ruleset
        self.sweep_every, self.max_distinct = sweep_every, max_distinct
        self.by_signal: dict[str, list[AlertRule]] = {}
        for r in ruleset.rules:
            for s in r.signals:
                self.by_signal.setdefault(s, []).append(r)
        self.windows = {r.id: {} for r in ruleset.rules}
        self.samples = {r.id: {} for r in ruleset.rules}
        self.quiet_until: dict[str, float] = {}
        self.seen = {r.id: set() for r in ruleset.rules if r.new_value}
        self.started = None
        self._n = 0
        if state:
            self.started = state.get("started")
            for rid, groups in state.get("windows", {}).items():
                self.windows[rid] = {g: deque(tuple(x) for x in w) for g, w in groups.items()}
            self.quiet_until = {k: float(v) for k, v in state.get("quiet_until", {}).items()}
            for rid, values in state.get("seen", {}).items():
                self.seen[rid] = set(values)

    def observe(self, obs: Observation) -> list[tuple]:
        rules = self.by_signal.get(obs.kind)
        if not rules:
            return []
        if self.started is None:
            self.started = obs.time
        self._n += 1
        if self._n % self.sweep_every == 0:
            self.sweep(obs.time)
        out = []
        for rule in rules:
            group = obs.field(rule.group_by)
            if group is None or group == "":
                continue
            if rule.new_value:
                if group in self.seen[rule.id]:
                    continue
                self.seen[rule.id].add(group)
                if obs.time - self.started < self.ruleset.learn:
                    continue
                out.append((rule.id, group, 1, obs.time, obs.time, [obs], rule.finding or obs.rule))
                continue
            win = self.windows[rule.id].setdefault(group, deque())
            samples = self.samples[rule.id].setdefault(group, deque(maxlen=3))
            value = obs.field(rule.distinct) if rule.distinct else None
            if rule.distinct and not value:
                continue
            win.append((obs.time, value))
            samples.append(obs)
            while win and win[0][0] < obs.time - rule.window:
                win.popleft()
            if rule.distinct:
                count = len({v for _, v in win}) if len(win) >= rule.threshold else len(win)
                if len(win) > self.max_distinct:
                    latest = {}
                    for t, v in win:
                        latest[v] = t
                    win.clear()
                    win.extend(sorted((t, v) for v, t in latest.items()))
            else:
                count = len(win)
                if len(win) > rule.threshold:
                    win.popleft()
            if count < rule.threshold:
                continue
            qkey = f"{rule.id}|{group}"
            if obs.time < self.quiet_until.get(qkey, float("-inf")):
                continue
            self.quiet_until[qkey] = obs.time + rule.cooldown
            first = win[0][0] if win else obs.time
            out.append((rule.id, group, count, first, obs.time, list(samples), rule.finding or obs.rule))
        return out

    def sweep(self, now: float) -> None:
        for rule in self.ruleset.rules:
            groups = self.windows[rule.id]
            for g in [g for g, w in groups.items() if not w or w[-1][0] < now - rule.window]:
                del groups[g]
                self.samples[rule.id].pop(g, None)
        for k in [k for k, t in self.quiet_until.items() if t < now]:
            del self.quiet_until[k]

    def state(self) -> dict:
        return {"started": self.started,
                "windows": {rid: {g: list(map(list, w)) for g, w in groups.items() if w}
                            for rid, groups in self.windows.items()},
                "quiet_until": dict(self.quiet_until),
                "seen": {rid: sorted(v) for rid, v in self.seen.items()}}


def shown(o: Observation) -> tuple:
    return (o.time, o.kind, o.ip, o.user, o.route, o.url, o.evidence, o.rule, o.where)


def fast_alerts(engine: WindowEngine, obs: Observation) -> list[tuple]:
    return [(a.rule.id, a.group, a.count, a.first, a.last, [shown(o) for o in a.samples], a.finding)
            for a in engine.observe(obs)]


def plain_alerts(engine: PlainEngine, obs: Observation) -> list[tuple]:
    return [(*a[:5], [shown(o) for o in a[5]], a[6]) for a in engine.observe(obs)]


def stream(seed: int, n: int) -> list[Observation]:
    rnd = random.Random(seed)
    ips = [f"10.0.0.{i}" for i in range(12)] + [None, ""]
    users = ["alice", "bob", "carol", "dave", None]
    urls = [f"/p/{i}" for i in range(40)] + [None]
    errors = [f"Error: case {i}" for i in range(15)]
    t = 1_800_000_000.0
    out = []
    for i in range(n):
        t += rnd.choice([0.0, 0.001, 0.5, 1, 2, 7, 30])
        when = t - rnd.choice([0, 0, 0, 0, 0, 3, 8, 200]) if rnd.random() < 0.05 else t  # a forged, older line
        kind = rnd.choice(KINDS)
        url = rnd.choice(urls)
        route = f"GET {url}" if url and rnd.random() < 0.9 else None
        evidence = rnd.choice(errors) if kind == "error" else f"{kind} at {url}"
        out.append(Observation(when, kind, rnd.choice(ips), rnd.choice(users), route, url, evidence,
                               rule=f"EGG-LOG-{100 + KINDS.index(kind)}", file="app-web.log", line=i + 1))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_same_alerts_and_samples_as_the_plain_algorithm(seed):
    fast = WindowEngine(RULES)
    fast.SWEEP_EVERY, fast.MAX_DISTINCT = 97, 9
    plain = PlainEngine(RULES, sweep_every=97, max_distinct=9)
    fired = 0
    for obs in stream(seed, 6000):
        got = fast_alerts(fast, obs)
        assert got == plain_alerts(plain, obs), f"sighting {obs!r}"
        fired += len(got)
    assert fired > 300, "the stream must make every kind of rule fire, or this compares nothing"
    assert json.loads(json.dumps(fast.state())) == plain.state() | {"seen": {
        rid: list(fast.seen[rid]) for rid in plain.seen}}, "same checkpoint (seen kept in recency order)"
    assert {rid: set(v) for rid, v in fast.seen.items()} == plain.seen


@pytest.mark.parametrize("seed", range(3))
def test_restart_from_a_checkpoint_agrees_including_one_written_by_the_plain_engine(seed):
    obs = stream(100 + seed, 4000)
    fast = WindowEngine(RULES)
    plain = PlainEngine(RULES, sweep_every=20000, max_distinct=1000)
    for o in obs[:2500]:
        assert fast_alerts(fast, o) == plain_alerts(plain, o)
    old_checkpoint = json.loads(json.dumps(plain.state()))
    resumed = WindowEngine(RULES, state=json.loads(json.dumps(fast.state())))
    from_old = WindowEngine(RULES, state=old_checkpoint)
    plain = PlainEngine(RULES, sweep_every=20000, max_distinct=1000, state=old_checkpoint)
    for o in obs[2500:]:
        expected = plain_alerts(plain, o)
        assert fast_alerts(resumed, o) == expected
        assert fast_alerts(from_old, o) == expected


def test_observe_keeps_its_public_shape():
    eng = WindowEngine(RuleSet(rules=[RULES.rules[0]]))
    o = Observation(time=5.0, kind="auth_failure", ip="1.1.1.1", user="bob", rule="EGG-LOG-101", where="a.log:7")
    assert eng.observe(o) == [] and eng.observe(Observation(time=5.0, kind="unknown")) == []
    eng.observe(Observation(time=6.0, kind="auth_failure", ip="1.1.1.1", where="a.log:8"))
    [alert] = eng.observe(Observation(time=7.0, kind="auth_failure", ip="1.1.1.1", where="a.log:9"))
    assert alert.rule.id == "count-ip" and alert.count == 3 and alert.key == f"count-ip|1.1.1.1|{int(5.0)}"
    assert [s.where for s in alert.samples] == ["a.log:7", "a.log:8", "a.log:9"]
    assert alert.samples is alert.samples, "samples are made once"
    assert "count-ip" in repr(alert) and "a.log:7" in repr(o) and o.extra == {} and o.field("none") == "*"
