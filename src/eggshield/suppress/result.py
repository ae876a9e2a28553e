"""What a suppression step returns: the findings kept, and the ones it hid with the reason why.

Suppressed findings are kept (not dropped) so the CLI can count them, list them with
`--show-suppressed`, and so a blanket `eggshield-ignore` stays visible in the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from eggshield.finding import Finding


@dataclass(frozen=True)
class Suppressed:
    """One hidden finding and what hid it."""

    finding: Finding
    source: str  # "inline", "policy-rule", "policy-path"
    where: str  # "app/router.js:12" for inline, ".eggshield.toml" for the policy
    reason: str = ""
    blanket: bool = False  # an inline ignore without rule ids (hides every rule on that line)


class SuppressResult(NamedTuple):
    """`kept, suppressed = apply_inline(...)`."""

    kept: list[Finding]
    suppressed: list[Suppressed]
