"""Decoding as players do: a packet the decoder rejects is skipped and counted, not fatal.

A few hundred corrupted bytes inside a file cost a player a glitch, not the whole video; the
analysis does the same and reports what it skipped as a warning (``decode_errors``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av

__all__ = ["DecodeLog", "decode_tolerantly"]


@dataclass
class DecodeLog:
    """What one decode pass skipped: rejected packets, and whether reading stopped early."""

    stream: str
    errors: int = 0
    read_failed: bool = False

    def warning(self) -> dict[str, Any] | None:
        if not self.errors:
            return None
        ended = "; reading stopped at an unreadable part" if self.read_failed else ""
        return {
            "code": "decode_errors",
            "stream": self.stream,
            "count": self.errors,
            "message": f"{self.errors} damaged {self.stream} packet(s) were skipped{ended}.",
        }


def decode_tolerantly(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream | av.audio.stream.AudioStream,
    log: DecodeLog,
) -> Iterator[Any]:
    """Every frame of ``stream`` that decodes; damaged packets are skipped (counted in ``log``),
    an unreadable container tail ends the pass."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError:
            log.errors += 1
            log.read_failed = True
            with contextlib.suppress(av.FFmpegError):  # the frames the decoder still holds
                yield from stream.decode(None)
            return
        try:
            frames = packet.decode()
        except av.FFmpegError:
            log.errors += 1
            continue
        yield from frames
