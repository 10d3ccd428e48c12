"""The ad source behind the pipeline's "downloading" stage: yt-dlp used as a library (D17).

One fetch is: re-check the URL against the allowlist, follow a short link to the ad it names,
ask yt-dlp what is there without downloading (a carousel → its first video; duration, size and
"is it a video at all" checked before a byte of media moves), download that one format under a
size cap, a socket timeout and an overall deadline, then confirm with PyAV that the file is a
playable video within the duration cap.

Only the site extractors for the three platforms run by default, so a page can never hand us
on to some other site's extractor, and yt-dlp's generic page scraper never runs on production
URLs. Tests widen ``allowed_hosts`` and ``extractors`` (``generic``, ``html5``) to serve real
media from a loopback server.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from yt_dlp import YoutubeDL
from yt_dlp.utils import DownloadCancelled, YoutubeDLError

from knightvision.providers.ad_source.classify import classify
from knightvision.providers.ad_source.media_check import NotAVideo, check_video
from knightvision.providers.ad_source.port import (
    SOURCE_NOT_VIDEO,
    SOURCE_TIMEOUT,
    SOURCE_TOO_LARGE,
    SOURCE_UNAVAILABLE,
    SOURCE_UNSUPPORTED,
    FetchedMedia,
    SourceError,
)
from knightvision.providers.ad_source.resolve import resolve_short_link
from knightvision.providers.ad_source.urls import (
    ALLOWED_HOSTS,
    AdRef,
    InvalidAdUrl,
    Platform,
    parse_ad_url,
)

log = logging.getLogger(__name__)

SITE_EXTRACTORS: tuple[str, ...] = (
    "facebook:ads",
    "facebook",
    "facebook:reel",
    "instagram",
    "tiktok",
)
MAX_CAROUSEL_CARDS = 5
MAX_SOCKET_TIMEOUT_S = 30.0


class _Abort(DownloadCancelled):  # type: ignore[misc]  # yt-dlp ships no types
    """Raised from a progress hook to stop a download;
    yt-dlp lets DownloadCancelled through untouched."""

    def __init__(self, error: SourceError) -> None:
        super().__init__(error.message)
        self.error = error


class _Capture:
    """yt-dlp's logger: keeps its lines for error mapping and passes them to ours at debug level."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def _keep(self, message: str) -> None:
        if len(self.lines) < 200:
            self.lines.append(message)
        log.debug("yt-dlp: %s", message)

    debug = info = warning = error = _keep

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)


class YtDlpSource:
    """``AdSource`` over yt-dlp. Blocking; one instance may serve many threads
    (state is per fetch)."""

    def __init__(
        self,
        cookies_file: Path | None,
        max_bytes: int,
        max_duration_s: int,
        timeout_s: float,
        allowed_hosts: Mapping[str, Platform] = ALLOWED_HOSTS,
        extractors: Sequence[str] = SITE_EXTRACTORS,
    ) -> None:
        self.cookies_file = cookies_file
        self.max_bytes = max_bytes
        self.max_duration_s = max_duration_s
        self.timeout_s = timeout_s
        self.allowed_hosts = allowed_hosts
        self.extractors = tuple(extractors)

    @property
    def _socket_timeout(self) -> float:
        return min(self.timeout_s, MAX_SOCKET_TIMEOUT_S)

    def resolve(self, ref: AdRef) -> AdRef:
        return resolve_short_link(self._recheck(ref), self.allowed_hosts, self._socket_timeout)

    def fetch(self, ref: AdRef, dest_dir: Path) -> FetchedMedia:
        deadline = time.monotonic() + self.timeout_s
        ref = self.resolve(ref)
        _check_deadline(deadline)
        dest_dir.mkdir(parents=True, exist_ok=True)
        work = Path(
            tempfile.mkdtemp(prefix=".ad-", dir=dest_dir)
        )  # yt-dlp's own corner: parts, cookies
        try:
            media = self._download(ref, work, deadline)
            final = dest_dir / f"{work.name[1:]}{media.path.suffix}"
            media.path.replace(final)
            return replace(media, path=final)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _recheck(self, ref: AdRef) -> AdRef:
        """Never trust a ref built elsewhere: it must pass the allowlist here too."""
        try:
            checked = parse_ad_url(ref.url, hosts=self.allowed_hosts)
        except InvalidAdUrl as exc:
            raise SourceError(
                SOURCE_UNSUPPORTED,
                "This link is not on Facebook, Instagram or TikTok.",
                detail=ref.url,
            ) from exc
        if checked.platform != ref.platform:
            raise SourceError(
                SOURCE_UNSUPPORTED,
                "This link is not on Facebook, Instagram or TikTok.",
                detail=ref.url,
            )
        return checked

    def _download(self, ref: AdRef, work: Path, deadline: float) -> FetchedMedia:
        assert ref.canonical_key is not None  # resolve() guarantees it
        capture = _Capture()
        cookies = self._private_cookies(work)
        try:
            with YoutubeDL(self._options(work, cookies, capture, deadline)) as ydl:
                info = ydl.extract_info(ref.url, download=False)
                entry, carousel = _first_video(info)
                self._precheck(entry)
                _check_deadline(deadline)
                ydl.process_info(entry)
                path = Path(entry.get("filepath") or ydl.prepare_filename(entry))
        except SourceError:
            raise
        except _Abort as abort:
            raise abort.error from None
        except Exception as exc:  # yt-dlp's failures come in many types; all end as a SourceError
            error = classify(exc)
            expected = isinstance(exc, YoutubeDLError)
            log.log(
                logging.INFO if expected else logging.WARNING,
                "ad download failed: %s (%s)",
                error.code,
                error.detail,
                exc_info=not expected,
            )
            raise error from exc
        finally:
            if cookies is not None:
                cookies.unlink(missing_ok=True)  # a session's secrets never outlive the fetch

        if not path.is_file():
            if capture.saw("larger than max-filesize"):
                raise _too_large(f"declared size over {self.max_bytes} bytes")
            raise SourceError(
                SOURCE_UNAVAILABLE,
                "The ad's video could not be downloaded.",
                detail="no file written",
            )
        try:
            facts = check_video(path)
        except NotAVideo as exc:
            raise SourceError(
                SOURCE_NOT_VIDEO, "The downloaded file is not a playable video.", detail=str(exc)
            ) from exc
        if facts.duration is not None and facts.duration > self.max_duration_s:
            raise _too_large(f"{facts.duration:.1f} s > {self.max_duration_s} s")
        return FetchedMedia(
            path=path,
            canonical_key=ref.canonical_key,
            platform=ref.platform,
            source_url=ref.url,
            title=entry.get("title") or info.get("title"),
            carousel=carousel,
            duration=facts.duration,
        )

    def _precheck(self, entry: dict[str, Any]) -> None:
        """Refuse before downloading what the metadata already rules out."""
        if entry.get("is_live") or entry.get("live_status") in ("is_live", "is_upcoming"):
            raise SourceError(SOURCE_UNSUPPORTED, "Live streams cannot be analysed.")
        if not entry.get("url") or entry.get("vcodec") == "none":
            raise SourceError(
                SOURCE_NOT_VIDEO, "This ad has no video.", detail=f"format {entry.get('format_id')}"
            )
        duration = entry.get("duration")
        if isinstance(duration, (int, float)) and duration > self.max_duration_s:
            raise _too_large(f"{duration} s > {self.max_duration_s} s")
        size = entry.get("filesize")
        if isinstance(size, int) and size > self.max_bytes:
            raise _too_large(f"{size} bytes > {self.max_bytes}")

    def _private_cookies(self, work: Path) -> Path | None:
        """A copy of the cookie file: yt-dlp writes cookies back on close,
        and jobs run in parallel."""
        if self.cookies_file is None:
            return None
        copy = work / "cookies.txt"
        shutil.copyfile(self.cookies_file, copy)
        copy.chmod(0o600)
        return copy

    def _options(
        self, work: Path, cookies: Path | None, capture: _Capture, deadline: float
    ) -> dict[str, Any]:
        max_bytes = self.max_bytes

        def enforce_caps(progress: dict[str, Any]) -> None:
            if time.monotonic() > deadline:
                raise _Abort(_timeout())
            done = progress.get("downloaded_bytes") or 0
            total = progress.get("total_bytes") or 0
            if max(done, total) > max_bytes:
                raise _Abort(_too_large(f"over {max_bytes} bytes"))

        return {
            "format": _format_spec(max_bytes),
            "max_filesize": max_bytes,
            "socket_timeout": self._socket_timeout,
            "noplaylist": True,
            "playlist_items": f"1:{MAX_CAROUSEL_CARDS}",
            "paths": {"home": str(work), "temp": str(work)},
            "outtmpl": {"default": "source.%(ext)s"},
            "restrictfilenames": True,
            "cachedir": False,
            "cookiefile": str(cookies) if cookies else None,
            "usenetrc": False,
            "quiet": True,
            "noprogress": True,
            "logger": capture,
            "progress_hooks": [enforce_caps],
            "retries": 2,
            "fragment_retries": 2,
            "extractor_retries": 1,
            "file_access_retries": 0,
            "overwrites": True,
            "continuedl": False,
            "updatetime": False,
            "allowed_extractors": [re.escape(name) for name in self.extractors],
        }


def _format_spec(max_bytes: int) -> str:
    """One file with sound and picture, MP4 over plain HTTP(S) first, nothing known to be over
    the cap.

    There is no ffmpeg to merge separate streams, so video-only is the fallback, and ``b*`` last
    lets an audio-only ad be selected, so that we can say "not a video" rather than "no format".
    """
    fits = f"[filesize<?{max_bytes}]"
    return "/".join(
        (
            f"b[ext=mp4][protocol^=http]{fits}",
            f"b[protocol^=http]{fits}",
            f"b{fits}",
            f"bv*[ext=mp4]{fits}",
            f"bv*{fits}",
            "b*",
        )
    )


def _first_video(info: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The entry to analyse and whether it came out of a carousel (several cards)."""
    if info.get("_type") not in ("playlist", "multi_video"):
        return info, False
    entries = [e for e in info.get("entries") or () if e and e.get("_type", "video") == "video"]
    videos = [e for e in entries if e.get("url") and e.get("vcodec") != "none"]
    if not videos:
        raise SourceError(
            SOURCE_NOT_VIDEO, "None of this ad's cards is a video.", detail=f"{len(entries)} cards"
        )
    return videos[0], len(entries) > 1


def _check_deadline(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise _timeout()


def _timeout() -> SourceError:
    return SourceError(SOURCE_TIMEOUT, "Downloading the ad took too long.", True)


def _too_large(detail: str) -> SourceError:
    return SourceError(
        SOURCE_TOO_LARGE, "The ad's video is larger or longer than we accept.", detail=detail
    )
