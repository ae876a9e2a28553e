"""`logs analyze` holds the same memory for a 1 GB log as for a small one: every collection that would
grow with distinct IPs, users or error types is capped, and below the caps nothing changes.

Records go straight to `Analyzer.feed_prepared` as a parallel worker would send them (a `Brief` and
the signals `prepare` found), so each stream of thousands of distinct sources takes milliseconds.
"""

from __future__ import annotations

import gc
import sys
import types
from datetime import datetime, timedelta

from eggshield.checks.logs_context import LogCheckContext, run_log_rules
from eggshield.logs import analyze
from eggshield.logs.analyze import (
    MAX_BURST_GROUPS_PER_RULE,
    MAX_ERROR_TYPES,
    MAX_PER_GROUP,
    OTHER_ERROR_TYPES,
    Analyzer,
    Brief,
)
from eggshield.logs.windows import AlertRule, Observation, RuleSet, WindowEngine, load_rules

T0 = datetime(2026, 12, 3, 10, 0, 0)
FAILED = ("auth_failure", "EGG-LOG-101", "login failed")


def feed(an: Analyzer, n: int, *, ip=lambda i: f"10.0.{i // 250}.{i % 250}", user=lambda i: None,
         sig=lambda i: FAILED, step: float = 1.0, start: int = 0) -> Analyzer:
    for i in range(start, start + n):
        u = user(i)
        rec = Brief("app-web.log", i + 1, T0 + timedelta(seconds=i * step), ip(i), "POST /login", "/login",
                    "app-web", u)
        an.feed_prepared(rec, u, (sig(i),), ())
    return an


def rules(*r: AlertRule) -> RuleSet:
    return RuleSet(rules=list(r), learn=0.0)


# --- burst groups: who they list, and how many there are ----------------------------------------

SPRAY = AlertRule("spray", ("auth_failure",), "user", threshold=3, window=60, distinct="ip", cooldown=0,
                  finding="EGG-LOG-106")


def test_a_burst_group_lists_at_most_50_ips_but_counts_every_alert():
    an = feed(Analyzer(rules(SPRAY)), 400, user=lambda i: "bob")
    [group] = an.analysis.groups["EGG-LOG-106"].values()
    assert group.count == 398, "every alert from the 3rd failure on is counted"
    assert len(group.ips) == MAX_PER_GROUP == 50 and group.users == {"bob"}


def test_below_50_a_burst_group_lists_every_ip():
    an = feed(Analyzer(rules(SPRAY)), 20, user=lambda i: "bob")
    [group] = an.analysis.groups["EGG-LOG-106"].values()
    assert group.count == 18 and group.ips == {f"10.0.0.{i}" for i in range(20)}


PER_IP = AlertRule("per-ip", ("auth_failure",), "ip", threshold=2, window=60, cooldown=3600, finding="EGG-LOG-105")


def test_burst_groups_beyond_the_cap_fold_into_other_sources():
    an = feed(Analyzer(rules(PER_IP)), 3000, ip=lambda i: f"10.1.{i // 500}.{i // 2 % 250}")  # 1500 IPs, 2 each
    groups = an.analysis.groups["EGG-LOG-105"]
    assert len(groups) == MAX_BURST_GROUPS_PER_RULE + 1 == 1001
    other = groups["burst|per-ip|(other sources)"]
    assert other.count == 500 and len(other.ips) == MAX_PER_GROUP
    assert sum(g.count for g in groups.values()) == an.analysis.alerts == 1500
    findings, problems = run_log_rules(LogCheckContext(an.analysis), only=["EGG-LOG-105"])
    assert not problems and len(findings) == 1001
    assert max(f.extra["count"] for f in findings) == 500, "the folded group is reported with its full count"


def test_below_the_cap_every_bursting_ip_has_its_own_group():
    an = feed(Analyzer(rules(PER_IP)), 600, ip=lambda i: f"10.1.{i // 500}.{i // 2 % 250}")
    groups = an.analysis.groups["EGG-LOG-105"]
    assert len(groups) == 300 and not any("(other sources)" in k for k in groups)


# --- error types ----------------------------------------------------------------------------------

def error(i: int) -> tuple:
    return ("error", "EGG-LOG-112", f"Error: case {i}")


def test_error_types_keep_1000_names_and_count_the_rest():
    an = feed(Analyzer(), 1500, sig=error)
    types = an.analysis.error_types
    assert len(types) == MAX_ERROR_TYPES + 1 and types[OTHER_ERROR_TYPES] == 500
    assert list(types)[:3] == ["Error: case 0", "Error: case 1", "Error: case 2"]
    assert sum(types.values()) == 1500 == an.analysis.signal_counts["error"]


def test_below_the_cap_error_types_are_exact():
    an = feed(Analyzer(), 90, sig=lambda i: error(i % 30))
    assert an.analysis.error_types == {f"Error: case {i}": 3 for i in range(30)}


def test_new_error_types_after_learning_fold_beyond_the_burst_cap():
    # the default rules learn for an hour, then every new type is an alert (EGG-LOG-113)
    an = feed(Analyzer(load_rules()), 1400, sig=error, step=10.0)
    new = an.analysis.groups["EGG-LOG-113"]
    assert len(new) == MAX_BURST_GROUPS_PER_RULE + 1
    assert new["burst|new-error-type|(other sources)"].count == 1400 - 360 - 1000  # 360 learnt in the first hour


# --- the window engine ------------------------------------------------------------------------------

NEW_VALUE = AlertRule("new-ip", ("auth_failure",), "ip", new_value=True)


def sight(eng: WindowEngine, t: float, ip: str) -> list:
    return eng.observe(Observation(t, "auth_failure", ip, rule="EGG-LOG-101", where="app-web.log:1"))


def test_new_value_rule_remembers_the_10000_most_recent_values():
    eng = WindowEngine(rules(NEW_VALUE))
    fired = 0
    for i in range(10500):
        fired += len(sight(eng, i, f"ip{i}"))
        if i % 100 == 0:
            sight(eng, i, "regular")  # seen all along: never forgotten
    assert fired == 10500 and len(eng.seen["new-ip"]) == eng.MAX_SEEN == 10000
    assert sight(eng, 10501, "ip10499") == [] and sight(eng, 10502, "regular") == []
    assert len(sight(eng, 10503, "ip0")) == 1, "forgotten, so new again"
    assert len(WindowEngine(rules(NEW_VALUE), state=eng.state()).seen["new-ip"]) == 10000


def test_below_the_cap_no_value_is_new_twice():
    eng = WindowEngine(rules(NEW_VALUE))
    assert sum(len(sight(eng, i, f"ip{i % 500}")) for i in range(5000)) == 500


def test_a_flood_of_new_groups_within_one_window_is_capped():
    rule = AlertRule("per-ip", ("auth_failure",), "ip", threshold=3, window=600, cooldown=60)
    eng = WindowEngine(rules(rule))
    eng.SWEEP_EVERY = 1000
    for i in range(eng.MAX_GROUPS + 500):  # all within 10 minutes
        sight(eng, i * 0.01, f"flood{i}")
    assert len(eng.windows["per-ip"]) == eng.MAX_GROUPS and eng.untracked == 500
    for i in range(3):  # once the flood has left the window, a sweep makes room for new sources
        sight(eng, 5000 + i, "late")
    eng._sweep(5000)
    assert [a.group for i in range(3) for a in sight(eng, 5010 + i, "late")] == ["late"]


def test_ordinary_traffic_is_never_untracked():
    eng = WindowEngine(load_rules())
    for i in range(30000):
        sight(eng, i, f"10.0.{i % 40}.{i % 7}")
    assert eng.untracked == 0


# --- all together: memory does not grow with the log ---------------------------------------------

def distinct_everything(i: int) -> tuple:
    return error(i) if i % 2 else FAILED


def deep_size(root) -> int:
    """Bytes of every object reachable from `root` (classes, functions and modules aside)."""
    seen, todo, total = set(), [root], 0
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        todo.extend(gc.get_referents(obj))
    return total


def held_after(n: int) -> tuple[int, int]:
    """(bytes the analyzer holds, items in its collections) after `n` records, every source new."""
    ruleset = load_rules()
    ruleset.learn = 60.0
    an = Analyzer(ruleset)
    an.engine.MAX_SEEN, an.engine.SWEEP_EVERY = 500, 2000
    feed(an, n, sig=distinct_everything, user=lambda i: f"user{i}", step=0.5)
    a, e = an.analysis, an.engine
    items = (sum(len(g) for g in a.groups.values())
             + sum(len(g.ips) + len(g.users) + len(g.routes) for g in a.all_groups())
             + len(a.events) + len(a.error_types) + sum(len(s) for s in e.seen.values())
             + sum(len(w) for w in e.windows.values()) + sum(len(q) for q in e.quiet.values()))
    return deep_size(an), items


def test_memory_stays_flat_when_every_ip_user_and_error_is_new(monkeypatch):
    # the caps (and the learning hour) scaled down 10x so that a short stream reaches them all
    for name, value in (("MAX_EVENTS", 1000), ("MAX_GROUPS_PER_RULE", 50), ("MAX_BURST_GROUPS_PER_RULE", 100),
                        ("MAX_ERROR_TYPES", 100), ("MAX_PER_GROUP", 5)):
        monkeypatch.setattr(analyze, name, value)
    small_bytes, small_items = held_after(10000)
    big_bytes, big_items = held_after(40000)
    assert big_items == small_items, "four times the log, not one more item held"
    assert big_bytes <= small_bytes * 1.01, (small_bytes, big_bytes)  # longer IP strings only


def test_a_flood_beyond_the_live_group_cap_is_reported_in_the_read_notes(tmp_path, monkeypatch):
    monkeypatch.setattr(WindowEngine, "MAX_GROUPS", 5)
    log = tmp_path / "app-web.log"
    log.write_text("".join(f"2026-12-03 10:00:{i:02d},000 WARN 1 [-/10.9.0.{i}/-/1ms POST /login] "
                           "nodejs.ForbiddenError: invalid csrf token\n" for i in range(20)))
    notes = [str(n) for n in analyze.analyze([log]).read.notes]
    assert any("not followed by the burst rules" in n and "over 5 sources" in n for n in notes), notes
    monkeypatch.setattr(WindowEngine, "MAX_GROUPS", 50000)
    assert analyze.analyze([log]).read.notes == []
