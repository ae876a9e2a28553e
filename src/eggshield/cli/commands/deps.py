"""`eggshield deps`: dependency inventory, advisories, outdated Egg packages, SBOM, ledger, watch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from eggshield.cli.output import err as _err
from eggshield.cli.output import write as _write
from eggshield.finding import SEVERITIES, SEVERITY_RANK

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FAIL_ON = (*SEVERITIES, "none")






class _DefaultToAudit(click.Group):
    """`eggshield deps PATH` runs the audit; `deps watch|history ...` the sub-commands."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["audit", *args]
        return super().parse_args(ctx, args)


@click.group("deps", cls=_DefaultToAudit, context_settings={"help_option_names": ["-h", "--help"]})
def command() -> None:
    """Dependencies of Egg apps: advisories, outdated egg/plugins, SBOM, update ledger, notifications.

    \b
    eggshield deps PATH                 egg, framework and plugins: installed, wanted, latest, advisories
    eggshield deps PATH --all           every package, not only the Egg ecosystem
    eggshield deps PATH --offline       bundled advisory snapshot and local caches only
    eggshield deps PATH --sbom cyclonedx
    eggshield deps watch PATH --notify webhook=URL --notify email=ops@x?smtp=host:25
    eggshield deps history PATH         the update ledger: versions over time, upgrades, advisories
    """


def _common(f):
    f = click.option("--offline", is_flag=True, help="No network: bundled advisories and cached registry data.")(f)
    f = click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Ledger database [default: $EGGSHIELD_DB or ~/.local/share/eggshield/eggshield.db].")(f)
    f = click.option("--registry", "registry_url", default=None,
                     help="npm registry URL [default: the one npm uses: npm_config_registry, .npmrc, npm config].")(f)
    f = click.option("--prod", "prod_only", is_flag=True, help="Skip packages only reachable via devDependencies.")(f)
    f = click.option("--ttl", type=float, default=3600.0, show_default=True,
                     help="Seconds registry answers stay fresh in the cache.")(f)
    return f


def _options(offline, prod_only, registry_url, ttl, all_packages=False):
    from eggshield.deps import DepsOptions

    return DepsOptions(offline=offline, prod_only=prod_only, registry_url=registry_url, ttl=ttl,
                       all_packages=all_packages)


def _run(path: Path, options):
    from eggshield.pipeline_deps import run_deps
    from eggshield.project.model import NotAnEggApp

    try:
        return run_deps(path, options)
    except NotAnEggApp as exc:
        _err(f"{exc} (and no package.json to audit)")
        sys.exit(EXIT_USAGE)


def _open_store(db: Path | None):
    from eggshield.store import Store
    from eggshield.store.db import StoreError

    try:
        return Store(db)
    except (StoreError, OSError) as exc:
        _err(str(exc).splitlines()[0])
        sys.exit(EXIT_USAGE)


def _app_name(project, audit) -> str:
    if project is not None:
        return project.name
    inv = audit.inventory
    imp = inv.importers.get(".") if inv else None
    return imp.name if imp else audit.root.name


@command.command("audit", epilog="Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; "
                                 "2 usage or input error.")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--all", "all_packages", is_flag=True, help="List and look up every package, not only Egg's.")
@_common
@click.option("--sbom", type=click.Choice(["cyclonedx"]), default=None, help="Print a CycloneDX 1.5 SBOM instead.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "markdown"]), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="medium", show_default=True,
              help="Exit 1 when a finding is at or above this severity.")
@click.option("--no-ledger", is_flag=True, help="Do not record this run in the update ledger.")
def audit_cmd(path: Path, all_packages: bool, offline: bool, db: Path | None, registry_url: str | None,
              prod_only: bool, ttl: float, sbom: str | None, fmt: str, output: str | None, fail_on: str,
              no_ledger: bool) -> None:
    """Audit the dependencies of the Egg app(s) under PATH.

    Advisories come from the bundled GitHub Advisory Database snapshot, eggshield's own Egg
    advisories and, online, a refresh from an OSV API; latest versions, release dates and
    deprecations from the npm registry your npm uses (cached on disk). Every run is recorded in
    the update ledger (`eggshield deps history`).
    """
    from eggshield.cli.deps_report import build_report, inventory_document, render_text

    options = _options(offline, prod_only, registry_url, ttl, all_packages)
    run = _run(path, options)
    if run.not_egg:
        _err(f"{path}: no Egg app found; auditing its package.json dependencies as a plain npm project")
    if not any(a.ok for _, a in run.audits):
        for p in run.problems:
            _err(str(p))
        _err("nothing could be audited")
        sys.exit(EXIT_USAGE)
    if sbom:
        from eggshield.deps.sbom import cyclonedx

        apps = [(_app_name(proj, a), a.inventory.importers.get(a.importer).version if a.inventory.importers.get(
            a.importer) else None, a.inventory, a.inventory.reachable_from({a.importer} if a.importer in
                                                                          a.inventory.importers else None))
                for proj, a in run.audits if a.ok]
        _write(json.dumps(cyclonedx(apps), indent=2), output)
        sys.exit(EXIT_OK)
    if not no_ledger:
        from eggshield.store.ledger import Ledger

        with _open_store(db) as store:
            ledger = Ledger(store)
            for proj, a in run.audits:
                if a.ok:
                    ledger.record(a, _app_name(proj, a), "deps")
    report = build_report(run)
    if fmt == "text":
        text = render_text(run, report, all_packages=all_packages)
    elif fmt == "json":
        from eggshield.report import FORMATS

        doc = json.loads(FORMATS["json"].render(report))
        doc["inventory"] = inventory_document(run, all_packages=all_packages)
        text = json.dumps(doc, indent=2, ensure_ascii=False)
    else:
        from eggshield.report import FORMATS

        text = FORMATS[fmt].render(report)
        for line in report.problem_lines():
            _err(line)
    _write(text, output)
    if fail_on != "none" and any(f.rank >= SEVERITY_RANK[fail_on] for f in report.findings):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


@command.command("watch", epilog="Exit codes: 0 delivered (or nothing new); 1 a notification could not be "
                                 "delivered (kept for the next run) or findings at or above --fail-on; 2 usage "
                                 "or input error.")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--notify", "specs", multiple=True, metavar="SINK=TARGET",
              help="webhook=URL, slack=URL, email=to@x?smtp=host:port&from=..., stdout (repeatable).")
@_common
@click.option("--retries", type=int, default=3, show_default=True, help="Delivery attempts per sink and run.")
@click.option("--backoff", type=float, default=1.0, show_default=True, help="First retry delay in seconds.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="none", show_default=True)
def watch_cmd(path: Path, specs: tuple[str, ...], offline: bool, db: Path | None, registry_url: str | None,
              prod_only: bool, ttl: float, retries: int, backoff: float, fail_on: str) -> None:
    """For cron/CI: report only what is new since the last watch run of each app under PATH.

    New advisories affecting the installed versions and new releases of egg, its framework and
    its plugins become notifications. A notification that cannot be delivered is kept in the
    database and retried on the next run; one already delivered to a sink is never sent to it again.

    \b
    Example (crontab):
      0 * * * *  eggshield deps watch /srv/app --notify slack=https://hooks.slack.com/services/... \\
                 --notify email=ops@example.com?smtp=mail.example.com:587&from=eggshield@example.com
    """
    from eggshield.deps import watch
    from eggshield.notify import Outbox, SinkSpecError, deliver, parse_sink
    from eggshield.store.ledger import Ledger

    sinks = []
    for spec in specs or ("stdout",):
        try:
            sinks.append(parse_sink(spec))
        except SinkSpecError as exc:
            _err(str(exc))
            sys.exit(EXIT_USAGE)
    run = _run(path, _options(offline, prod_only, registry_url, ttl))
    if not any(a.ok for _, a in run.audits):
        for p in run.problems:
            _err(str(p))
        _err("nothing could be audited")
        sys.exit(EXIT_USAGE)
    notes = []
    with _open_store(db) as store:
        ledger = Ledger(store)
        for proj, a in run.audits:
            if not a.ok:
                continue
            app = _app_name(proj, a)
            run_id = ledger.record(a, app, "watch")
            prev = ledger.previous(str(a.root), run_id, command="watch")
            changes = ledger.changes(prev, run_id)
            notes.extend(watch.notifications(app, str(a.root), changes, first_run=prev is None))
            if prev is None:
                _err(f"{app}: first watch run: current advisories are reported, releases from the next run on")
        result = deliver(notes, sinks, Outbox(store), retries=retries, backoff=backoff)
    for line in result.lines():
        _err(line)
    for p in run.problems:
        _err(str(p))
    if not result.ok:
        sys.exit(EXIT_FINDINGS)
    if fail_on != "none" and any(f.rank >= SEVERITY_RANK[fail_on] for f in run.findings):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


@command.command("history")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--limit", type=int, default=20, show_default=True, help="Runs to show per app.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def history_cmd(path: Path, db: Path | None, limit: int, fmt: str) -> None:
    """The update ledger of the app(s) under PATH: versions over time, upgrades, advisories, releases."""
    from eggshield.cli.deps_report import history_document, render_history
    from eggshield.store.ledger import Ledger

    with _open_store(db) as store:
        ledger = Ledger(store)
        target = str(path.resolve())
        projects = [p for p in ledger.projects() if p == target or p.startswith(target.rstrip("/") + "/")]
        if not projects:
            _err(f"no runs recorded for {path}; `eggshield deps {path}` records one")
            sys.exit(EXIT_OK)
        doc = history_document(ledger, projects, limit)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        click.echo(render_history(doc))


@command.command("plan", epilog="Exit codes: 0 plan printed; 2 usage or input error.")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_common
@click.option("--no-changelog", is_flag=True, help="Do not download tarballs to read changelogs.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
def plan_cmd(path: Path, offline: bool, db: Path | None, registry_url: str | None, prod_only: bool, ttl: float,
             no_changelog: bool, fmt: str, output: str | None) -> None:
    """Evaluate updates before applying them: the smallest set of upgrades that clears the
    advisories and brings egg and its plugins current, grouped by risk (patch, minor, major,
    peer-dependency conflicts), each with the changelog entries between the installed and the
    target version read from the package tarball (security-related entries marked with `!`).
    """
    from eggshield.checks.deps_context import DepsContext
    from eggshield.deps import plan as planner
    from eggshield.deps.registry import default_cache_dir

    options = _options(offline, prod_only, registry_url, ttl)
    run = _run(path, options)
    if not any(a.ok for _, a in run.audits):
        for p in run.problems:
            _err(str(p))
        _err("nothing could be audited")
        sys.exit(EXIT_USAGE)
    plans = []
    for proj, a in run.audits:
        if not a.ok:
            continue
        manager = DepsContext(audit=a, scan_root=run.root).manager
        plans.append(planner.build(a, _app_name(proj, a), manager, with_changelog=not no_changelog,
                                   cache_dir=default_cache_dir(), offline=offline))
        if not a.packuments and not offline:
            plans[-1].notes.append("no registry data: targets come from the advisories only")
    for p in run.problems:
        _err(str(p))
    if fmt == "json":
        _write(json.dumps(planner.document(plans), indent=2, ensure_ascii=False), output)
    else:
        _write(planner.render(plans), output)
    sys.exit(EXIT_OK)
