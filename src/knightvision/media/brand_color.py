"""The shape of a brand colour, ``#RRGGBB``: one home for the video domain (the optional
``brand_color`` a partner may send), the request schema and the renderer (what it draws with),
like the music styles in :mod:`.music_styles`."""

from __future__ import annotations

import re

BRAND_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
