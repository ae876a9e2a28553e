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
from eggshield.logs import prefilter, sensitive
from eggshield.logs.record import LogRecord
from eggshield.logs.signals import body_of, signals_of, user_of
from eggshield.logs.source import ReadResult, read_records
from eggshield.logs.windows import Alert, RuleSet, WindowEngine, load_rules

MAX_EVENTS = 10000
MAX_GROUPS_PER_RULE = 500
#: burst groups one alert rule may open per finding rule, the rest folded into its "(other sources)"
#: group; counted apart from MAX_GROUPS_PER_RULE because a burst is a finding of its own (one per
#: brute-forcing IP), worth more room than single events: as many as the engine's distinct values
MAX_BURST_GROUPS_PER_RULE = 1000
#: IPs, users and routes a group keeps for its message ("from 3 IPs (...)"); its count stays exact
MAX_PER_GROUP = 50
#: distinct error types counted one by one in `error_types`; the rest go to OTHER_ERROR_TYPES
MAX_ERROR_TYPES = 1000
OTHER_ERROR_TYPES = "(other error types)"
#: signals that are context for alert rules only, not findings of their own
NOT_REPORTED = {"not_found", "error"}


@dataclass(slots=True)
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
                "ip": self.ip, "user": sensitive.redact(self.user) if self.user else None,
                "route": sensitive.redact(self.route) if self.route else None, "evidence": self.evidence,
                "location": self.where, "logger": self.logger}


@dataclass(slots=True)
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
        """One more event (`Analyzer` folds plain values the same way, without an Event)."""
        self.count += 1
        if ev.time and (self.last_time is None or ev.time > self.last_time):
            self.last_time = ev.time
        for bag, value in ((self.ips, ev.ip), (self.users, ev.user), (self.routes, ev.route)):
            if value and len(bag) < MAX_PER_GROUP:
                bag.add(value)


@dataclass
class Analysis:
    read: ReadResult
    groups: dict[str, dict[str, EventGroup]] = field(default_factory=dict)  # rule -> key -> group
    events: list[Event] = field(default_factory=list)
    events_dropped: int = 0
    signal_counts: dict[str, int] = field(default_factory=dict)
    error_types: dict[str, int] = field(default_factory=dict)  # at most MAX_ERROR_TYPES + OTHER_ERROR_TYPES
    alerts: int = 0
    rules: RuleSet | None = None

    @property
    def problems(self) -> list[InputProblem]:
        return self.read.problems

    def all_groups(self) -> list[EventGroup]:
        return [g for groups in self.groups.values() for g in groups.values()]


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


class Analyzer:
    """Feed records one by one (analyze and watch share this); collects groups and window alerts."""

    def __init__(self, ruleset: RuleSet | None = None, engine_state: dict | None = None,
                 secrets: bool = True, keep_events: bool = True):
        self.ruleset = ruleset or load_rules()
        self.engine = WindowEngine(self.ruleset, engine_state)
        self.secrets = secrets
        self.keep_events = keep_events
        self.analysis = Analysis(read=ReadResult(), rules=self.ruleset)
        self._bursts: dict[tuple[str, str], int] = {}  # (finding, alert rule id) -> burst groups opened
        self._quiet = prefilter.record_quiet_judge(secrets)

    def feed(self, rec: LogRecord) -> list[Alert]:
        if self._quiet(rec):  # most records: nothing `prepare` could find (logs/prefilter.py)
            return []
        found = prepare(rec, self.secrets)
        return self.feed_prepared(rec, *found) if found is not None else []

    def feed_prepared(self, rec, user: str | None, sigs: tuple, hits: tuple) -> list[Alert]:
        """`feed` with the record's signals and secret hits already found and masked (`prepare`).

        `rec` is a LogRecord or a `Brief` of one (what a `logs.parallel` worker sends back). This runs
        for every record with a signal, in one process, so it reads each field of `rec` once, hands the
        window engine plain tuples, and makes an Event only when one is kept."""
        counts = self.analysis.signal_counts
        counted = self.engine.plans
        sight = self.engine.sight
        types = self.analysis.error_types
        alerts = None
        t = rec.time
        ts = None
        ip = rec.ip
        route = rec.route  # a property of LogRecord: read once
        for kind, rule, evidence in sigs:
            counts[kind] = counts.get(kind, 0) + 1
            if kind in counted:
                if ts is None:
                    ts = t.timestamp() if t else 0.0
                found = sight((ts, kind, ip, user, route, rec.url, evidence, rule, rec.file, rec.line, "*"))
                if found:
                    if alerts is None:
                        alerts = found
                    else:
                        alerts.extend(found)
            if kind in NOT_REPORTED:
                if kind == "error":
                    n = types.get(evidence)
                    if n is not None:
                        types[evidence] = n + 1
                    elif len(types) < MAX_ERROR_TYPES:
                        types[evidence] = 1
                    else:  # a log whose error messages never repeat must not grow this without end
                        types[OTHER_ERROR_TYPES] = types.get(OTHER_ERROR_TYPES, 0) + 1
                continue
            self._event(rec, t, kind, rule, user, route, evidence, f"{kind}|{ip or '-'}", "", True)
        if hits:
            source = rec.logger or rec.file
            for rule, label, ev_text in hits:
                counts["secret_in_log"] = counts.get("secret_in_log", 0) + 1
                if "secret_in_log" in counted:
                    if ts is None:
                        ts = t.timestamp() if t else 0.0
                    found = sight((ts, "secret_in_log", ip, user, route, rec.url, f"{label} in {source}", rule,
                                   rec.file, rec.line, "*"))
                    if found:
                        if alerts is None:
                            alerts = found
                        else:
                            alerts.extend(found)
                self._event(rec, t, "secret_in_log", rule, rec.user, route, ev_text, f"{label}|{source}", label,
                            False)
        if alerts is None:
            return []
        for alert in alerts:
            self._burst(alert)
        return alerts

    def _event(self, rec, t: datetime | None, kind: str, rule: str, user: str | None, route: str | None,
               evidence: str, gkey: str, label: str, by_ip: bool) -> None:
        """Fold one event into its group (`by_ip`: the key names the record's IP, so the group has it already)."""
        a = self.analysis
        groups = a.groups.get(rule)
        if groups is None:
            groups = a.groups[rule] = {}
        ev = None
        if self.keep_events:
            if len(a.events) < MAX_EVENTS:
                ev = Event(rule, kind, t, rec.ip, user, route, evidence, f"{rec.file}:{rec.line}", rec.logger)
                a.events.append(ev)
            else:
                a.events_dropped += 1
        group = groups.get(gkey)
        if group is None:
            if len(groups) >= MAX_GROUPS_PER_RULE:
                gkey = f"{kind}|(other sources)"
                group = groups.get(gkey)
            if group is None:
                if ev is None:
                    ev = Event(rule, kind, t, rec.ip, user, route, evidence, f"{rec.file}:{rec.line}", rec.logger)
                group = groups[gkey] = EventGroup(rule=rule, kind=kind, key=gkey, first=ev, label=label)
            by_ip = False
        group.count += 1
        if t and (group.last_time is None or t > group.last_time):
            group.last_time = t
        if not by_ip:
            ip = rec.ip
            if ip and len(group.ips) < MAX_PER_GROUP:
                group.ips.add(ip)
        if user and len(group.users) < MAX_PER_GROUP:
            group.users.add(user)
        if route and len(group.routes) < MAX_PER_GROUP:
            group.routes.add(route)

    def _burst(self, alert: Alert) -> None:
        a = self.analysis
        a.alerts += 1
        r = alert.rule
        if r.threshold <= 1 and not r.new_value and not r.distinct:
            return  # one signal per alert: already a finding of its own (such rules exist for `watch`)
        groups = a.groups.setdefault(alert.finding, {})
        gkey = f"burst|{r.id}|{alert.group}"
        group = groups.get(gkey)
        if group is None:
            opened = self._bursts.get((alert.finding, r.id), 0)
            if opened >= MAX_BURST_GROUPS_PER_RULE:  # a million scanning IPs: one group for the rest
                gkey = f"burst|{r.id}|(other sources)"
                group = groups.get(gkey)
            if group is None:
                self._bursts[(alert.finding, r.id)] = opened + 1
                s = alert.samples[-1]
                ev = Event(rule=alert.finding, kind=r.id, time=datetime.fromtimestamp(alert.first),
                           ip=s.ip, user=s.user, route=s.route, evidence=s.evidence, where=s.where)
                group = groups[gkey] = EventGroup(rule=alert.finding, kind=r.id, key=gkey, first=ev, burst=alert)
        group.count += 1
        group.last_time = datetime.fromtimestamp(alert.last)
        ips, users, routes = group.ips, group.users, group.routes
        for ip, user, route in alert.who():
            if ip and len(ips) < MAX_PER_GROUP:
                ips.add(ip)
            if user and len(users) < MAX_PER_GROUP:
                users.add(user)
            if route and len(routes) < MAX_PER_GROUP:
                routes.add(route)
        if group.burst is not None and alert.count > group.burst.count:
            group.burst = alert


def analyze(paths: list[Path], since: datetime | None = None, ruleset: RuleSet | None = None,
            secrets: bool = True) -> Analysis:
    analyzer = Analyzer(ruleset, secrets=secrets)
    result = analyzer.analysis.read
    from eggshield.logs import parallel  # imports this module

    planned = parallel.plan(paths)
    if planned is not None:
        parallel.analyze_parallel(planned, analyzer, result, since)
    elif (one := parallel.single_text_log(paths)) is not None:
        parallel.analyze_one(*one, analyzer, result, since)
    elif (many := parallel.text_logs(paths)) is not None:
        parallel.analyze_many(many, analyzer, result, since)
    else:
        for rec in read_records(paths, since=since, result=result):
            analyzer.feed(rec)
    if analyzer.engine.untracked:
        result.notes.append(InputProblem("(alert rules)", f"{analyzer.engine.untracked:,} signal(s) from new sources "
                                         f"not followed by the burst rules: over {WindowEngine.MAX_GROUPS:,} "
                                         "sources were active within one window (a flood)"))
    return analyzer.analysis
