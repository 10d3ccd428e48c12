"""Speech-to-text: the ``Transcriber`` port and its adapters (local faster-whisper, OpenAI)."""

from knightvision.providers.transcription.port import (
    Transcriber,
    Transcript,
    TranscriptionError,
)

__all__ = ["Transcriber", "Transcript", "TranscriptionError"]
