"""The `eggshield` command: argument parsing and printing only; the work is in the boxes below."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from eggshield import __version__
from eggshield.cli.output import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, FAIL_ON
from eggshield.cli.output import err as _err
from eggshield.cli.output import write as _write
from eggshield.finding import SEVERITY_RANK, STRATEGIES

EPILOG = """\b
Exit codes:
  0  nothing at or above --fail-on
  1  findings at or above --fail-on
  2  usage or input error (not an Egg app, nothing could be scanned)
"""






class _Progress:
    """A progress line on stderr for long scans; silent when stderr is not a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self._progress = None
        self._task = None
        self.count = 0

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                      console=Console(stderr=True), transient=True)
            self._progress.__enter__()
            self._task = self._progress.add_task("parsing", total=None)
        return self

    def __call__(self, path: Path) -> None:
        self.count += 1
        if self._progress is not None and self.count % 25 == 0:
            self._progress.update(self._task, description=f"parsed {self.count} files · {path.name}")

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="eggshield")
def cli() -> None:
    """Audit and harden Egg.js applications.

    \b
    eggshield scan PATH           find security problems in an Egg app's config, code, plugins, dependencies
    eggshield config PATH         show the configuration Egg will use, with the file:line of each value
    eggshield plugins PATH        which plugins are on per env, which the code uses, why each is there
    eggshield deps PATH           egg, plugins and packages: advisories, outdated, ledger, watch
    eggshield probe URL           test a running server: headers, cookies, CORS, errors, CSRF
    eggshield logs analyze DIR    security events and secrets in Egg's logs (also watch, audit, export)
    eggshield rules [RULE]        list the rules, or read one rule's documentation
    eggshield baseline create     record today's findings so CI reports only new ones

    Nothing in the scanned project is executed: configuration files are evaluated statically.
    """


@cli.command(epilog=EPILOG)
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--env", default="prod", show_default=True,
              help="Egg env to judge (EGG_SERVER_ENV): values only config.local sets are not production problems.")
@click.option("--scope", default="", help="EGG_SERVER_SCOPE, if the deployment sets one.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "markdown"]), default="text",
              show_default=True, help="Output format; json and sarif are for machines.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE instead of stdout.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
              help="Exit 1 when a finding is at or above this severity [default: .eggshield.toml fail_on, else medium].")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Report only findings not in this baseline (see `eggshield baseline create`).")
@click.option("--rule", "rules", multiple=True, help="Report only these rule ids (repeatable).")
@click.option("--no-inline", is_flag=True, help="Ignore inline `// eggshield-ignore` comments.")
@click.option("--online", is_flag=True,
              help="Refresh advisories and latest versions from the network (default: bundled snapshot and local cache only).")
@click.option("--verbose", "-v", is_flag=True,
              help="Also print what static evaluation could not know (unknown values, uninstalled plugins).")
def scan(path: Path, env: str, scope: str, fmt: str, output: str | None, fail_on: str | None,
         baseline: Path | None, rules: tuple[str, ...], no_inline: bool, online: bool, verbose: bool) -> None:
    """Scan the Egg app(s) under PATH.

    PATH may be an app (a folder whose package.json depends on egg or names an egg.framework)
    or a folder holding several apps (a monorepo): each app is scanned.

    \b
    Examples:
      eggshield scan .
      eggshield scan . --format sarif -o eggshield.sarif --fail-on high
      eggshield scan services/ --env prod --baseline .eggshield-baseline.json
    """
    from eggshield.pipeline import scan as run_scan
    from eggshield.project.model import NotAnEggApp
    from eggshield.report import FORMATS
    from eggshield.suppress import BaselineError, load_baseline

    base = None
    if baseline is not None:
        try:
            base = load_baseline(baseline)
        except BaselineError as exc:
            _err(str(exc))
            sys.exit(EXIT_USAGE)
    try:
        with _Progress(enabled=output is not None or fmt == "text") as progress:
            result = run_scan(path, env=env, scope=scope, baseline=base, progress=progress, use_inline=not no_inline,
                              online=online)
    except NotAnEggApp as exc:
        _err(str(exc))
        sys.exit(EXIT_USAGE)
    report = result.report
    for note in result.notes:
        _err(f"note: {note}")
    if verbose:
        for app in result.apps:
            for note in app.config.notes:
                _err(f"note: {app.project.name}: {note.splitlines()[0]}")
    if rules:
        wanted = {r.upper() for r in rules}
        report.findings = [f for f in report.findings if f.rule_id in wanted]
    _write(FORMATS[fmt].render(report), output)
    if fmt != "text" and report.problems:
        for line in report.problem_lines():
            _err(line)
    if not result.scanned_anything:
        _err("nothing could be scanned")
        sys.exit(EXIT_USAGE)
    threshold = fail_on or _policy_fail_on(result) or "medium"
    if threshold != "none" and any(f.rank >= SEVERITY_RANK[threshold] for f in report.findings):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


def _policy_fail_on(result) -> str | None:
    """The first app's `.eggshield.toml` fail_on, when it has one."""
    for app in result.apps:
        policy = app.policy
        if policy is not None and policy.source is not None and policy.fail_on in FAIL_ON:
            return policy.fail_on
    return None


@cli.command("config", epilog="Exit codes: 0 resolved; 2 not an Egg app or unreadable input.")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--env", default="prod", show_default=True, help="Egg env to resolve.")
@click.option("--scope", default="", help="EGG_SERVER_SCOPE.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--app-only", is_flag=True, help="Text: show only values the app sets, not framework defaults.")
@click.option("--key", "prefix", default=None, help="Text: show only this dotted key and below, e.g. security.csrf")
@click.option("--show-secrets", is_flag=True, help="Print passwords, tokens and keys in clear (masked by default).")
@click.option("--output", "-o", type=click.Path(dir_okay=False))
def config_cmd(path: Path, env: str, scope: str, fmt: str, app_only: bool, prefix: str | None,
               show_secrets: bool, output: str | None) -> None:
    """Show the configuration Egg will use for PATH in ENV, each value with the file:line that set it.

    Values eggshield cannot know without running code (environment variables, calls) are shown
    as unknown with the reason; `process.env.X || 'literal'` keeps the literal as the fallback.
    JSON: {"env", "egg", "config", "plugins", "provenance"}; unknowns are {"$unknown": reason},
    functions {"$function": "file:line"}, regular expressions {"$regexp": "/src/flags"}.
    """
    from eggshield.eggconfig import MISSING, resolve
    from eggshield.eggconfig.export import render_tree, to_document
    from eggshield.project.discover import discover
    from eggshield.project.model import NotAnEggApp

    try:
        found = discover(path)
    except NotAnEggApp as exc:
        _err(str(exc))
        sys.exit(EXIT_USAGE)
    docs = []
    texts = []
    key_found = False
    for project in found.projects:
        resolved = resolve(project, env=env, scope=scope)
        key_found = key_found or (prefix is not None and resolved.get(prefix) is not MISSING)
        for problem in [*project.problems, *resolved.problems]:
            _err(str(problem))
        if fmt == "json":
            doc = to_document(resolved, show_secrets=show_secrets)
            doc["app"] = project.rel(project.root) or "."
            docs.append(doc)
        else:
            version = project.egg_version or (f"{project.egg_major}.x" if project.egg_major else "unknown version")
            plugins = ", ".join(sorted(n for n, e in resolved.plugins.items() if e.enable))
            header = [f"# {project.name} ({project.rel(project.root) or '.'}) · {project.framework} {version} · env {env}",
                      f"# files: {', '.join(resolved.files) or 'none'}", f"# plugins on: {plugins}"]
            header += [f"# note: {n.splitlines()[0]}" for n in [*project.notes, *resolved.notes][:20]]
            texts.append("\n".join(header) + "\n" + render_tree(resolved, app_only=app_only, prefix=prefix,
                                                                 show_secrets=show_secrets))
    for problem in found.problems:
        _err(str(problem))
    if fmt == "json":
        _write(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False), output)
    else:
        _write("\n\n".join(texts), output)
        if prefix and not key_found:
            _err(f"no key '{prefix}' in the resolved configuration for env {env}")


@cli.command("rules")
@click.argument("rule_id", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
def rules_cmd(rule_id: str | None, fmt: str) -> None:
    """List every rule, or show RULE_ID's documentation: why it matters, how to fix, references."""
    from eggshield.checks.registry import REGISTRY, all_rules

    rules = all_rules()
    if rule_id:
        r = REGISTRY.get(rule_id.upper())
        if r is None:
            _err(f"no rule {rule_id!r}; `eggshield rules` lists them")
            sys.exit(EXIT_USAGE)
        if fmt == "json":
            click.echo(json.dumps(r.metadata(), indent=2))
        elif fmt == "markdown" or not sys.stdout.isatty():
            click.echo(r.doc)
        else:
            from rich.console import Console
            from rich.markdown import Markdown

            Console().print(Markdown(r.doc))
        return
    if fmt == "json":
        click.echo(json.dumps([r.metadata() for r in rules], indent=2))
        return
    if fmt == "markdown":
        click.echo("| id | strategy | severity | CWE | title |\n|---|---|---|---|---|")
        for r in rules:
            click.echo(f"| {r.id} | {r.strategy} {STRATEGIES[r.strategy]} | {r.severity} | CWE-{r.cwe} | {r.title} |")
        return
    width = max(len(r.id) for r in rules)
    for r in rules:
        click.echo(f"{r.id:<{width}}  S{r.strategy}  {r.severity:<8}  CWE-{r.cwe:<5}  {r.title}")
    click.echo(f"\n{len(rules)} rules. `eggshield rules ID` shows one rule's documentation.")


@cli.group("baseline")
def baseline_group() -> None:
    """Record current findings so that later scans report only new ones (--baseline FILE)."""


@baseline_group.command("create")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--env", default="prod", show_default=True)
@click.option("--output", "-o", default=".eggshield-baseline.json", show_default=True, type=click.Path(dir_okay=False))
def baseline_create(path: Path, env: str, output: str) -> None:
    """Scan PATH and write every current finding's fingerprint to OUTPUT."""
    from eggshield.pipeline import scan as run_scan
    from eggshield.project.model import NotAnEggApp
    from eggshield.suppress import create_baseline

    try:
        result = run_scan(path, env=env)
    except NotAnEggApp as exc:
        _err(str(exc))
        sys.exit(EXIT_USAGE)
    data = create_baseline(result.report.findings)
    Path(output).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    click.echo(f"baseline of {len(result.report.findings)} findings written to {output}")


def main() -> None:
    from eggshield.cli.commands import register_all

    register_all(cli)
    try:
        cli.main(prog_name="eggshield", standalone_mode=True)
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a bug must not look like "findings" (exit 1) to CI
        if os.environ.get("EGGSHIELD_DEBUG"):
            raise
        _err(f"internal error: {type(exc).__name__}: {exc} (set EGGSHIELD_DEBUG=1 for the traceback; please report it)")
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
