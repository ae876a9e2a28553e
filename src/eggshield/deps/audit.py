"""One dependency audit of one app: inventory -> advisories -> registry facts -> a model checks read.

Everything a deps check needs is computed here once (which versions are affected, the
smallest upgrade that clears them, how far behind egg and its plugins are, which packages
are deprecated, who pulls a package in), so checks only decide and word findings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from eggshield.deps import ecosystem, semver
from eggshield.deps.advisories import Advisory, AdvisoryDB
from eggshield.deps.model import Dependency, Inventory, LockfileError, Package
from eggshield.deps.registry import Packument, RegistryClient, RegistryError
from eggshield.deps.sources import find_lock_dir, load_inventory
from eggshield.finding import InputProblem


@dataclass
class AdvisoryHit:
    advisory: Advisory
    fixed_in: str | None = None  # smallest version above the installed one this advisory does not affect
    confidence: str = "high"
    note: str = ""  # why the confidence is lowered (unknown config value, derived data)


@dataclass
class Behind:
    majors: int
    minors: int
    patches: int
    days: int | None  # release date of latest minus release date of the installed version
    latest_age_days: int | None  # how long ago latest was published

    def describe(self) -> str:
        if self.majors:
            bits = [f"{self.majors} major{'s' if self.majors > 1 else ''} behind"]
        elif self.minors:
            bits = [f"{self.minors} minor{'s' if self.minors > 1 else ''} behind"]
        elif self.patches:
            bits = [f"{self.patches} patch{'es' if self.patches > 1 else ''} behind"]
        else:
            bits = ["behind (prerelease)"]
        if self.days is not None:
            bits.append(f"{self.days} days older than latest")
        return ", ".join(bits)


@dataclass
class PackageReport:
    """One distinct name@version in the app's tree (several lockfile instances merged)."""

    name: str
    version: str | None
    keys: list[str]
    role: str | None = None  # core, framework, plugin, tool, or None
    plugin_name: str | None = None  # the Egg plugin name, when config/plugin.* enables it under one
    direct: Dependency | None = None  # the app's own declaration, when it declares it
    direct_in: str = "."  # the importer (workspace path in the lockfile's directory) that declares it
    dev: bool = False
    optional: bool = False
    spec: str | None = None  # unresolved inventories: the declared range
    origin: str = "registry"
    hits: list[AdvisoryHit] = field(default_factory=list)
    suppressed: list[tuple[Advisory, str]] = field(default_factory=list)  # advisory, why it does not apply
    upgrade: str | None = None  # smallest version that no known advisory affects
    upgrade_source: str = ""  # "registry" or "advisory"
    latest: str | None = None
    wanted: str | None = None  # highest version the declared range allows
    behind: Behind | None = None
    deprecated: str | None = None
    registry_error: str | None = None
    paths: list[str] = field(default_factory=list)

    @property
    def ident(self) -> str:
        return f"{self.name}@{self.version}" if self.version else f"{self.name}@{self.spec or '*'}"

    @property
    def egg(self) -> bool:
        return self.role is not None


@dataclass
class DepsAudit:
    root: Path  # the app root
    lock_dir: Path
    inventory: Inventory | None
    importer: str  # the app's importer path inside the inventory ('.')
    packages: list[PackageReport] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    advisory_sources: list[str] = field(default_factory=list)
    registry: str | None = None  # "https://... (from .npmrc (project))" or None when not consulted
    offline: bool = False
    egg_major: int | None = None
    framework: str = "egg"
    checked_at: str = ""
    packuments: dict = field(default_factory=dict, repr=False)  # name -> Packument fetched for this audit

    @property
    def ok(self) -> bool:
        return self.inventory is not None

    def egg_packages(self) -> list[PackageReport]:
        return [p for p in self.packages if p.egg]

    def by_name(self, name: str) -> list[PackageReport]:
        return [p for p in self.packages if p.name == name]


@dataclass
class AuditOptions:
    all_packages: bool = False  # registry facts for every package, not only Egg's
    offline: bool = False
    prod_only: bool = False
    advisories: AdvisoryDB | None = None
    registry: RegistryClient | None = None  # None: no registry facts at all
    refresh: Callable[[list[tuple[str, str]]], str | None] | None = None  # live advisory refresh hook
    now: datetime | None = None


def _days(a: str | None, b: str | None) -> int | None:
    try:
        da = datetime.fromisoformat(a.replace("Z", "+00:00"))  # type: ignore[union-attr]
        db = datetime.fromisoformat(b.replace("Z", "+00:00"))  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        return None
    return (db - da).days


def behind(installed: str, latest: str, pack: Packument | None, now: datetime) -> Behind | None:
    vi, vl = semver.parse(installed, True), semver.parse(latest, True)
    if vi is None or vl is None or vi.compare(vl) >= 0:
        return None
    majors = max(vl.major - vi.major, 0)
    minors = vl.minor - vi.minor if not majors else 0
    patches = vl.patch - vi.patch if not majors and not minors else 0
    days = _days(pack.time.get(installed), pack.time.get(latest)) if pack else None
    if days is not None and days < 0:
        days = None  # a backport released after latest: "older than latest" would mislead
    age = _days(pack.time.get(latest), now.isoformat()) if pack and pack.time.get(latest) else None
    return Behind(majors=majors, minors=max(minors, 0), patches=max(patches, 0), days=days, latest_age_days=age)


def _release_candidates(pkg: PackageReport, pack: Packument | None, advisories: list[Advisory]) -> tuple[list[str], str]:
    installed = semver.parse(pkg.version or "", True)
    if pack is not None and pack.versions:
        pool, source = list(pack.versions), "registry"
    else:
        pool = sorted({v for a in advisories for v in a.candidate_versions(pkg.name)}, key=semver.version_key)
        source = "advisory"
    out = []
    for text in pool:
        v = semver.parse(text, True)
        if v is None or installed is None or v.compare(installed) <= 0:
            continue
        if v.prerelease and not installed.prerelease:
            continue
        if pack is not None and pack.deprecated(text):
            continue
        out.append(text)
    return sorted(out, key=semver.version_key), source


def _condition(adv: Advisory, config) -> tuple[bool, str, str]:
    """(applies, confidence, note) for eggshield advisories that depend on the app's config."""
    meta = adv.eggshield
    if not meta:
        return True, adv.confidence, ""
    if config is None:
        return True, "medium", "the app's config was not resolved; assumed to use the default"
    plugin = meta.get("only_if_plugin")
    if isinstance(plugin, str) and not config.plugin_enabled(plugin):
        return False, "high", f"the {plugin} plugin is disabled"
    for key, expected in (meta.get("unless_config") or {}).items():
        from eggshield.eggconfig.model import MISSING
        from eggshield.js.values import Unknown

        value = config.get(key)
        if value is MISSING:
            continue
        if isinstance(value, Unknown):
            return True, "low", f"{key} is set from {value.reason}; cannot tell whether it is {expected!r}"
        if value == expected:
            loc = config.loc(key)
            return False, "high", f"{key} is set to {expected!r}" + (f" ({loc.path}:{loc.line})" if loc else "")
    return True, "high", ""


def audit(app_root: Path, *, stop: Path | None = None, lockfile: Path | None = None, config=None,
          framework: str = "egg", egg_major: int | None = None, options: AuditOptions | None = None,
          all_importers: bool = False) -> DepsAudit:
    """Audit the dependencies of the app at `app_root` (its own lockfile or its workspace root's)."""
    options = options or AuditOptions()
    now = options.now or datetime.now(UTC)
    app_root = app_root.resolve()
    lock_dir = lockfile.parent.resolve() if lockfile is not None else find_lock_dir(app_root, stop)
    result = DepsAudit(root=app_root, lock_dir=lock_dir, inventory=None, importer=".", offline=options.offline,
                       egg_major=egg_major, framework=framework, checked_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    try:
        inv = load_inventory(lock_dir, lockfile=lockfile)
    except LockfileError as exc:
        result.problems.append(InputProblem(".", str(exc)))
        return result
    result.inventory = inv
    result.problems.extend(inv.problems)
    result.notes.extend(inv.notes)
    importer = app_root.relative_to(lock_dir).as_posix() if app_root != lock_dir else "."
    if all_importers:
        scope = None
    elif importer not in inv.importers:
        result.notes.append(f"{inv.source} has no entry for {importer}; every importer's dependencies are audited")
        scope = None
    else:
        scope = {importer}
    result.importer = importer
    reachable = inv.reachable_from(scope)
    direct: dict[str, tuple[str, Dependency]] = {}
    for imp in inv.importers.values():
        if scope is None or imp.path in scope:
            for d in imp.deps:
                if d.target and d.target not in direct:
                    direct[d.target] = (imp.path, d)
    plugin_pkgs: dict[str, str] = {}
    if config is not None:
        for pname, entry in config.plugins.items():
            if entry.enable and entry.package:
                plugin_pkgs[entry.package] = pname
    groups: dict[tuple[str, str | None], PackageReport] = {}
    for key in sorted(reachable):
        pkg: Package = inv.packages[key]
        if pkg.origin == "link":
            continue
        if options.prod_only and pkg.dev:
            continue
        rep = groups.get((pkg.name, pkg.version))
        if rep is None:
            rep = PackageReport(name=pkg.name, version=pkg.version, keys=[], spec=pkg.spec, origin=pkg.origin,
                                dev=True, optional=True,
                                role=ecosystem.role(pkg.name, framework, set(plugin_pkgs)),
                                plugin_name=plugin_pkgs.get(pkg.name), deprecated=pkg.deprecated)
            groups[(pkg.name, pkg.version)] = rep
        rep.keys.append(key)
        rep.dev = rep.dev and pkg.dev
        rep.optional = rep.optional and pkg.optional
        if key in direct and rep.direct is None:
            rep.direct_in, rep.direct = direct[key]
    reports = sorted(groups.values(), key=lambda r: (r.role is None, r.name, semver.parse(r.version or "", True)
                                                     or semver.Version("0.0.0")))
    # advisories
    db = options.advisories or AdvisoryDB()
    if options.refresh is not None and not options.offline:
        note = options.refresh([(r.name, r.version) for r in reports if r.version and r.origin == "registry"])
        if note:
            result.notes.append(note)
    result.advisory_sources = db.describe()
    per_name: dict[str, list[Advisory]] = {}
    for rep in reports:
        if rep.origin != "registry":
            continue
        if rep.version:
            matched = db.match(rep.name, rep.version)
        elif rep.spec and not inv.resolved:
            matched = _unresolved_matches(db, rep.name, rep.spec)
        else:
            matched = []
        for adv in matched:
            applies, conf, note = _condition(adv, config)
            if not applies:
                rep.suppressed.append((adv, note))
                continue
            if not rep.version:
                conf, note = "medium", f"unresolved: every version {rep.spec} allows up to the advisory's fix is affected"
            rep.hits.append(AdvisoryHit(advisory=adv, confidence=min_conf(conf, adv.confidence), note=note))
        per_name.setdefault(rep.name, []).extend(h.advisory for h in rep.hits)
    # registry facts
    packs: dict[str, Packument | RegistryError] = {}
    if options.registry is not None:
        egg_names = {r.name for r in reports if r.egg and r.origin == "registry"}
        vuln_names = {r.name for r in reports if r.hits}
        other = {r.name for r in reports if r.origin == "registry"} - egg_names if options.all_packages else set()
        packs.update(options.registry.fetch_many(egg_names, full=True))
        packs.update(options.registry.fetch_many((vuln_names | other) - egg_names, full=False))
        cfg = options.registry.config
        result.registry = (f"{cfg.url} (from {cfg.source})" if cfg else "none configured") + \
            (" · offline: local cache only" if options.registry.offline else "")
        failures = [f"{n}: {e}" if not str(e).startswith(n) else str(e) for n, e in packs.items()
                    if isinstance(e, RegistryError)]
        if failures:
            shown = "; ".join(failures[:3]) + (f"; and {len(failures) - 3} more" if len(failures) > 3 else "")
            result.notes.append(f"registry data missing for {len(failures)} package(s): {shown}")
    result.packuments = {n: p for n, p in packs.items() if not isinstance(p, RegistryError)}
    for rep in reports:
        pack = packs.get(rep.name)
        if isinstance(pack, RegistryError):
            rep.registry_error = str(pack)
            pack = None
        if pack is not None:
            rep.latest = pack.latest
            if rep.version:
                rep.deprecated = rep.deprecated or pack.deprecated(rep.version)
                if rep.latest:
                    rep.behind = behind(rep.version, rep.latest, pack, now)
            if rep.direct is not None:
                rep.wanted = _wanted(pack, rep.direct.spec)
        if rep.hits and rep.version:
            advisories = per_name.get(rep.name, [])
            candidates, source = _release_candidates(rep, pack, advisories)
            all_for_name = db.advisories_for(rep.name)
            for hit in rep.hits:
                hit.fixed_in = next((c for c in candidates if not hit.advisory.affects(rep.name, c)), None)
            rep.upgrade = next((c for c in candidates if not any(a.affects(rep.name, c) for a in all_for_name)), None)
            rep.upgrade_source = source
        elif rep.hits:  # unresolved range: name the advisory's own fixes
            for hit in rep.hits:
                fixed = hit.advisory.fixed_versions(rep.name)
                hit.fixed_in = fixed[-1] if fixed else None
    # who pulls them in
    interesting = {k for r in reports if r.hits or r.deprecated for k in r.keys[:1]}
    if interesting:
        paths = inv.paths_to(interesting, limit=3)
        for r in reports:
            if r.keys and r.keys[0] in paths:
                r.paths = [inv.describe_path(p) for p in paths[r.keys[0]]]
    result.packages = reports
    return result


def min_conf(a: str, b: str) -> str:
    order = ("low", "medium", "high")
    return order[min(order.index(a), order.index(b))]


def _wanted(pack: Packument, spec: str) -> str | None:
    """npm's `wanted`: latest if the range allows it, else the highest non-deprecated match."""
    if spec.startswith("npm:") and "@" in spec[5:]:
        spec = spec[spec.find("@", 5) + 1:]
    rng = semver.parse_range(spec, loose=True)
    if rng is None:
        return None
    if pack.latest and rng.test(pack.latest):
        return pack.latest
    good = [v for v in pack.versions if not pack.deprecated(v)]
    return semver.max_satisfying(good, spec, loose=True) or semver.max_satisfying(list(pack.versions), spec, loose=True)


def _unresolved_matches(db: AdvisoryDB, name: str, spec: str) -> list[Advisory]:
    """Without a lockfile: an advisory counts only when the range's lowest version is affected
    and none of the advisory's fixed versions is allowed by the range (so any install is hit)."""
    rng = semver.parse_range(spec, loose=True)
    if rng is None:
        return []
    lows = [c.semver for comps in rng.set for c in comps if c.operator in (">=", "") and c.semver is not None]
    if not lows:
        return []
    low = min(lows, key=lambda v: semver._SortKey(v))
    out = []
    for adv in db.advisories_for(name):
        if not adv.affects(name, low):
            continue
        if any(rng.test(f) for f in adv.candidate_versions(name)):
            continue
        out.append(adv)
    return sorted(out, key=lambda a: a.id)
