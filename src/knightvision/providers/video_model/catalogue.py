"""Every upstream model our adapters can call, and what each renders natively (D15).

Pure data, cheap to import: the model and character upstreams are checked against it when the
server is built, refusing an upstream model its adapter does not know. Sources: each upstream's
public documentation, summarised with its open points in ``docs/upstreams.md``; the conservative
reading wins where they disagree.
"""

from __future__ import annotations

from knightvision.adapter_names import AdapterName
from knightvision.providers.video_model.capabilities import UpstreamCapabilities

WIDE_TALL = ("16:9", "9:16")
ALL_ASPECTS = ("16:9", "9:16", "1:1")
KLING_SECONDS = tuple(range(3, 16))

# EvoLink (api.evolink.ai): the contract's own model ids, one create endpoint, task polling.
EVOLINK: dict[str, UpstreamCapabilities] = {
    # Live page says prompt "Maximum length: 1000"; an older copy said 5000 tokens. Take 1000.
    "sora-2": UpstreamCapabilities(
        durations=(10, 15), aspect_ratios=WIDE_TALL, resolutions=("720p",), max_prompt_chars=1000
    ),
    # quality is forced by duration (15 s -> high, 25 s -> standard); prompt limit 5000 tokens.
    "sora-2-pro": UpstreamCapabilities(
        durations=(15, 25), aspect_ratios=WIDE_TALL, resolutions=("720p",), max_prompt_chars=5000
    ),
    # The official relay that outlived the beta ids in EvoLink's newest docs: 4/8/12 s only.
    "sora-2-preview": UpstreamCapabilities(
        durations=(4, 8, 12), aspect_ratios=WIDE_TALL, resolutions=("720p",), max_prompt_chars=1000
    ),
    "kling-v3-text-to-video": UpstreamCapabilities(
        durations=KLING_SECONDS,
        aspect_ratios=ALL_ASPECTS,
        resolutions=("720p", "1080p"),
        max_prompt_chars=2500,
    ),
    "kling-o3-text-to-video": UpstreamCapabilities(
        durations=KLING_SECONDS,
        aspect_ratios=ALL_ASPECTS,
        resolutions=("720p", "1080p"),
        max_prompt_chars=2500,
    ),
}

# kie.ai (api.kie.ai): Market tasks (jobs/createTask + jobs/recordInfo).
_KIE_KLING = UpstreamCapabilities(
    durations=KLING_SECONDS,
    aspect_ratios=ALL_ASPECTS,
    resolutions=("720p", "1080p"),
    max_prompt_chars=2500,
)
KIE: dict[str, UpstreamCapabilities] = {
    "sora-2-text-to-video": UpstreamCapabilities(
        durations=(10, 15), aspect_ratios=WIDE_TALL, resolutions=("720p",), max_prompt_chars=10000
    ),
    # 10/15 s on the text-to-video model (size standard=720p, high=1080p); 25 s only exists as
    # sora-2-pro-storyboard, which the adapter switches to for that duration (one 25 s shot).
    "sora-2-pro-text-to-video": UpstreamCapabilities(
        durations=(10, 15, 25),
        aspect_ratios=WIDE_TALL,
        resolutions=("720p",),
        max_prompt_chars=10000,
        characters=True,
    ),
    "sora-2-pro-storyboard": UpstreamCapabilities(
        durations=(10, 15, 25),
        aspect_ratios=WIDE_TALL,
        resolutions=("720p",),
        max_prompt_chars=10000,
    ),
    # kie's OpenAPI enum says kling-3.0/video; its English page shows kling-3.0. Both accepted.
    "kling-3.0/video": _KIE_KLING,
    "kling-3.0": _KIE_KLING,
    "kling/v3-turbo-text-to-video": _KIE_KLING,
}

# OpenAI Videos API (direct Sora), as its OpenAPI spec and SDK enums define ``POST /videos``:
# ``seconds`` "4"/"8"/"12"; sizes 720x1280/1280x720 (plus 1024x1792/1792x1024 for sora-2-pro, not
# one of our frames). OpenAI's newer guide adds 16/20 s and 1080p sizes, but the spec does not, and
# a create the upstream refuses fails after the partner was charged: only the spec's values count.
_OPENAI_SECONDS = (4, 8, 12)
# Characters: ``characters: [{"id"}]`` (at most 2), per OpenAI's first-party Sora guide.
_OPENAI_SORA = UpstreamCapabilities(
    durations=_OPENAI_SECONDS,
    aspect_ratios=WIDE_TALL,
    resolutions=("720p",),
    max_prompt_chars=32000,
    characters=True,
)
_OPENAI_SORA_PRO = _OPENAI_SORA
OPENAI: dict[str, UpstreamCapabilities] = {
    "sora-2": _OPENAI_SORA,
    "sora-2-2025-10-06": _OPENAI_SORA,
    "sora-2-2025-12-08": _OPENAI_SORA,
    "sora-2-pro": _OPENAI_SORA_PRO,
    "sora-2-pro-2025-10-06": _OPENAI_SORA_PRO,
}

# Kling's own API (text2video). v3: "3".."15" s; older models "5"/"10"; mode std=720p, pro=1080p.
_KLING_OLD = UpstreamCapabilities(
    durations=(5, 10),
    aspect_ratios=ALL_ASPECTS,
    resolutions=("720p", "1080p"),
    max_prompt_chars=2500,
)
_KLING_MASTER = UpstreamCapabilities(
    durations=(5, 10), aspect_ratios=ALL_ASPECTS, resolutions=("1080p",), max_prompt_chars=2500
)
KLING: dict[str, UpstreamCapabilities] = {
    "kling-v3": UpstreamCapabilities(
        durations=KLING_SECONDS,
        aspect_ratios=ALL_ASPECTS,
        resolutions=("720p", "1080p"),
        max_prompt_chars=2500,
    ),
    "kling-v2-6": _KLING_OLD,
    "kling-v2-5-turbo": _KLING_OLD,
    "kling-v1-6": _KLING_OLD,
    "kling-v2-1-master": _KLING_MASTER,
    "kling-v2-master": _KLING_MASTER,
}

# Our offline renderer renders every contract shape natively, and composites characters' reference
# stills. Its one "upstream model" carries the adapter's name.
LOCAL_STORYBOARD: dict[str, UpstreamCapabilities] = {
    AdapterName.LOCAL_STORYBOARD.value: UpstreamCapabilities(
        durations=tuple(range(1, 61)),
        aspect_ratios=ALL_ASPECTS,
        resolutions=("720p", "1080p"),
        max_prompt_chars=2000,
        characters=True,
    ),
}

CATALOGUES: dict[str, dict[str, UpstreamCapabilities]] = {
    AdapterName.EVOLINK: EVOLINK,
    AdapterName.KIE: KIE,
    AdapterName.OPENAI: OPENAI,
    AdapterName.KLING: KLING,
    AdapterName.LOCAL_STORYBOARD: LOCAL_STORYBOARD,
}

# The upstream model a public model calls when its upstream setting names only the adapter.
DEFAULT_UPSTREAM: dict[str, dict[str, str]] = {
    AdapterName.EVOLINK: {
        "sora-2": "sora-2",
        "sora-2-pro": "sora-2-pro",
        "kling-v3-text-to-video": "kling-v3-text-to-video",
        "kling-o3-text-to-video": "kling-o3-text-to-video",
    },
    AdapterName.KIE: {
        "sora-2": "sora-2-text-to-video",
        "sora-2-pro": "sora-2-pro-text-to-video",
        "kling-v3-text-to-video": "kling-3.0/video",
        # kie has no Kling O3: an operator who accepts Kling 3.0 in its place names it explicitly.
    },
    AdapterName.OPENAI: {"sora-2": "sora-2", "sora-2-pro": "sora-2-pro"},
    AdapterName.KLING: {
        "kling-v3-text-to-video": "kling-v3",
        # kling-o3 ("kling-v3-omni" on the omni endpoint) is unverified for video: name one
        # explicitly.
    },
    AdapterName.LOCAL_STORYBOARD: {
        AdapterName.LOCAL_STORYBOARD.value: AdapterName.LOCAL_STORYBOARD.value
    },
}


def capabilities_for(adapter: str, upstream_model: str | None) -> UpstreamCapabilities | None:
    """What an adapter's upstream model renders natively; None for an unknown pair."""
    return CATALOGUES.get(adapter, {}).get(upstream_model or "")
