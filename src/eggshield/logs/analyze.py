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
from eggshield.logs.signals import body_of, signals_of, user_of
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


def prepare(rec: LogRecord, secrets: bool = True) -> tuple | None:
    """(user, signals as (kind, rule, masked evidence), secret hits as (rule, label, masked evidence)) of a
    record, None when it has neither: the stateless, costly part of `Analyzer.feed`."""
    body = body_of(rec.text)
    sigs = signals_of(rec, body)
    hits = secret_hits(body) if secrets else ()
    if not sigs and not hits:
        return None
    return (user_of(rec),
            tuple((s.kind, s.rule, redacted(s.evidence) if s.kind != "error" else s.evidence) for s in sigs),
            tuple((h.rule, h.label, sensitive.evidence(body, h, hits=hits)) for h in hits))


class Brief:
    """What `Analyzer.feed_prepared` reads of a record: small, so a worker process can send it cheaply."""

    __slots__ = ("file", "line", "time", "ip", "route", "url", "logger", "user")

    def __init__(self, file, line, time, ip, route, url, logger, user):
        self.file, self.line, self.time, self.ip = file, line, time, ip
        self.route, self.url, self.logger, self.user = route, url, logger, user

    @classmethod
    def of(cls, rec: LogRecord) -> tuple:
        """The constructor arguments (a tuple pickles fastest)."""
        return (rec.file, rec.line, rec.time, rec.ip, rec.route, rec.url, rec.logger, rec.user)

    @property
    def timestamp(self) -> float:
        return self.time.timestamp() if self.time else 0.0

    def where(self) -> str:
        return f"{self.file}:{self.line}"


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
        found = prepare(rec, self.secrets)
        return self.feed_prepared(rec, *found) if found is not None else []

    def feed_prepared(self, rec, user: str | None, sigs: tuple, hits: tuple) -> list[Alert]:
        """`feed` with the record's signals and secret hits already found and masked (`prepare`).

        `rec` is a LogRecord or a `Brief` of one (what a `logs.parallel` worker sends back)."""
        a = self.analysis
        alerts: list[Alert] = []
        for kind, rule, evidence in sigs:
            a.signal_counts[kind] = a.signal_counts.get(kind, 0) + 1
            obs = observation(rec, kind, rule, evidence, user)
            alerts.extend(self.engine.observe(obs))
            if kind == "error":
                a.error_types[evidence] = a.error_types.get(evidence, 0) + 1
            if kind in NOT_REPORTED:
                continue
            self._event(rec, kind, rule, user, evidence)
        for rule, label, ev_text in hits:
            a.signal_counts["secret_in_log"] = a.signal_counts.get("secret_in_log", 0) + 1
            obs = observation(rec, "secret_in_log", rule, f"{label} in {rec.logger or rec.file}", user)
            alerts.extend(self.engine.observe(obs))
            self._event(rec, "secret_in_log", rule, rec.user, ev_text, key=f"{label}|{rec.logger or rec.file}",
                        label=label)
        for alert in alerts:
            self._burst(alert)
        return alerts

    def _event(self, rec, kind: str, rule: str, user: str | None, evidence: str, key: str | None = None,
               label: str = "") -> None:
        a = self.analysis
        ev = Event(rule=rule, kind=kind, time=rec.time, ip=rec.ip, user=user, route=rec.route,
                   evidence=evidence, where=rec.where(), logger=rec.logger)
        if self.keep_events:
            if len(a.events) < MAX_EVENTS:
                a.events.append(ev)
            else:
                a.events_dropped += 1
        groups = a.groups.setdefault(rule, {})
        gkey = key or f"{kind}|{rec.ip or '-'}"
        group = groups.get(gkey)
        if group is None:
            if len(groups) >= MAX_GROUPS_PER_RULE:
                gkey = f"{kind}|(other sources)"
                group = groups.get(gkey)
            if group is None:
                group = groups[gkey] = EventGroup(rule=rule, kind=kind, key=gkey, first=ev, label=label)
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
    if since is None:
        from eggshield.logs import parallel  # imports this module

        planned = parallel.plan(paths)
        if planned is not None:
            parallel.analyze_parallel(planned, analyzer, result)
            return analyzer.analysis
    for rec in read_records(paths, since=since, result=result):
        analyzer.feed(rec)
    return analyzer.analysis
