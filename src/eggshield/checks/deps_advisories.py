"""Strategy 1: installed versions with known advisories (EGG-UPD-001 to 004)."""

from __future__ import annotations

from collections.abc import Iterator

from eggshield.checks.deps_context import DepsContext
from eggshield.checks.registry import rule
from eggshield.deps import semver
from eggshield.deps.audit import AdvisoryHit, PackageReport
from eggshield.finding import Finding

REFS = ("https://github.com/advisories", "https://cwe.mitre.org/data/definitions/1395.html")


def _evidence(rep: PackageReport, hit: AdvisoryHit) -> str:
    adv = hit.advisory
    bits = [f"{adv.id}" + (f" ({', '.join(adv.aliases[:2])})" if adv.aliases else "") + f": {adv.summary}",
            f"severity {adv.severity} · source: {adv.source}"]
    if rep.paths:
        bits.append("pulled in by: " + " | ".join(rep.paths))
    if rep.dev:
        bits.append("dev dependency only (not installed with --omit=dev)")
    if hit.note:
        bits.append(hit.note)
    return "\n".join(bits)


def _fix(ctx: DepsContext, rep: PackageReport, hit: AdvisoryHit) -> str:
    custom = hit.advisory.eggshield.get("fix")
    offline = " (from the advisories' fixed versions; the registry was not consulted)" \
        if rep.upgrade_source == "advisory" else ""
    if rep.version is None and hit.fixed_in:
        dep = rep.direct.name if rep.direct else rep.name
        return (f"Raise the range to one that excludes the affected versions, e.g. `\"{dep}\": \"^{hit.fixed_in}\"` "
                f"({hit.fixed_in} fixes {hit.advisory.id}), then commit the lockfile the install writes.")
    if hit.fixed_in is None and rep.upgrade is None:
        text = (f"No known release of {rep.name} fixes {hit.advisory.id}{offline}: remove or replace the package, "
                "or mitigate as the advisory describes.")
        return text + (f"\nOr: {custom}" if custom else "")
    target = rep.upgrade or hit.fixed_in
    assert target is not None
    if target == rep.upgrade:
        lines = [f"Upgrade {rep.name} to {target}, the smallest release no known advisory affects{offline}."]
        if hit.fixed_in and hit.fixed_in != target:
            lines.append(f"{hit.fixed_in} is the first release without {hit.advisory.id} alone.")
    else:
        lines = [f"Upgrade {rep.name} to {target}, the first release without {hit.advisory.id}{offline} "
                 "(every later release still has another known advisory)."]
    kind = semver.diff(rep.version or "0.0.0", target) or "patch"
    if rep.direct is not None:
        spec = rep.direct.spec
        bare = spec[spec.find("@", 5) + 1:] if spec.startswith("npm:") and "@" in spec[5:] else spec
        if semver.satisfies(target, bare, loose=True):
            lines.append(f"`{rep.direct.name}: {spec}` already allows it: refresh the lockfile "
                         f"(`{ctx.manager} update {rep.direct.name}`).")
        else:
            pkg = f"npm:{rep.name}@" if spec.startswith("npm:") else ""
            where = f" in {rep.direct_in}" if rep.direct_in not in (".", ctx.audit.importer) else ""
            lines.append(f"Run `{ctx.install_command(rep.direct.name, target, rep.direct.kind == 'dev', pkg)}`"
                         f"{where} ({kind} upgrade).")
    else:
        parent = rep.paths[0].split(" > ")[1] if rep.paths and " > " in rep.paths[0] else "its parent"
        lines.append(f"It comes from {parent}: upgrade that to a release that depends on {rep.name} >= {target}, "
                     f"or pin it: {ctx.override_snippet(rep.name, target)}")
    if custom:
        lines.append(f"Or: {custom}")
    return "\n".join(lines)


def _findings(ctx: DepsContext, rule_id: str, wanted) -> Iterator[Finding]:
    for rep in ctx.audit.packages:
        if not wanted(rep):
            continue
        for hit in rep.hits:
            if hit.advisory.malicious:
                continue
            adv = hit.advisory
            fixed = f"fixed in {hit.fixed_in}" if hit.fixed_in else "no fixed release known"
            where = "" if rep.version else " (a range, no lockfile: every version it allows is affected)"
            yield ctx.finding(rule_id, rep, message=f"{rep.ident}{where} is affected by {adv.id}: {adv.summary} "
                                                    f"({fixed})",
                              evidence=_evidence(rep, hit), fix=_fix(ctx, rep, hit), severity=adv.severity,
                              confidence=hit.confidence)


@rule(id="EGG-UPD-001", title="Known vulnerability in egg core or the framework", strategy=1, severity="high",
      cwe=1395, kind="deps", references=REFS)
def vulnerable_core(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    The installed version of `egg`, a core library it loads (egg-core, egg-cookies, @eggjs/koa...)
    or the upper framework (beidou, midway...) is affected by a published advisory.

    ## Why it matters
    Every request of the app runs through this code: a flaw in the framework is a flaw in every
    route. Advisories are public, so the affected versions are what attackers try first.

    ## How to fix
    Upgrade to the version the finding names (the smallest release no known advisory affects),
    run the test suite, deploy:

    ```bash
    npm install egg@^3.34.0      # or: yarn add egg@^3.34.0 / pnpm add egg@^3.34.0
    ```

    ## Not reported
    Versions the advisory's ranges do not cover; advisories withdrawn upstream; packages installed
    from git or a tarball URL (see EGG-UPD-013).
    """
    yield from _findings(ctx, "EGG-UPD-001", lambda r: r.role in ("core", "framework"))


@rule(id="EGG-UPD-002", title="Known vulnerability in an Egg plugin or Egg tool", strategy=1, severity="high",
      cwe=1395, kind="deps", references=REFS)
def vulnerable_plugin(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    An Egg plugin (egg-security, @eggjs/session, egg-view-nunjucks...) or an Egg tool that runs the
    app (egg-scripts) is installed at a version affected by an advisory, including the Egg issues
    that have no public id and that eggshield tracks itself (`EGGSHIELD-*`, for example the
    `escapeShellArg` command injection in egg-security < 3.8.1).

    ## Why it matters
    Plugins install middleware and helpers on every request; egg-scripts builds the command line
    that starts production.

    ## How to fix
    Upgrade the plugin (or, for a built-in plugin, egg itself, which pulls the plugin in):

    ```bash
    npm install egg-security@^3.8.1
    ```

    When an advisory only applies under some configuration, the finding says which setting clears
    it, e.g. `config.session = { encrypt: true }` for the egg 4.0.x session cookie.

    ## Not reported
    Advisories whose condition the app's resolved configuration rules out (the plugin is disabled,
    or the setting is already made).
    """
    yield from _findings(ctx, "EGG-UPD-002", lambda r: r.role in ("plugin", "tool"))


@rule(id="EGG-UPD-003", title="Known vulnerability in a dependency", strategy=1, severity="high", cwe=1395,
      kind="deps", references=REFS)
def vulnerable_dependency(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    A package in the app's dependency tree that is not part of Egg itself (lodash, qs, nunjucks...)
    is installed at a version an advisory affects. The finding names who pulls it in.

    ## Why it matters
    Transitive packages run inside the same process with the same rights as the app.

    ## How to fix
    Upgrade the direct dependency, or the parent that pulls the package in; when the parent has no
    fixed release, pin the transitive package:

    ```json
    "overrides": { "lodash": "^4.17.21" }
    ```

    (`resolutions` for yarn, `pnpm.overrides` for pnpm.)

    ## Not reported
    Packages only reachable through devDependencies when `--prod` is given.
    """
    yield from _findings(ctx, "EGG-UPD-003", lambda r: r.role is None)


@rule(id="EGG-UPD-004", title="Malicious package installed", strategy=1, severity="critical", cwe=1395, kind="deps",
      references=REFS)
def malicious_package(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    A package in the tree is listed by the GitHub Advisory Database as malware (typosquats,
    hijacked releases that steal credentials or open shells).

    ## Why it matters
    Malware runs at install time (lifecycle scripts) and at run time; upgrading is not a fix.

    ## How to fix
    Remove the package, reinstall from a clean lockfile, and treat every secret reachable from the
    machines that installed it as leaked: rotate npm tokens, cloud keys and `config.keys`.

    ```bash
    npm uninstall <package> && rm -rf node_modules && npm ci
    ```

    ## Not reported
    Packages with ordinary vulnerabilities (EGG-UPD-001 to 003).
    """
    for rep in ctx.audit.packages:
        for hit in rep.hits:
            if hit.advisory.malicious:
                yield ctx.finding("EGG-UPD-004", rep, message=f"{rep.ident} is a known malicious package "
                                                             f"({hit.advisory.id}: {hit.advisory.summary})",
                                  evidence=_evidence(rep, hit),
                                  fix=f"Remove {rep.name}, reinstall from a clean lockfile and rotate every secret "
                                      "the install could read.")
