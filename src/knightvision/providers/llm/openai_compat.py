"""An OpenAI-compatible ``/chat/completions`` client: OpenAI, vLLM, Ollama and llama.cpp's server.

Frames go as base64 ``data:`` URLs because local servers (Ollama) refuse remote image URLs.
Retries are bounded by attempts and by the caller's deadline: 429, 5xx and refused connections
wait for the server's ``Retry-After`` (or a jittered backoff); anything else, a timeout included,
fails at once with a clear ``LLMError``.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from knightvision.kit.http import error_message, retry_after_seconds
from knightvision.kit.metrics import upstream_answered
from knightvision.kit.retry import RetryLater, call_with_retries, check_retry_settings
from knightvision.providers.llm.port import ChatMessage, ImagePart, LLMError

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_DETAIL_CHARS = 300  # of an upstream error message, so logs and job errors stay short


@dataclass(frozen=True)
class OpenAICompatConfig:
    base_url: str  # e.g. https://api.openai.com/v1, http://localhost:11434/v1 (Ollama)
    model: str
    api_key: str | None = None  # local servers often need none
    vision: bool = False  # send frames; only for multimodal models
    # How the reply is held to JSON: a strict JSON Schema (OpenAI, vLLM, llama.cpp), any JSON
    # object, or nothing (servers that reject response_format).
    json_mode: Literal["json_schema", "json_object", "off"] = "json_object"
    image_detail: str = "low"  # low keeps a frame at a fixed small token cost on OpenAI
    temperature: float | None = None  # None: the server's default (some models refuse any other)
    max_tokens: int | None = None  # None: the server's default
    max_reply_chars: int = 20_000  # a longer reply is refused, not parsed
    max_attempts: int = 3
    backoff_base: float = 1.0
    backoff_cap: float = 8.0
    max_retry_after: float = 30.0  # longer waits give up: the job falls back instead of hanging


class OpenAICompatChat:
    """``ChatModel`` over HTTP. ``transport`` and ``sleep`` are for tests."""

    def __init__(
        self,
        config: OpenAICompatConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_retry_settings(config)
        self.config = config
        self.model = config.model
        self.vision = config.vision
        self._transport = transport
        self._sleep = sleep

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        response_format_json: bool,
        timeout: float,
        schema: Mapping[str, Any] | None = None,
    ) -> str:
        body = self.request_body(messages, response_format_json=response_format_json, schema=schema)
        deadline = time.monotonic() + timeout
        with httpx.Client(transport=self._transport, headers=self._headers()) as client:

            def try_once(remaining: float) -> str:
                try:
                    response = self._post(client, body, remaining, timeout)
                except LLMError as error:
                    if error.code != "llm_unreachable":
                        raise
                    raise RetryLater(
                        error
                    ) from None  # a refused connection: back off and try again
                if response.status_code == 200:
                    return _reply_text(response, self.config.max_reply_chars)
                failure = _http_error(response)
                if not failure.retryable:
                    raise failure
                raise RetryLater(failure, retry_after_seconds(response.headers))

            return call_with_retries(
                try_once,
                settings=self.config,
                deadline=deadline,
                sleep=self._sleep,
                timed_out=lambda: LLMError(
                    "llm_timeout", f"no answer within {timeout:g} s", retryable=True
                ),
            )

    def request_body(
        self,
        messages: Sequence[ChatMessage],
        *,
        response_format_json: bool,
        schema: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The JSON sent to ``/chat/completions``."""
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": [self._message(m) for m in messages],
        }
        mode = self.config.json_mode
        if response_format_json and mode == "json_schema" and schema is not None:
            strict = {"name": "reply", "strict": True, "schema": dict(schema)}
            body["response_format"] = {"type": "json_schema", "json_schema": strict}
        elif response_format_json and mode != "off":
            body["response_format"] = {"type": "json_object"}
        if self.config.temperature is not None:
            body["temperature"] = self.config.temperature
        if self.config.max_tokens is not None:
            body["max_tokens"] = self.config.max_tokens
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return headers

    def _post(
        self, client: httpx.Client, body: dict[str, Any], remaining: float, timeout: float
    ) -> httpx.Response:
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        try:
            response = client.post(
                url, json=body, timeout=httpx.Timeout(remaining, connect=min(remaining, 10.0))
            )
        except httpx.TimeoutException as exc:
            upstream_answered("llm", type(exc).__name__)
            raise LLMError(
                "llm_timeout", f"no answer within {timeout:g} s", retryable=True
            ) from None
        except httpx.TransportError as exc:
            upstream_answered("llm", type(exc).__name__)
            raise LLMError(
                "llm_unreachable", f"{type(exc).__name__} calling {url}", retryable=True
            ) from None
        upstream_answered("llm", response.status_code)
        return response

    def _message(self, message: ChatMessage) -> dict[str, Any]:
        if isinstance(message.content, str):
            return {"role": message.role, "content": message.content}
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, ImagePart):
                if self.config.vision:
                    image = {"url": _data_url(part), "detail": self.config.image_detail}
                    parts.append({"type": "image_url", "image_url": image})
            else:
                parts.append({"type": "text", "text": part})
        return {"role": message.role, "content": parts}


def _data_url(image: ImagePart) -> str:
    try:
        data = image.path.read_bytes()
    except OSError as exc:
        raise LLMError(
            "llm_input", f"cannot read frame {image.path.name}: {exc.strerror}"
        ) from None
    return f"data:{image.mime};base64,{base64.b64encode(data).decode('ascii')}"


def _http_error(response: httpx.Response) -> LLMError:
    status = response.status_code
    detail = error_message(response, _DETAIL_CHARS)
    if status in (401, 403):
        return LLMError("llm_auth", f"HTTP {status}: {detail}")
    if status == 429:
        return LLMError("llm_rate_limited", f"HTTP 429: {detail}", retryable=True)
    if status in RETRYABLE_STATUS:
        return LLMError("llm_upstream", f"HTTP {status}: {detail}", retryable=True)
    if 400 <= status < 500:
        return LLMError("llm_bad_request", f"HTTP {status}: {detail}")
    return LLMError("llm_upstream", f"HTTP {status}: {detail}", retryable=status >= 500)


def _reply_text(response: httpx.Response, max_chars: int) -> str:
    try:
        choice = response.json()["choices"][0]
        message = choice["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMError("llm_malformed", "response is not a chat completion") from None
    if not isinstance(choice, dict) or not isinstance(message, dict):
        raise LLMError("llm_malformed", "response is not a chat completion")
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        refusal = message.get("refusal")
        if isinstance(refusal, str) and refusal:
            raise LLMError("llm_refused", refusal[:_DETAIL_CHARS])
        raise LLMError("llm_malformed", "completion has no text content")
    if choice.get("finish_reason") == "length":
        raise LLMError("llm_truncated", "completion stopped at the token limit")
    if len(content) > max_chars:
        raise LLMError("llm_too_long", f"reply of {len(content)} characters (cap {max_chars})")
    return content


def chat_model_from_settings(settings: Any, *, vision: bool = False) -> OpenAICompatChat | None:
    """The configured model (``KNIGHTVISION_LLM_*``), or None: then the deterministic engine
    writes (D18)."""
    base_url = getattr(settings, "llm_base_url", None)
    model = getattr(settings, "llm_model", None)
    if not base_url or not model:
        return None
    return OpenAICompatChat(
        OpenAICompatConfig(
            base_url=base_url,
            model=model,
            api_key=getattr(settings, "llm_api_key", None),
            vision=vision,
            json_mode=getattr(settings, "llm_json_mode", "json_object"),
            temperature=getattr(settings, "llm_temperature", None),
            max_tokens=getattr(settings, "llm_max_tokens", None),
            max_attempts=getattr(settings, "llm_max_attempts", 3),
            max_reply_chars=getattr(settings, "llm_max_reply_chars", 20_000),
        )
    )
