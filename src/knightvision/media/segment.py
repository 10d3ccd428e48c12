"""Cut an exact segment out of a video with PyAV, and keep still frames of it.

Finalizing a character (D16) cuts the partner's chosen seconds out of the character video: the
segment some upstreams take as an upload, and the source of the reference stills our own renderer
composites into later videos. The picture is re-encoded (a cut on a keyframe would start early),
frame-exact on the source's frame grid; the audio is cut sample-exact. The result is exactly
``end - start`` seconds long on both streams.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from knightvision.kit.errors import ProviderError
from knightvision.media.probe import MediaInfo, NotAVideo, probe

X264_OPTIONS = {"preset": "veryfast", "crf": "18"}
AAC_FRAME = 1024


class SegmentError(ProviderError):
    """The source cannot give the requested segment (unreadable, too short, no picture)."""

    def __init__(self, message: str) -> None:
        super().__init__("segment_failed", message)


def cut_segment(source: Path, target: Path, start: float, end: float) -> MediaInfo:
    """Write ``source[start:end]`` to ``target`` (H.264 + AAC when the source has sound)."""
    if not 0 <= start < end:
        raise SegmentError(f"invalid span {start}..{end}")
    try:
        source_info = probe(source)
    except (av.FFmpegError, OSError, NotAVideo) as exc:
        raise SegmentError(f"cannot read {source.name}: {exc}") from exc
    if end > source_info.duration + 0.05:
        raise SegmentError(
            f"{source.name} is {source_info.duration:.2f} s long; cannot cut {start}..{end}"
        )
    try:
        _cut(source, target, start, end)
    except (av.FFmpegError, OSError) as exc:
        target.unlink(missing_ok=True)
        raise SegmentError(f"cutting {source.name} failed: {exc}") from exc
    return probe(target)


def _cut(source: Path, target: Path, start: float, end: float) -> None:
    with av.open(str(source)) as src:
        video_in = src.streams.video[0]
        audio_in = src.streams.audio[0] if src.streams.audio else None
        rate = video_in.average_rate or video_in.guessed_rate or Fraction(30)
        fps = Fraction(rate).limit_denominator(1001)
        frame_count = max(1, round((end - start) * fps))
        width, height = video_in.codec_context.width, video_in.codec_context.height

        with av.open(
            str(target), "w", format="mp4", container_options={"movflags": "+faststart"}
        ) as out:
            video_out = out.add_stream("libx264", rate=fps, options=X264_OPTIONS)
            video_out.width, video_out.height, video_out.pix_fmt = (
                width - width % 2,
                height - height % 2,
                "yuv420p",
            )
            video_out.codec_context.time_base = 1 / fps
            audio_out = None
            if audio_in is not None:
                audio_out = out.add_stream(
                    "aac", rate=audio_in.codec_context.sample_rate, layout="mono"
                )

            if start > 0:
                src.seek(int(start * av.time_base), backward=True, any_frame=False)
            slots = [start + k / fps for k in range(frame_count)]
            tolerance = 0.5 / float(fps)
            emitted = 0
            previous: av.VideoFrame | None = None
            audio_chunks: list[np.ndarray] = []
            audio_start: float | None = None
            sample_rate = audio_in.codec_context.sample_rate if audio_in is not None else 0
            streams = [video_in] + ([audio_in] if audio_in is not None else [])
            resampler = (
                av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
                if audio_in is not None
                else None
            )

            def emit(frame: av.VideoFrame) -> None:
                nonlocal emitted
                picture = frame.reformat(
                    width=video_out.width, height=video_out.height, format="yuv420p"
                )
                picture.pts = emitted
                picture.time_base = video_out.codec_context.time_base
                out.mux(video_out.encode(picture))
                emitted += 1

            for packet in src.demux(*streams):
                for decoded in packet.decode():
                    if isinstance(decoded, av.AudioFrame):
                        if audio_start is None:
                            if decoded.time is None:
                                continue
                            audio_start = float(decoded.time)
                        assert resampler is not None  # audio frames come only from audio_in
                        for mono in resampler.resample(decoded):
                            audio_chunks.append(mono.to_ndarray().reshape(-1).astype(np.float32))
                        continue
                    if not isinstance(decoded, av.VideoFrame) or decoded.time is None:
                        continue  # only the picture and sound streams are demuxed
                    t = float(decoded.time)
                    while emitted < frame_count and t > slots[emitted] + tolerance:
                        emit(previous if previous is not None else decoded)
                    previous = decoded
                video_done = emitted >= frame_count
                audio_done = audio_in is None or (
                    audio_start is not None
                    and audio_start + sum(len(c) for c in audio_chunks) / sample_rate >= end
                )
                if video_done and audio_done:
                    break
            while emitted < frame_count and previous is not None:
                emit(previous)
            if emitted == 0:
                raise SegmentError("the source has no picture in that span")
            out.mux(video_out.encode(None))

            if audio_out is not None:
                samples = (
                    np.concatenate(audio_chunks) if audio_chunks else np.zeros(0, dtype=np.float32)
                )
                first = round(
                    (start - (audio_start if audio_start is not None else start)) * sample_rate
                )
                wanted = round((end - start) * sample_rate)
                if first < 0:
                    samples = np.concatenate([np.zeros(-first, dtype=np.float32), samples])
                    first = 0
                clip = samples[first : first + wanted]
                if len(clip) < wanted:
                    clip = np.concatenate([clip, np.zeros(wanted - len(clip), dtype=np.float32)])
                for offset in range(0, wanted, AAC_FRAME):
                    chunk = np.ascontiguousarray(clip[offset : offset + AAC_FRAME])[None, :]
                    frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                    frame.sample_rate = sample_rate
                    frame.time_base = Fraction(1, sample_rate)
                    frame.pts = offset
                    out.mux(audio_out.encode(frame))
                out.mux(audio_out.encode(None))


def extract_stills(
    source: Path, directory: Path, count: int = 3, *, stem: str = "still"
) -> tuple[Path, ...]:
    """``count`` PNG stills spread evenly over ``source`` (at 1/2n, 3/2n, … of its length)."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            total = stream.frames or 0
            if not total:
                rate = float(stream.average_rate or 30)
                total = max(1, round(float(container.duration or 0) / av.time_base * rate))
            wanted = sorted(
                {min(total - 1, int(total * (2 * k + 1) / (2 * count))) for k in range(count)}
            )
            paths: list[Path] = []
            last = None
            for index, frame in enumerate(container.decode(stream)):
                last = frame
                if index in wanted:
                    path = directory / f"{stem}_{len(paths)}.png"
                    # PyAV's stubs leave to_image untyped; it returns a PIL image.
                    frame.to_image().save(path)  # type: ignore[no-untyped-call]
                    paths.append(path)
                    if len(paths) == len(wanted):
                        break
            while (
                len(paths) < len(wanted) and last is not None
            ):  # fewer frames than the header said
                path = directory / f"{stem}_{len(paths)}.png"
                last.to_image().save(path)  # type: ignore[no-untyped-call]
                paths.append(path)
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise SegmentError(f"cannot read stills from {source.name}: {exc}") from exc
    if not paths:
        raise SegmentError(f"{source.name} has no frames")
    return tuple(paths)
