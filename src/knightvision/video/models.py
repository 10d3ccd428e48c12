"""The model registry (D15): public model names, their shapes, prices and the adapter serving
each."""

from __future__ import annotations

from dataclasses import dataclass

from knightvision.adapter_names import AdapterName
from knightvision.media.shapes import RESOLUTIONS


@dataclass(frozen=True)
class VideoModel:
    name: str
    family: str  # the job id prefix (D9)
    adapter: AdapterName  # which provider adapter renders it
    durations: tuple[int, ...]
    default_duration: int
    resolutions: tuple[str, ...]
    # Price rule: a fixed price name per duration, or a per-second price name per resolution.
    fixed_price_names: dict[int, str] | None = None
    per_second_price_names: dict[str, str] | None = None
    upstream_model: str | None = None

    def price(self, duration: int, resolution: str, prices: dict[str, int]) -> int:
        if self.fixed_price_names is not None:
            return prices[self.fixed_price_names[duration]]
        assert self.per_second_price_names is not None
        return prices[self.per_second_price_names[resolution]] * duration


def _kling(name: str) -> VideoModel:
    return VideoModel(
        name=name,
        family="kling",
        adapter=AdapterName.EVOLINK,
        durations=tuple(range(3, 16)),
        default_duration=10,
        resolutions=RESOLUTIONS,
        upstream_model=name,
        per_second_price_names={
            "720p": "video_kling_per_second_720p",
            "1080p": "video_kling_per_second_1080p",
        },
    )


LOCAL_STORYBOARD_MODEL = "local-storyboard"  # the public model on our offline renderer

DEFAULT_MODELS: tuple[VideoModel, ...] = (
    VideoModel(
        name="sora-2",
        family="sora",
        adapter=AdapterName.EVOLINK,
        durations=(10, 15),
        default_duration=10,
        resolutions=("720p",),
        upstream_model="sora-2",
        fixed_price_names={10: "video_sora2_10s", 15: "video_sora2_15s"},
    ),
    VideoModel(
        name="sora-2-pro",
        family="sora",
        adapter=AdapterName.EVOLINK,
        durations=(15, 25),
        default_duration=15,
        resolutions=("720p",),
        upstream_model="sora-2-pro",
        fixed_price_names={15: "video_sora2pro_15s", 25: "video_sora2pro_25s"},
    ),
    _kling("kling-v3-text-to-video"),
    _kling("kling-o3-text-to-video"),
    VideoModel(
        name=LOCAL_STORYBOARD_MODEL,
        family="local",
        adapter=AdapterName.LOCAL_STORYBOARD,
        durations=tuple(range(1, 61)),
        default_duration=10,
        resolutions=RESOLUTIONS,
        per_second_price_names={
            "720p": "video_local_storyboard_per_second",
            "1080p": "video_local_storyboard_per_second",
        },
    ),
)

DEFAULT_MODEL_NAME = "sora-2"


class ModelRegistry:
    def __init__(self, models: tuple[VideoModel, ...] = DEFAULT_MODELS) -> None:
        self._models = {model.name: model for model in models}

    def get(self, name: str) -> VideoModel | None:
        return self._models.get(name)

    def names(self) -> list[str]:
        return list(self._models)

    def models(self) -> tuple[VideoModel, ...]:
        return tuple(self._models.values())
