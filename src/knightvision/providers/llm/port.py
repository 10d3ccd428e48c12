"""The port the ad-analysis writer talks to: one blocking chat completion that returns text.

Messages are provider-neutral: images are file paths (``ImagePart``), and each adapter decides how
to send them (data URLs for OpenAI-compatible servers) or drops them when its model has no vision.
Blocking by design: the writer runs once per analysis job, in a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from knightvision.kit.errors import ProviderError


@dataclass(frozen=True)
class ImagePart:
    """A still the model should look at (a JPEG thumbnail on local disk)."""

    path: Path
    mime: str = "image/jpeg"


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str | Sequence[str | ImagePart]


class ChatModel(Protocol):
    model: str  # the upstream model id, reported in the result's ``engine``
    vision: bool  # whether ``ImagePart``s reach the model (else adapters drop them)

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        response_format_json: bool,
        timeout: float,
        schema: Mapping[str, Any] | None = None,
    ) -> str:
        """The assistant's reply text. ``timeout`` bounds the whole call, retries included;
        ``schema`` is the reply's JSON Schema, for servers that enforce one. Raises LLMError."""


class LLMError(ProviderError):
    """A failed completion with a stable code (``llm_auth``, ``llm_timeout``, ``llm_malformed``,
    …)."""

    code_in_text = True
