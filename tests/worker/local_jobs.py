"""Paid ``local-storyboard`` renders submitted to a real queue as the API submits them: the
smallest frame the model makes (720p, 1:1), so tests that render many stay cheap."""

from __future__ import annotations

from knightvision.adapter_names import AdapterName
from knightvision.job.queue import JobQueue
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import new_job_id
from knightvision.pricing import DEFAULT_PRICES
from knightvision.video.models import LOCAL_STORYBOARD_MODEL
from knightvision.video.service import VIDEO_JOB_KIND

LOCAL_SIZE = (720, 720)
PROMPT = "A kettle starts to sing. Steam curls past the window."


def local_video_cost(seconds: int) -> int:
    return seconds * DEFAULT_PRICES["video_local_storyboard_per_second"]


async def submit_local_video(queue: JobQueue, account_id: int, seconds: int) -> str:
    """A ``seconds`` long 1:1 720p local-storyboard render, charged at the default price."""
    job_id = new_job_id(utcnow(), "local")
    width, height = LOCAL_SIZE
    await queue.submit_paid(
        job_id=job_id,
        account_id=account_id,
        kind=VIDEO_JOB_KIND,
        params={
            "prompt": PROMPT,
            "model": LOCAL_STORYBOARD_MODEL,
            "duration": seconds,
            "aspect_ratio": "1:1",
            "resolution": "720p",
            "width": width,
            "height": height,
            "adapter": AdapterName.LOCAL_STORYBOARD,
            "upstream_model": None,
        },
        cost=local_video_cost(seconds),
        reason=f"video {LOCAL_STORYBOARD_MODEL}",
    )
    return job_id
