"""Strategy 1: egg core and plugins behind their latest release (EGG-UPD-005 to 008).

Only packages the app declares itself are judged: a plugin egg pulls in is upgraded by
upgrading egg. The registry's `latest` tag is the reference; without registry data (offline
and nothing cached) these rules stay silent and the report says why.
"""

from __future__ import annotations

from collections.abc import Iterator

from eggshield.checks.deps_context import DepsContext
from eggshield.checks.registry import rule
from eggshield.deps.audit import PackageReport
from eggshield.finding import Finding

REFS = ("https://cwe.mitre.org/data/definitions/1104.html", "https://github.com/eggjs/egg/releases")


def _core(rep: PackageReport, ctx: DepsContext) -> bool:
    return rep.name == "egg" or rep.role == "framework" or (rep.role == "core" and rep.direct is not None)


def _plugin(rep: PackageReport) -> bool:
    return rep.role == "plugin"


def _candidates(ctx: DepsContext, wanted, major: bool) -> Iterator[PackageReport]:
    for rep in ctx.audit.packages:
        if rep.direct is None or rep.behind is None or rep.latest is None or not wanted(rep):
            continue
        if rep.direct.kind == "dev":
            continue
        if (rep.behind.majors > 0) == major:
            yield rep


def _message(rep: PackageReport) -> str:
    b = rep.behind
    assert b is not None
    age = f"; latest was published {b.latest_age_days} days ago" if b.latest_age_days is not None else ""
    return f"{rep.ident} is {b.describe()} (latest {rep.latest}{age})"


def _evidence(rep: PackageReport) -> str:
    bits = [f"declared: {rep.direct.spec if rep.direct else '?'} · installed: {rep.version} · "
            f"wanted (newest the range allows): {rep.wanted or 'unknown'} · latest: {rep.latest}"]
    if rep.hits:
        bits.append(f"{len(rep.hits)} known advisories affect the installed version")
    return "\n".join(bits)


def _fix(ctx: DepsContext, rep: PackageReport, major: bool) -> str:
    assert rep.latest is not None
    if not major and rep.wanted and rep.wanted != rep.version:
        return (f"`{rep.direct.spec if rep.direct else ''}` already allows {rep.wanted}: run `{ctx.manager} update "
                f"{rep.name}`, run the tests, commit the lockfile.")
    step = ("Read the upgrade guide and changelog first (a major release can change defaults and APIs), "
            "try it in staging, then: ") if major else ""
    return f"{step}{ctx.install_command(rep.name, rep.latest)}"


@rule(id="EGG-UPD-005", title="egg core or framework a major version behind", strategy=1, severity="medium",
      cwe=1104, kind="deps", references=REFS)
def core_major_behind(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    The app declares `egg` (or its upper framework) at a version a major release behind the
    registry's latest. Older majors receive fewer fixes, then none: fixes land on the current
    major first and are backported, if at all, only while the old major is maintained.

    ## Why it matters
    An unmaintained major collects known issues that are never backported; the later the
    upgrade, the larger and riskier it becomes.

    ## How to fix
    Plan the upgrade (egg publishes upgrade guides per major), run it in staging, then:

    ```bash
    npm install egg@latest
    ```

    ## Not reported
    Without registry data (offline with an empty cache). devDependencies.
    """
    for rep in _candidates(ctx, lambda r: _core(r, ctx), major=True):
        yield ctx.finding("EGG-UPD-005", rep, message=_message(rep), evidence=_evidence(rep),
                          fix=_fix(ctx, rep, True))


@rule(id="EGG-UPD-006", title="egg core or framework behind its latest minor or patch", strategy=1, severity="low",
      cwe=1104, kind="deps", references=REFS)
def core_minor_behind(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    The installed `egg` (or framework) is on the current major but not its newest minor or patch
    release. Patch releases of egg carry its security fixes.

    ## Why it matters
    Staying on the newest release of your major costs little (no breaking changes by semver) and is
    what lets a security fix land in a day rather than a sprint.

    ## How to fix
    ```bash
    npm update egg && npm test
    ```
    and commit the updated lockfile.

    ## Not reported
    Without registry data; prereleases; devDependencies.
    """
    for rep in _candidates(ctx, lambda r: _core(r, ctx), major=False):
        yield ctx.finding("EGG-UPD-006", rep, message=_message(rep), evidence=_evidence(rep),
                          fix=_fix(ctx, rep, False))


@rule(id="EGG-UPD-007", title="Egg plugin a major version behind", strategy=1, severity="low", cwe=1104,
      kind="deps", references=REFS)
def plugin_major_behind(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    A plugin the app declares (egg-redis, egg-sequelize, @eggjs/...) is a major release behind the
    registry's latest.

    ## Why it matters
    Old plugin majors often target an old egg major and stop getting fixes; they also block the
    egg upgrade itself.

    ## How to fix
    Check the plugin's changelog for breaking changes, then:

    ```bash
    npm install egg-redis@latest
    ```

    ## Not reported
    Plugins pulled in by egg itself (upgrade egg instead); devDependencies; without registry data.
    """
    for rep in _candidates(ctx, _plugin, major=True):
        yield ctx.finding("EGG-UPD-007", rep, message=_message(rep), evidence=_evidence(rep),
                          fix=_fix(ctx, rep, True))


@rule(id="EGG-UPD-008", title="Egg plugin behind its latest minor or patch", strategy=1, severity="info",
      cwe=1104, kind="deps", references=REFS)
def plugin_minor_behind(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    A plugin the app declares is on its latest major but not its newest release.

    ## Why it matters
    Minor and patch releases are where fixes arrive; a lockfile left alone for months quietly
    stops receiving them.

    ## How to fix
    ```bash
    npm update egg-redis
    ```

    ## Not reported
    Plugins pulled in by egg itself; devDependencies; without registry data.
    """
    for rep in _candidates(ctx, _plugin, major=False):
        yield ctx.finding("EGG-UPD-008", rep, message=_message(rep), evidence=_evidence(rep),
                          fix=_fix(ctx, rep, False))
