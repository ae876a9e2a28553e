"""Plugin audit (strategy 2): which plugins are on per env, which the code uses, which are justified."""

from eggshield.plugins.audit import audit_for, build_audit
from eggshield.plugins.knowledge import load_knowledge
from eggshield.plugins.model import PluginAudit, PluginRow, Usage

__all__ = ["PluginAudit", "PluginRow", "Usage", "audit_for", "build_audit", "load_knowledge"]
