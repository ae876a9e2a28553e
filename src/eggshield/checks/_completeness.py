"""Rules that report something *missing* may only speak when the app's config was fully read.

If a config file of the env could not be evaluated (a syntax error, a call that would throw), its
keys are unknown: "no errorPageUrl" or "no security logger" would then be a guess.
"""

from __future__ import annotations

from eggshield.checks.context import CheckContext
from eggshield.eggconfig.resolve import app_file_order


def config_fully_read(ctx: CheckContext) -> bool:
    project = ctx.project
    wanted = {project.rel(project.config_files[name])
              for name in app_file_order(project.config_files, ctx.env, ctx.config.scope)}
    return wanted <= set(ctx.config.files)
