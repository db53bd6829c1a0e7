"""Names the sandbox generates and validates the way Heroku does: app names, add-on names
(``postgresql-<adjective>-<5 digits>``) and attachment names (``HEROKU_POSTGRESQL_<COLOR>``)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Collection

APP_NAME = re.compile(r"^[a-z][a-z0-9-]{1,29}$")
ADDON_NAME = re.compile(r"^[a-zA-Z][A-Za-z0-9_-]+$")
ATTACHMENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
CONFIG_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

APP_NAME_RULES = (
    "Name must start with a letter, end with a letter or digit and can only contain lowercase letters, "
    "digits, and dashes (2 to 30 characters)."
)

ADJECTIVES = (
    "amorphous", "angular", "animated", "asymmetrical", "clean", "closed", "concentric", "convex",
    "cubic", "curly", "curved", "deep", "defined", "dimensional", "elliptical", "flat", "fluffy",
    "graceful", "horizontal", "infinite", "opaque", "parallel", "polished", "regular", "rigid",
    "round", "shallow", "sinuous", "slippery", "solid", "spherical", "symmetrical", "tetrahedral",
    "transparent", "triangular", "vertical", "aerodynamic", "acute", "colorful", "contoured",
)
NOUNS = (
    "brook", "cliffs", "coast", "dawn", "depths", "dusk", "falls", "forest", "garden", "harbor",
    "island", "lake", "meadow", "mesa", "ocean", "peak", "plains", "reef", "ridge", "river",
    "savannah", "shore", "sierra", "springs", "taiga", "thicket", "tundra", "valley", "waters", "woods",
)
# Heroku's attachment colors (HEROKU_POSTGRESQL_<COLOR>).
COLORS = (
    "AMBER", "AQUA", "BLACK", "BLUE", "BRONZE", "BROWN", "CHARCOAL", "COBALT", "COPPER", "CRIMSON",
    "CYAN", "GOLD", "GRAY", "GREEN", "IVORY", "JADE", "LIME", "MAROON", "MAUVE", "NAVY", "OLIVE",
    "ONYX", "ORANGE", "PINK", "PUCE", "PURPLE", "RED", "ROSE", "SILVER", "TEAL", "WHITE", "YELLOW",
)

_rng = random.SystemRandom()


def _unique(make: Callable[[], str], taken: Callable[[str], bool]) -> str:
    for _ in range(1000):
        name = make()
        if not taken(name):
            return name
    raise RuntimeError("could not find a free name")  # 40 x 90,000 add-on names: practically never


def app_name(taken: Callable[[str], bool]) -> str:
    """``<adjective>-<noun>-<5 digits>``, like Heroku's generated app names."""
    return _unique(
        lambda: f"{_rng.choice(ADJECTIVES)}-{_rng.choice(NOUNS)}-{_rng.randint(10000, 99999)}", taken
    )


def addon_name(service: str, taken: Callable[[str], bool]) -> str:
    """``postgresql-<adjective>-<5 digits>``: the service name minus ``heroku-``."""
    prefix = service.removeprefix("heroku-")
    return _unique(lambda: f"{prefix}-{_rng.choice(ADJECTIVES)}-{_rng.randint(10000, 99999)}", taken)


def color_attachment_name(used: Collection[str], prefix: str = "HEROKU_POSTGRESQL") -> str:
    """A free ``HEROKU_POSTGRESQL_<COLOR>`` name; numbered once every color is used on the app."""
    free = [color for color in COLORS if f"{prefix}_{color}" not in used]
    if free:
        return f"{prefix}_{_rng.choice(free)}"
    number = 2
    while f"{prefix}_{COLORS[0]}_{number}" in used:
        number += 1
    return f"{prefix}_{COLORS[0]}_{number}"
