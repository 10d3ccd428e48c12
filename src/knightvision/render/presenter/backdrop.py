"""The setting behind the presenter, picked by the prompt's words."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..colour import RGB, hsv
from .figure import Figure
from .look import PresenterLook


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    w, h = size
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    rows = np.array(top, dtype=np.float32) * (1 - t) + np.array(bottom, dtype=np.float32) * t
    return Image.fromarray(np.repeat(rows, w, axis=1).astype(np.uint8), "RGB")


def _office(w: int, h: int, look: PresenterLook, rng: np.random.Generator) -> Image.Image:
    """A window, a bookshelf and a plant."""
    hue = look.hue
    image = _gradient((w, h), hsv(hue, 0.10, 0.90), hsv(hue, 0.12, 0.74))
    d = ImageDraw.Draw(image)
    wx0, wy0, wx1, wy1 = 0.05 * w, 0.1 * h, 0.42 * w, 0.62 * h
    d.rectangle((wx0, wy0, wx1, wy1), fill=(245, 245, 245))
    for i in range(2):
        for j in range(3):
            px0 = wx0 + 0.02 * w + i * (wx1 - wx0 - 0.02 * w) / 2
            py0 = wy0 + 0.015 * h + j * (wy1 - wy0 - 0.015 * h) / 3
            d.rectangle(
                (px0, py0, px0 + (wx1 - wx0) / 2 - 0.03 * w, py0 + (wy1 - wy0) / 3 - 0.02 * h),
                fill=(166, 206, 236),
            )
    sx0 = 0.66 * w
    d.rectangle((sx0, 0.18 * h, 0.97 * w, 0.72 * h), fill=(112, 78, 50))
    for shelf in range(3):
        y1 = 0.18 * h + (shelf + 1) * 0.18 * h
        x = sx0 + 0.015 * w
        while x < 0.95 * w:
            bw = (0.012 + rng.random() * 0.02) * w
            d.rectangle(
                (x, y1 - (0.09 + rng.random() * 0.06) * h, x + bw, y1 - 0.01 * h),
                fill=hsv(rng.random(), 0.5, 0.75),
            )
            x += bw + 0.004 * w
        d.rectangle((sx0, y1 - 0.01 * h, 0.97 * w, y1), fill=(80, 54, 34))
    d.rectangle((0, 0.78 * h, w, h), fill=hsv(hue, 0.15, 0.55))
    d.ellipse((0.08 * w, 0.6 * h, 0.22 * w, 0.74 * h), fill=(60, 130, 70))
    d.rectangle((0.12 * w, 0.7 * h, 0.18 * w, 0.8 * h), fill=(150, 90, 60))
    return image


def _city(w: int, h: int, look: PresenterLook, rng: np.random.Generator) -> Image.Image:
    """A skyline at dusk with lit windows."""
    image = _gradient((w, h), (28, 36, 84), (236, 140, 90))
    d = ImageDraw.Draw(image)
    x = 0.0
    while x < w:
        bw = (0.06 + rng.random() * 0.1) * w
        top = (0.25 + rng.random() * 0.35) * h
        grey = 30 + int(rng.random() * 30)
        d.rectangle((x, top, x + bw, h), fill=(grey, grey + 6, grey + 24))
        for wy in np.arange(top + 0.02 * h, h, 0.035 * h):
            for wx in np.arange(x + 0.01 * w, x + bw - 0.015 * w, 0.025 * w):
                if rng.random() < 0.45:
                    d.rectangle((wx, wy, wx + 0.01 * w, wy + 0.012 * h), fill=(250, 214, 120))
        x += bw + 0.005 * w
    return image


def _beach(w: int, h: int, look: PresenterLook, rng: np.random.Generator) -> Image.Image:
    """Sun, sea with a few waves, and sand."""
    image = _gradient((w, h), (110, 180, 240), (200, 230, 250))
    d = ImageDraw.Draw(image)
    d.ellipse((0.7 * w, 0.08 * h, 0.86 * w, 0.08 * h + 0.16 * w), fill=(255, 236, 160))
    d.rectangle((0, 0.55 * h, w, 0.72 * h), fill=(40, 120, 180))
    for k in range(5):
        y = 0.58 * h + k * 0.028 * h
        d.line(
            (0.05 * w + k * 0.1 * w, y, 0.3 * w + k * 0.1 * w, y),
            fill=(200, 230, 245),
            width=max(1, h // 300),
        )
    d.rectangle((0, 0.72 * h, w, h), fill=(236, 210, 160))
    return image


def _nature(w: int, h: int, look: PresenterLook, rng: np.random.Generator) -> Image.Image:
    """Three rows of trees in front of a sky, and grass."""
    image = _gradient((w, h), (170, 214, 240), (120, 170, 110))
    d = ImageDraw.Draw(image)
    for layer_index, brightness in enumerate((0.45, 0.6, 0.75)):
        for _ in range(7):
            x = rng.random() * w
            y = (0.3 + 0.15 * layer_index + rng.random() * 0.15) * h
            radius = (0.1 + rng.random() * 0.08) * w
            d.rectangle((x - 0.015 * w, y, x + 0.015 * w, h), fill=(90, 64, 40))
            d.ellipse(
                (x - radius, y - radius, x + radius, y + radius),
                fill=hsv(0.3 + rng.random() * 0.06, 0.6, brightness),
            )
    d.rectangle((0, 0.85 * h, w, h), fill=(80, 140, 70))
    return image


def _kitchen(w: int, h: int, look: PresenterLook, rng: np.random.Generator) -> Image.Image:
    """Shelves of jars under two hanging lamps."""
    image = _gradient((w, h), (238, 214, 180), (200, 160, 120))
    d = ImageDraw.Draw(image)
    for shelf_y in (0.3, 0.5):
        d.rectangle((0.05 * w, shelf_y * h, 0.95 * w, shelf_y * h + 0.012 * h), fill=(120, 80, 50))
        x = 0.07 * w
        while x < 0.92 * w:
            jw = (0.03 + rng.random() * 0.03) * w
            jh = (0.06 + rng.random() * 0.06) * h
            d.rounded_rectangle(
                (x, shelf_y * h - jh, x + jw, shelf_y * h),
                radius=jw / 4,
                fill=hsv(rng.random(), 0.35, 0.85),
            )
            x += jw + 0.02 * w
    for lamp_x in (0.2, 0.8):
        d.line((lamp_x * w, 0, lamp_x * w, 0.1 * h), fill=(60, 50, 40), width=max(1, w // 200))
        d.ellipse(
            (lamp_x * w - 0.05 * w, 0.09 * h, lamp_x * w + 0.05 * w, 0.09 * h + 0.1 * w),
            fill=(255, 228, 160),
        )
    d.rectangle((0, 0.8 * h, w, h), fill=(150, 110, 80))
    return image


def _space(w: int, h: int, look: PresenterLook, rng: np.random.Generator) -> Image.Image:
    """Stars and a planet."""
    hue = look.hue
    image = _gradient((w, h), (6, 8, 24), (24, 16, 48))
    d = ImageDraw.Draw(image)
    for _ in range(int(0.0015 * w * h)):
        x, y = rng.random() * w, rng.random() * h
        s = 0.5 + rng.random() * 1.2
        d.ellipse((x - s, y - s, x + s, y + s), fill=(240, 240, 255))
    d.ellipse((0.7 * w, 0.1 * h, 0.7 * w + 0.22 * w, 0.1 * h + 0.22 * w), fill=hsv(hue, 0.5, 0.8))
    return image


def _home(w: int, h: int, look: PresenterLook, rng: np.random.Generator) -> Image.Image:
    """A framed picture, a floor lamp and the back of a sofa."""
    hue = look.hue
    image = _gradient((w, h), hsv(hue, 0.18, 0.92), hsv(hue, 0.22, 0.78))
    d = ImageDraw.Draw(image)
    d.rectangle(
        (0.1 * w, 0.15 * h, 0.34 * w, 0.38 * h),
        fill=(250, 250, 246),
        outline=(110, 80, 60),
        width=max(2, w // 120),
    )
    d.polygon(
        [(0.13 * w, 0.35 * h), (0.22 * w, 0.22 * h), (0.31 * w, 0.35 * h)],
        fill=hsv(hue + 0.5, 0.4, 0.7),
    )
    d.rectangle((0.8 * w, 0.35 * h, 0.83 * w, 0.72 * h), fill=(90, 80, 70))
    d.polygon(
        [
            (0.74 * w, 0.35 * h),
            (0.89 * w, 0.35 * h),
            (0.86 * w, 0.25 * h),
            (0.77 * w, 0.25 * h),
        ],
        fill=(250, 230, 180),
    )
    d.rounded_rectangle(
        (0.02 * w, 0.7 * h, 0.98 * w, 1.05 * h),
        radius=0.05 * w,
        fill=hsv(hue + 0.45, 0.35, 0.55),
    )
    return image


def _classroom(w: int, h: int, look: PresenterLook, rng: np.random.Generator) -> Image.Image:
    """A chalkboard with a few lines written on it."""
    image = _gradient((w, h), (236, 230, 214), (214, 204, 186))
    d = ImageDraw.Draw(image)
    d.rectangle(
        (0.06 * w, 0.12 * h, 0.94 * w, 0.58 * h),
        fill=(46, 84, 62),
        outline=(140, 100, 60),
        width=max(2, w // 90),
    )
    for k in range(6):
        y = 0.18 * h + k * 0.06 * h
        x0 = 0.1 * w + rng.random() * 0.1 * w
        d.line(
            (x0, y, x0 + (0.2 + rng.random() * 0.5) * w, y + rng.random() * 0.01 * h),
            fill=(220, 230, 220),
            width=max(1, w // 300),
        )
    return image


def _gym(w: int, h: int, look: PresenterLook, rng: np.random.Generator) -> Image.Image:
    """Bright windows, a coloured stripe and a dark floor."""
    hue = look.hue
    image = _gradient((w, h), (60, 64, 72), (34, 36, 42))
    d = ImageDraw.Draw(image)
    for k in range(5):
        d.rectangle((k * 0.22 * w, 0.1 * h, k * 0.22 * w + 0.12 * w, 0.5 * h), fill=(200, 210, 220))
    d.rectangle((0, 0.62 * h, w, 0.66 * h), fill=hsv(hue, 0.7, 0.8))
    d.rectangle((0, 0.8 * h, w, h), fill=(50, 44, 40))
    return image


def _studio(w: int, h: int, look: PresenterLook, rng: np.random.Generator) -> Image.Image:
    """A dark studio with a soft glow behind the presenter."""
    hue = look.hue
    image = _gradient((w, h), hsv(hue, 0.5, 0.22), hsv(hue, 0.6, 0.08))
    glow = Image.new("L", (w, h), 0)
    ImageDraw.Draw(glow).ellipse((0.15 * w, 0.05 * h, 0.85 * w, 0.75 * h), fill=150)
    glow = glow.filter(ImageFilter.GaussianBlur(radius=0.12 * min(w, h)))
    image = Image.composite(Image.new("RGB", (w, h), hsv(hue, 0.35, 0.75)), image, glow)
    return image


def _plain(w: int, h: int, look: PresenterLook, rng: np.random.Generator) -> Image.Image:
    """A gradient with a few soft blobs of colour: no setting named."""
    hue = look.hue
    seed = look.seed
    image = _gradient((w, h), hsv(hue, 0.45, 0.85), hsv(hue + 0.08, 0.65, 0.45))
    d = ImageDraw.Draw(image)
    for i in range(4):
        x, y = seed[9 + i] / 255 * w, seed[13 + i] / 255 * h
        radius = (0.2 + seed[17 + i] / 255 * 0.25) * min(w, h)
        d.ellipse(
            (x - radius, y - radius, x + radius, y + radius),
            fill=hsv(hue + 0.04 * i, 0.35, 0.92 if i % 2 == 0 else 0.55),
        )
    return image


# Each setting paints a w x h canvas; rng is seeded by the look, so the same prompt, the same room.
Setting = Callable[[int, int, PresenterLook, np.random.Generator], Image.Image]
_SETTINGS: dict[str, Setting] = {
    "office": _office,
    "city": _city,
    "beach": _beach,
    "nature": _nature,
    "kitchen": _kitchen,
    "space": _space,
    "home": _home,
    "classroom": _classroom,
    "gym": _gym,
    "studio": _studio,
}


def draw_backdrop(look: PresenterLook, width: int, height: int) -> Image.Image:
    """The setting behind the presenter, drawn at half size, blurred like a shallow focus."""
    w, h = max(2, width // 2), max(2, height // 2)
    rng = np.random.default_rng(int.from_bytes(look.seed[:8], "big"))
    image = _SETTINGS.get(look.backdrop, _plain)(w, h, look, rng)
    image = image.filter(ImageFilter.GaussianBlur(radius=max(1.0, 0.012 * min(w, h))))
    image = image.resize((width, height), Image.Resampling.BILINEAR)
    # A soft vignette and a shadow behind the figure, so the presenter stands out.
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    fig = Figure(width, height)
    d2 = ((xs - fig.cx) / (0.75 * width)) ** 2 + ((ys - fig.head_cy) / (0.9 * height)) ** 2
    light = 1.0 - 0.35 * np.clip(d2, 0.0, 1.0)
    halo = np.exp(
        -(((xs - fig.cx) / (2.6 * fig.r)) ** 2 + ((ys - fig.shoulders_y) / (2.4 * fig.r)) ** 2)
    )
    light *= 1.0 - 0.18 * halo
    pixels = np.asarray(image, dtype=np.float32) * light[:, :, None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
