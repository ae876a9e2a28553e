"""Find Egg apps in a directory and describe their layout (no parsing of JS here)."""

from eggshield.project.discover import discover
from eggshield.project.files import read_source, walk
from eggshield.project.model import Discovery, EggProject, NotAnEggApp

__all__ = ["Discovery", "EggProject", "NotAnEggApp", "discover", "read_source", "walk"]
