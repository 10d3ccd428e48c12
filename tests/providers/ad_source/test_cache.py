"""The content-addressed media cache and the operator's import (D17)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from knightvision.providers.ad_source.cache import (
    ImportRefused,
    MediaCache,
    MediaMeta,
    import_ad_media,
)
from tests.fixtures.ad_source import write_mp4

WIRE_TIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_put_then_get(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "cache")
    stored = cache.put(
        "tiktok:7301",
        _file(tmp_path, "a.mp4", b"video bytes"),
        MediaMeta("https://www.tiktok.com/@a/video/7301", "T", True),
    )
    sha = stored.sha256
    assert stored.path == tmp_path / "cache" / "blobs" / sha[:2] / f"{sha}.mp4"
    assert stored.path.read_bytes() == b"video bytes" and stored.size == 11
    entry = json.loads((tmp_path / "cache" / "keys" / "tiktok" / "7301.json").read_text())
    assert set(entry) == {"sha256", "size", "source_url", "title", "carousel", "created_at"}
    assert (entry["sha256"], entry["size"], entry["title"], entry["carousel"]) == (
        sha,
        11,
        "T",
        True,
    )
    assert cache.get("tiktok:7301") == stored
    assert stored.created_at == entry["created_at"] and re.fullmatch(WIRE_TIME, stored.created_at)


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "cache")
    first = cache.put("facebook:1", _file(tmp_path, "a.mp4", b"same"), MediaMeta(None))
    second = cache.put("instagram:Abc_-1", _file(tmp_path, "b.mp4", b"same"), MediaMeta(None))
    assert first.path == second.path
    assert len(list((tmp_path / "cache" / "blobs").rglob("*.mp4"))) == 1


def test_put_is_idempotent(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "cache")
    file = _file(tmp_path, "a.mp4", b"bytes")
    first = cache.put("facebook:1", file, MediaMeta("u1"))
    entry = tmp_path / "cache" / "keys" / "facebook" / "1.json"
    written = entry.stat().st_mtime_ns
    again = cache.put("facebook:1", file, MediaMeta("u2"))
    assert again == first and entry.stat().st_mtime_ns == written
    assert not list((tmp_path / "cache").rglob("*.partial"))


def test_new_content_for_a_key_replaces_the_entry(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "cache")
    cache.put("facebook:1", _file(tmp_path, "a.mp4", b"old"), MediaMeta(None))
    newer = cache.put("facebook:1", _file(tmp_path, "b.mp4", b"new"), MediaMeta(None))
    assert cache.get("facebook:1") == newer and newer.path.read_bytes() == b"new"


def test_misses(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "cache")
    assert cache.get("facebook:1") is None  # never stored, root does not even exist
    stored = cache.put("facebook:1", _file(tmp_path, "a.mp4", b"x"), MediaMeta(None))
    stored.path.unlink()
    assert cache.get("facebook:1") is None  # blob gone: fetched again
    cache.put("facebook:2", _file(tmp_path, "b.mp4", b"y"), MediaMeta(None))
    (tmp_path / "cache" / "keys" / "facebook" / "2.json").write_text("{not json")
    assert cache.get("facebook:2") is None


@pytest.mark.parametrize(
    "key",
    [
        "facebook:../../etc/passwd",
        "facebook:a/b",
        "evil:1",
        "facebook:",
        "1",
        "Facebook:1",
        "facebook:1.json",
    ],
)
def test_keys_cannot_escape_the_cache(tmp_path: Path, key: str) -> None:
    cache = MediaCache(tmp_path / "cache")
    with pytest.raises(ValueError, match="not a "):
        cache.get(key)
    with pytest.raises(ValueError, match="not a "):
        cache.put(key, _file(tmp_path, "a.mp4", b"x"), MediaMeta(None))


def test_import_seeds_the_cache_under_the_canonical_key(tmp_path: Path, clip_file: Path) -> None:
    cache = MediaCache(tmp_path / "cache")
    stored = import_ad_media(
        cache, "https://m.facebook.com/ads/library/?id=00777&country=US", clip_file
    )
    assert stored.canonical_key == "facebook:777"
    assert stored.source_url == "https://www.facebook.com/ads/library/?id=777"
    assert cache.get("facebook:777") == stored
    assert import_ad_media(cache, "777", clip_file) == stored  # the bare id is the same ad
    assert stored.path.read_bytes() == clip_file.read_bytes()


def test_import_by_key(tmp_path: Path, clip_file: Path) -> None:
    cache = MediaCache(tmp_path / "cache")
    assert cache.import_file("instagram:Cx9AbC", clip_file) == cache.get("instagram:Cx9AbC")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://vm.tiktok.com/ZMabc/", "short links"),
        ("https://www.facebook.com/SomeBrand", "short links"),
        ("https://evil.com/ads/library/?id=1", "valid Facebook, Instagram, or TikTok URL"),
        ("", "valid Facebook, Instagram, or TikTok URL"),
    ],
)
def test_import_refuses_urls_without_a_key(
    tmp_path: Path, clip_file: Path, url: str, words: str
) -> None:
    with pytest.raises(ImportRefused, match=words):
        import_ad_media(MediaCache(tmp_path / "cache"), url, clip_file)
    assert not (tmp_path / "cache").exists()


def test_import_refuses_what_is_not_a_video(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "cache")
    with pytest.raises(ImportRefused, match="No such file"):
        import_ad_media(cache, "123", tmp_path / "missing.mp4")
    with pytest.raises(ImportRefused, match="not a playable video"):
        import_ad_media(
            cache, "123", _file(tmp_path, "page.mp4", b"<html>not a video</html>" * 100)
        )
    with pytest.raises(ImportRefused, match="not a playable video"):
        import_ad_media(cache, "123", _write_wav(tmp_path / "sound.wav"))
    with pytest.raises(ImportRefused, match="canonical key"):
        cache.import_file("facebook:../x", write_mp4(tmp_path / "ok.mp4", seconds=1))
    assert cache.get("facebook:123") is None


def _write_wav(path: Path) -> Path:
    import wave

    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\0\0" * 8000)
    return path


def test_import_refuses_a_still_picture_and_takes_a_cover_frame_over_a_voice(
    tmp_path: Path,
) -> None:
    from tests.fixtures import clips

    cache = MediaCache(tmp_path / "cache")
    for picture in (clips.png_as_mp4(), clips.still_image_as_mp4(), clips.still_clip()):
        with pytest.raises(ImportRefused, match="not a playable video"):
            import_ad_media(cache, "123", picture)
    assert cache.get("facebook:123") is None
    # one picture that plays for 12 s of sound is a video
    assert import_ad_media(cache, "124", clips.cover_frame_clip()).size > 0
