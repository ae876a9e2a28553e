"""`eggshield probe URL`: test a running Egg server's headers, CSRF, errors, cookies and CORS."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from eggshield.cli.main import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, FAIL_ON, _err, _write
from eggshield.finding import SEVERITY_RANK

EPILOG = """\b
Safety: only the target origin is contacted; redirects to other origins are never followed;
without --allow-unsafe-methods only GET, HEAD and OPTIONS are sent. With it, the CSRF matrix
sends POST/PUT/PATCH/DELETE to the app's own routes: a request the app fails to refuse runs
its handler, so point it at a test or staging server.

\b
Exit codes:
  0  nothing at or above --fail-on
  1  findings at or above --fail-on
  2  usage error, URL not http(s), server unreachable, unreadable --project
"""


class _Bar:
    """A progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, total: int):
        self.total = total
        self._progress = None
        self._task = None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("probing"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.description}"), TimeElapsedColumn(),
                                      console=Console(stderr=True), transient=True)
            self._progress.__enter__()
            self._task = self._progress.add_task("", total=self.total)
        return self

    def __call__(self, exchange) -> None:
        if self._progress is not None:
            task = self._progress.tasks[0]
            if task.completed + 1 > (task.total or 0):
                self._progress.update(self._task, total=task.completed + 1)
            self._progress.update(self._task, advance=1,
                                  description=f"{exchange.method} {exchange.target[:50]} {exchange.status or ''}")

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)


def _load_project(path: Path, env: str):
    """(project, resolved config, routes, notes) of the single app under PATH; exits 2 otherwise."""
    from eggshield.eggconfig import resolve
    from eggshield.probe.routes import discover_routes
    from eggshield.project.discover import discover
    from eggshield.project.model import NotAnEggApp

    try:
        found = discover(path)
    except NotAnEggApp as exc:
        _err(f"--project: {exc}")
        sys.exit(EXIT_USAGE)
    apps = [p for p in found.projects if p.kind == "app"] or found.projects
    if len(apps) > 1:
        names = ", ".join(p.rel(p.root) or "." for p in apps[:6])
        _err(f"--project: {path} holds {len(apps)} Egg apps ({names}); give the dir of the one being probed")
        sys.exit(EXIT_USAGE)
    project = apps[0]
    config = resolve(project, env=env)
    routes, notes, problems = discover_routes(project)
    for problem in [*found.problems, *project.problems, *config.problems, *problems]:
        _err(str(problem))
    return project, config, routes, notes


@click.command("probe", epilog=EPILOG)
@click.argument("url")
@click.option("--project", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The app's source: routes come from its router, causes from its config.")
@click.option("--env", default="prod", show_default=True, help="Env of --project's config to explain causes with.")
@click.option("--allow-unsafe-methods", is_flag=True,
              help="Also send POST/PUT/PATCH/DELETE/TRACE: the CSRF matrix, malformed and oversized bodies.")
@click.option("--route", "route_specs", multiple=True, metavar="'[METHOD] /path'",
              help="A route to probe (repeatable); e.g. --route /login --route 'POST /api/orders'.")
@click.option("--budget", type=int, default=150, show_default=True, help="Most requests the probe may send.")
@click.option("--rate", type=float, default=10.0, show_default=True, help="Most requests per second.")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait for each answer.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "markdown"]), default="text",
              show_default=True, help="markdown includes the generated CSRF documentation and the header grade table.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE instead of stdout.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="medium", show_default=True,
              help="Exit 1 when a finding is at or above this severity.")
def command(url: str, project: Path | None, env: str, allow_unsafe_methods: bool, route_specs: tuple[str, ...],
            budget: int, rate: float, timeout: float, fmt: str, output: str | None, fail_on: str) -> None:
    """Probe the Egg server at URL: security headers (graded), error disclosure, cookies, CORS,
    methods and, with --allow-unsafe-methods, a CSRF attack matrix.

    \b
    Examples:
      eggshield probe http://127.0.0.1:7001
      eggshield probe http://127.0.0.1:7001 --project . --allow-unsafe-methods --format markdown -o csrf.md
      eggshield probe https://staging.example.com --route 'POST /api/orders' --budget 60 --rate 2
    """
    from eggshield.checks.probe_context import probe_rules, run_probe_checks
    from eggshield.probe import ProbeError, ProbeOptions, planned_requests, run_probe
    from eggshield.probe.client import parse_target
    from eggshield.probe.document import markdown_sections, text_summary, to_dict
    from eggshield.probe.routes import parse_route_option
    from eggshield.report import FORMATS, Report, Target

    try:
        parse_target(url)
        user_routes = [parse_route_option(spec) for spec in route_specs]
    except (ProbeError, ValueError) as exc:
        _err(str(exc))
        sys.exit(EXIT_USAGE)
    proj = config = None
    router_routes = []
    notes: list[str] = []
    if project is not None:
        proj, config, router_routes, notes = _load_project(project, env)
    opts = ProbeOptions(url=url, budget=budget, rate=rate, timeout=timeout, allow_unsafe=allow_unsafe_methods,
                        user_routes=user_routes, router_routes=router_routes, config=config,
                        project_label=(proj.rel(proj.root) or ".") if proj is not None else None)
    mode = "unsafe methods allowed (CSRF matrix on)" if allow_unsafe_methods else \
        "safe mode: GET/HEAD/OPTIONS only (--allow-unsafe-methods for the CSRF matrix)"
    _err(f"probing {url} · budget {budget} requests · rate {rate:g}/s · timeout {timeout:g} s · {mode}"
         + (f" · {len(router_routes)} routes from {opts.project_label}" if proj is not None else ""))
    try:
        with _Bar(planned_requests(opts)) as bar:
            result = run_probe(opts, on_request=bar)
    except ProbeError as exc:
        _err(str(exc))
        sys.exit(EXIT_USAGE)
    result.notes[:0] = notes
    findings, problems, grade = run_probe_checks(result)
    target = Target(label=result.origin + "/", egg_major=proj.egg_major if proj else None,
                    egg_version=proj.egg_version if proj else None, env=None,
                    framework=proj.framework if proj else None)
    report = Report(findings=findings, problems=problems, targets=[target],
                    rules={r.id: r.metadata() for r in probe_rules()})
    text = FORMATS[fmt].render(report)
    if fmt == "json":
        doc = json.loads(text)
        doc["probe"] = to_dict(result, grade)
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        text = text.rstrip("\n") + "\n\n" + markdown_sections(result, grade)
    elif fmt == "text":
        text = text.rstrip("\n") + "\n\n" + text_summary(result, grade)
    _write(text, output)
    if fmt in ("json", "sarif"):
        for line in report.problem_lines():
            _err(line)
    if fail_on != "none" and any(f.rank >= SEVERITY_RANK[fail_on] for f in report.findings):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)
