"""What log rules get (kind "logs"), the Finding builder they share, and the runner that calls them.

`logs analyze` gives rules a LogCheckContext (the analysed events, folded into groups);
`logs audit` gives the file rules (EGG-LOG-02x) a LogFilesContext (what is on disk).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from eggshield.checks.registry import REGISTRY, all_rules
from eggshield.finding import Finding, InputProblem, Location
from eggshield.logs import sensitive
from eggshield.logs.analyze import Analysis, EventGroup
from eggshield.logs.audit import DiskEntry
from eggshield.masking import mask_secrets, printable


@dataclass
class LogCheckContext:
    analysis: Analysis

    def groups(self, rule_id: str) -> list[EventGroup]:
        return list(self.analysis.groups.get(rule_id, {}).values())

    def finding(self, rule_id: str, group: EventGroup, *, what: str, fix: str, severity: str | None = None,
                confidence: str | None = None) -> Finding:
        """One finding for a group of events: who, where, when, how many; evidence is the first event, masked."""
        rule = REGISTRY[rule_id]
        ev = group.first
        path, _, line = ev.where.rpartition(":")
        when = _span(group)
        who = []
        users = sorted({sensitive.redact(u) for u in group.users})  # e-mail addresses stay masked
        if group.ips:
            ips = sorted(group.ips)
            who.append(f"from {ips[0]}" if len(ips) == 1 else f"from {len(ips)} IPs ({', '.join(ips[:3])}…)")
        if users:
            who.append(f"user {users[0]}" if len(users) == 1 else f"{len(users)} users ({', '.join(users[:3])}…)")
        if group.routes:
            routes = sorted(group.routes)
            who.append(f"on {routes[0]}" if len(routes) == 1 else f"on {len(routes)} routes ({', '.join(routes[:3])}…)")
        times = "once" if group.count == 1 else f"{group.count} times"
        message = f"{what} {times} {' '.join(who)}{when}.".replace("  ", " ")
        if group.burst is not None:
            alert = group.burst
            severity = severity or alert.rule.severity
            message = (f"{what}: alert rule '{alert.rule.id}' ({alert.rule.describe()}) fired"
                       f" {times} {' '.join(who)}{when}; peak {alert.count}.").replace("  ", " ")
        evidence = mask_secrets(printable(ev.evidence))
        if ev.route and ev.route not in evidence:
            evidence = f"[{mask_secrets(printable(ev.route))}] {evidence}"
        return Finding(rule_id=rule_id, title=rule.title, strategy=rule.strategy, severity=severity or rule.severity,
                       confidence=confidence or rule.confidence, cwe=rule.cwe,
                       location=Location(path=path or ev.where, line=int(line) if line.isdigit() else None),
                       message=message, evidence=evidence[:500], fix=fix,
                       extra={"count": group.count, "ips": sorted(group.ips),
                              "users": users,
                              "first": ev.time.isoformat() if ev.time else None,
                              "last": group.last_time.isoformat() if group.last_time else None})


def _span(group: EventGroup) -> str:
    first = group.first.time
    last = group.last_time
    if first is None:
        return ""
    if last is None or last == first:
        return f" at {first:%Y-%m-%d %H:%M:%S}"
    return f" between {first:%Y-%m-%d %H:%M:%S} and {last:%Y-%m-%d %H:%M:%S}"


@dataclass
class LogFilesContext:
    """What is on disk where the app logs, plus the retention Egg's logrotator is configured with."""

    log_dir: str
    files: list[DiskEntry] = field(default_factory=list)
    max_days: int | None = 31  # logrotator.maxDays (None: unknown)
    max_file_size: int | None = None  # logrotator.maxFileSize when rotation by size is configured
    rotate_by_size: bool = False
    daily_rotation: bool = True  # logrotator on and disableRotateByDay not set
    now: float = 0.0
    disk_limit: int = 5 * 1024**3

    def finding(self, rule_id: str, f: DiskEntry | None, *, message: str, evidence: str, fix: str,
                severity: str | None = None) -> Finding:
        rule = REGISTRY[rule_id]
        return Finding(rule_id=rule_id, title=rule.title, strategy=rule.strategy, severity=severity or rule.severity,
                       confidence=rule.confidence, cwe=rule.cwe,
                       location=Location(path=f.path if f else self.log_dir, line=None),
                       message=message, evidence=evidence, fix=fix)


def run_log_rules(ctx: LogCheckContext | LogFilesContext, only: Iterable[str] | None = None
                  ) -> tuple[list[Finding], list[InputProblem]]:
    """Run every "logs" rule that takes this kind of context; a crashing rule is a problem line."""
    wanted = set(only) if only else None
    files_ctx = isinstance(ctx, LogFilesContext)
    findings: list[Finding] = []
    problems: list[InputProblem] = []
    for r in all_rules():
        if r.kind != "logs" or (wanted and r.id not in wanted):
            continue
        if getattr(r.func, "files_rule", False) != files_ctx:
            continue
        try:
            findings.extend(r.func(ctx))
        except Exception as exc:  # noqa: BLE001 - one broken rule must not stop the run
            problems.append(InputProblem(r.id, f"rule failed: {type(exc).__name__}: {exc}"))
    return findings, problems


def files_rule(func):
    """Mark a rule as reading a LogFilesContext (`logs audit`) rather than analysed events."""
    func.files_rule = True
    return func
