"""Kept for compatibility: the masking helpers live in `eggshield.masking`, which every box may use."""

from eggshield.masking import *  # noqa: F403
from eggshield.masking import MASK, mask_secrets, printable  # noqa: F401
