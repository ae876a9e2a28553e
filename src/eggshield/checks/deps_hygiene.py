"""Strategy 1: deprecated packages and a dependency state that cannot be audited (EGG-UPD-009 to 013)."""

from __future__ import annotations

from collections.abc import Iterator

from eggshield.checks.deps_context import DepsContext
from eggshield.checks.registry import rule
from eggshield.deps import semver
from eggshield.finding import Finding

REFS = ("https://cwe.mitre.org/data/definitions/1104.html",
        "https://github.com/npm/cli/blob/latest/docs/lib/content/commands/npm-deprecate.md")


def _deprecated(ctx: DepsContext, rule_id: str, egg: bool) -> Iterator[Finding]:
    for rep in ctx.audit.packages:
        if not rep.deprecated or rep.egg != egg:
            continue
        paths = ("\npulled in by: " + " | ".join(rep.paths)) if rep.paths and rep.direct is None else ""
        if rep.latest and rep.latest != rep.version and rep.latest not in rep.deprecated:
            fix = f"Upgrade to {rep.latest} (not deprecated) or follow the deprecation notice."
        else:
            fix = "Follow the deprecation notice: it usually names the replacement package."
        yield ctx.finding(rule_id, rep, message=f"{rep.ident} is deprecated on the registry: "
                                               f"{' '.join(rep.deprecated.split())[:300]}",
                          evidence=f"npm deprecation notice for {rep.ident}{paths}", fix=fix)


@rule(id="EGG-UPD-009", title="Deprecated Egg package", strategy=1, severity="medium", cwe=1104, kind="deps",
      references=REFS)
def deprecated_egg_package(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    egg, an Egg plugin or an Egg tool is installed at a version its maintainers deprecated on the
    registry (often: "renamed to @eggjs/...", "no longer maintained", "use egg@4").

    ## Why it matters
    A deprecated package gets no more fixes; the notice usually names the maintained successor.

    ## How to fix
    Follow the notice, for example replace `egg-view-nunjucks` by its successor, or upgrade to a
    non-deprecated release:

    ```bash
    npm install egg-security@latest
    ```

    ## Not reported
    Without registry data (offline with an empty cache), unless node_modules carries the notice.
    """
    yield from _deprecated(ctx, "EGG-UPD-009", egg=True)


@rule(id="EGG-UPD-010", title="Deprecated dependency", strategy=1, severity="low", cwe=1104, kind="deps",
      references=REFS)
def deprecated_dependency(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    A package outside Egg's ecosystem is deprecated on the registry. Registry data for every
    package is fetched with `eggshield deps --all`; otherwise only packages with advisories are
    looked up.

    ## Why it matters
    Deprecated packages do not get security fixes.

    ## How to fix
    Replace the package (the notice usually names a successor) or upgrade the parent that pulls
    it in, for example:

    ```bash
    npm uninstall request && npm install undici
    ```

    ## Not reported
    Packages whose registry data was not fetched.
    """
    yield from _deprecated(ctx, "EGG-UPD-010", egg=False)


@rule(id="EGG-UPD-011", title="Lockfile out of sync with package.json", strategy=1, severity="medium", cwe=1104,
      kind="deps", references=REFS)
def lockfile_out_of_sync(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    The lockfile pins a version of a dependency that package.json's range does not allow, or has
    no entry at all for a declared dependency: package.json was edited (often to take a security
    fix) but the lockfile was not regenerated.

    ## Why it matters
    `npm ci` refuses such a lockfile, and other tools install the locked version: the fix you
    made in package.json is not what runs.

    ## How to fix
    ```bash
    npm install        # or yarn install / pnpm install, then commit the lockfile
    ```

    ## Not reported
    Non-registry specs (git, file:, workspace:, tags like `latest`); unresolved inventories.
    """
    inv = ctx.audit.inventory
    if inv is None or not inv.resolved:
        return
    imp = inv.importers.get(ctx.audit.importer)
    lock_name = inv.lockfile.name if inv.lockfile else "node_modules"
    for d in imp.deps if imp else ():
        if d.target is None and d.kind in ("prod", "dev") and not d.spec.startswith(("link:", "file:", "workspace:")):
            yield ctx.finding("EGG-UPD-011", None,
                              message=f"package.json asks for {d.name} {d.spec} but {lock_name} has no entry for it",
                              evidence=f"declared {d.kind} dependency {d.name}: {d.spec}; not in {inv.source}",
                              fix=f"Regenerate the lockfile ({ctx.manager} install) and commit it.")
    for rep in ctx.audit.packages:
        d = rep.direct
        if d is None or not rep.version or rep.origin != "registry":
            continue
        spec = d.spec
        if spec.startswith("npm:") and "@" in spec[5:]:
            spec = spec[spec.find("@", 5) + 1:]
        if semver.parse_range(spec, loose=True) is None:
            continue
        if semver.satisfies(rep.version, spec, loose=True, include_prerelease=True):
            continue
        yield ctx.finding("EGG-UPD-011", rep,
                          message=f"package.json asks for {d.name} {d.spec} but {inv.source.split(' ')[0]} installs "
                                  f"{rep.version}",
                          evidence=f"declared {d.kind} dependency {d.name}: {d.spec}; locked {rep.ident}",
                          fix=f"Regenerate the lockfile ({ctx.manager} install) and commit it.")


@rule(id="EGG-UPD-012", title="Dependency versions unresolved: no lockfile", strategy=1, severity="low",
      cwe=1104, kind="deps", references=REFS)
def no_lockfile(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    The app has neither a lockfile nor an installed node_modules: only package.json's ranges are
    known, so nobody can say which versions production runs, and each install may pull different
    code.

    ## Why it matters
    Without a lockfile, audits (this one included) can only guess, a compromised new release is
    installed automatically, and "the version we tested" is not the version deployed.

    ## How to fix
    Commit the lockfile your package manager writes and install with it in CI and production:

    ```bash
    npm install && git add package-lock.json   # then deploy with: npm ci --omit=dev
    ```

    ## Not reported
    Apps with a lockfile (their own or their workspace root's) or an installed node_modules.
    """
    inv = ctx.audit.inventory
    if inv is None or inv.resolved:
        return
    pinned = sum(1 for r in ctx.audit.packages if r.version)
    yield ctx.finding("EGG-UPD-012", None, message=f"no lockfile and no node_modules: {len(ctx.audit.packages)} "
                                                  f"dependencies known only by their ranges ({pinned} exact pins)",
                      evidence=inv.source, fix="Commit a lockfile (npm install writes package-lock.json) and "
                                               "deploy with `npm ci`.")


@rule(id="EGG-UPD-013", title="Dependency installed from outside the registry", strategy=1, severity="info",
      cwe=1104, kind="deps", confidence="medium", references=REFS)
def unaudited_origin(ctx: DepsContext) -> Iterator[Finding]:
    """
    ## What
    A package comes from a git repository, a tarball URL or a local path instead of the registry.
    Advisories are keyed on registry versions, so such a package cannot be audited by version, and
    nothing tells you when its source changes.

    ## Why it matters
    A git dependency without a commit hash follows a branch; a tarball URL can be replaced.

    ## How to fix
    Prefer a published release; otherwise pin a commit and review every change to it:

    ```json
    "dependencies": { "mylib": "github:corp/mylib#4f1c2e9" }
    ```

    ## Not reported
    Workspace packages (they are part of the app) and `link:` dependencies.
    """
    for rep in ctx.audit.packages:
        if rep.origin in ("git", "url", "file"):
            yield ctx.finding("EGG-UPD-013", rep, message=f"{rep.name} is installed from {rep.origin} "
                                                         f"({_source(ctx, rep)}); it is not audited against advisories",
                              evidence=_source(ctx, rep),
                              fix="Depend on a registry release, or pin an exact commit and review its changes.")


def _source(ctx: DepsContext, rep) -> str:
    inv = ctx.audit.inventory
    pkg = inv.packages.get(rep.keys[0]) if inv and rep.keys else None
    return (pkg.resolved or rep.spec or "?") if pkg else (rep.spec or "?")
