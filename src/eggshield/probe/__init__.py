"""Live probe of a running Egg server: polite requests, observations collected into a ProbeResult.

The probe box sends requests and records what came back; the `kind="probe"` rules in
`eggshield.checks.probe_*` judge the result. Nothing here imports the checks.
"""

from eggshield.probe.client import PoliteClient, ProbeError
from eggshield.probe.model import ProbeResult, Route
from eggshield.probe.runner import ProbeOptions, planned_requests, run_probe

__all__ = ["PoliteClient", "ProbeError", "ProbeOptions", "ProbeResult", "Route", "planned_requests", "run_probe"]
