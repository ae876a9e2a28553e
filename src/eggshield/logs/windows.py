"""Alert rules: thresholds over sliding windows of log time, with cooldowns (data: log_alert_rules.toml).

The same engine runs in `logs analyze` (bursts become findings) and `logs watch` (bursts become
notifications); its whole state is a JSON-able dict so `watch` can checkpoint it with the file
offsets and resume after a restart without re-alerting or forgetting a half-full window.
"""

from __future__ import annotations

import re
import tomllib
from collections import deque
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from eggshield.finding import SEVERITIES

GROUPS = ("ip", "user", "route", "evidence", "url", "none")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file, the rule and the field."""


def parse_duration(text: str | int | float) -> float:
    """'5m' → 300.0; a bare number is seconds."""
    if isinstance(text, int | float):
        return float(text)
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r} (use 30s, 5m, 2h, 1d)")
    return float(m.group(1)) * _UNIT[m.group(2)]


@dataclass(frozen=True)
class AlertRule:
    id: str
    signals: tuple[str, ...]
    group_by: str = "ip"
    threshold: int = 1
    window: float = 60.0
    distinct: str | None = None
    new_value: bool = False
    cooldown: float = 900.0
    severity: str = "medium"
    finding: str | None = None

    def describe(self) -> str:
        what = "/".join(self.signals)
        if self.new_value:
            return f"first {what} of a new {self.group_by}"
        count = f"{self.threshold} distinct {self.distinct}s" if self.distinct else f"{self.threshold}× {what}"
        per = "" if self.group_by == "none" else f" per {self.group_by}"
        return f"{count}{per} within {_fmt_duration(self.window)}"


@dataclass
class RuleSet:
    rules: list[AlertRule]
    cooldown: float = 900.0
    max_alerts_per_hour: int = 30
    learn: float = 3600.0
    source: str = "defaults"


def default_rules_path() -> Path:
    return Path(str(resources.files("eggshield.data").joinpath("log_alert_rules.toml")))


def load_rules(path: Path | None = None) -> RuleSet:
    """Parse and validate a rules file (the defaults when `path` is None). Raises RulesError."""
    path = path or default_rules_path()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from None
    settings = data.get("settings", {})
    try:
        default_cd = parse_duration(settings.get("cooldown", "15m"))
        ruleset = RuleSet(rules=[], cooldown=default_cd,
                          max_alerts_per_hour=int(settings.get("max_alerts_per_hour", 30)),
                          learn=parse_duration(settings.get("learn", "1h")), source=str(path))
    except (TypeError, ValueError) as exc:
        raise RulesError(f"{path}: [settings]: {exc}") from None
    seen: set[str] = set()
    known = {"id", "signals", "group_by", "threshold", "window", "distinct", "new_value", "cooldown", "severity",
             "finding"}
    for i, raw in enumerate(data.get("rule", []), start=1):
        where = f"{path}: rule #{i} ({raw.get('id', 'no id')})"
        unknown = set(raw) - known
        if unknown:
            raise RulesError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        try:
            rule = AlertRule(
                id=str(raw["id"]), signals=tuple(raw["signals"] if isinstance(raw["signals"], list) else [raw["signals"]]),
                group_by=str(raw.get("group_by", "ip")), threshold=int(raw.get("threshold", 1)),
                window=parse_duration(raw.get("window", "1m")), distinct=raw.get("distinct"),
                new_value=bool(raw.get("new_value", False)),
                cooldown=parse_duration(raw.get("cooldown", settings.get("cooldown", "15m"))),
                severity=str(raw.get("severity", "medium")), finding=raw.get("finding"))
        except KeyError as exc:
            raise RulesError(f"{where}: missing field {exc}") from None
        except (TypeError, ValueError) as exc:
            raise RulesError(f"{where}: {exc}") from None
        if rule.id in seen:
            raise RulesError(f"{where}: id {rule.id!r} used twice")
        seen.add(rule.id)
        if rule.group_by not in GROUPS:
            raise RulesError(f"{where}: group_by must be one of {', '.join(GROUPS)}")
        if rule.distinct is not None and rule.distinct not in GROUPS[:-1]:
            raise RulesError(f"{where}: distinct must be one of {', '.join(GROUPS[:-1])}")
        if rule.severity not in SEVERITIES:
            raise RulesError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        if rule.threshold < 1:
            raise RulesError(f"{where}: threshold must be at least 1")
        ruleset.rules.append(rule)
    if not ruleset.rules:
        raise RulesError(f"{path}: no [[rule]] tables")
    return ruleset


@dataclass
class Observation:
    """One signal at one time, with the fields rules group and count by."""

    time: float  # epoch seconds of log time
    kind: str
    ip: str | None = None
    user: str | None = None
    route: str | None = None
    url: str | None = None
    evidence: str = ""
    rule: str = ""  # the signal's own EGG-LOG rule
    where: str = ""  # file:line
    extra: dict = field(default_factory=dict)

    def field(self, name: str) -> str | None:
        if name == "none":
            return "*"
        return getattr(self, name)


@dataclass
class Alert:
    rule: AlertRule
    group: str
    count: int
    first: float
    last: float
    samples: list[Observation]
    finding: str  # EGG-LOG rule id

    @property
    def key(self) -> str:
        """Identity for de-duplication across restarts: rule, group and the window it fired in."""
        return f"{self.rule.id}|{self.group}|{int(self.first)}"


class WindowEngine:
    """Feed observations in (roughly) time order; get alerts when a rule's threshold is reached."""

    SWEEP_EVERY = 20000
    MAX_DISTINCT = 1000

    def __init__(self, ruleset: RuleSet, state: dict | None = None):
        self.ruleset = ruleset
        self.by_signal: dict[str, list[AlertRule]] = {}
        for r in ruleset.rules:
            for s in r.signals:
                self.by_signal.setdefault(s, []).append(r)
        # rule id -> group -> deque[(time, distinct value)]
        self.windows: dict[str, dict[str, deque]] = {r.id: {} for r in ruleset.rules}
        self.samples: dict[str, dict[str, deque]] = {r.id: {} for r in ruleset.rules}
        self.quiet_until: dict[str, float] = {}  # "rule|group" -> time
        self.seen: dict[str, set[str]] = {r.id: set() for r in ruleset.rules if r.new_value}
        self.started: float | None = None
        self._n = 0
        if state:
            self.restore(state)

    def observe(self, obs: Observation) -> list[Alert]:
        rules = self.by_signal.get(obs.kind)
        if not rules:
            return []
        if self.started is None:
            self.started = obs.time
        self._n += 1
        if self._n % self.SWEEP_EVERY == 0:
            self._sweep(obs.time)
        out = []
        for rule in rules:
            group = obs.field(rule.group_by)
            if group is None or group == "":
                continue
            if rule.new_value:
                seen = self.seen[rule.id]
                if group in seen:
                    continue
                seen.add(group)
                if obs.time - self.started < self.ruleset.learn:
                    continue
                out.append(Alert(rule, group, 1, obs.time, obs.time, [obs], rule.finding or obs.rule))
                continue
            wins = self.windows[rule.id]
            win = wins.get(group)
            if win is None:  # no setdefault: it would build two deques per observation
                win = wins[group] = deque()
            sams = self.samples[rule.id]
            samples = sams.get(group)
            if samples is None:
                samples = sams[group] = deque(maxlen=3)
            value = obs.field(rule.distinct) if rule.distinct else None
            if rule.distinct and not value:
                continue
            win.append((obs.time, value))
            samples.append(obs)
            horizon = obs.time - rule.window
            while win and win[0][0] < horizon:
                win.popleft()
            if rule.distinct:
                # fewer sightings than the threshold cannot hold enough distinct values: skip the set
                count = len({v for _, v in win}) if len(win) >= rule.threshold else len(win)
                if len(win) > self.MAX_DISTINCT:
                    # keep only each value's latest sighting
                    latest = {}
                    for t, v in win:
                        latest[v] = t
                    win.clear()
                    win.extend(sorted(((t, v) for v, t in latest.items())))
            else:
                count = len(win)
                if len(win) > rule.threshold:
                    win.popleft()  # only the newest `threshold` sightings can decide
            if count < rule.threshold:
                continue
            qkey = f"{rule.id}|{group}"
            if obs.time < self.quiet_until.get(qkey, float("-inf")):
                continue
            self.quiet_until[qkey] = obs.time + rule.cooldown
            first = win[0][0] if win else obs.time
            out.append(Alert(rule, group, count, first, obs.time, list(samples), rule.finding or obs.rule))
        return out

    def _sweep(self, now: float) -> None:
        """Forget groups whose window is empty, so a million scanning IPs do not pile up."""
        for rule in self.ruleset.rules:
            groups = self.windows[rule.id]
            for g in [g for g, w in groups.items() if not w or w[-1][0] < now - rule.window]:
                del groups[g]
                self.samples[rule.id].pop(g, None)
        for k in [k for k, t in self.quiet_until.items() if t < now]:
            del self.quiet_until[k]

    # -- checkpointing -------------------------------------------------------------------------

    def state(self) -> dict:
        return {
            "started": self.started,
            "windows": {rid: {g: list(map(list, w)) for g, w in groups.items() if w}
                        for rid, groups in self.windows.items()},
            "quiet_until": dict(self.quiet_until),
            "seen": {rid: sorted(v) for rid, v in self.seen.items()},
        }

    def restore(self, state: dict) -> None:
        self.started = state.get("started")
        for rid, groups in state.get("windows", {}).items():
            if rid in self.windows:
                self.windows[rid] = {g: deque(tuple(x) for x in w) for g, w in groups.items()}
        self.quiet_until = {k: float(v) for k, v in state.get("quiet_until", {}).items()}
        for rid, values in state.get("seen", {}).items():
            if rid in self.seen:
                self.seen[rid] = set(values)


def _fmt_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
