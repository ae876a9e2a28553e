"""eggshield's detection rules as Sigma rules, for teams whose SIEM is bigger than one machine.

Field names are the ECS fields `eggshield logs export --to ecs` writes (`message`, `url.original`,
`url.path`, `error.type`, `source.ip`, `user.name`), so the rules run on logs shipped that way.
Per-record signatures become detection rules; window rules become Sigma correlation rules
(`event_count` / `value_count` with `group-by` and `timespan`) that reference them. Output is
YAML written by hand (JSON-quoted scalars, which YAML accepts) so no YAML library is needed.
"""

from __future__ import annotations

import json
import uuid

from eggshield.logs.signals import signatures
from eggshield.logs.windows import RuleSet, load_rules

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/eggshield/rules")
FIELD = {"url": "url.original", "path": "url.path", "message": "message", "text": "message", "error": "error.type"}
GROUP_FIELD = {"ip": "source.ip", "user": "user.name", "route": "url.path", "url": "url.original",
               "evidence": "message"}
LEVEL = {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "informational"}
DATE = "2026-12-03"
# MITRE ATT&CK techniques (attack.mitre.org): T1110 Brute Force, T1595 Active Scanning,
# T1190 Exploit Public-Facing Application
ATTACK_TAGS = {
    "auth_failure": ["attack.credential-access", "attack.t1110"],
    "scanner_probe": ["attack.reconnaissance", "attack.t1595"],
    "not_found": ["attack.reconnaissance", "attack.t1595"],
    **{k: ["attack.initial-access", "attack.t1190"]
       for k in ("sqli_payload", "xss_payload", "traversal_payload", "cmdi_payload", "traversal_blocked",
                 "sql_error")},
}


def _yaml(value, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            key = k if k.replace("_", "").replace("-", "").replace("|", "").replace(".", "").isalnum() else json.dumps(k)
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}{key}:\n{_yaml(v, indent + 1)}")
            else:
                lines.append(f"{pad}{key}: {_scalar(v)}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = []
        for v in value:
            if isinstance(v, dict):
                inner = _yaml(v, indent + 1).lstrip()
                lines.append(f"{pad}- {inner}")
            else:
                lines.append(f"{pad}- {_scalar(v)}")
        return "\n".join(lines)
    return pad + _scalar(value)


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    if v is None:
        return "null"
    if isinstance(v, list | dict):
        return "[]" if isinstance(v, list) else "{}"
    return json.dumps(str(v), ensure_ascii=False)


def _title(kind: str) -> str:
    return kind.replace("_", " ").capitalize()


def detection_rules(severity_of: dict[str, str] | None = None, cwe_of: dict[str, int] | None = None,
                    title_of: dict[str, str] | None = None) -> list[dict]:
    """One Sigma rule per signal kind: its signatures OR-ed, each in its ECS field."""
    by_kind: dict[str, list] = {}
    for sig in signatures():
        by_kind.setdefault(sig.kind, []).append(sig)
    out = []
    for kind, sigs in by_kind.items():
        detection: dict = {}
        names = []
        for i, sig in enumerate(sigs, start=1):
            name = f"selection_{i}"
            names.append(name)
            pattern = sig.regex.pattern if sig.regex.flags & 2 == 0 else "(?i)" + sig.regex.pattern
            sel = {f"{FIELD[sig.where]}|re": pattern}
            if sig.needs_url is not None:
                sel["url.original|re"] = "(?i)" + sig.needs_url.pattern
            detection[name] = sel
        detection["condition"] = " or ".join(names) if len(names) > 1 else names[0]
        rule_id = sigs[0].rule
        cwe = f" CWE-{cwe_of[rule_id]}." if cwe_of and rule_id in cwe_of else ""
        title = (title_of or {}).get(rule_id, _title(kind))
        out.append({
            "title": f"Egg.js: {title} ({kind.replace('_', ' ')})",
            "id": str(uuid.uuid5(NAMESPACE, f"signal:{kind}")),
            "name": f"eggshield_{kind}",
            "status": "experimental",
            "description": f"eggshield signal '{kind}' ({rule_id}) in Egg.js application logs exported as ECS "
                           f"by `eggshield logs export --to ecs`.{cwe}",
            "references": [f"https://github.com/eggshield/eggshield/blob/main/docs/logs.md#{rule_id.lower()}"],
            "author": "eggshield",
            "date": DATE,
            "tags": ATTACK_TAGS.get(kind),
            "logsource": {"product": "eggjs", "service": "egg-logger"},
            "detection": detection,
            "fields": ["source.ip", "user.name", "url.original", "message"],
            "falsepositives": ["Security scanners you run yourself", "Legitimate clients with stale pages or tokens"],
            "level": LEVEL.get((severity_of or {}).get(rule_id, "medium"), "medium"),
        })
    return out


def correlation_rules(ruleset: RuleSet) -> list[dict]:
    """Window rules as Sigma correlation rules over the detection rules of their signals."""
    kinds = {s.kind for s in signatures()}
    out = []
    for r in ruleset.rules:
        refs = [f"eggshield_{k}" for k in r.signals if k in kinds]
        if not refs or r.new_value:
            continue  # "error"/"secret_in_log" signals and first-seen rules have no Sigma equivalent
        corr: dict = {"type": "value_count" if r.distinct else "event_count", "rules": refs}
        if r.group_by != "none":
            corr["group-by"] = [GROUP_FIELD[r.group_by]]
        corr["timespan"] = _span(r.window)
        cond: dict = {"gte": r.threshold}
        if r.distinct:
            cond["field"] = GROUP_FIELD[r.distinct]
        corr["condition"] = cond
        out.append({
            "title": f"Egg.js: {r.describe()}",
            "id": str(uuid.uuid5(NAMESPACE, f"correlation:{r.id}")),
            "name": f"eggshield_{r.id.replace('-', '_')}",
            "status": "experimental",
            "description": f"eggshield alert rule '{r.id}' ({r.finding or 'signal rule'}).",
            "author": "eggshield",
            "date": DATE,
            "correlation": corr,
            "level": LEVEL.get(r.severity, "medium"),
        })
    return out


def render(rules: list[dict]) -> str:
    """A multi-document YAML stream."""
    docs = []
    for r in rules:
        r = {k: v for k, v in r.items() if v is not None}
        docs.append(_yaml(r))
    return "---\n" + "\n---\n".join(docs) + "\n"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def export(ruleset: RuleSet | None = None, severity_of=None, cwe_of=None, title_of=None) -> str:
    ruleset = ruleset or load_rules()
    return render(detection_rules(severity_of, cwe_of, title_of) + correlation_rules(ruleset))
