"""The submit / remember / poll / download / conform cycle every upstream adapter shares (D14, D15).

An adapter subclass only speaks its upstream's wire protocol (``_submit``, ``_fetch`` and, where
the upstream offers them, ``_find``, ``_fresh_link`` and ``_download``). This base:

1. plans the native render for the requested shape from the route's capabilities (or refuses);
2. remembers a submission key *before* creating the task, and the upstream task id the moment it
   has it. A retried attempt that recalls a task id polls it instead of submitting again, so
   there is no second render and no second charge. One that recalls only the key (a crash between
   the create call and the checkpoint) asks the upstream for the task by that key where it can,
   or resubmits with the same idempotency key where the upstream replays;
3. polls with backoff, honouring Retry-After and the upstream's poll hints, within an overall cap
   counted from submission (across attempts);
4. downloads the finished file (upstream links expire, ours do not); a dead link is re-fetched
   once for a fresh one, then the job fails ``upstream_unavailable``;
5. conforms the file to the exact WxH and duration with the declared transforms, recorded in the
   returned provenance.

A task that failed remotely with a retryable reason is forgotten, so the next attempt submits a
new one (with a new key); a non-retryable one ends the job (the partner is refunded, D11).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar, TypedDict, TypeVar, cast

import httpx

from knightvision.kit.backoff import retry_delay
from knightvision.media.probe import probe
from knightvision.providers.video_model.capabilities import (
    RenderPlan,
    UpstreamCapabilities,
    plan_render,
)
from knightvision.providers.video_model.port import (
    GenerationError,
    GenerationRun,
    GenerationSpec,
    ParkingRun,
)
from knightvision.providers.video_model.transforms import (
    ShapeError,
    conform,
    same_aspect,
)
from knightvision.providers.video_model.upstream_http import (
    GENERATION_UNAVAILABLE,
    UPSTREAM_FAILED,
    UPSTREAM_MALFORMED,
    UPSTREAM_UNAVAILABLE,
    LinkExpired,
    NotSent,
    Park,
    PollCursor,
    RateLimited,
    Sleep,
    TaskState,
    UpstreamHttp,
    UpstreamPolicy,
    default_http_client_factory,
    may_have_acted,
    poll_until_done,
)

log = logging.getLogger("knightvision.upstream")

# Checkpoint names (the pipeline namespaces them per job).
TASK = "upstream_task"
SUBMISSION = "upstream_submission"
RESUBMITS = "upstream_resubmits"
CHARACTER_TASK = "character_task"
POLL = "upstream_poll"  # where a parked job's poll loop stands, for the task it names
CREATE_RETRIES = "upstream_create_retries"  # create calls that failed without creating anything

# A delivered frame must be within this of the planned native aspect ratio before we crop it:
# a 9:16 render when 16:9 was asked for is a wrong render, not something to crop into shape.
PLANNED_ASPECT_TOLERANCE = 0.1

HttpClientFactory = Callable[[], httpx.AsyncClient]

_Call = TypeVar("_Call", bound=Callable[..., Awaitable[Any]])


def logs_failures(what: str) -> Callable[[_Call], _Call]:
    """Decorate an adapter's ``(self, spec_or_registration, run)`` entry point: a failure is
    logged for the operator with the upstream's own words (``GenerationError.detail``) before it
    leaves, since the job itself only shows the partner the fixed sentence for its code."""

    def decorate(method: _Call) -> _Call:
        @functools.wraps(method)
        async def logged(self: Any, subject: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, subject, *args, **kwargs)
            except GenerationError as exc:
                log.warning(
                    "%s %s for job %s failed: %s (%s%s)",
                    self.name,
                    what,
                    getattr(subject, "job_id", None) or "-",
                    exc.detail,
                    exc.code,
                    ", will retry" if exc.retryable else "",
                )
                raise

        return cast(_Call, logged)

    return decorate


class UpstreamTaskAdapter(ABC):
    name: str  # the adapter name, set by each subclass
    # The upstream models this adapter knows, and what each renders natively.
    catalogue: ClassVar[dict[str, UpstreamCapabilities]]
    # Whether a create call repeated with the same key returns the same task (idempotency key or
    # external task id): then an unreadable create answer is safe to retry.
    idempotent_create: ClassVar[bool] = False

    def __init__(
        self,
        *,
        base_url: str,
        policy: UpstreamPolicy | None = None,
        http_client_factory: HttpClientFactory | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy or UpstreamPolicy()
        self._client_factory = http_client_factory or default_http_client_factory(self.policy)
        self._clock = clock
        self._sleep = sleep

    # What a subclass provides ---------------------------------------------------------------

    @abstractmethod
    def available(self) -> bool:
        """Credentials present."""

    @abstractmethod
    async def _submit(
        self, http: UpstreamHttp, spec: GenerationSpec, plan: RenderPlan, key: str
    ) -> str:
        """Create the task; return the upstream task id."""

    @abstractmethod
    async def _fetch(self, http: UpstreamHttp, task_id: str) -> TaskState:
        """Read the task once."""

    async def _find(self, http: UpstreamHttp, key: str) -> str | None:
        """The task created earlier with this key, where the upstream can look it up."""
        return None

    async def _fresh_link(self, http: UpstreamHttp, task_id: str, state: TaskState) -> str | None:
        """A new link for a finished task whose link died: by default, read the task again."""
        again = await self._fetch(http, task_id)
        return again.result_url if again.status == "succeeded" else None

    async def _download(self, http: UpstreamHttp, task_id: str, url: str, path: Path) -> None:
        """Fetch the finished file. Result links are pre-signed CDN URLs: no credentials sent."""
        await http.download(url, path, max_bytes=self.policy.max_download_bytes)

    # The shared cycle ------------------------------------------------------------------------

    def plan(self, spec: GenerationSpec) -> tuple[str, RenderPlan]:
        model = spec.upstream_model or ""
        caps = self.catalogue.get(model)
        if caps is None:
            raise GenerationError(GENERATION_UNAVAILABLE, f"{self.name} has no model {model!r}")
        plan = plan_render(caps, spec.duration, spec.aspect_ratio, spec.resolution)
        if plan is None:
            raise GenerationError(
                GENERATION_UNAVAILABLE,
                f"{self.name} {model} cannot render"
                f" {spec.duration} s {spec.aspect_ratio} {spec.resolution}",
            )
        return model, plan

    @logs_failures("render")
    async def generate(
        self, spec: GenerationSpec, output: Path, run: GenerationRun
    ) -> dict[str, Any]:
        model, plan = self.plan(spec)
        raw = output.with_name(f"{output.stem}.upstream.mp4")
        async with self._client_factory() as client:
            http = UpstreamHttp(self.name, client)
            task, resumed = await self._ensure_task(http, spec, plan, run)
            # A parked job resumes here at every poll: only a new task is worth an info line.
            log.log(
                logging.DEBUG if resumed else logging.INFO,
                "%s task %s for job %s (%s, %s)",
                self.name,
                task["task_id"],
                spec.job_id or "-",
                model,
                "resumed" if resumed else "submitted",
            )
            run.progress(0.05)
            state = await self._wait(http, task, run, resumed)
            if state.status == "failed":
                await self._give_up_task(run, state.error)
            run.progress(0.85)
            await self._fetch_result(http, task["task_id"], state, raw)
        run.progress(0.9)
        try:
            transforms = await asyncio.to_thread(self._conform, raw, output, spec, plan)
        finally:
            raw.unlink(missing_ok=True)
        run.progress(1.0)
        if transforms:
            log.info(
                "%s task %s delivered with transforms: %s",
                self.name,
                task["task_id"],
                "; ".join(transforms),
            )
        return {
            "adapter": self.name,
            "upstream_model": model,
            "upstream_task_id": task["task_id"],
            "native": {
                "duration": plan.duration,
                "aspect_ratio": plan.aspect_ratio,
                "resolution": plan.resolution,
            },
            "planned_transforms": list(plan.transforms),
            "transforms": transforms,
            "resumed": resumed,
        }

    async def _ensure_task(
        self, http: UpstreamHttp, spec: GenerationSpec, plan: RenderPlan, run: GenerationRun
    ) -> tuple[dict[str, Any], bool]:
        task = run.recall(TASK)
        if isinstance(task, dict) and task.get("adapter") == self.name and task.get("task_id"):
            return task, True

        submission = run.recall(SUBMISSION)
        if (
            isinstance(submission, dict)
            and submission.get("adapter") == self.name
            and submission.get("key")
        ):
            # An earlier attempt got as far as the create call; it may have created the task.
            # (Still unreachable counts as not found: the create below retries through it.)
            found = await self._find_quietly(http, submission["key"])
            if found:
                return await self._remember_task(run, submission, found), True
        else:
            resubmits = int(run.recall(RESUBMITS) or 0)
            base = spec.job_id or uuid.uuid4().hex
            submission = {
                "adapter": self.name,
                "key": f"kv-{base}-{resubmits}",
                "submitted_at": self._clock(),
                "upstream_model": spec.upstream_model,
            }
            await run.remember(SUBMISSION, submission)

        task_id = await self._create(http, spec, plan, submission, run)
        return await self._remember_task(run, submission, task_id, created_at=self._clock()), False

    async def _create(
        self,
        http: UpstreamHttp,
        spec: GenerationSpec,
        plan: RenderPlan,
        submission: dict[str, Any],
        run: GenerationRun,
    ) -> str:
        """Create the task, never twice. A 429 is retried in place a few times; a create that
        did not reach the upstream (``NotSent``) or that it refused for now (408, 503) is retried
        with backoff for ``policy.create_retry_window`` from the first try (parked between tries
        where the run parks). One it may have acted on (sent but unanswered, 500/502/504) is
        retried only where the same key returns the same task, or where the upstream finds it by
        the key; otherwise the job fails, unretried, and the log names the key."""
        key = submission["key"]
        rate_limited = 0
        while True:
            try:
                task_id = await self._submit(http, spec, plan, key)
            except RateLimited as limited:
                rate_limited += 1
                wait = min(
                    self.policy.max_rate_limit_wait,
                    limited.retry_after
                    if limited.retry_after is not None
                    else self.policy.poll_initial * rate_limited,
                )
                if rate_limited > self.policy.create_rate_limit_retries:
                    raise
                log.warning(
                    "%s; creating the task for job %s again in %.1f s (%d of %d)",
                    limited.detail,
                    spec.job_id or "-",
                    wait,
                    rate_limited,
                    self.policy.create_rate_limit_retries,
                )
                await self._sleep(wait)
                continue
            except GenerationError as exc:
                if exc.code == UPSTREAM_MALFORMED:
                    # It may have created a task we cannot see: retrying could render twice.
                    raise self.not_resent(exc) from exc
                if may_have_acted(exc):
                    found = await self._find_quietly(http, key)
                    if found:
                        return found
                    if not self.idempotent_create:
                        log.error(
                            "%s create for job %s may have been taken on (%s): a task may exist"
                            " upstream for key %s; not retried, so it is never created twice",
                            self.name,
                            spec.job_id or "-",
                            exc.detail,
                            key,
                        )
                        raise self.not_resent(exc) from exc
                if isinstance(exc, NotSent) or (exc.code == UPSTREAM_UNAVAILABLE and exc.retryable):
                    await self._wait_to_create_again(spec, submission, run, exc)
                    continue
                raise
            if not isinstance(task_id, str) or not task_id:
                raise GenerationError(
                    UPSTREAM_MALFORMED,
                    f"{self.name} returned no task id",
                    retryable=self.idempotent_create,
                )
            if run.recall(CREATE_RETRIES):
                await run.remember(CREATE_RETRIES, None)
            return task_id

    def not_resent(self, error: GenerationError) -> GenerationError:
        """``error`` from a create or registration call, made final where the call may have
        acted upstream unseen (sent but unanswered, or answered unreadably) and sending it
        again could not be told apart from a second one."""
        if self.idempotent_create or not (
            may_have_acted(error) or error.code == UPSTREAM_MALFORMED
        ):
            return error
        return GenerationError(error.code, error.detail, retryable=False)

    async def _find_quietly(self, http: UpstreamHttp, key: str) -> str | None:
        """``_find``, where an upstream still unreachable counts as not found."""
        try:
            return await self._find(http, key)
        except GenerationError:
            return None

    async def _wait_to_create_again(
        self,
        spec: GenerationSpec,
        submission: dict[str, Any],
        run: GenerationRun,
        error: GenerationError,
    ) -> None:
        """Back off before the next create, or raise ``error`` once the retry window is spent."""
        failures = int(run.recall(CREATE_RETRIES) or 0) + 1
        delay = retry_delay(failures, base=self.policy.poll_initial, cap=self.policy.poll_max)
        first_try = float(submission.get("submitted_at") or self._clock())
        if self._clock() + delay - first_try > self.policy.create_retry_window:
            log.warning(
                "%s create for job %s still failing after %d tries over %.0f s: %s",
                self.name,
                spec.job_id or "-",
                failures,
                self._clock() - first_try,
                error.detail,
            )
            raise error
        log.warning(
            "%s create for job %s failed (%s); trying again in %.1f s (try %d)",
            self.name,
            spec.job_id or "-",
            error.detail,
            delay,
            failures + 1,
        )
        if isinstance(run, ParkingRun) and run.parks:
            await run.park(delay, CREATE_RETRIES, failures)  # does not return
        await run.remember(CREATE_RETRIES, failures)
        await self._sleep(delay)

    async def _remember_task(
        self,
        run: GenerationRun,
        submission: dict[str, Any],
        task_id: str,
        *,
        created_at: float | None = None,
    ) -> dict[str, Any]:
        # The render cap counts from the create that made the task, not from the first try of a
        # create retried through an outage; a task found by its key counts from the first try.
        task = {
            "adapter": self.name,
            "task_id": task_id,
            "key": submission["key"],
            "submitted_at": created_at or submission.get("submitted_at") or self._clock(),
            "upstream_model": submission.get("upstream_model"),
        }
        await run.remember(TASK, task)
        return task

    async def _wait(
        self, http: UpstreamHttp, task: dict[str, Any], run: GenerationRun, resumed: bool
    ) -> TaskState:
        try:
            return await self._poll(
                http,
                run,
                task["task_id"],
                submitted_at=float(task["submitted_at"]),
                resumed=resumed,
                on_progress=lambda p: run.progress(
                    0.05 + 0.8 * self._render_fraction(p, float(task["submitted_at"]))
                ),
            )
        except GenerationError as exc:
            if exc.code == UPSTREAM_FAILED:  # the task is gone or failed: forget it if retryable
                await self._give_up_task(run, exc)
            raise

    async def _poll(
        self,
        http: UpstreamHttp,
        run: GenerationRun,
        task_id: str,
        *,
        submitted_at: float,
        resumed: bool,
        on_progress: Callable[[float | None], None],
    ) -> TaskState:
        """Poll ``task_id`` to its end within the overall cap counted from submission. A run on a
        worker's queue parks between polls and resumes here with the cadence it had; an attempt
        that ends in an error starts the next one with a fresh poll loop, as in one process."""

        async def fetch() -> TaskState:
            return await self._fetch(http, task_id)

        parking = _parking(run, task_id)
        try:
            return await poll_until_done(
                fetch,
                provider=self.name,
                deadline=submitted_at + self.policy.timeout,
                policy=self.policy,
                on_progress=on_progress,
                clock=self._clock,
                sleep=self._sleep,
                first_wait=0.0 if resumed else self.policy.poll_initial,
                **parking,
            )
        except GenerationError:
            if parking.get("cursor") is not None:
                await run.remember(POLL, None)
            raise

    def _render_fraction(self, reported: float | None, submitted_at: float) -> float:
        """How far the render is, 0..1: the upstream's own figure, or (where it gives none, or a
        figure behind the clock) an estimate from the time since submission that keeps rising
        and approaches the end only as the task does."""
        elapsed = max(0.0, self._clock() - submitted_at)
        estimate = elapsed / (elapsed + self.policy.expected_render)
        return min(1.0, max(estimate, reported or 0.0))

    async def _give_up_task(self, run: GenerationRun, error: GenerationError | None) -> None:
        """End this attempt for a task that failed. A retryable failure forgets the task (and its
        key), so the next attempt submits a new one; otherwise the job ends here."""
        error = error or GenerationError(UPSTREAM_FAILED, f"{self.name} task failed")
        if error.retryable:
            await run.remember(TASK, None)
            await run.remember(SUBMISSION, None)
            await run.remember(RESUBMITS, int(run.recall(RESUBMITS) or 0) + 1)
        raise error

    async def _fetch_result(
        self, http: UpstreamHttp, task_id: str, state: TaskState, path: Path
    ) -> None:
        url = state.result_url
        if not url:
            raise GenerationError(
                UPSTREAM_MALFORMED,
                f"{self.name} finished task {task_id} without a result link",
                retryable=True,
            )
        try:
            await self._download(http, task_id, url, path)
            return
        except LinkExpired:
            fresh = await self._fresh_link(http, task_id, state)
        if not fresh:
            raise LinkExpired(self.name, 404)
        # One more try on the fresh link; a second dead link fails the job (a retry would only
        # find the same dead task, and resubmitting would render twice).
        await self._download(http, task_id, fresh, path)

    async def _character_task(
        self, http: UpstreamHttp, run: GenerationRun, create: Callable[[], Awaitable[str]]
    ) -> tuple[str, TaskState]:
        """A character registration task (D16): create it (once: its id is remembered the moment
        it is known, D14), then poll it to the end. A retryable failure forgets the task, so the
        job's next attempt registers anew; the upstream does not charge failed tasks."""
        task = run.recall(CHARACTER_TASK)
        resumed = (
            isinstance(task, dict)
            and task.get("adapter") == self.name
            and bool(task.get("task_id"))
        )
        if not resumed:
            try:
                task_id = await create()
            except GenerationError as exc:
                raise self.not_resent(exc) from exc
            task = {"adapter": self.name, "task_id": task_id, "submitted_at": self._clock()}
            await run.remember(CHARACTER_TASK, task)
        assert isinstance(task, dict)
        task_id = str(task["task_id"])
        try:
            state = await self._poll(
                http,
                run,
                task_id,
                submitted_at=float(task.get("submitted_at") or self._clock()),
                resumed=resumed,
                on_progress=lambda p: run.progress(
                    self._render_fraction(p, float(task.get("submitted_at") or self._clock()))
                ),
            )
        except GenerationError as exc:
            if exc.code == UPSTREAM_FAILED and exc.retryable:
                await run.remember(CHARACTER_TASK, None)
            raise
        if state.status == "failed":
            error = state.error or GenerationError(
                UPSTREAM_FAILED, f"{self.name} character task failed"
            )
            if error.retryable:
                await run.remember(CHARACTER_TASK, None)
            raise error
        log.info("%s character task %s done", self.name, task_id)
        return task_id, state

    def _conform(
        self, raw: Path, output: Path, spec: GenerationSpec, plan: RenderPlan
    ) -> list[str]:
        try:
            delivered = probe(raw)
        except Exception as exc:  # PyAV raises several kinds for a file that is not a video
            raise GenerationError(
                UPSTREAM_MALFORMED, f"{self.name}'s result is not a readable video"
            ) from exc
        native_w, native_h = plan.frame_size
        if not same_aspect(
            delivered.width, delivered.height, native_w, native_h, PLANNED_ASPECT_TOLERANCE
        ):
            raise GenerationError(
                UPSTREAM_FAILED,
                f"{self.name} delivered {delivered.width}x{delivered.height},"
                f" not the {plan.aspect_ratio} frame asked for",
            )
        try:
            return conform(
                raw, output, width=spec.width, height=spec.height, duration=spec.duration
            )
        except ShapeError as exc:
            raise GenerationError(
                UPSTREAM_FAILED, f"{self.name}'s render cannot be delivered: {exc}"
            ) from exc


class _Parking(TypedDict, total=False):
    cursor: PollCursor | None
    park: Park


def _parking(run: GenerationRun, task_id: str) -> _Parking:
    """How ``poll_until_done`` waits for this run: a job on a worker's queue parks between polls
    (the slot goes to other work) and resumes from where the poll loop of ``task_id`` stood;
    any other run sleeps in place."""
    if not isinstance(run, ParkingRun) or not run.parks:
        return {}
    saved = run.recall(POLL)
    cursor = (
        PollCursor.from_json(saved.get("cursor"))
        if isinstance(saved, dict) and saved.get("task_id") == task_id
        else None
    )

    async def park(seconds: float, at: PollCursor) -> None:
        await run.park(seconds, POLL, {"task_id": task_id, "cursor": at.to_json()})

    return {"cursor": cursor, "park": park}


class ApiKeyAdapter(UpstreamTaskAdapter):
    """An upstream reached with one API key, sent as a Bearer token (EvoLink, kie, OpenAI)."""

    def __init__(self, api_key: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api_key = api_key

    def available(self) -> bool:
        return bool(self._api_key)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"}
