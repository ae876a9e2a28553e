"""The registry of checks: each check is one function with its metadata and its doc page beside it.

Bandit's shape: a decorated function per rule whose docstring is the page `eggshield rules ID` shows.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eggshield.finding import STRATEGIES, Finding


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    strategy: int
    severity: str
    confidence: str
    cwe: int
    func: Callable[..., Iterable[Finding]]
    references: tuple[str, ...] = ()
    # what the check reads: "config" (CheckContext, run by every scan), "probe" (a live server's
    # responses), "deps" (the dependency inventory), "logs" (parsed log events)
    kind: str = "config"

    @property
    def doc(self) -> str:
        """The rule's page: its docstring (what, why, how to fix) plus references."""
        body = inspect.cleandoc(self.func.__doc__ or "")
        refs = "\n".join(f"- {r}" for r in self.references)
        head = (f"# {self.id}: {self.title}\n\nStrategy {self.strategy} ({STRATEGIES[self.strategy]}) · "
                f"default severity {self.severity} · CWE-{self.cwe}\n\n")
        return head + body + (f"\n\n## References\n{refs}\n" if refs else "\n")

    @property
    def summary(self) -> str:
        return self.title

    def metadata(self) -> dict:
        return {"id": self.id, "title": self.title, "strategy": self.strategy, "severity": self.severity,
                "confidence": self.confidence, "cwe": self.cwe, "kind": self.kind, "doc": self.doc,
                "help_uri": self.references[0] if self.references else None}


REGISTRY: dict[str, Rule] = {}


KINDS = ("config", "probe", "deps", "logs")


def rule(*, id: str, title: str, strategy: int, severity: str, cwe: int, confidence: str = "high",
         references: Iterable[str] = (), kind: str = "config"):
    def register(func):
        if id in REGISTRY:
            raise ValueError(f"rule {id} registered twice")
        if kind not in KINDS:
            raise ValueError(f"rule {id}: unknown kind {kind!r}")
        REGISTRY[id] = Rule(id=id, title=title, strategy=strategy, severity=severity, confidence=confidence,
                            cwe=cwe, func=func, references=tuple(references), kind=kind)
        func.rule_id = id
        return func

    return register


def all_rules() -> list[Rule]:
    """Import every check module (each registers itself) and return the rules sorted by id."""
    import eggshield.checks as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name not in ("registry", "context", "runner"):
            importlib.import_module(f"eggshield.checks.{info.name}")
    return sorted(REGISTRY.values(), key=lambda r: r.id)
