"""SARIF 2.1.0 output for GitHub code scanning and other SARIF viewers.

Validates against the official OASIS schema shipped in `eggshield/data/`. GitHub-specific
properties follow "SARIF support for code scanning" (docs.github.com): `security-severity`
is a string score where >= 9.0 reads as critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low,
and 0.0 means "no security severity"; `precision` is very-high/high/medium/low.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import PureWindowsPath
from urllib.parse import quote

from eggshield.finding import STRATEGIES, Finding
from eggshield.report.cwe import CWE_TAXONOMY_GUID, cwe_name, cwe_url
from eggshield.report.interface import Report, RuleMeta
from eggshield.report.jsondump import Encoded, dumps

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "eggshieldFingerprint/v1"

# GitHub's scale: each value sits inside its band. info gets no score (omitted), so
# info rules are not shown as security alerts of any severity.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}

# log -> "runs" -> the run -> "results" -> a result: the depth each result is encoded at.
_RESULT_LEVEL = 4
_CWE_COMPONENT = {"name": "CWE", "index": 0, "guid": CWE_TAXONOMY_GUID}
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def _rule_name(title: str, rule_id: str) -> str:
    """PascalCase identifier from the title (SARIF `name` is an identifier, not prose)."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:] for w in words) or rule_id.replace("-", "")


def _first_paragraph(doc: str, limit: int = 1000) -> str:
    para = doc.strip().split("\n\n", 1)[0].strip()
    para = " ".join(line.lstrip("# ").strip() for line in para.splitlines())
    return para if len(para) <= limit else para[: limit - 1].rstrip() + "…"


def _artifact(path: str) -> dict:
    """artifactLocation for a finding path: relative to %SRCROOT%, or an absolute file URI."""
    return dict(_artifact_of(path))


@lru_cache(maxsize=4096)  # a big report has thousands of findings in a few files
def _artifact_of(path: str) -> dict:
    path = path.replace("\\", "/")
    if _URL.match(path):
        return {"uri": path}
    if path.startswith("/"):
        return {"uri": "file://" + quote(path, safe="/")}
    if PureWindowsPath(path).drive:
        return {"uri": "file:///" + quote(path, safe="/:")}
    return {"uri": quote(path.removeprefix("./"), safe="/"), "uriBaseId": SRCROOT}


def _locations(f: Finding) -> list[dict]:
    loc = f.location
    if loc.url is not None:
        return [{"physicalLocation": {"artifactLocation": {"uri": loc.url}}}]
    out: dict = {}
    if loc.path:
        physical: dict = {"artifactLocation": _artifact(loc.path)}
        if loc.line and loc.line > 0:
            region: dict = {"startLine": loc.line}
            if loc.column is not None:
                region["startColumn"] = max(1, loc.column)
            physical["region"] = region
        out["physicalLocation"] = physical
    anchor = f.config_key or f.package
    if anchor:
        out["logicalLocations"] = [{"fullyQualifiedName": anchor, "kind": "property" if f.config_key else "module"}]
    return [out] if out else []


def _tags(cwe: int, strategy: int) -> list[str]:
    return list(_tags_of(cwe, strategy))


@lru_cache(maxsize=1024)
def _tags_of(cwe: int, strategy: int) -> tuple[str, ...]:
    tags = ("security", f"strategy-{strategy}")
    if cwe:
        # CWE-<n> per DESIGN.md; external/cwe/cwe-<n> is the form GitHub's UI links to CWE pages.
        tags += (f"CWE-{cwe}", f"external/cwe/cwe-{cwe}")
    return tags


def _taxon_ref(cwe: int, index: int) -> dict:
    return {"id": str(cwe), "index": index, "toolComponent": dict(_CWE_COMPONENT)}


def _rule(meta: RuleMeta, cwe_index: dict[int, int]) -> dict:
    title = meta.title or meta.id
    props: dict = {
        "tags": _tags(meta.cwe, meta.strategy),
        "precision": meta.confidence,
        "strategy": meta.strategy,
        "strategy_name": STRATEGIES.get(meta.strategy, ""),
        "severity": meta.severity,
    }
    if meta.severity in SECURITY_SEVERITY:
        props["security-severity"] = SECURITY_SEVERITY[meta.severity]
    rule: dict = {
        "id": meta.id,
        "name": _rule_name(title, meta.id),
        "shortDescription": {"text": title[:1000]},
        "fullDescription": {"text": _first_paragraph(meta.doc) or title[:1000]},
        "defaultConfiguration": {"level": LEVEL[meta.severity]},
        "properties": props,
    }
    doc = meta.doc.strip() or title
    rule["help"] = {"text": doc, "markdown": doc}
    if meta.help_uri:
        rule["helpUri"] = meta.help_uri
    if meta.cwe:
        rule["relationships"] = [{"target": _taxon_ref(meta.cwe, cwe_index[meta.cwe]), "kinds": ["relevant"]}]
    return rule


def _result(f: Finding, rule_index: int, cwe_index: dict[int, int]) -> dict:
    props: dict = {
        "severity": f.severity,
        "confidence": f.confidence,
        "strategy": f.strategy,
        "config_key": f.config_key,
        "env": f.env,
        "package": f.package,
        "evidence": f.evidence,
        "fix": f.fix,
        "tags": _tags(f.cwe, f.strategy),
    }
    if f.severity in SECURITY_SEVERITY:
        props["security-severity"] = SECURITY_SEVERITY[f.severity]
    result: dict = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "message": {"text": f.message or f.title or f.rule_id},
        "locations": _locations(f),
        # The unmasked finding's fingerprint (safe_findings keeps it), so it matches baselines.
        "partialFingerprints": {FINGERPRINT_KEY: f.extra.get("fingerprint") or f.fingerprint()},
        "properties": props,
    }
    if f.cwe:
        result["taxa"] = [_taxon_ref(f.cwe, cwe_index[f.cwe])]
    return result


def _notification(text: str, path: str) -> dict:
    note: dict = {"level": "warning", "message": {"text": text}, "descriptor": {"id": "input-problem"}}
    if path and not path.startswith("<") and "\n" not in path:
        note["locations"] = [{"physicalLocation": {"artifactLocation": _artifact(path)}}]
    return note


class SarifFormat:
    """One SARIF run: rules, CWE taxonomy, results, and input problems as notifications."""

    def render(self, report: Report) -> str:
        """A SARIF 2.1.0 log as JSON text, valid against the OASIS schema."""
        findings = report.safe_findings()
        rules = report.used_rules()
        cwes = sorted({r.cwe for r in rules if r.cwe} | {f.cwe for f in findings if f.cwe})
        cwe_index = {c: i for i, c in enumerate(cwes)}
        rule_index = {r.id: i for i, r in enumerate(rules)}
        results = [Encoded(dumps(_result(f, rule_index[f.rule_id], cwe_index), _RESULT_LEVEL)) for f in findings]

        run: dict = {
            "tool": {
                "driver": {
                    "name": report.tool.name,
                    "version": report.tool.version,
                    "rules": [_rule(r, cwe_index) for r in rules],
                    "supportedTaxonomies": [dict(_CWE_COMPONENT)],
                }
            },
            "taxonomies": [
                {
                    "name": "CWE",
                    "guid": CWE_TAXONOMY_GUID,
                    "organization": "MITRE",
                    "informationUri": "https://cwe.mitre.org/",
                    "shortDescription": {"text": "The MITRE Common Weakness Enumeration"},
                    "isComprehensive": False,
                    "taxa": [
                        {
                            "id": str(c),
                            "name": f"CWE-{c}",
                            "shortDescription": {"text": cwe_name(c)},
                            "helpUri": cwe_url(c),
                        }
                        for c in cwes
                    ],
                }
            ],
            "invocations": [
                {
                    "executionSuccessful": True,
                    "toolExecutionNotifications": [
                        _notification(line, p.path) for line, p in zip(report.problem_lines(), report.problems, strict=True)
                    ],
                }
            ],
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": {
                "targets": [t.to_dict() for t in report.targets],
                "suppressed": report.suppressed_count,
                "baselined": report.baseline_count,
            },
        }
        if report.scan_root:
            root = report.scan_root.replace("\\", "/").rstrip("/") + "/"
            if not root.startswith("/"):
                root = "/" + root  # Windows drive paths: file:///C:/...
            run["originalUriBaseIds"] = {SRCROOT: {"uri": "file://" + quote(root, safe="/:")}}
        log = {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}
        return dumps(log) + "\n"
