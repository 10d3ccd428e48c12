"""Whether a job already started a task upstream, which the upstream bills whatever we do next:
none of our upstreams documents a way to cancel a task (docs/upstreams.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from knightvision.providers.video_model.upstream_task import CHARACTER_TASK, TASK

# The adapter's memory in the job's checkpoint (``AdapterRun.remember``) of a created task.
_CREATED = (f"adapter.{TASK}", f"adapter.{CHARACTER_TASK}")


def upstream_billed(checkpoint: Mapping[str, Any] | None) -> bool:
    return any((checkpoint or {}).get(name) for name in _CREATED)


def cancel_refund(checkpoint: Mapping[str, Any] | None, credits_used: int) -> int:
    """What cancelling refunds (docs/api.md "Cancel"): everything, unless an upstream task was
    created and so billed to us; then nothing, since it renders and bills regardless."""
    return 0 if upstream_billed(checkpoint) else credits_used
