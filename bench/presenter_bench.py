"""Benchmark: what live presenters (D16) cost a storyboard render, in CPU seconds.

Run: python bench/presenter_bench.py. Renders the same 10 s 720x1280 voiced storyboard without
characters, with one presenter and with two, and with one upstream-style reference still (the
push-in inset), warm (voice loaded once), and prints CPU seconds (user+system, all threads) and
each one's ratio to the render without characters, and the same for wall time (presenters
wait for the voice before their first frame, to open their mouths with it).
Prints numbers only; asserts nothing.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from PIL import Image

from knightvision.render import RenderSpec, load_voice, render_storyboard

PROMPT = (
    "Meet the new Aurora running shoe. Built for city miles and weekend trails. "
    "Feather-light foam keeps every step springy. Grab yours today and run further!"
)
HOST = "A cheerful host in a bright yellow sweater on the beach"
CHEF = "a bald man with a grey beard in a navy suit in a kitchen"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    voice = load_voice()
    with tempfile.TemporaryDirectory() as scratch:
        still = Path(scratch) / "still.png"
        Image.new("RGB", (480, 640), (180, 120, 90)).save(still)
        cases = {
            "no characters": {},
            "one presenter": {"presenters": (HOST,)},
            "two presenters": {"presenters": (HOST, CHEF)},
            "one reference still": {"reference_images": (still,)},
        }
        render_storyboard(  # warm-up: imports, fonts, caches
            RenderSpec(prompt=PROMPT, duration=2, width=720, height=1280),
            Path(scratch) / "warm.mp4",
            voice=voice,
        )
        spent: dict[str, float] = {}
        wall: dict[str, float] = {}
        for name, extra in cases.items():
            spec = RenderSpec(prompt=PROMPT, duration=10, width=720, height=1280, **extra)
            before, started = cpu_seconds(), time.perf_counter()
            render_storyboard(spec, Path(scratch) / "out.mp4", voice=voice)
            spent[name] = cpu_seconds() - before
            wall[name] = time.perf_counter() - started
        base, base_wall = spent["no characters"], wall["no characters"]
        for name, seconds in spent.items():
            print(
                f"{name:22s} {seconds:6.2f} CPU s x{seconds / base:.2f}   "
                f"{wall[name]:6.2f} wall s x{wall[name] / base_wall:.2f}"
            )


if __name__ == "__main__":
    main()
