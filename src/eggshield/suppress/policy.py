"""`.eggshield.toml` at the app root: ignored rules and paths, severity overrides, fail_on.

    fail_on = "high"                 # critical | high | medium | low | info | none
    [ignore]
    rules = ["EGG-CFG-001", "EGG-LOG-*"]
    paths = ["config/config.local.js", "test/**", "*.min.js"]
    [severity]
    "EGG-CSRF-001" = "medium"

A broken policy never stops a scan: invalid TOML gives an InputProblem and the default
policy (nothing ignored, so the mistake shows as more findings, never fewer); a bad value
gives an InputProblem for that key only; an unknown key gives a warning (usually a typo).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

from eggshield.finding import SEVERITIES, Finding, InputProblem
from eggshield.suppress.result import Suppressed, SuppressResult

POLICY_FILE = ".eggshield.toml"
FAIL_ON_VALUES = (*SEVERITIES, "none")
MAX_POLICY_BYTES = 1_000_000
_KNOWN = {"fail_on": None, "ignore": {"rules", "paths"}, "severity": None, "plugins": None,
          "logging": {"max_retention_days", "min_retention_days"}}  # plugins: read by eggshield.plugins
_RULE_ID = re.compile(r"EGG-[A-Z]+-\d{3}", re.I)


@dataclass
class Policy:
    """A loaded policy. `base` is the app root relative to the scan root ("" = same): finding
    paths are relative to the scan root, policy paths to the app root."""

    ignore_rules: tuple[str, ...] = ()
    ignore_paths: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    fail_on: str = "high"
    base: str = ""
    source: str | None = None  # the file read, as shown to users; None when there was none
    problems: list[InputProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def unknown_rule_warnings(self, known_rule_ids: Iterable[str]) -> list[str]:
        """Warnings for ignore/severity entries that match no registered rule (stale or typo)."""
        known = sorted(k.upper() for k in known_rule_ids)
        out = []
        for pattern in (*self.ignore_rules, *self.severity):
            if not any(fnmatchcase(k, pattern.upper()) for k in known):
                close = difflib.get_close_matches(pattern.upper(), known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                out.append(f"{self.source or POLICY_FILE}: rule {pattern} matches no eggshield rule{hint}")
        return out


def load_policy(app_root: str | Path, scan_root: str | Path | None = None) -> Policy:
    """Read `<app_root>/.eggshield.toml`; a missing file is the default policy.

    Problems (invalid TOML, bad values) are in `policy.problems`, typos and unknown keys in
    `policy.warnings`; neither raises. Pass `scan_root` when it differs from `app_root` so
    path globs line up with finding paths.
    """
    app = Path(app_root)
    base = ""
    if scan_root is not None:
        try:
            base = app.resolve().relative_to(Path(scan_root).resolve()).as_posix()
        except ValueError:
            base = ""
        base = "" if base == "." else base
    file = app / POLICY_FILE
    shown = f"{base}/{POLICY_FILE}" if base else POLICY_FILE
    policy = Policy(base=base)
    try:
        if not file.is_file():
            return policy
        policy.source = shown
        raw = file.read_bytes()
        if len(raw) > MAX_POLICY_BYTES:
            policy.problems.append(InputProblem(shown, f"larger than {MAX_POLICY_BYTES} bytes; policy ignored"))
            return policy
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        policy.problems.append(InputProblem(shown, f"not UTF-8 text ({e.reason} at byte {e.start}); policy ignored"))
        return policy
    except tomllib.TOMLDecodeError as e:
        policy.problems.append(InputProblem(shown, f"invalid TOML: {e}; policy ignored"))
        return policy
    except OSError as e:
        policy.problems.append(InputProblem(shown, f"cannot read: {e.strerror or e}; policy ignored"))
        return policy
    _read(policy, data, shown)
    return policy


def _unknown(policy: Policy, shown: str, key: str, known: Iterable[str]) -> None:
    close = difflib.get_close_matches(key.split(".")[-1], list(known), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    policy.warnings.append(f"{shown}: unknown key {key!r} ignored{hint}")


def _string_list(policy: Policy, shown: str, key: str, value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        policy.problems.append(InputProblem(shown, f"{key} must be a list of strings; ignored"))
        return []
    return [v.strip() for v in value if v.strip()]


def _read(policy: Policy, data: dict, shown: str) -> None:
    for key in data:
        if key not in _KNOWN:
            _unknown(policy, shown, key, _KNOWN)

    fail_on = data.get("fail_on", "high")
    if isinstance(fail_on, str) and fail_on.lower() in FAIL_ON_VALUES:
        policy.fail_on = fail_on.lower()
    else:
        policy.problems.append(InputProblem(
            shown, f"fail_on = {fail_on!r} is not one of {', '.join(FAIL_ON_VALUES)}; using 'high'"))

    ignore = data.get("ignore", {})
    if not isinstance(ignore, dict):
        policy.problems.append(InputProblem(shown, "ignore must be a table ([ignore]); ignored"))
        ignore = {}
    for key in ignore:
        if key not in _KNOWN["ignore"]:
            _unknown(policy, shown, f"ignore.{key}", _KNOWN["ignore"])
    rules = _string_list(policy, shown, "ignore.rules", ignore.get("rules", []))
    for r in rules:
        if not (_RULE_ID.fullmatch(r) or (any(c in r for c in "*?[") and r.upper().startswith(("EGG-", "*")))):
            policy.warnings.append(f"{shown}: ignore.rules entry {r!r} does not look like a rule id (EGG-AREA-NNN)")
    policy.ignore_rules = tuple(r.upper() for r in rules)
    policy.ignore_paths = tuple(_string_list(policy, shown, "ignore.paths", ignore.get("paths", [])))

    severity = data.get("severity", {})
    if not isinstance(severity, dict):
        policy.problems.append(InputProblem(shown, "severity must be a table ([severity]); ignored"))
        severity = {}
    for rule_id, level in severity.items():
        if isinstance(level, str) and level.lower() in SEVERITIES:
            policy.severity[rule_id.upper()] = level.lower()
        else:
            policy.problems.append(InputProblem(
                shown, f"severity.{rule_id} = {level!r} is not one of {', '.join(SEVERITIES)}; ignored"))


@lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """gitignore-style glob: `*` and `?` stay within a path segment, `**` spans segments, a
    pattern without `/` matches at any depth, and a directory matches everything below it."""
    p = pattern.strip().replace("\\", "/")
    anchored = p.startswith("/") or p.startswith("./")
    p = p.removeprefix("./").lstrip("/").rstrip("/")
    out = [] if anchored or "/" in p else ["(?:.*/)?"]
    i = 0
    while i < len(p):
        c = p[i]
        if p.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if p.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (end := p.find("]", i + 2)) != -1:
            body = p[i + 1 : end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
            i = end + 1
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(out) + "(?:/.*)?$")


def path_matches(path: str, pattern: str) -> bool:
    """Whether a finding path (relative, `/`-separated) matches a policy glob."""
    return bool(glob_regex(pattern).match(path.replace("\\", "/").removeprefix("./")))


def apply_policy(findings: Iterable[Finding], policy: Policy) -> SuppressResult:
    """Drop findings of ignored rules or under ignored paths; apply severity overrides.

    Kept findings with an override are copies with the new severity and
    `extra["severity_overridden_from"]`; inputs are not modified. With a `base` (an app
    inside a larger scan), only findings under that app are touched.
    """
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    where = policy.source or POLICY_FILE
    prefix = policy.base + "/" if policy.base else ""
    for f in findings:
        path = (f.location.path or "").replace("\\", "/").removeprefix("./")
        if prefix and not path.startswith(prefix):
            kept.append(f)
            continue
        local = path[len(prefix):] if path else ""
        rule = next((r for r in policy.ignore_rules if fnmatchcase(f.rule_id.upper(), r)), None)
        if rule is not None:
            suppressed.append(Suppressed(f, "policy-rule", where, f"ignore.rules: {rule}"))
            continue
        glob = next((g for g in policy.ignore_paths if local and f.location.url is None and path_matches(local, g)), None)
        if glob is not None:
            suppressed.append(Suppressed(f, "policy-path", where, f"ignore.paths: {glob}"))
            continue
        level = policy.severity.get(f.rule_id.upper())
        if level and level != f.severity:
            f = dataclasses.replace(f, severity=level, extra={**f.extra, "severity_overridden_from": f.severity})
        kept.append(f)
    return SuppressResult(kept, suppressed)
