"""Alert rules: thresholds over sliding windows of log time, with cooldowns (data: log_alert_rules.toml).

The same engine runs in `logs analyze` (bursts become findings) and `logs watch` (bursts become
notifications); its whole state is a JSON-able dict so `watch` can checkpoint it with the file
offsets and resume after a restart without re-alerting or forgetting a half-full window.
"""

from __future__ import annotations

import re
import tomllib
from collections import OrderedDict, deque
from dataclasses import dataclass
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


class Observation:
    """One signal at one time, with the fields rules group and count by."""

    __slots__ = ("time", "kind", "ip", "user", "route", "url", "evidence", "rule", "_where", "_file", "_line",
                 "_extra")

    def __init__(self, time: float, kind: str, ip: str | None = None, user: str | None = None,
                 route: str | None = None, url: str | None = None, evidence: str = "", rule: str = "",
                 where: str = "", extra: dict | None = None, file: str | None = None, line: int = 0):
        self.time = time  # epoch seconds of log time
        self.kind = kind
        self.ip = ip
        self.user = user
        self.route = route
        self.url = url
        self.evidence = evidence
        self.rule = rule  # the signal's own EGG-LOG rule
        self._where = where if file is None else None  # file:line, formatted when first read
        self._file = file
        self._line = line
        self._extra = extra

    @classmethod
    def of(cls, sight: tuple) -> Observation:
        """The Observation of a sighting tuple (`WindowEngine.sight`)."""
        t, kind, ip, user, route, url, evidence, rule, file, line = sight[:10]
        if line is None:
            return cls(t, kind, ip, user, route, url, evidence, rule, file)
        return cls(t, kind, ip, user, route, url, evidence, rule, "", None, file, line)

    def sighting(self) -> tuple:
        """This observation as `WindowEngine.sight` takes it."""
        if self._file is None:
            return (self.time, self.kind, self.ip, self.user, self.route, self.url, self.evidence, self.rule,
                    self._where, None, "*")
        return (self.time, self.kind, self.ip, self.user, self.route, self.url, self.evidence, self.rule,
                self._file, self._line, "*")

    @property
    def where(self) -> str:
        w = self._where
        if w is None:
            w = self._where = f"{self._file}:{self._line}"
        return w

    @property
    def extra(self) -> dict:
        if self._extra is None:
            self._extra = {}
        return self._extra

    def field(self, name: str) -> str | None:
        if name == "none":
            return "*"
        return getattr(self, name)

    def __repr__(self) -> str:
        return (f"Observation(time={self.time!r}, kind={self.kind!r}, ip={self.ip!r}, user={self.user!r}, "
                f"route={self.route!r}, url={self.url!r}, evidence={self.evidence!r}, rule={self.rule!r}, "
                f"where={self.where!r})")


#: where each field sits in a sighting tuple; "none" is the constant "*" at its end
SIGHT_FIELDS = {"ip": 2, "user": 3, "route": 4, "url": 5, "evidence": 6, "none": 10}


class Alert:
    """A rule reached its threshold for one group. `samples` (the last 3 observations) are made when first read:
    `logs analyze` drops most alerts unread."""

    __slots__ = ("rule", "group", "count", "first", "last", "_samples", "finding")

    def __init__(self, rule: AlertRule, group: str, count: int, first: float, last: float,
                 samples: list[Observation] | tuple, finding: str):
        self.rule = rule
        self.group = group
        self.count = count
        self.first = first
        self.last = last
        self._samples = samples  # Observations, or a tuple of sightings (`WindowEngine.sight`)
        self.finding = finding  # EGG-LOG rule id

    @property
    def samples(self) -> list[Observation]:
        s = self._samples
        if type(s) is tuple:
            s = self._samples = [Observation.of(x) for x in s if len(x) > 1]  # (time,): a restored stand-in
        return s

    def who(self) -> list[tuple]:
        """(ip, user, route) of each sample, without making the Observations."""
        s = self._samples
        if type(s) is tuple:
            return [x[2:5] for x in s if len(x) > 1]
        return [(o.ip, o.user, o.route) for o in s]

    @property
    def key(self) -> str:
        """Identity for de-duplication across restarts: rule, group and the window it fired in."""
        return f"{self.rule.id}|{self.group}|{int(self.first)}"

    def __repr__(self) -> str:
        return (f"Alert(rule={self.rule.id!r}, group={self.group!r}, count={self.count!r}, first={self.first!r}, "
                f"last={self.last!r}, finding={self.finding!r})")


# How a rule counts, and what its window per group holds:
#   _NEW       first sighting of a value (no window: `seen`)
#   _COUNT     N >= 3 sightings: a list of the sightings themselves, whose last 3 are the samples
#   _FEW       N < 3 sightings: [times, last 3 sightings] (the samples may have left the window)
#   _DISTINCT  N distinct values: [sightings, last 3 sightings, {value: sightings in the window}]
_NEW, _COUNT, _FEW, _DISTINCT = 0, 1, 2, 3


class WindowEngine:
    """Feed observations in (roughly) time order; get alerts when a rule's threshold is reached.

    Memory does not grow with the length of the log: every `SWEEP_EVERY` observations the groups
    whose window has emptied are forgotten; a count window keeps only the newest `threshold`
    sightings and a distinct window at most `MAX_DISTINCT` values; a `new_value` rule remembers at
    most `MAX_SEEN` values, the least recently seen forgotten first (such a value, seen again
    after being forgotten, counts as new once more: better than holding every value of a log whose
    messages never repeat, or going silent once the memory is full). Nor with a flood: a rule
    follows at most `MAX_GROUPS` groups with a live window (more IPs than that within one window
    is a flood to see in the counts, not 50,000 separate bursts); a new group's sightings are
    skipped, and counted in `untracked`, until the next sweep makes room.

    `logs analyze` calls this once per signal of a big log, so the hot path (`sight`) takes a plain
    tuple, does one dict lookup per rule, and builds Observation objects only for samples that are read.
    """

    SWEEP_EVERY = 20000
    MAX_DISTINCT = 1000
    MAX_SEEN = 10000
    MAX_GROUPS = 50000

    def __init__(self, ruleset: RuleSet, state: dict | None = None):
        self.ruleset = ruleset
        self.by_signal: dict[str, list[AlertRule]] = {}
        for r in ruleset.rules:
            for s in r.signals:
                self.by_signal.setdefault(s, []).append(r)
        self.modes = {r.id: _mode(r) for r in ruleset.rules}
        self.windows: dict[str, dict[str, list]] = {r.id: {} for r in ruleset.rules}  # rule id -> group -> window
        self.quiet: dict[str, dict[str, float]] = {r.id: {} for r in ruleset.rules}  # rule id -> group -> until
        # new_value rules: the values seen, least recently seen first
        self.seen: dict[str, OrderedDict[str, None]] = {r.id: OrderedDict() for r in ruleset.rules if r.new_value}
        self.started: float | None = None
        self.untracked = 0  # sightings of a new group not followed because the rule had MAX_GROUPS live ones
        self._n = 0
        if state:
            self.restore(state)
        # per signal kind, what `sight` needs of each rule, looked up once instead of per observation
        self.plans: dict[str, tuple] = {
            kind: tuple((r, self.modes[r.id], SIGHT_FIELDS[r.group_by], SIGHT_FIELDS.get(r.distinct), r.threshold,
                         r.window, r.cooldown, r.finding, self.windows[r.id], self.quiet[r.id], self.seen.get(r.id))
                        for r in rules)
            for kind, rules in self.by_signal.items()}

    @property
    def quiet_until(self) -> dict[str, float]:
        """"rule|group" -> end of its cooldown (the checkpoint's form)."""
        return {f"{rid}|{g}": t for rid, groups in self.quiet.items() for g, t in groups.items()}

    def observe(self, obs: Observation) -> list[Alert]:
        return self.sight(obs.sighting()) or []

    def sight(self, s: tuple) -> list[Alert] | None:
        """`observe` of a sighting: (time, kind, ip, user, route, url, evidence, rule, file, line, "*"),
        `line` None making `file` the whole location. None when no alert fires."""
        plan = self.plans.get(s[1])
        if plan is None:
            return None
        t = s[0]
        if self.started is None:
            self.started = t
        self._n += 1
        if self._n % self.SWEEP_EVERY == 0:
            self._sweep(t)
        out = None
        for rule, mode, gi, di, threshold, window, cooldown, finding, wins, quiet, seen in plan:
            group = s[gi]
            if not group:
                continue
            if mode == _COUNT:
                win = wins.get(group)
                if win is None:
                    if len(wins) >= self.MAX_GROUPS:
                        self.untracked += 1
                        continue
                    win = wins[group] = _window(threshold, s)
                else:
                    win.append(s)
                horizon = t - window
                while win[0][0] < horizon:  # never the sighting just added
                    del win[0]
                count = len(win)
                if count > threshold:
                    del win[0]  # only the newest `threshold` sightings can decide
                if count < threshold:
                    continue
                samples = (win[-3], win[-2], win[-1])  # at least `threshold` >= 3 left: the last 3 added
                first = win[0][0]
            elif mode == _DISTINCT:
                value = s[di]
                if not value:
                    continue
                track = wins.get(group)
                if track is None:
                    if len(wins) >= self.MAX_GROUPS:
                        self.untracked += 1
                        continue
                    track = wins[group] = [[s], [s], {value: 1}]
                    win, samples, tally = track
                else:
                    win, samples, tally = track
                    win.append(s)
                    samples.append(s)
                    if len(samples) > 3:
                        del samples[0]
                    tally[value] = tally.get(value, 0) + 1
                horizon = t - window
                while win[0][0] < horizon:
                    v = win[0][di]
                    del win[0]
                    left = tally[v] - 1
                    if left:
                        tally[v] = left
                    else:
                        del tally[v]
                count = len(tally)
                if len(win) > self.MAX_DISTINCT:
                    # keep only each value's latest sighting
                    latest = {}
                    for x in win:
                        latest[x[di]] = x
                    win[:] = sorted(latest.values(), key=lambda x: (x[0], x[di]))
                    tally.clear()
                    tally.update(dict.fromkeys(latest, 1))
                if count < threshold:
                    continue
                first = win[0][0]
            elif mode == _NEW:
                if group in seen:
                    seen.move_to_end(group)
                    continue
                seen[group] = None
                if len(seen) > self.MAX_SEEN:
                    seen.popitem(last=False)
                if t - self.started < self.ruleset.learn:
                    continue
                alert = Alert(rule, group, 1, t, t, (s,), finding or s[7])
                if out is None:
                    out = [alert]
                else:
                    out.append(alert)
                continue
            else:  # _FEW
                track = wins.get(group)
                if track is None:
                    if len(wins) >= self.MAX_GROUPS:
                        self.untracked += 1
                        continue
                    track = wins[group] = [[t], [s]]
                    win, samples = track
                else:
                    win, samples = track
                    win.append(t)
                    samples.append(s)
                    if len(samples) > 3:
                        del samples[0]
                horizon = t - window
                while win and win[0] < horizon:
                    del win[0]
                count = len(win)
                if count > threshold:
                    del win[0]
                if count < threshold:
                    continue
                first = win[0] if win else t
            until = quiet.get(group)
            if until is not None and t < until:
                continue
            quiet[group] = t + cooldown
            alert = Alert(rule, group, count, first, t, tuple(samples), finding or s[7])
            if out is None:
                out = [alert]
            else:
                out.append(alert)
        return out

    def _sweep(self, now: float) -> None:
        """Forget groups whose window is empty, so a million scanning IPs do not pile up."""
        for rule in self.ruleset.rules:
            groups = self.windows[rule.id]
            horizon = now - rule.window
            mode = self.modes[rule.id]
            if mode == _COUNT:
                stale = [g for g, w in groups.items() if w[-1][0] < horizon]
            elif mode == _FEW:
                stale = [g for g, track in groups.items() if not track[0] or track[0][-1] < horizon]
            else:
                stale = [g for g, track in groups.items() if track[0][-1][0] < horizon]
            for g in stale:
                del groups[g]
            quiet = self.quiet[rule.id]
            for g in [g for g, t in quiet.items() if t < now]:
                del quiet[g]

    # -- checkpointing -------------------------------------------------------------------------

    def state(self) -> dict:
        """JSON-able; a window is a list of [time, distinct value or null] whatever the rule."""
        windows = {}
        for r in self.ruleset.rules:
            mode = self.modes[r.id]
            groups = self.windows[r.id]
            if mode == _COUNT:
                windows[r.id] = {g: [[x[0], None] for x in w] for g, w in groups.items() if w}
            elif mode == _FEW:
                windows[r.id] = {g: [[t, None] for t in w] for g, (w, _) in groups.items() if w}
            elif mode == _DISTINCT:
                di = SIGHT_FIELDS[r.distinct]
                windows[r.id] = {g: [[x[0], x[di]] for x in w] for g, (w, *_) in groups.items() if w}
            else:
                windows[r.id] = {}
        return {
            "started": self.started,
            "windows": windows,
            "quiet_until": self.quiet_until,
            "seen": {rid: list(v) for rid, v in self.seen.items()},
        }

    def restore(self, state: dict) -> None:
        """Load a `state()`. A restored window holds stand-ins: sightings that count but are no samples."""
        self.started = state.get("started")
        rules = {r.id: r for r in self.ruleset.rules}
        for rid, groups in state.get("windows", {}).items():
            rule = rules.get(rid)
            if rule is None:
                continue
            mode = self.modes[rid]
            wins = self.windows[rid]
            for g, w in groups.items():
                if not w:
                    continue
                if mode == _COUNT:
                    win = wins[g] = _window(rule.threshold, (w[0][0],))
                    win.extend((x[0],) for x in w[1:])
                elif mode == _FEW:
                    wins[g] = [[x[0] for x in w], []]
                elif mode == _DISTINCT:
                    di = SIGHT_FIELDS[rule.distinct]
                    win = [_stand_in(x[0], di, x[1]) for x in w]
                    wins[g] = [win, [], _tally(win, di)]
        by_length = sorted(self.quiet, key=len, reverse=True)  # "a|b|c": rule "a|b" before rule "a"
        for key, t in state.get("quiet_until", {}).items():
            rid = next((r for r in by_length if key.startswith(r + "|")), None)
            if rid is not None:
                self.quiet[rid][key[len(rid) + 1:]] = float(t)
        for rid, values in state.get("seen", {}).items():
            if rid in self.seen:
                self.seen[rid].update(dict.fromkeys(values[-self.MAX_SEEN:]))


def _mode(rule: AlertRule) -> int:
    if rule.new_value:
        return _NEW
    if rule.distinct:
        return _DISTINCT
    return _COUNT if rule.threshold >= 3 else _FEW


def _window(threshold: int, first: tuple) -> list | deque:
    """A count window holds at most threshold + 1 sightings: a list (a tenth of a deque's memory) while
    dropping its oldest is a short move, a deque beyond."""
    return [first] if threshold <= 64 else deque((first,))


def _stand_in(t: float, di: int, value) -> tuple:
    """A restored sighting of a distinct window: its time and its value, nothing to show."""
    s = [None] * 11
    s[0], s[di] = t, value
    return tuple(s)


def _tally(win: list, di: int) -> dict:
    """{value: sightings} of a distinct window."""
    tally: dict = {}
    for x in win:
        tally[x[di]] = tally.get(x[di], 0) + 1
    return tally


def _fmt_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
