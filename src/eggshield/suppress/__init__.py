"""Suppressions and baselines, applied to Findings between the checks and the report.

Recommended order in the CLI: `apply_inline` -> `apply_policy` -> `filter_new`; the counts
of the first two go to `Report.suppressed_count`, the last to `Report.baseline_count`.
"""

from __future__ import annotations

from eggshield.suppress.baseline import (
    BASELINE_VERSION,
    BaselineError,
    create_baseline,
    filter_new,
    load_baseline,
    save_baseline,
)
from eggshield.suppress.inline import Directive, apply_inline, file_line_reader, parse_directive
from eggshield.suppress.policy import POLICY_FILE, Policy, apply_policy, load_policy, path_matches
from eggshield.suppress.result import Suppressed, SuppressResult

__all__ = [
    "BASELINE_VERSION",
    "POLICY_FILE",
    "BaselineError",
    "Directive",
    "Policy",
    "SuppressResult",
    "Suppressed",
    "apply_inline",
    "apply_policy",
    "create_baseline",
    "file_line_reader",
    "filter_new",
    "load_baseline",
    "load_policy",
    "parse_directive",
    "path_matches",
    "save_baseline",
]
