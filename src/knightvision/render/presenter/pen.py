"""Drawing the presenter's layers supersampled, in output-pixel coordinates."""

from __future__ import annotations

from PIL import Image, ImageDraw

from ..colour import RGB

SUPERSAMPLE = 2  # layers are drawn at twice the size and scaled down: smooth edges


class Pen:
    """Draws on a supersampled RGBA layer in output-pixel coordinates relative to an origin."""

    def __init__(self, size: tuple[int, int], origin: tuple[float, float]) -> None:
        self.size = size
        self.origin = origin
        self.image = Image.new("RGBA", (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.image)

    def _xy(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        ox, oy = self.origin
        return [((x - ox) * SUPERSAMPLE, (y - oy) * SUPERSAMPLE) for x, y in points]

    def box(self, x0: float, y0: float, x1: float, y1: float) -> list[float]:
        (a, b), (c, d) = self._xy([(x0, y0), (x1, y1)])
        return [a, b, c, d]

    def ellipse(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        fill: RGB,
        outline: RGB | None = None,
        width: float = 0,
    ) -> None:
        self.draw.ellipse(
            self.box(x0, y0, x1, y1),
            fill=fill,
            outline=outline,
            width=max(0, round(width * SUPERSAMPLE)),
        )

    def polygon(self, points: list[tuple[float, float]], fill: RGB) -> None:
        self.draw.polygon(self._xy(points), fill=fill)

    def rounded(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        radius: float,
        fill: RGB | None,
        outline: RGB | None = None,
        width: float = 0,
    ) -> None:
        self.draw.rounded_rectangle(
            self.box(x0, y0, x1, y1),
            radius=radius * SUPERSAMPLE,
            fill=fill,
            outline=outline,
            width=max(0, round(width * SUPERSAMPLE)),
        )

    def line(self, points: list[tuple[float, float]], fill: RGB, width: float) -> None:
        self.draw.line(
            self._xy(points), fill=fill, width=max(1, round(width * SUPERSAMPLE)), joint="curve"
        )

    def arc(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        start: float,
        end: float,
        fill: RGB,
        width: float,
    ) -> None:
        self.draw.arc(
            self.box(x0, y0, x1, y1),
            start,
            end,
            fill=fill,
            width=max(1, round(width * SUPERSAMPLE)),
        )

    def chord(
        self, x0: float, y0: float, x1: float, y1: float, start: float, end: float, fill: RGB
    ) -> None:
        self.draw.chord(self.box(x0, y0, x1, y1), start, end, fill=fill)

    def done(self) -> Image.Image:
        return self.image.resize(self.size, Image.Resampling.LANCZOS)
