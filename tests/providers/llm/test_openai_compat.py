"""The OpenAI-compatible chat client against a real local HTTP server: request shape, retries,
errors."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from knightvision.providers.llm.openai_compat import (
    OpenAICompatChat,
    OpenAICompatConfig,
    chat_model_from_settings,
)
from knightvision.providers.llm.port import ChatMessage, ImagePart, LLMError
from tests.fakes.openai_chat import FakeOpenAIChat, Reply, completion, error_body


@pytest.fixture
def server() -> Iterator[FakeOpenAIChat]:
    with FakeOpenAIChat() as fake:
        yield fake


class Sleeps(list[float]):
    """Records the waits instead of sleeping, so retry tests are instant and exact."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(
    server: FakeOpenAIChat, sleeps: Sleeps | None = None, **config: object
) -> OpenAICompatChat:
    settings = {"base_url": server.base_url, "model": "test-model", "api_key": "sk-test", **config}
    return OpenAICompatChat(
        OpenAICompatConfig(**settings), sleep=sleeps if sleeps is not None else Sleeps()
    )  # type: ignore[arg-type]


def ask(chat: OpenAICompatChat, timeout: float = 5.0) -> str:
    return chat.complete(
        [ChatMessage("user", "Reply in JSON")], response_format_json=True, timeout=timeout
    )


@pytest.fixture
def frame(tmp_path: Path) -> Path:
    path = tmp_path / "frame.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9")
    return path


def test_sends_model_messages_json_mode_and_frames_as_data_urls(
    server: FakeOpenAIChat, frame: Path
) -> None:
    server.script(Reply(body=completion('{"ok": true}')))
    chat = client(server, vision=True)
    messages = [
        ChatMessage("system", "rules"),
        ChatMessage("user", ["the transcript", ImagePart(frame)]),
    ]
    assert chat.complete(messages, response_format_json=True, timeout=5) == '{"ok": true}'

    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    body = request.body
    assert body["model"] == "test-model"
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0] == {"role": "system", "content": "rules"}
    text, image = body["messages"][1]["content"]
    assert text == {"type": "text", "text": "the transcript"}
    assert image["type"] == "image_url" and image["image_url"]["detail"] == "low"
    prefix = "data:image/jpeg;base64,"
    assert image["image_url"]["url"].startswith(prefix)
    assert base64.b64decode(image["image_url"]["url"][len(prefix) :]) == frame.read_bytes()


def test_no_vision_means_no_images_and_no_key_means_no_auth_header(
    server: FakeOpenAIChat, frame: Path
) -> None:
    chat = client(server, vision=False, api_key=None, json_mode="off")
    chat.complete(
        [ChatMessage("user", ["text", ImagePart(frame)])], response_format_json=True, timeout=5
    )
    [request] = server.requests
    assert request.body["messages"][0]["content"] == [{"type": "text", "text": "text"}]
    assert "authorization" not in request.headers
    assert "response_format" not in request.body


def test_401_fails_at_once_with_the_upstream_message(server: FakeOpenAIChat) -> None:
    server.script(
        Reply(
            401,
            error_body("Incorrect API key provided", "invalid_request_error", "invalid_api_key"),
        )
    )
    sleeps = Sleeps()
    with pytest.raises(LLMError) as caught:
        ask(client(server, sleeps))
    assert (caught.value.code, caught.value.retryable) == ("llm_auth", False)
    assert "Incorrect API key provided" in caught.value.message
    assert len(server.requests) == 1 and sleeps == []


def test_400_is_a_bad_request_without_retry(server: FakeOpenAIChat) -> None:
    server.script(Reply(400, error_body("response_format is not supported")))
    with pytest.raises(LLMError) as caught:
        ask(client(server))
    assert caught.value.code == "llm_bad_request" and "response_format" in caught.value.message
    assert len(server.requests) == 1


def test_429_waits_for_retry_after_then_succeeds(server: FakeOpenAIChat) -> None:
    server.script(
        Reply(429, error_body("slow down"), {"Retry-After": "3"}), Reply(body=completion("done"))
    )
    sleeps = Sleeps()
    assert ask(client(server, sleeps)) == "done"
    assert sleeps == [3.0] and len(server.requests) == 2


def test_retry_after_is_honoured_in_real_time(server: FakeOpenAIChat) -> None:
    server.script(
        Reply(429, error_body("slow down"), {"retry-after-ms": "300"}),
        Reply(body=completion("done")),
    )
    chat = OpenAICompatChat(OpenAICompatConfig(base_url=server.base_url, model="m"))
    assert ask(chat) == "done"
    first, second = server.requests
    assert second.at - first.at >= 0.29


def test_a_retry_after_beyond_the_cap_or_the_deadline_gives_up_without_waiting(
    server: FakeOpenAIChat,
) -> None:
    server.script(Reply(429, error_body("quota"), {"Retry-After": "120"}))
    sleeps = Sleeps()
    with pytest.raises(LLMError) as caught:
        ask(client(server, sleeps, max_retry_after=30))
    assert (caught.value.code, caught.value.retryable) == ("llm_rate_limited", True)
    server.script(Reply(429, error_body("quota"), {"Retry-After": "20"}))
    with pytest.raises(LLMError):
        ask(client(server, sleeps, max_retry_after=30), timeout=2)
    assert sleeps == [] and len(server.requests) == 2


def test_5xx_retries_with_jittered_backoff_then_gives_up(server: FakeOpenAIChat) -> None:
    server.script(Reply(503, error_body("overloaded", "server_error")))
    sleeps = Sleeps()
    with pytest.raises(LLMError) as caught:
        ask(client(server, sleeps, max_attempts=3, backoff_base=1.0, backoff_cap=8.0))
    assert (caught.value.code, caught.value.retryable) == ("llm_upstream", True)
    assert len(server.requests) == 3
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0


def test_5xx_then_success(server: FakeOpenAIChat) -> None:
    server.script(Reply(500, "internal error"), Reply(body=completion("fine")))
    assert ask(client(server)) == "fine"


def test_a_slow_server_times_out_within_the_deadline(server: FakeOpenAIChat) -> None:
    server.script(Reply(body=completion("late"), delay=5))
    started = time.monotonic()
    with pytest.raises(LLMError) as caught:
        ask(client(server), timeout=0.4)
    assert caught.value.code == "llm_timeout" and caught.value.retryable
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(body="<html>gateway</html>"), "llm_malformed"),
        (Reply(body={"object": "chat.completion", "choices": []}), "llm_malformed"),
        (Reply(body=completion(None)), "llm_malformed"),
        (Reply(body=completion(None, refusal="I can't help with that")), "llm_refused"),
        (Reply(body=completion('{"summary": "cut off', finish_reason="length")), "llm_truncated"),
    ],
)
def test_malformed_replies_are_clear_errors(
    server: FakeOpenAIChat, reply: Reply, code: str
) -> None:
    server.script(reply)
    with pytest.raises(LLMError) as caught:
        ask(client(server))
    assert caught.value.code == code
    assert len(server.requests) == 1


def test_an_unreachable_server_is_retryable_and_bounded() -> None:
    sleeps = Sleeps()
    config = OpenAICompatConfig(base_url="http://127.0.0.1:9/v1", model="m", max_attempts=2)
    chat = OpenAICompatChat(config, sleep=sleeps)
    with pytest.raises(LLMError) as caught:
        ask(chat)
    assert caught.value.code == "llm_unreachable" and caught.value.retryable
    assert len(sleeps) == 1  # one retry after a backoff, then it gives up


def test_chat_model_from_settings_needs_a_base_url_and_a_model() -> None:
    class Settings:
        llm_base_url: str | None = None
        llm_api_key: str | None = None
        llm_model: str | None = "gpt-4o-mini"

    assert chat_model_from_settings(Settings()) is None
    Settings.llm_base_url = "http://localhost:11434/v1"
    chat = chat_model_from_settings(Settings(), vision=True)
    assert chat is not None and chat.model == "gpt-4o-mini" and chat.vision


def test_json_schema_mode_sends_the_strict_schema_with_the_operators_limits(
    server: FakeOpenAIChat,
) -> None:
    server.script(Reply(body=completion('{"ok": true}')))
    chat = client(server, json_mode="json_schema", temperature=0.2, max_tokens=900)
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    chat.complete([ChatMessage("user", "x")], response_format_json=True, timeout=5, schema=schema)
    [request] = server.requests
    assert request.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "strict": True, "schema": schema},
    }
    assert (request.body["temperature"], request.body["max_tokens"]) == (0.2, 900)


def test_a_reply_over_the_size_cap_is_refused(server: FakeOpenAIChat) -> None:
    server.script(Reply(body=completion('{"text": "' + "x" * 5000 + '"}')))
    with pytest.raises(LLMError, match="cap 1000") as failure:
        ask(client(server, max_reply_chars=1000))
    assert failure.value.code == "llm_too_long"


def test_settings_carry_every_llm_option(server: FakeOpenAIChat) -> None:
    from knightvision.settings import load_settings

    settings = load_settings(
        llm_base_url=server.base_url,
        llm_model="m",
        llm_json_mode="off",
        llm_temperature=0.0,
        llm_max_tokens=512,
        llm_max_attempts=2,
        llm_max_reply_chars=4000,
    )
    chat = chat_model_from_settings(settings)
    assert chat is not None
    config = chat.config
    assert (config.json_mode, config.temperature, config.max_tokens) == ("off", 0.0, 512)
    assert (config.max_attempts, config.max_reply_chars) == (2, 4000)
