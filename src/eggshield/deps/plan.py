"""`deps plan`: the smallest set of upgrades that clears the advisories and brings egg and its
plugins current, grouped by risk, each with the changelog entries it brings in.

One step per package: its target is the highest of what is needed (the smallest release no
known advisory affects; for a declared Egg package, the newest its range allows, and the
latest release as a separate major step). A step whose target declares a peer dependency the
app's installed version does not satisfy goes to "peer conflicts": test it first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eggshield.deps import semver
from eggshield.deps.audit import DepsAudit, PackageReport
from eggshield.deps.changelog import Changelog, changelog
from eggshield.deps.registry import HttpClient

GROUPS = ("patch", "minor", "major", "peer conflicts")


@dataclass
class Step:
    name: str
    installed: str
    target: str
    kind: str  # patch, minor, major
    reasons: list[str] = field(default_factory=list)
    direct: bool = True
    command: str = ""
    conflicts: list[str] = field(default_factory=list)
    changelog: Changelog | None = None

    @property
    def group(self) -> str:
        return "peer conflicts" if self.conflicts else self.kind


@dataclass
class Plan:
    app: str
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def grouped(self) -> dict[str, list[Step]]:
        out: dict[str, list[Step]] = {g: [] for g in GROUPS}
        for s in self.steps:
            out[s.group].append(s)
        return out


def _kind(a: str, b: str) -> str:
    d = semver.diff(a, b) or "patch"
    return d[3:] if d.startswith("pre") and d != "prerelease" else ("patch" if d == "prerelease" else d)


def _higher(a: str | None, b: str | None) -> str | None:
    if not a or not b:
        return a or b
    return a if semver.compare(a, b, True) >= 0 else b


def build(audit: DepsAudit, app: str, manager: str = "npm", *, with_changelog: bool = True,
          cache_dir: Path | None = None, offline: bool = False, http: HttpClient | None = None,
          max_changelogs: int = 25) -> Plan:
    plan = Plan(app=app)
    installed_by_name: dict[str, list[str]] = {}
    for rep in audit.packages:
        if rep.version:
            installed_by_name.setdefault(rep.name, []).append(rep.version)
    steps: dict[str, Step] = {}

    def add(rep: PackageReport, target: str, reason: str) -> None:
        if not rep.version or semver.compare(target, rep.version, True) <= 0:
            return
        key = f"{rep.name}@{rep.version}"
        step = steps.get(key)
        if step is None:
            step = steps[key] = Step(name=rep.name, installed=rep.version, target=target, kind="patch",
                                     direct=rep.direct is not None)
        step.target = _higher(step.target, target) or target
        step.reasons.append(reason)

    for rep in audit.packages:
        if rep.hits and rep.version:
            target = rep.upgrade or max((h.fixed_in for h in rep.hits if h.fixed_in), default=None,
                                        key=lambda v: semver.version_key(v))
            if target:
                ids = ", ".join(h.advisory.id for h in rep.hits)
                add(rep, target, f"clears {len(rep.hits)} advisor{'y' if len(rep.hits) == 1 else 'ies'} ({ids})")
            else:
                plan.notes.append(f"{rep.ident}: no release fixes {', '.join(h.advisory.id for h in rep.hits)}; "
                                  "replace or mitigate")
        if rep.egg and rep.direct is not None and rep.direct.kind != "dev" and rep.version:
            if rep.wanted:
                add(rep, rep.wanted, f"newest release `{rep.direct.spec}` allows")
            if rep.latest and rep.behind and rep.behind.majors:
                key = f"{rep.name}@{rep.version}:major"
                steps[key] = Step(name=rep.name, installed=rep.version, target=rep.latest, kind="major",
                                  reasons=[f"latest release ({rep.behind.describe()})"], direct=True)
    for step in steps.values():
        step.kind = _kind(step.installed, step.target)
        pack = audit.packuments.get(step.name)
        if pack is not None:
            for peer, rng in sorted(pack.peers(step.target).items()):
                have = installed_by_name.get(peer, [])
                if have and not any(semver.satisfies(v, rng, loose=True, include_prerelease=True) for v in have):
                    step.conflicts.append(f"{step.name}@{step.target} wants {peer} {rng}, installed {', '.join(have)}")
        step.command = (f"{manager} {'add' if manager != 'npm' else 'install'} {step.name}@^{step.target}"
                        if step.direct else f"pin {step.name}@^{step.target} with overrides/resolutions, or "
                                            "upgrade the package that pulls it in")
    order = {g: i for i, g in enumerate(GROUPS)}
    plan.steps = sorted(steps.values(), key=lambda s: (order[s.group], not s.direct, s.name))
    if with_changelog:
        http = http or HttpClient(timeout=20, retries=1)
        budget = max_changelogs
        egg_names = {r.name for r in audit.packages if r.egg}
        # Egg packages and the app's own dependencies first: their changelogs matter most
        for step in sorted(plan.steps, key=lambda s: (s.name not in egg_names, not s.direct)):
            pack = audit.packuments.get(step.name)
            url = pack.tarball(step.target) if pack is not None else None
            if url is None:
                continue
            if budget <= 0:
                plan.notes.append(f"changelogs shown for the first {max_changelogs} steps only")
                break
            budget -= 1
            step.changelog = changelog(url, step.installed, step.target, cache_dir or Path.home() / ".cache" /
                                       "eggshield", http, offline)
    return plan


def render(plans: list[Plan]) -> str:
    out: list[str] = []
    for plan in plans:
        out.append(f"# upgrade plan: {plan.app}")
        if not plan.steps:
            out.append("nothing to upgrade: no known advisory, egg and its plugins are current")
        for group, steps in plan.grouped().items():
            if not steps:
                continue
            out.append(f"\n## {group} ({len(steps)})")
            for s in steps:
                out.append(f"- {s.name} {s.installed} -> {s.target}{'' if s.direct else ' (transitive)'}: "
                           f"{'; '.join(s.reasons)}")
                out.append(f"    {s.command}")
                for c in s.conflicts:
                    out.append(f"    peer conflict: {c}")
                cl = s.changelog
                if cl is None:
                    continue
                if cl.error:
                    out.append(f"    changelog: {cl.error}")
                    continue
                if not cl.entries:
                    out.append(f"    changelog ({cl.source}): no entry found between {s.installed} and {s.target}")
                    continue
                out.append(f"    changelog ({cl.source}): {len(cl.entries)} release(s)")
                for e in cl.entries[:15]:
                    sec = f"  [{len(e.security)} security-related]" if e.security else ""
                    out.append(f"      {e.version}{sec}")
                    for line in (e.security or e.lines)[:6]:
                        out.append(f"        {'! ' if line in e.security else ''}{line[:160]}")
        for n in plan.notes:
            out.append(f"note: {n}")
        out.append("")
    return "\n".join(out)


def document(plans: list[Plan]) -> list[dict]:
    return [{"app": p.app, "notes": p.notes, "steps": [
        {"name": s.name, "installed": s.installed, "target": s.target, "group": s.group, "kind": s.kind,
         "direct": s.direct, "reasons": s.reasons, "command": s.command, "peer_conflicts": s.conflicts,
         "changelog": None if s.changelog is None else {
             "source": s.changelog.source, "error": s.changelog.error,
             "entries": [{"version": e.version, "security": e.security, "lines": e.lines[:40]}
                         for e in s.changelog.entries]}}
        for s in p.steps]} for p in plans]
