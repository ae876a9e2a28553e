"""`eggshield logs analyze`: records → signals and secrets → events, grouped; bursts from the window engine.

Everything streams: per-record events are kept individually only up to `MAX_EVENTS` (for the
JSON `events` list) and otherwise folded into groups, so a 1 GB log costs the same memory as a
small one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from eggshield.finding import InputProblem
from eggshield.logs import sensitive
from eggshield.logs.record import LogRecord
from eggshield.logs.signals import Signal, body_of, signals_of, user_of
from eggshield.logs.source import ReadResult, read_records
from eggshield.logs.windows import Alert, Observation, RuleSet, WindowEngine, load_rules

MAX_EVENTS = 10000
MAX_GROUPS_PER_RULE = 500
#: signals that are context for alert rules only, not findings of their own
NOT_REPORTED = {"not_found", "error"}


@dataclass
class Event:
    """One security event: what a finding and the JSON `events` list are made of."""

    rule: str
    kind: str
    time: datetime | None
    ip: str | None
    user: str | None
    route: str | None
    evidence: str  # masked
    where: str  # file:line
    logger: str = ""

    def to_dict(self) -> dict:
        return {"rule_id": self.rule, "kind": self.kind, "time": self.time.isoformat() if self.time else None,
                "ip": self.ip, "user": sensitive.redact(self.user) if self.user else None, "route": self.route, "evidence": self.evidence,
                "location": self.where, "logger": self.logger}


@dataclass
class EventGroup:
    """Events of one rule from one source (IP, or secret kind and log) folded together."""

    rule: str
    kind: str
    key: str
    first: Event
    count: int = 0
    last_time: datetime | None = None
    ips: set = field(default_factory=set)
    users: set = field(default_factory=set)
    routes: set = field(default_factory=set)
    label: str = ""
    burst: Alert | None = None  # set for groups made by an alert rule

    def add(self, ev: Event) -> None:
        self.count += 1
        if ev.time and (self.last_time is None or ev.time > self.last_time):
            self.last_time = ev.time
        for bag, value in ((self.ips, ev.ip), (self.users, ev.user), (self.routes, ev.route)):
            if value and len(bag) < 50:
                bag.add(value)


@dataclass
class Analysis:
    read: ReadResult
    groups: dict[str, dict[str, EventGroup]] = field(default_factory=dict)  # rule -> key -> group
    events: list[Event] = field(default_factory=list)
    events_dropped: int = 0
    signal_counts: dict[str, int] = field(default_factory=dict)
    error_types: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    rules: RuleSet | None = None

    @property
    def problems(self) -> list[InputProblem]:
        return self.read.problems

    def all_groups(self) -> list[EventGroup]:
        return [g for groups in self.groups.values() for g in groups.values()]


_NO_USER = object()
#: texts at most this long are memoised: Egg logs repeat the same messages (a CSRF failure's body is
#: identical every time), and the secret finders are the costliest step per record
MEMO_MAX_LEN = 512


@lru_cache(maxsize=2048)
def _memo_hits(text: str) -> tuple[sensitive.Hit, ...]:
    return tuple(sensitive.find(text))


def secret_hits(text: str) -> list[sensitive.Hit]:
    return list(_memo_hits(text)) if len(text) <= MEMO_MAX_LEN else sensitive.find(text)


@lru_cache(maxsize=2048)
def _memo_redact(text: str) -> str:
    return sensitive.redact(text)


def redacted(text: str) -> str:
    return _memo_redact(text) if len(text) <= MEMO_MAX_LEN else sensitive.redact(text)


def observation(rec: LogRecord, kind: str, rule: str, evidence: str, user=_NO_USER) -> Observation:
    return Observation(time=rec.timestamp, kind=kind, ip=rec.ip, user=user_of(rec) if user is _NO_USER else user,
                       route=rec.route, url=rec.url, evidence=evidence, rule=rule, where=rec.where())


class Analyzer:
    """Feed records one by one (analyze and watch share this); collects groups and window alerts."""

    def __init__(self, ruleset: RuleSet | None = None, engine_state: dict | None = None,
                 secrets: bool = True, keep_events: bool = True):
        self.ruleset = ruleset or load_rules()
        self.engine = WindowEngine(self.ruleset, engine_state)
        self.secrets = secrets
        self.keep_events = keep_events
        self.analysis = Analysis(read=ReadResult(), rules=self.ruleset)

    def feed(self, rec: LogRecord) -> list[Alert]:
        a = self.analysis
        alerts: list[Alert] = []
        user = None
        body = body_of(rec.text)
        for sig in signals_of(rec, body):
            a.signal_counts[sig.kind] = a.signal_counts.get(sig.kind, 0) + 1
            if user is None:
                user = user_of(rec)
            evidence = redacted(sig.evidence) if sig.kind != "error" else sig.evidence
            obs = observation(rec, sig.kind, sig.rule, evidence, user)
            alerts.extend(self.engine.observe(obs))
            if sig.kind == "error":
                a.error_types[sig.evidence] = a.error_types.get(sig.evidence, 0) + 1
            if sig.kind in NOT_REPORTED:
                continue
            self._event(rec, sig, user, evidence)
        if self.secrets:
            text = body  # scan_text(rec.text) by the same rule
            hits = secret_hits(text)
            for hit in hits:
                a.signal_counts["secret_in_log"] = a.signal_counts.get("secret_in_log", 0) + 1
                ev_text = sensitive.evidence(text, hit, hits=hits)
                sig = Signal("secret_in_log", hit.rule, ev_text)
                obs = observation(rec, "secret_in_log", hit.rule, f"{hit.label} in {rec.logger or rec.file}")
                alerts.extend(self.engine.observe(obs))
                self._event(rec, sig, rec.user, ev_text, key=f"{hit.label}|{rec.logger or rec.file}", label=hit.label)
        for alert in alerts:
            self._burst(alert)
        return alerts

    def _event(self, rec: LogRecord, sig: Signal, user: str | None, evidence: str, key: str | None = None,
               label: str = "") -> None:
        a = self.analysis
        ev = Event(rule=sig.rule, kind=sig.kind, time=rec.time, ip=rec.ip, user=user, route=rec.route,
                   evidence=evidence, where=rec.where(), logger=rec.logger)
        if self.keep_events:
            if len(a.events) < MAX_EVENTS:
                a.events.append(ev)
            else:
                a.events_dropped += 1
        groups = a.groups.setdefault(sig.rule, {})
        gkey = key or f"{sig.kind}|{rec.ip or '-'}"
        group = groups.get(gkey)
        if group is None:
            if len(groups) >= MAX_GROUPS_PER_RULE:
                gkey = f"{sig.kind}|(other sources)"
                group = groups.get(gkey)
            if group is None:
                group = groups[gkey] = EventGroup(rule=sig.rule, kind=sig.kind, key=gkey, first=ev, label=label)
        group.add(ev)

    def _burst(self, alert: Alert) -> None:
        a = self.analysis
        a.alerts += 1
        r = alert.rule
        if r.threshold <= 1 and not r.new_value and not r.distinct:
            return  # one signal per alert: already a finding of its own (such rules exist for `watch`)
        s = alert.samples[-1]
        ev = Event(rule=alert.finding, kind=alert.rule.id, time=datetime.fromtimestamp(alert.first),
                   ip=s.ip, user=s.user, route=s.route, evidence=s.evidence, where=s.where)
        groups = a.groups.setdefault(alert.finding, {})
        gkey = f"burst|{alert.rule.id}|{alert.group}"
        group = groups.get(gkey)
        if group is None:
            group = groups[gkey] = EventGroup(rule=alert.finding, kind=alert.rule.id, key=gkey, first=ev,
                                              burst=alert)
        group.count += 1
        group.last_time = datetime.fromtimestamp(alert.last)
        for o in alert.samples:
            if o.ip:
                group.ips.add(o.ip)
            if o.user:
                group.users.add(o.user)
            if o.route:
                group.routes.add(o.route)
        if group.burst is not None and alert.count > group.burst.count:
            group.burst = alert


def analyze(paths: list[Path], since: datetime | None = None, ruleset: RuleSet | None = None,
            secrets: bool = True) -> Analysis:
    analyzer = Analyzer(ruleset, secrets=secrets)
    result = analyzer.analysis.read
    for rec in read_records(paths, since=since, result=result):
        analyzer.feed(rec)
    return analyzer.analysis
