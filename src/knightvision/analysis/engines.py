"""The engines the analysis pipeline runs on (ad fetcher, transcriber, chat model), chosen by
settings (D17, D18, D21)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from knightvision.analysis.stage_cache import StageCache
from knightvision.providers.ad_source import ALLOWED_HOSTS, AdMediaFetcher, MediaCache
from knightvision.providers.ad_source.urls import Platform
from knightvision.providers.llm.port import ChatModel
from knightvision.providers.transcription.port import Transcriber
from knightvision.settings import Settings


@dataclass(frozen=True)
class AnalysisEngines:
    fetcher: AdMediaFetcher
    transcriber: Transcriber
    chat_model: ChatModel | None
    work_root: Path  # frames and other stage outputs, on the shared storage
    # The job's URL is re-checked against this allowlist; tests widen it to a loopback server.
    allowed_hosts: Mapping[str, Platform] = field(default_factory=lambda: ALLOWED_HOSTS)
    # Stage outputs by media content, reused by later jobs on the same media; None: never reused.
    stage_cache: StageCache | None = None
    llm_timeout_s: float = 90.0  # the whole call to the language model, retries included
    # Where test-mode jobs find the bundled sample ad (apart from real ads); None: no test mode.
    test_ad_cache_root: Path | None = None
    # What transcribes a test-mode job: the local engine even when live jobs use OpenAI's.
    offline_transcriber: Transcriber | None = None

    def transcriber_for(self, test_mode: bool) -> Transcriber:
        if test_mode and self.offline_transcriber is not None:
            return self.offline_transcriber
        return self.transcriber


def build_analysis_engines(settings: Settings) -> AnalysisEngines:
    # Imported here: the API process never loads yt-dlp, Whisper or OpenCV.
    from knightvision.providers.ad_source.ytdlp import YtDlpSource
    from knightvision.providers.llm.openai_compat import chat_model_from_settings

    source = YtDlpSource(
        cookies_file=settings.ad_cookies_file,
        max_bytes=settings.ad_max_bytes,
        max_duration_s=settings.ad_max_duration_seconds,
        timeout_s=settings.ad_download_timeout_seconds,
    )
    live_transcriber = _transcriber(settings)
    return AnalysisEngines(
        fetcher=AdMediaFetcher(MediaCache(settings.ad_cache_root), source),
        transcriber=live_transcriber,
        chat_model=chat_model_from_settings(settings, vision=settings.llm_vision),
        work_root=settings.media_root / "analysis",
        test_ad_cache_root=settings.media_root / "test-ads",
        offline_transcriber=(
            _local_transcriber(settings) if settings.transcription == "openai" else live_transcriber
        ),
        stage_cache=StageCache(settings.media_root / "analysis-cache"),
        llm_timeout_s=settings.llm_timeout_seconds,
    )


def _transcriber(settings: Settings) -> Transcriber:
    if settings.transcription == "openai":
        from knightvision.providers.transcription.openai_api import (
            OpenAITranscriber,
            OpenAITranscriptionConfig,
        )

        return OpenAITranscriber(
            OpenAITranscriptionConfig(
                api_key=settings.openai_api_key,
                base_url=settings.openai_base_url,
                model=settings.openai_transcription_model,
            )
        )
    return _local_transcriber(settings)


def _local_transcriber(settings: Settings) -> Transcriber:
    from knightvision.providers.transcription.local_whisper import (
        LocalWhisperConfig,
        LocalWhisperTranscriber,
    )

    return LocalWhisperTranscriber(
        LocalWhisperConfig(
            model=settings.transcription_model,
            model_dir=settings.transcription_model_dir,
            # the packaged base is joined once per machine (the user's cache), not per data dir
            model_cache=settings.transcription_model_cache,
        )
    )
