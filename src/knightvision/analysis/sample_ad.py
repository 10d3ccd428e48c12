"""A sample ad made on this machine, so the contract's analysis example works offline (D22).

Rendered by our storyboard renderer (captioned scenes, piper voice-over) and seeded into the media
cache under the contract's example Ad Library id, as ``knightvision ads import`` would.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from knightvision.providers.ad_source import CachedMedia, MediaCache, import_ad_media, parse_ad_url

SAMPLE_AD_URL = "https://www.facebook.com/ads/library/?id=123456789"
SAMPLE_AD_SCRIPT = (
    "Tired of bitter coffee every morning? "
    "Brightbrew cold brew is smooth and ready in seconds. "
    "Over ten thousand happy customers switched this year. "
    "Shop now and get your first box free."
)
SAMPLE_AD_SECONDS = 14


def seed_sample_ad(cache_root: Path, *, url: str = SAMPLE_AD_URL) -> CachedMedia:
    """Render the sample ad (9:16, with voice-over) and cache it under ``url``, unless it is
    there."""
    from knightvision.render import RenderSpec, load_voice, render_storyboard

    cache = MediaCache(cache_root)
    if (cached := cache.get(parse_ad_url(url).canonical_key or "")) is not None:
        return cached
    with tempfile.TemporaryDirectory() as scratch:
        video = Path(scratch) / "sample-ad.mp4"
        render_storyboard(
            RenderSpec(prompt=SAMPLE_AD_SCRIPT, duration=SAMPLE_AD_SECONDS, width=720, height=1280),
            video,
            voice=load_voice(),
        )
        return import_ad_media(cache, url, video)
