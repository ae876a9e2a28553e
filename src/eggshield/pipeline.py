"""The scan pipeline: discover → parse → resolve → check → suppress → report model.

The CLI only parses arguments and prints; everything a scan does in between is here so that
other front ends (tests, a future server mode) run exactly the same steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eggshield.checks.context import CheckContext
from eggshield.checks.registry import all_rules
from eggshield.checks.runner import run_checks
from eggshield.eggconfig import ResolvedConfig, resolve
from eggshield.finding import Finding, InputProblem
from eggshield.js.sources import parse_sources
from eggshield.pipeline_deps import scan_findings
from eggshield.project.discover import discover
from eggshield.project.model import EggProject
from eggshield.report.interface import Report, Target


@dataclass
class AppResult:
    project: EggProject
    config: ResolvedConfig
    findings: list[Finding] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    suppressed: int = 0
    policy: object = None
    readable: bool = True  # at least one of its files could be read and parsed (or it has none)


@dataclass
class ScanResult:
    apps: list[AppResult]
    report: Report
    problems: list[InputProblem]
    notes: list[str] = field(default_factory=list)  # how uncertain facts were decided (discovery)

    @property
    def scanned_anything(self) -> bool:
        return any(app.readable for app in self.apps)


def scan_app(project: EggProject, env: str, scope: str = "", progress: Callable[[Path], None] | None = None,
             use_inline: bool = True, online: bool = False) -> AppResult:
    from eggshield.suppress import apply_inline, apply_policy, file_line_reader, load_policy

    trees, parse_problems = parse_sources(project, on_file=progress)
    config = resolve(project, env=env, scope=scope)
    findings, check_problems = run_checks(CheckContext(project=project, config=config, sources=trees))
    dep_findings, dep_problems = scan_findings(project, online=online)  # strategy 1; network only if online
    findings += dep_findings
    check_problems += dep_problems
    problems = [*project.problems, *parse_problems, *config.problems, *check_problems]
    suppressed = 0
    if use_inline:
        findings, hidden = apply_inline(findings, file_line_reader(project.scan_root))
        suppressed += len(hidden)
    policy = load_policy(project.root, project.scan_root)
    problems.extend(policy.problems)
    problems.extend(InputProblem(policy.source or ".eggshield.toml", w) for w in policy.warnings)
    findings, hidden = apply_policy(findings, policy)
    suppressed += len(hidden)
    return AppResult(project=project, config=config, findings=findings, problems=_unique(problems),
                     suppressed=suppressed, policy=policy,
                     readable=bool(trees) or not project.source_files)


def scan(path: Path, env: str = "prod", scope: str = "", baseline: dict | None = None,
         progress: Callable[[Path], None] | None = None, use_inline: bool = True, online: bool = False) -> ScanResult:
    """Scan every Egg app under `path`. Raises NotAnEggApp when there is none."""
    from eggshield.suppress import filter_new

    found = discover(path)
    notes: list[str] = []
    projects = found.projects
    if len(projects) > 1:
        frameworks = [p for p in projects if p.kind == "framework"]
        projects = [p for p in projects if p.kind != "framework"] or projects
        notes += [f"{_label(p)}: skipped, a framework package (not an app); scan it on its own to audit its defaults"
                  for p in frameworks if p not in projects]
    apps = [scan_app(p, env, scope, progress, use_inline, online) for p in projects]
    for app in apps:
        notes += [f"{_label(app.project)}: {n}" for n in app.project.notes]
    findings = [f for app in apps for f in app.findings]
    baselined = 0
    if baseline is not None:
        findings, baselined = filter_new(findings, baseline)
    problems = _unique([*found.problems, *(p for app in apps for p in app.problems)])
    report = Report(
        findings=findings, problems=problems,
        targets=[Target(label=_label(app.project), egg_major=app.project.egg_major,
                        egg_version=app.project.egg_version, env=env, framework="egg")
                 for app in apps],
        rules={r.id: r.metadata() for r in all_rules()},
        suppressed_count=sum(app.suppressed for app in apps), baseline_count=baselined,
        scan_root=str(Path(path).resolve()))
    return ScanResult(apps=apps, report=report, problems=problems, notes=notes)


def _label(project: EggProject) -> str:
    rel = project.rel(project.root)
    name = project.name if project.framework == "egg" else f"{project.name} [{project.framework}]"
    return name if rel in ("", ".") else f"{name} ({rel})"


def _unique(problems: list[InputProblem]) -> list[InputProblem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out
