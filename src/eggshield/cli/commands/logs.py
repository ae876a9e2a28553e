"""`eggshield logs …`: analyse, watch, audit and export an Egg app's logs (seed strategy 8)."""

from __future__ import annotations

import gc
import json
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import click

from eggshield.cli.output import err as _err
from eggshield.cli.output import write as _write
from eggshield.finding import SEVERITIES, SEVERITY_RANK

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FAIL_ON = (*SEVERITIES, "none")
EPILOG = """\b
Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage or input error."""




def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """'2h', '30m', '7d' (before now) or an ISO date/time (local time, like Egg's logs)."""
    if not text:
        return None
    now = now or datetime.now()
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if m:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
        return now - timedelta(**{unit: float(m.group(1))})
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r}: use a duration like 2h, 30m, 7d or a date like 2026-12-01T08:00") from None
    return t.astimezone().replace(tzinfo=None) if t.tzinfo else t


def _load_rules(path: Path | None):
    from eggshield.logs.windows import RulesError, load_rules

    try:
        return load_rules(path)
    except RulesError as exc:
        _err(str(exc))
        sys.exit(EXIT_USAGE)




def _exit(findings, fail_on: str) -> None:
    if fail_on != "none" and any(f.rank >= SEVERITY_RANK[fail_on] for f in findings):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


@click.group("logs")
def command() -> None:
    """Analyse, watch, audit and export an Egg app's logs.

    \b
    eggshield logs analyze ~/logs/myapp/            security events and secrets in the logs
    eggshield logs watch ~/logs/myapp/ --notify webhook=URL
    eggshield logs audit .                          where the logs go, who can read them, rotation
    eggshield logs export --to ecs FILE...          ECS JSON lines for Elasticsearch/OpenSearch/Loki
    eggshield logs rules --sigma                    the detection rules as Sigma rules
    """


@command.command("analyze", epilog=EPILOG)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--since", help="Only records newer than this: 2h, 30m, 7d, or 2026-12-01T08:00 (local time).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "sarif"]), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE.")
@click.option("--redact", "redact_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write a copy of every log read into this directory with secrets and PII masked.")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Alert rules (TOML) for the burst detectors [default: eggshield's log_alert_rules.toml].")
@click.option("--no-secrets", is_flag=True, help="Skip the search for secrets and personal data (faster).")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="medium", show_default=True)
def analyze_cmd(paths, since, fmt, output, redact_dir, rules_file, no_secrets, fail_on) -> None:
    """Find security events and secrets in Egg log files.

    PATHS are log files or directories (Egg's logger.dir, e.g. ~/logs/myapp/): every *.log,
    *.json.log and rotated *.log.YYYY-MM-DD(.gz) / *.log.N is read, each log oldest first.

    \b
    Examples:
      eggshield logs analyze ~/logs/myapp/
      eggshield logs analyze ~/logs/myapp/myapp-web.log --since 2h --format json
      eggshield logs analyze ~/logs/myapp/ --redact /tmp/clean-logs
    """
    from eggshield.checks.logs_context import LogCheckContext, run_log_rules
    from eggshield.checks.registry import all_rules
    from eggshield.logs.analyze import analyze
    from eggshield.report import FORMATS, Report, Target

    ruleset = _load_rules(rules_file)
    _streaming_gc()
    result = analyze(list(paths), since=parse_since(since), ruleset=ruleset, secrets=not no_secrets)
    read = result.read
    if not read.files:
        for p in read.problems:
            _err(str(p))
        _err("no log files found in " + ", ".join(map(str, paths)))
        sys.exit(EXIT_USAGE)
    findings, rule_problems = run_log_rules(LogCheckContext(result))
    problems = [*read.problems, *rule_problems]
    if redact_dir is not None:
        problems.extend(_redact_all(read.files, redact_dir))
    report = Report(findings=findings, problems=problems, targets=[Target(label=", ".join(map(str, paths)))],
                    rules={r.id: r.metadata() for r in all_rules() if r.kind == "logs"})
    text = FORMATS[fmt].render(report)
    if fmt == "json":
        _write_parts(_logs_json_parts(text, result, read), output)
    elif fmt == "text":
        span = f"{read.first:%Y-%m-%d %H:%M} … {read.last:%Y-%m-%d %H:%M}" if read.first and read.last else "no dates"
        text = (f"Read {read.records:,} records ({read.lines:,} lines) from {len(read.files)} file(s), {span}.\n"
                + text)
    if fmt != "json":
        _write(text, output)
    if fmt != "text" and problems:
        for line in report.problem_lines():
            _err(line)
    _exit(findings, fail_on)


def _streaming_gc() -> None:
    """Tune the cycle collector for reading a big log (inherited by the worker processes).

    A log read makes millions of short-lived tuples and holds long-lived memo tables; with the
    default thresholds the collector rescans those tables over and over (15% of a single-core run,
    measured with bench/logs_bench.py). The read creates next to no reference cycles, so collecting
    less often costs no memory; `freeze` leaves the modules and data loaded so far out of every scan.
    """
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def _logs_json_parts(text: str, result, read):
    """The JSON report plus `summary.logs` and `events`, in pieces to write one after the other.

    Same bytes as loading the document, adding the two keys and dumping it again, without that
    second copy of every finding, nor the whole events list as one string, in memory: `summary` is
    the report's last key, so both go just before the document's closing lines.
    """
    from eggshield.report.jsondump import dumps  # json.dumps(indent=2) bytes, `level` steps deeper

    logs = {"files": [str(f.path) for f in read.files], "records": read.records, "lines": read.lines,
            "duplicates_dropped": read.duplicates, "first": read.first.isoformat() if read.first else None,
            "last": read.last.isoformat() if read.last else None, "events_not_listed": result.events_dropped,
            "signals": result.signal_counts, "error_types": result.error_types,
            "notes": [str(n) for n in read.notes]}
    tail = "\n  }\n}\n"
    if not text.endswith(tail):  # not the layout this relies on: take the slow, certain way
        doc = json.loads(text)
        doc["summary"]["logs"] = logs
        doc["events"] = [e.to_dict() for e in result.events]
        yield json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        return

    yield text[: -len(tail)]
    yield ',\n    "logs": ' + dumps(logs, 2) + '\n  },\n  "events": '
    if not result.events:
        yield "[]\n}\n"
        return
    batch = []
    for i, e in enumerate(result.events):
        batch.append(("[\n    " if i == 0 else ",\n    ") + dumps(e.to_dict(), 2))
        if len(batch) == 500:
            yield "".join(batch)
            batch = []
    yield "".join(batch) + "\n  ]\n}\n"


def _write_parts(parts, output: str | None) -> None:
    """`cli.output.write` for a document made of pieces (it ends with a newline)."""
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            for part in parts:
                fh.write(part)
        _err(f"wrote {output}")
    else:
        for part in parts:
            click.echo(part, nl=False)


def _redact_all(files, out_dir: Path):
    from eggshield.finding import InputProblem
    from eggshield.logs.redact import redact_file

    problems = []
    total = 0
    for lf in files:
        try:
            _, n, stats = redact_file(lf, out_dir)
            total += n
        except (OSError, ValueError) as exc:
            problems.append(InputProblem(str(lf.path), f"redacted copy not written: {exc}"))
            continue
        problems.extend(InputProblem(str(lf.path), f"redacted copy: {m}") for m in stats.errors)
    _err(f"wrote redacted copies of {len(files)} file(s) to {out_dir} ({total} value(s) masked)")
    return problems


@command.command("export", epilog="Exit codes: 0 written; 2 usage or input error.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--to", "target", type=click.Choice(["ecs"]), default="ecs", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.option("--since", help="Only records newer than this (2h, 7d, ISO date).")
@click.option("--tz", help="Time zone of the logs (Egg writes local time): UTC, +08:00, Asia/Shanghai "
                           "[default: this host's].")
@click.option("--no-redact", is_flag=True, help="Export messages as they are, secrets included.")
def export_cmd(paths, target, output, since, tz, no_redact) -> None:
    """Export Egg log records as ECS JSON lines (Elasticsearch, OpenSearch, Loki, Vector, Filebeat).

    \b
    Examples:
      eggshield logs export --to ecs ~/logs/myapp/ -o myapp.ndjson
      eggshield logs export --to ecs ~/logs/myapp/myapp-web.log --tz Asia/Shanghai | vector ...
    """
    from eggshield.logs.ecs import dumps, parse_tz, to_ecs
    from eggshield.logs.source import ReadResult, read_records

    try:
        zone = parse_tz(tz)
    except (ValueError, KeyError) as exc:
        _err(f"--tz {tz!r}: {exc}")
        sys.exit(EXIT_USAGE)
    result = ReadResult()
    out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    count = 0
    try:
        for rec in read_records(list(paths), since=parse_since(since), result=result):
            out.write(dumps(to_ecs(rec, tz=zone, redact=not no_redact)) + "\n")
            count += 1
    finally:
        if output:
            out.close()
    for p in result.problems:
        _err(str(p))
    if not result.files:
        _err("no log files found in " + ", ".join(map(str, paths)))
        sys.exit(EXIT_USAGE)
    _err(f"exported {count:,} records from {len(result.files)} file(s) as ECS {target}"
         + (f" to {output}" if output else ""))


@command.command("rules")
@click.option("--sigma", is_flag=True, help="Print the detection rules as Sigma rules (YAML).")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Alert rules file to show or convert [default: eggshield's].")
@click.option("--output", "-o", type=click.Path(dir_okay=False))
def rules_cmd(sigma: bool, rules_file: Path | None, output: str | None) -> None:
    """List the log signals and alert rules, or export them as Sigma rules (--sigma).

    The Sigma rules use the ECS field names `eggshield logs export --to ecs` writes.
    """
    from eggshield.checks.registry import all_rules
    from eggshield.logs.signals import signatures

    ruleset = _load_rules(rules_file)
    meta = {r.id: r for r in all_rules()}
    if sigma:
        from eggshield.logs.sigma import export

        _write(export(ruleset, severity_of={k: r.severity for k, r in meta.items()},
                      cwe_of={k: r.cwe for k, r in meta.items()}, title_of={k: r.title for k, r in meta.items()}),
               output)
        return
    lines = ["Signals (data/log_signatures.toml):"]
    seen = set()
    for s in signatures():
        if s.kind in seen:
            continue
        seen.add(s.kind)
        r = meta.get(s.rule)
        lines.append(f"  {s.kind:<20} {s.rule}  {r.title if r else ''}")
    lines.append(f"\nAlert rules ({ruleset.source}; cooldown {ruleset.cooldown:g}s, "
                 f"at most {ruleset.max_alerts_per_hour} alerts/hour):")
    for r in ruleset.rules:
        lines.append(f"  {r.id:<22} {r.severity:<8} {r.describe()}")
    _write("\n".join(lines), output)


@command.command("audit", epilog=EPILOG)
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--env", default="prod", show_default=True, help="Egg env whose logger config is judged.")
@click.option("--log-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the logs are on this host, if not where the config says (e.g. ~/logs/myapp).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "sarif"]), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="medium", show_default=True)
def audit_cmd(path: Path, env: str, log_dir: Path | None, fmt: str, output: str | None, fail_on: str) -> None:
    """Audit how an Egg app's logs are kept: config (logger, customLogger, logrotator) and the files on disk.

    PATH is the app. The logger rules (EGG-LOG-0xx) judge the resolved config for ENV; when the
    log directory exists on this host, its files are checked too: permissions (CWE-276), owner,
    rotation and retention (CWE-779), disk use.
    """
    from eggshield.checks.logs_context import LogFilesContext, run_log_rules
    from eggshield.checks.registry import all_rules
    from eggshield.finding import InputProblem
    from eggshield.logs.audit import candidate_dirs, describe_config, inspect, now
    from eggshield.project.discover import discover
    from eggshield.project.model import NotAnEggApp
    from eggshield.report import FORMATS, Report, Target

    try:
        found = discover(path)
    except NotAnEggApp as exc:
        _err(str(exc))
        sys.exit(EXIT_USAGE)
    findings = []
    problems = list(found.problems)
    targets = []
    info: list[str] = []
    rules_meta = {r.id: r.metadata() for r in all_rules() if r.id.startswith("EGG-LOG-")}
    for project in found.projects:
        config, cfg_findings, cfg_problems = _config_rules(project, env)
        findings.extend(cfg_findings)
        problems.extend(cfg_problems)
        targets.append(Target(label=project.name, egg_major=project.egg_major, egg_version=project.egg_version,
                              env=env, framework=project.framework))
        dir_value = config.get("logger.dir")
        info.append(f"{project.name}: logger.dir = {describe_config(dir_value)}; "
                    f"outputJSON = {describe_config(config.get('logger.outputJSON'))}; "
                    f"logrotator {'on' if config.plugin_enabled('logrotator') else 'OFF'}, "
                    f"maxDays = {describe_config(config.get('logrotator.maxDays'))}")
        candidates = [(log_dir, "--log-dir")] if log_dir else candidate_dirs(dir_value, project.name, project.root)
        chosen = next(((d, why) for d, why in candidates if d.is_dir()), None)
        if chosen is None:
            info.append(f"{project.name}: no log directory on this host (looked in "
                        + ", ".join(str(d) for d, _ in candidates) + "); file checks skipped")
            if log_dir:
                problems.append(InputProblem(str(log_dir), "--log-dir does not exist"))
            continue
        d, why = chosen
        info.append(f"{project.name}: checked files in {d} ({why})")
        try:
            entries = inspect(d)
        except OSError as exc:
            problems.append(InputProblem(str(d), f"cannot inspect: {exc.strerror or exc}"))
            continue
        max_days = config.get("logrotator.maxDays")
        max_size = config.get("logrotator.maxFileSize")
        by_size = config.get("logrotator.filesRotateBySize")
        ctx = LogFilesContext(log_dir=str(d), files=entries, now=now(),
                              max_days=max_days if isinstance(max_days, int) else None,
                              max_file_size=max_size if isinstance(max_size, int) else None,
                              rotate_by_size=bool(by_size) and not isinstance(by_size, str),
                              daily_rotation=config.plugin_enabled("logrotator")
                              and config.get("logrotator.disableRotateByDay") is not True)
        file_findings, file_problems = run_log_rules(ctx)
        findings.extend(file_findings)
        problems.extend(file_problems)
    report = Report(findings=findings, problems=problems, targets=targets, rules=rules_meta)
    text = FORMATS[fmt].render(report)
    if fmt == "json":
        doc = json.loads(text)
        doc["summary"]["logs_audit"] = info
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    elif fmt in ("text", "markdown"):
        text = "\n".join(f"# {line}" if fmt == "text" else f"> {line}  " for line in info) + "\n\n" + text
    _write(text, output)
    _exit(findings, fail_on)


def _config_rules(project, env: str):
    """The config rules about logging (EGG-LOG-001…019, checks/logging.py) on the resolved config."""
    from eggshield.checks.context import CheckContext
    from eggshield.checks.registry import all_rules
    from eggshield.checks.runner import run_checks
    from eggshield.eggconfig import resolve
    from eggshield.js.sources import parse_sources

    config = resolve(project, env=env)
    ids = {r.id for r in all_rules() if r.kind == "config" and re.fullmatch(r"EGG-LOG-0(0\d|1\d)", r.id)}
    if not ids:
        return config, [], list(config.problems)
    trees, parse_problems = parse_sources(project)
    findings, problems = run_checks(CheckContext(project=project, config=config, sources=trees), only=ids)
    return config, findings, [*config.problems, *parse_problems, *problems]


@command.command("watch", epilog="Exit codes: 0 stopped normally; 2 usage or input error.")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Alert rules (TOML) [default: eggshield's log_alert_rules.toml; see docs/logs.md].")
@click.option("--notify", "sinks", multiple=True,
              help="Where alerts go (repeatable): webhook=URL, slack=URL, email=ADDR, syslog=udp://HOST:PORT, stdout.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file for checkpoints and alerts [default: $EGGSHIELD_DB or ~/.local/share/eggshield].")
@click.option("--interval", type=float, default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--from-beginning", is_flag=True, help="First run: read the current logs from their start, not the end.")
@click.option("--once", is_flag=True, help="Poll once and exit (cron-style).")
@click.option("--duration", type=float, help="Stop after this many seconds.")
def watch_cmd(directory, rules_file, sinks, db, interval, from_beginning, once, duration) -> None:
    """Follow an Egg log directory live and send alerts when rules fire.

    Survives egg-logrotator's daily rename, size rotation and copytruncate; resumes after a
    restart from its SQLite checkpoint without losing a line or sending an alert twice.

    \b
    Examples:
      eggshield logs watch ~/logs/myapp/ --notify webhook=https://hooks.example.com/x
      eggshield logs watch ~/logs/myapp/ --rules rules.toml --notify email=ops@example.com --notify stdout
    """
    import signal

    from eggshield.logs.watch import Watcher
    from eggshield.store import Store
    from eggshield.store.db import StoreError

    ruleset = _load_rules(rules_file)
    try:
        store = Store(db)
    except StoreError as exc:
        _err(str(exc))
        sys.exit(EXIT_USAGE)
    deliver = None
    specs = list(sinks) or ["stdout"]
    try:
        from eggshield.logs.alerting import SinkError, make_delivery

        deliver = make_delivery(specs, store, on_error=_err)
    except ImportError:
        if specs != ["stdout"]:
            _err("alert sinks need the eggshield.notify package, which this build lacks; use --notify stdout")
            sys.exit(EXIT_USAGE)
        deliver = _print_alerts
    except SinkError as exc:
        _err(f"--notify: {exc}")
        sys.exit(EXIT_USAGE)
    watcher = Watcher(directory, store, ruleset, from_beginning=from_beginning, deliver=deliver,
                      on_problem=lambda path, msg: _err(f"{path}: {msg}"))
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    _err(f"watching {watcher.dir} ({len(ruleset.rules)} rules, {', '.join(specs)}); Ctrl-C stops")
    try:
        if once:
            watcher.poll()
        else:
            watcher.run(interval=interval, duration=duration, should_stop=lambda: stop["now"])
    except KeyboardInterrupt:
        pass
    finally:
        watcher.close()
        store.close()
    _err(f"stopped after {watcher.records:,} records")


def _print_alerts(batch) -> list[str]:
    for p in batch:
        click.echo(json.dumps({"title": p.title, "text": p.text, "severity": p.severity, "key": p.key,
                               "data": p.data}, ensure_ascii=False))
    return [p.key for p in batch]
