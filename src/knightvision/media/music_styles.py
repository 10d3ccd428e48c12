"""The moods of the music bed our storyboard renderer plays under its voice-over.

One home for the video domain (the optional ``style`` a partner may ask for) and the renderer
(what it can play), like the frame shapes in :mod:`.shapes`.
"""

from __future__ import annotations

MUSIC_STYLES = ("upbeat", "calm", "dramatic", "playful")
