"""Benchmark: the local-storyboard renderer vs. a moviepy composition of the same video.

Run: python bench/render_bench.py   (needs moviepy 2.2.1 installed with --no-deps,
see bench/README.md). Renders one 10 s 720x1280 storyboard with voice, music bed and captions

  1. with knightvision.render.render_storyboard, in a cold process state
     (piper voice loading included, interpreter start excluded), then warm;
  2. with moviepy 2.2.1 the way popular open-source short-video generators
     compose it: one ImageClip per scene from the same Pillow-drawn scene
     images and captions, a per-frame zoom via `resized(lambda t: ...)` in a
     CompositeVideoClip, concatenate_videoclips, the same soundtrack (piper
     voice over the music bed) as an AudioFileClip, write_videofile(libx264/aac)
     with the same x264 preset/CRF.

Prints wall times, our ratio to the video duration (target <= 0.5) and the
speed-up vs moviepy (target >= 5x); then renders a 60 s 1080x1920 storyboard (warm) and prints
its ratio to real time. Each of our renders is also measured the way our ad analysis hears it
(loudness, true peak, silence ratio) with the voice's pace. Prints numbers only; asserts nothing.
"""

from __future__ import annotations

import math
import os
import resource
import statistics
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import av
import numpy as np
from scipy.signal import resample_poly

from knightvision.analysis.metrics.audio import audio_levels, decode_audio
from knightvision.render import (
    RenderReport,
    RenderSpec,
    load_voice,
    plan_scenes,
    render_storyboard,
)
from knightvision.render.captions import render_caption
from knightvision.render.frames import ZOOM, draw_background, scene_palettes
from knightvision.render.mix import mix_soundtrack
from knightvision.render.music import choose_style
from knightvision.render.speech import synthesize_track

PROMPT = (
    "Meet the new Aurora running shoe. Built for city miles and weekend trails. "
    "Feather-light foam keeps every step springy. Grab yours today and run further!"
)
SPEC = RenderSpec(prompt=PROMPT, duration=10, width=720, height=1280)
WARM_RUNS = 2
# About 150 words: a full minute of narration at an ad's pace.
LONG_PROMPT = " ".join(
    [
        PROMPT,
        "Every pair is tested on real streets before it reaches you.",
        "The outsole grips wet pavement and dusty paths alike.",
        "A breathable knit upper hugs your foot without ever pinching.",
        "Reflective details keep you seen after dark.",
        "The heel is shaped to lock you in on every turn.",
        "Recycled materials make up half of every shoe.",
        "Choose from six colours, from midnight blue to sunrise orange.",
        "Runners who tried them logged longer weeks with fewer aches.",
        "Free returns for thirty days, so there is nothing to lose.",
        "Order before noon and they ship the same day.",
        "Join the club and get early access to every new release.",
        "Aurora. Run further.",
    ]
)
LONG_SPEC = RenderSpec(prompt=LONG_PROMPT, duration=60, width=1080, height=1920)


def describe(path: Path) -> str:
    """Size, codecs and durations of an output file, for a sanity line."""
    with av.open(str(path)) as c:
        streams = ", ".join(
            f"{s.codec_context.name} {float(s.duration * s.time_base):.3f}s" for s in c.streams
        )
        v = c.streams.video[0].codec_context
        return f"{v.width}x{v.height} {streams}, {path.stat().st_size / 1024:.0f} KiB"


def cpu_seconds() -> float:
    """User+system CPU of this process and its finished children (ffmpeg for moviepy).

    Unlike wall time this barely moves when other work shares the machine.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def how_it_sounds(report: RenderReport) -> str:
    """The render's sound as our ad analysis measures it, and the voice's pace."""
    samples, rate = decode_audio(report.path)
    levels = audio_levels(samples, rate)
    true_peak = 20 * math.log10(float(np.abs(resample_poly(samples, 4, 1, axis=0)).max()))
    wpm = report.words_per_minute
    return (
        f"{levels['loudness_lufs']} LUFS, true peak {true_peak:.2f} dBTP, silence ratio "
        f"{levels['silence_ratio']}, {wpm:.0f} wpm, speech ends at "
        f"{report.speech_spans[-1].end if report.speech_spans else 0:.1f} s, "
        f"music: {report.style}"
        if wpm is not None
        else f"{levels['loudness_lufs']} LUFS, true peak {true_peak:.2f} dBTP"
    )


def run_ours(out_dir: Path) -> tuple[float, float, list[float], dict[str, float]]:
    """Cold render (voice loading included), then warm renders with the cached voice."""
    cpu = cpu_seconds()
    started = time.perf_counter()
    report = render_storyboard(SPEC, out_dir / "ours.mp4")
    cold = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    print(f"         sound: {how_it_sounds(report)}")
    warm = []
    for i in range(WARM_RUNS):
        started = time.perf_counter()
        render_storyboard(SPEC, out_dir / f"ours-warm{i}.mp4")
        warm.append(time.perf_counter() - started)
    return cold, cpu, warm, report.seconds_spent


def scene_images(width: int, height: int) -> list[tuple[np.ndarray, float]]:
    """Full-resolution Pillow scene images (background + caption), one per scene."""
    scenes = plan_scenes(SPEC.prompt, SPEC.duration, SPEC.fps)
    images = []
    for scene, palette in zip(scenes, scene_palettes(scenes), strict=True):
        image = draw_background(palette, (width, height)).convert("RGBA")
        caption = render_caption(scene.text, width, height)
        if caption is not None:
            image.alpha_composite(caption[0], caption[1])
        images.append((np.asarray(image.convert("RGB")), scene.duration))
    return images


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())


def zoom_over(seconds: float) -> Callable[[float], float]:
    """moviepy resize factor as a function of clip time: the same Ken Burns zoom."""
    return lambda t: 1.0 + ZOOM * t / seconds


def run_moviepy(out_dir: Path) -> tuple[float, float, float]:
    """The common moviepy pipeline; returns (total, write_videofile only, CPU) seconds."""
    from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, concatenate_videoclips

    width, height = SPEC.width, SPEC.height
    cpu = cpu_seconds()
    started = time.perf_counter()
    scenes = plan_scenes(SPEC.prompt, SPEC.duration, SPEC.fps)
    track = synthesize_track(load_voice(), scenes, SPEC.duration)
    sound = mix_soundtrack(
        track.samples, track.sample_rate, SPEC.prompt, choose_style(SPEC.prompt), SPEC.duration
    )
    wav = out_dir / "sound.wav"
    write_wav(wav, sound.samples, sound.sample_rate)
    clips = []
    for array, seconds in scene_images(width, height):
        moving = (
            ImageClip(array, duration=seconds)
            .resized(zoom_over(seconds))
            .with_position(("center", "center"))
        )
        clips.append(CompositeVideoClip([moving], size=(width, height)).with_duration(seconds))
    video = concatenate_videoclips(clips).with_audio(AudioFileClip(str(wav)))
    write_started = time.perf_counter()
    video.write_videofile(
        str(out_dir / "moviepy.mp4"),
        fps=SPEC.fps,
        codec="libx264",
        audio_codec="aac",
        preset="veryfast",
        ffmpeg_params=["-crf", "23", "-pix_fmt", "yuv420p"],
        threads=os.cpu_count(),
        logger=None,
    )
    done = time.perf_counter()
    return done - started, done - write_started, cpu_seconds() - cpu


def run_long(out_dir: Path) -> None:
    """The 60 s 1080x1920 case, warm (the voice is loaded by then): its ratio to real time."""
    started = time.perf_counter()
    report = render_storyboard(LONG_SPEC, out_dir / "long.mp4")
    wall = time.perf_counter() - started
    print(
        f"ours     60 s 1080x1920, warm:      {wall:6.2f} s"
        f"  = {wall / LONG_SPEC.duration:.2f}x duration; phases: "
        + ", ".join(f"{k} {v:.2f}s" for k, v in report.seconds_spent.items())
    )
    print(f"         sound: {how_it_sounds(report)}")
    print(f"         -> {describe(report.path)}")


def main() -> None:
    duration = SPEC.duration
    print(
        f"cores: {os.cpu_count()}, video: {duration}s {SPEC.width}x{SPEC.height}"
        f" @ {SPEC.fps} fps, voice-over"
    )
    print(f"load average before: {os.getloadavg()[0]:.2f} (wall times are only meaningful near 0)")
    with tempfile.TemporaryDirectory(prefix="kv-render-bench-") as tmp:
        out = Path(tmp)
        cold, cold_cpu, warm, phases = run_ours(out)
        warm_median = statistics.median(warm)
        print(
            f"ours     cold, voice load incl.:    {cold:6.2f} s"
            f"  = {cold / duration:.2f}x duration (target <= 0.50)"
        )
        print(
            f"         CPU {cold_cpu:.2f} s; phases: "
            + ", ".join(f"{k} {v:.2f}s" for k, v in phases.items())
        )
        print(
            f"ours     warm, median of {len(warm)}: {warm_median:6.2f} s"
            f"  = {warm_median / duration:.2f}x duration"
        )
        print(f"         -> {describe(out / 'ours.mp4')}")
        try:
            total, write, mp_cpu = run_moviepy(out)
        except ImportError:
            print("moviepy  not installed: see bench/README.md")
            run_long(out)
            return
        print(
            f"moviepy  draw+speech+write: {total:6.2f} s"
            f"  = {total / duration:.2f}x duration, CPU {mp_cpu:.2f} s"
        )
        print(f"moviepy  write_videofile alone:     {write:6.2f} s")
        print(f"         -> {describe(out / 'moviepy.mp4')}")
        print(
            f"speed-up vs moviepy (target >= 5x): {total / cold:.1f}x wall, "
            f"{write / cold:.1f}x vs its write step alone, {mp_cpu / cold_cpu:.1f}x CPU"
        )
        run_long(out)


if __name__ == "__main__":
    main()
