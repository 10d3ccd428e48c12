"""HTTP, polling and download helpers shared by every upstream video adapter.

Failures become ``GenerationError`` with one of the stable codes below, so a job reports the same
``error_code`` whichever upstream rendered it (D13):

- ``upstream_unavailable``: 5xx, 408, connection trouble, timeouts talking to it, or rate limiting
  that outlasted our patience. Retryable: the job polls the remembered task again (D14).
- ``upstream_rejected``: 4xx validation (bad parameter, unknown model). Not retryable.
- ``upstream_auth``: 401/403, a disabled or wrong key. Not retryable; an operator must act.
- ``insufficient_upstream_credits``: 402, the operator's upstream balance is spent. Not retryable.
- ``upstream_quota``: a per-key or per-day cap on the upstream account. Not retryable.
- ``moderation_blocked``: the upstream's content filter refused the prompt or the render.
- ``upstream_failed``: the task failed remotely (retryable only where the upstream says so).
- ``upstream_timeout``: the overall cap passed while the task was still running.
- ``upstream_malformed``: an answer we cannot read (not JSON, no task id, no result link).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from knightvision.kit.http import retry_after_seconds
from knightvision.kit.metrics import upstream_answered
from knightvision.providers.video_model.port import GenerationError

log = logging.getLogger("knightvision.upstream")

UPSTREAM_UNAVAILABLE = "upstream_unavailable"
UPSTREAM_REJECTED = "upstream_rejected"
UPSTREAM_AUTH = "upstream_auth"
UPSTREAM_CREDITS = "insufficient_upstream_credits"
UPSTREAM_QUOTA = "upstream_quota"
MODERATION_BLOCKED = "moderation_blocked"
UPSTREAM_FAILED = "upstream_failed"
UPSTREAM_TIMEOUT = "upstream_timeout"
UPSTREAM_MALFORMED = "upstream_malformed"
GENERATION_UNAVAILABLE = "generation_unavailable"

# Words in an upstream failure message that mean its content filter said no.
MODERATION_WORDS = (
    "moderation",
    "content policy",
    "content_policy",
    "policy violation",
    "safety",
    "sensitive",
    "nsfw",
    "prohibited",
    "violat",
    "not allowed content",
    "risk control",
    "inappropriate",
)


@dataclass(frozen=True)
class UpstreamPolicy:
    """Timing and limits for talking to an upstream; the defaults suit real services."""

    poll_initial: float = 5.0  # first wait after submitting, and the starting poll interval
    poll_max: float = 30.0  # the longest wait between polls
    poll_factor: float = 1.5  # each idle poll waits this much longer than the last
    timeout: float = 1200.0  # overall cap from submission to a finished task -> upstream_timeout
    request_timeout: float = 60.0  # one HTTP exchange (used by the default client factory)
    max_rate_limit_wait: float = 120.0  # never sleep longer than this on one Retry-After
    transient_poll_errors: int = 5  # consecutive 5xx/connection failures tolerated while polling
    malformed_polls: int = 3  # consecutive unreadable poll answers tolerated
    create_rate_limit_retries: int = 3  # 429s on create retried in place (nothing was created)
    # A create that did not reach the upstream (connection refused, DNS, 5xx answers) is retried
    # with backoff (poll_initial doubling to poll_max) for this long from the first try: a short
    # outage at submit time costs a few minutes' wait, not the job.
    create_retry_window: float = 300.0
    # A render's typical length: with no progress from the upstream, the shown progress follows
    # elapsed / (elapsed + this), rising and never reaching the end before the task does.
    expected_render: float = 180.0
    max_download_bytes: int = 2 * 1024**3


def default_http_client_factory(
    policy: UpstreamPolicy | None = None,
) -> Callable[[], httpx.AsyncClient]:
    timeout = (policy or UpstreamPolicy()).request_timeout
    # Loading the CA bundle takes ~45 ms: once per factory, not once per client. A parked job
    # opens a client at every poll, so this is most of a poll's cost otherwise.
    tls = httpx.create_ssl_context()

    def make() -> httpx.AsyncClient:
        return httpx.AsyncClient(
            verify=tls,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            follow_redirects=True,
            headers={"User-Agent": "knightvision"},
        )

    return make


class RateLimited(GenerationError):
    """429 (or a body code meaning the same): wait ``retry_after`` seconds and try again."""

    def __init__(self, provider: str, retry_after: float | None, detail: str = "") -> None:
        super().__init__(
            UPSTREAM_UNAVAILABLE,
            f"{provider} is rate limiting us{': ' + detail if detail else ''}",
            retryable=True,
        )
        self.retry_after = retry_after


class NotSent(GenerationError):
    """The request never reached the upstream (connection refused, DNS, connect timeout): it
    created nothing, so sending it again cannot create a second task."""

    def __init__(self, detail: str) -> None:
        super().__init__(UPSTREAM_UNAVAILABLE, detail, retryable=True)


class NoAnswer(GenerationError):
    """The request was sent but no answer came back (read timeout, connection dropped): the
    upstream may have acted on it. A create that ends here is ambiguous."""

    def __init__(self, detail: str) -> None:
        super().__init__(UPSTREAM_UNAVAILABLE, detail, retryable=True)


class ServerError(GenerationError):
    """The upstream answered 408 or 5xx (or a body code meaning the same)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(UPSTREAM_UNAVAILABLE, detail, retryable=True)
        self.status = status


# Answers after which the upstream may have acted on a create: an internal error part-way, a
# gateway that forwarded it and lost the answer. 408 and 503 say it was not taken on.
AMBIGUOUS_STATUSES = (500, 502, 504)


def may_have_acted(error: GenerationError) -> bool:
    """Whether the request behind ``error`` may have changed something upstream unseen."""
    return isinstance(error, NoAnswer) or (
        isinstance(error, ServerError) and error.status in AMBIGUOUS_STATUSES
    )


class TaskGone(GenerationError):
    """The upstream no longer knows a task we remembered (expired or never stored)."""

    def __init__(self, provider: str, task_id: str) -> None:
        super().__init__(
            UPSTREAM_FAILED, f"{provider} no longer knows task {task_id}", retryable=True
        )


class LinkExpired(GenerationError):
    """The finished file's link answered 403/404/410."""

    def __init__(self, provider: str, status: int) -> None:
        super().__init__(
            UPSTREAM_UNAVAILABLE,
            f"{provider}'s result link is no longer valid (HTTP {status})",
            retryable=False,
        )
        self.status = status


def looks_like_moderation(*texts: Any) -> bool:
    joined = " ".join(str(t) for t in texts if t).lower()
    return any(word in joined for word in MODERATION_WORDS)


def error_for_status(
    provider: str, status: int, detail: str = "", *, retry_after: float | None = None
) -> GenerationError:
    """The stable error for an HTTP status (or an HTTP-like body code) from an upstream."""
    suffix = f": {detail}" if detail else ""
    if status == 429:
        return RateLimited(provider, retry_after, detail)
    if status in (401, 403):
        return GenerationError(
            UPSTREAM_AUTH, f"{provider} refused our credentials (HTTP {status}){suffix}"
        )
    if status == 402:
        return GenerationError(UPSTREAM_CREDITS, f"{provider} account is out of credits{suffix}")
    if status == 408 or status >= 500:
        return ServerError(status, f"{provider} is unavailable (HTTP {status}){suffix}")
    if looks_like_moderation(detail):
        return GenerationError(MODERATION_BLOCKED, f"{provider} blocked the request{suffix}")
    return GenerationError(
        UPSTREAM_REJECTED, f"{provider} rejected the request (HTTP {status}){suffix}"
    )


def error_for_response(
    provider: str, response: httpx.Response, detail: str = "", *, status: int | None = None
) -> GenerationError:
    """``error_for_status`` for an answer, honouring its Retry-After;
    ``status`` stands in for a body code."""
    status = response.status_code if status is None else status
    return error_for_status(
        provider, status, detail, retry_after=retry_after_seconds(response.headers)
    )


def error_parts(answer: Any, fallback: str = "") -> tuple[str, str]:
    """``code`` and short ``message`` of the ``{"error": {"code", "message"}}`` object
    in an answer."""
    found = answer.get("error") if isinstance(answer, dict) else None
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    return str(error.get("code") or ""), body_text(error.get("message") or fallback)


def response_error_parts(response: httpx.Response) -> tuple[str, str]:
    """``error_parts`` of an error answer; a body that is not JSON is its own message."""
    try:
        body = response.json()
    except ValueError:
        body = None
    return error_parts(body, response.text if body is None else "")


def required_text(provider: str, answer: Any, field: str, missing: str) -> str:
    """A non-empty string field of an answer object,
    or ``upstream_malformed`` saying what is ``missing``."""
    value = answer.get(field) if isinstance(answer, dict) else None
    if not isinstance(value, str) or not value:
        raise malformed(provider, missing)
    return value


def percent(value: Any) -> float | None:
    """A 0-100 progress number as a fraction; None when it is not a number."""
    return (
        value / 100.0 if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    )


def body_text(value: Any, limit: int = 300) -> str:
    """A short, single-line rendering of an upstream message for error texts."""
    text = " ".join(str(value).split()) if value is not None else ""
    return text[:limit]


# Transport failures raised before a byte of the request left: the upstream saw nothing.
_BEFORE_SENDING = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


@contextlib.contextmanager
def _unavailable_on_transport_error(
    timed_out: Callable[[str], str], failed: Callable[[str], str]
) -> Iterator[None]:
    """httpx timeouts and connection failures as retryable ``upstream_unavailable``: ``NotSent``
    when the request never left, ``NoAnswer`` when it did. Each text is made from the
    exception's class name."""
    try:
        yield
    except _BEFORE_SENDING as exc:
        text = (timed_out if isinstance(exc, httpx.TimeoutException) else failed)(
            type(exc).__name__
        )
        raise NotSent(text) from exc
    except httpx.TimeoutException as exc:
        raise NoAnswer(timed_out(type(exc).__name__)) from exc
    except httpx.TransportError as exc:
        raise NoAnswer(failed(type(exc).__name__)) from exc


@contextlib.contextmanager
def _counted_call(provider: str) -> Iterator[Callable[[int], None]]:
    """Counts the call by its status (``answered``), or by the transport error that ended it."""
    try:
        yield lambda status: upstream_answered(provider, status)
    except httpx.TransportError as exc:
        upstream_answered(provider, type(exc).__name__)
        raise


class UpstreamHttp:
    """One upstream's HTTP client: transport failures become ``upstream_unavailable``."""

    def __init__(self, provider: str, client: httpx.AsyncClient) -> None:
        self.provider = provider
        self.client = client

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        # The URL (never its query, which may carry a token) names a wrong base URL in the log.
        where = url.split("?", 1)[0]
        with (
            _unavailable_on_transport_error(
                lambda kind: f"{self.provider} did not answer {method} {where} in time ({kind})",
                lambda kind: f"could not reach {self.provider} at {method} {where} ({kind})",
            ),
            _counted_call(self.provider) as answered,
        ):
            response = await self.client.request(method, url, **kwargs)
            answered(response.status_code)
            return response

    def json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise malformed(self.provider, f"HTTP {response.status_code} body is not JSON") from exc

    def json_or_error(
        self, response: httpx.Response, error_for: Callable[[httpx.Response], GenerationError]
    ) -> Any:
        """The JSON of a 2xx answer;
        any other status raises the error ``error_for`` reads from it."""
        if response.status_code >= 300:
            raise error_for(response)
        return self.json(response)

    async def download(
        self,
        url: str,
        path: Path,
        *,
        headers: dict[str, str] | None = None,
        max_bytes: int,
        params: dict[str, str] | None = None,
    ) -> int:
        """Stream ``url`` to ``path``. 403/404/410 raise LinkExpired;
        other failures map as usual."""
        with _unavailable_on_transport_error(
            lambda kind: f"downloading from {self.provider} timed out",
            lambda kind: f"downloading from {self.provider} failed ({kind})",
        ):
            async with self.client.stream("GET", url, headers=headers, params=params) as response:
                upstream_answered(self.provider, response.status_code)
                if response.status_code in (403, 404, 410):
                    raise LinkExpired(self.provider, response.status_code)
                if response.status_code != 200:
                    await response.aread()
                    raise error_for_response(self.provider, response, "downloading the result")
                size = 0
                with path.open("wb") as sink:
                    async for chunk in response.aiter_bytes(1 << 20):
                        size += len(chunk)
                        if size > max_bytes:
                            raise GenerationError(
                                UPSTREAM_MALFORMED,
                                f"{self.provider}'s result is larger than {max_bytes} bytes",
                            )
                        sink.write(chunk)
        if size == 0:
            raise GenerationError(
                UPSTREAM_MALFORMED, f"{self.provider}'s result file is empty", retryable=True
            )
        return size


def malformed(provider: str, detail: str) -> GenerationError:
    return GenerationError(
        UPSTREAM_MALFORMED, f"{provider} sent an answer we cannot read: {detail}", retryable=True
    )


@dataclass
class TaskState:
    """One reading of an upstream task, in our terms."""

    status: Literal["running", "succeeded", "failed"]
    progress: float | None = None  # 0..1 when the upstream says
    result_url: str | None = None
    error: GenerationError | None = None  # set when failed
    poll_after: float | None = None  # the upstream's hint for the next poll, seconds
    raw: dict[str, Any] = field(default_factory=dict)


Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class PollCursor:
    """Where a poll loop stands between two polls: enough to resume it in another process with
    the same cadence and the same tolerance left (a parked job, ADR 0001)."""

    interval: float
    transient: int = 0
    unreadable: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "transient": self.transient,
            "unreadable": self.unreadable,
        }

    @classmethod
    def from_json(cls, value: Any) -> PollCursor | None:
        if not isinstance(value, dict) or not isinstance(value.get("interval"), (int, float)):
            return None
        return cls(
            float(value["interval"]),
            int(value.get("transient", 0)),
            int(value.get("unreadable", 0)),
        )


# Instead of sleeping: stop this process's wait and poll again, elsewhere, after the given seconds.
Park = Callable[[float, PollCursor], Awaitable[None]]


async def poll_until_done(
    fetch: Callable[[], Awaitable[TaskState]],
    *,
    provider: str,
    deadline: float,
    policy: UpstreamPolicy,
    on_progress: Callable[[float | None], None],
    clock: Callable[[], float] = time.time,
    sleep: Sleep = asyncio.sleep,
    first_wait: float = 0.0,
    cursor: PollCursor | None = None,
    park: Park | None = None,
) -> TaskState:
    """Poll until the task succeeds or fails, within ``deadline`` (a ``clock`` time).

    Waits grow from ``policy.poll_initial`` to ``policy.poll_max``; an upstream's poll hint or a
    429's Retry-After takes precedence. A few consecutive transient errors or unreadable answers
    are tolerated (the task is still running upstream) before giving up with a retryable error,
    so a later attempt polls the same remembered task again.

    With ``park``, each wait parks the job instead of sleeping (``park`` does not return); the
    run resumed from ``cursor`` polls at once, with the cadence and tolerance it had.
    """
    interval = policy.poll_initial if cursor is None else cursor.interval
    transient = 0 if cursor is None else cursor.transient
    unreadable = 0 if cursor is None else cursor.unreadable
    wait = first_wait if cursor is None else 0.0
    while True:
        if wait > 0:
            # Never wait past the deadline; the last look happens at the deadline itself.
            pause = max(0.0, min(wait, deadline - clock()))
            if park is not None:
                await park(pause, PollCursor(interval, transient, unreadable))
            await sleep(pause)
        try:
            state = await fetch()
        except RateLimited as limited:
            wait = min(
                policy.max_rate_limit_wait,
                limited.retry_after if limited.retry_after is not None else interval,
            )
            log.warning("%s; polling again in %.1f s", limited.detail, wait)
        except GenerationError as exc:
            if exc.code == UPSTREAM_UNAVAILABLE and exc.retryable:
                transient += 1
                if transient > policy.transient_poll_errors:
                    raise
            elif exc.code == UPSTREAM_MALFORMED:
                unreadable += 1
                if unreadable > policy.malformed_polls:
                    raise
            else:
                raise
            wait = interval
        else:
            transient = unreadable = 0
            if state.status != "running":
                return state  # even past the deadline: a task found finished is delivered
            on_progress(state.progress)  # None: the upstream did not say
            wait = (
                min(policy.max_rate_limit_wait, state.poll_after)
                if state.poll_after is not None
                else interval
            )
        if clock() >= deadline:
            raise _timed_out(provider, policy)
        interval = min(policy.poll_max, interval * policy.poll_factor)


def _timed_out(provider: str, policy: UpstreamPolicy) -> GenerationError:
    return GenerationError(
        UPSTREAM_TIMEOUT,
        f"{provider} did not finish the video within {policy.timeout:g} s",
        retryable=False,
    )
