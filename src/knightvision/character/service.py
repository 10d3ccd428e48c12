"""Characters as partners see them: create, finalize (D4 order), read, list; and resolving the
characters a generate-video request names (D16).

Both submissions follow D4: validate -> the character upstream available -> price and balance ->
debit and enqueue in one transaction. A character id that is not an integer, does not exist or
belongs to another account is 404 "Not found" alike (D9).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from knightvision.account.repository import KeyPrincipal
from knightvision.adapter_names import AdapterName
from knightvision.character import repository
from knightvision.character.mentions import find_mentions, rewrite
from knightvision.character.params import (
    CharacterCreateParams,
    CharacterFinalizeParams,
    finalize_params,
)
from knightvision.character.repository import CharacterRecord, CharacterStatus
from knightvision.character.upstream import LOCAL, CharacterUpstream, frame_size
from knightvision.character.validation import (
    CharacterRequest,
    FinalizeRequest,
    not_found_id,
    parse_character_request,
    parse_finalize_request,
)
from knightvision.credit import ledger
from knightvision.db.pages import UnknownCursor
from knightvision.errors import (
    BadRequestError,
    GenerationUnavailableError,
    InvalidCursorError,
    NotFoundError,
)
from knightvision.job.queue import JobQueue
from knightvision.job.status import JobStatus
from knightvision.job.views import ReplyRecorder, present
from knightvision.kit.clock import format_wire, utcnow
from knightvision.kit.ids import new_job_id
from knightvision.providers.video_model.port import VideoModelAdapter
from knightvision.video.params import VideoCharacter, VideoCharacters
from knightvision.video.upstreams import upstream_capabilities
from knightvision.video.validation import MAX_CHARACTERS, VideoRequest

CHARACTER_CREATE = "character.create"
CHARACTER_FINALIZE = "character.finalize"
CREATE_JOB_FAMILY = "char"
FINALIZE_JOB_FAMILY = "charfin"


def character_video_key(public_token: str) -> str:
    return f"characters/{public_token}.mp4"


def handle_for(name: str, public_token: str) -> str:
    """The handle we ask an upstream for (kie: globally unique, at most 40 characters)."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:24] or "character"
    return f"{slug}_{public_token[:8]}"


class CharacterService:
    def __init__(
        self,
        engine: AsyncEngine,
        queue: JobQueue,
        adapters: dict[str, VideoModelAdapter],
        prices: dict[str, int],
        base_url: str,
        upstream: CharacterUpstream,
    ) -> None:
        self.engine = engine
        self.queue = queue
        self.adapters = adapters
        self.prices = prices
        self.base_url = base_url
        self.upstream = upstream

    def video_url(self, public_token: str) -> str:
        return f"{self.base_url}/static/characters/{public_token}.mp4"

    def _available(self, adapter: str) -> bool:
        if adapter == LOCAL:
            return True
        upstream = self.adapters.get(adapter)
        return upstream is not None and upstream.available()

    # Submissions ------------------------------------------------------------------------------

    def _accept_create(self, body: dict[str, Any]) -> CharacterRequest:
        request = parse_character_request(body, self.upstream)
        if self.upstream.disabled or not self._available(self.upstream.adapter):
            raise GenerationUnavailableError()
        return request

    async def quote_create(self, principal: KeyPrincipal, body: dict[str, Any]) -> int:
        """What ``create`` would charge for ``body``, or the error it would answer."""
        self._accept_create(body)
        return self.prices["character_creation"]

    async def create(
        self,
        principal: KeyPrincipal,
        body: dict[str, Any],
        record_reply: ReplyRecorder | None = None,
    ) -> dict[str, Any]:
        request = self._accept_create(body)
        # A test-mode key's character is made here, whatever the route: no upstream is called.
        route = CharacterUpstream(LOCAL, None) if principal.test_mode else self.upstream
        cost = self.prices["character_creation"]
        now = utcnow()
        job_id = new_job_id(now, CREATE_JOB_FAMILY)
        token = secrets.token_hex(12)
        width, height = frame_size(request.aspect_ratio)
        async with self.queue.paid_transaction(job_id) as conn:
            remaining = await ledger.debit(
                conn, principal.account_id, cost, job_id, "character creation", now
            )
            await self.queue.debited(conn, principal.account_id, cost, remaining)
            character_id = await repository.insert(
                conn,
                account_id=principal.account_id,
                name=request.name,
                prompt=request.prompt,
                duration=request.duration,
                aspect_ratio=request.aspect_ratio,
                public_token=token,
                adapter=route.adapter,
                upstream_model=route.upstream_model,
                create_job_id=job_id,
                now=now,
            )
            params: CharacterCreateParams = {
                "character_id": character_id,
                "public_token": token,
                "name": request.name,
                "prompt": request.prompt,
                "duration": request.duration,
                "aspect_ratio": request.aspect_ratio,
                "width": width,
                "height": height,
                "adapter": route.adapter,
                "upstream_model": route.upstream_model,
            }
            await self.queue.enqueue(
                conn,
                job_id=job_id,
                account_id=principal.account_id,
                kind=CHARACTER_CREATE,
                status=JobStatus.PROCESSING,
                message="Creating the character video...",
                credits_used=cost,
                now=now,
                params=params,
            )
            reply = {
                "character_id": character_id,
                "status": CharacterStatus.PROCESSING,
                "credits_used": cost,
                "credits_remaining": remaining,
            }
            if record_reply is not None:
                await record_reply(conn, reply)
        return reply

    async def _accept_finalize(
        self, principal: KeyPrincipal, raw_id: str, body: dict[str, Any]
    ) -> tuple[CharacterRecord, FinalizeRequest]:
        record = await self._owned(principal, raw_id)
        upstream = CharacterUpstream(record.adapter, record.upstream_model)
        request = parse_finalize_request(body, record.duration, upstream)
        if record.status != CharacterStatus.READY:
            raise BadRequestError("Character is not ready", code="character_not_ready")
        if not self._available(record.adapter):
            raise GenerationUnavailableError()
        return record, request

    async def quote_finalize(
        self, principal: KeyPrincipal, raw_id: str, body: dict[str, Any]
    ) -> int:
        """What ``finalize`` would charge for ``body``, or the error it would answer."""
        await self._accept_finalize(principal, raw_id, body)
        return self.prices["character_finalize"]

    async def finalize(
        self,
        principal: KeyPrincipal,
        raw_id: str,
        body: dict[str, Any],
        record_reply: ReplyRecorder | None = None,
    ) -> dict[str, Any]:
        record, request = await self._accept_finalize(principal, raw_id, body)
        cost = self.prices["character_finalize"]
        now = utcnow()
        job_id = new_job_id(now, FINALIZE_JOB_FAMILY)
        video = record.video or {}
        params: CharacterFinalizeParams = {
            "character_id": record.id,
            "public_token": record.public_token,
            "name": record.name,
            "prompt": record.prompt,
            "duration": record.duration,
            "adapter": record.adapter,
            "upstream_model": record.upstream_model,
            "origin_task_id": video.get("origin_task_id"),
            "video_url": self.video_url(record.public_token),
            "handle": handle_for(record.name, record.public_token),
            "timestamp_start": request.timestamp_start,
            "timestamp_end": request.timestamp_end,
            "character_prompt": request.character_prompt,
        }
        async with self.queue.paid_transaction(job_id) as conn:
            remaining = await ledger.debit(
                conn, principal.account_id, cost, job_id, "character finalize", now
            )
            await self.queue.debited(conn, principal.account_id, cost, remaining)
            previous = record.finalize.id if record.finalize is not None else None
            if not await repository.claim_finalize(conn, record.id, previous, job_id, now):
                raise BadRequestError(
                    "Character is not ready", code="character_not_ready"
                )  # another finalize won
            await self.queue.enqueue(
                conn,
                job_id=job_id,
                account_id=principal.account_id,
                kind=CHARACTER_FINALIZE,
                status=JobStatus.FINALIZING,
                message="Finalizing the character...",
                params=params,
                credits_used=cost,
                now=now,
            )
            reply = {
                "status": CharacterStatus.FINALIZING,
                "credits_used": cost,
                "credits_remaining": remaining,
            }
            if record_reply is not None:
                await record_reply(conn, reply)
        return reply

    # Reads ------------------------------------------------------------------------------------

    async def _owned(self, principal: KeyPrincipal, raw_id: str) -> CharacterRecord:
        character_id = not_found_id(raw_id)
        if character_id is None:
            raise NotFoundError()
        async with self.engine.connect() as conn:
            record = await repository.get(conn, principal.account_id, character_id)
        if record is None:
            raise NotFoundError()
        return record

    async def get(self, principal: KeyPrincipal, raw_id: str) -> dict[str, Any]:
        return {"character": self._detail(await self._owned(principal, raw_id))}

    async def event_view(self, conn: AsyncConnection, job_id: str) -> dict[str, Any]:
        """What GET /characters/<id> answers, for the event its create or finalize job ends with."""
        return {"character": self._detail(await repository.by_job(conn, job_id))}

    async def list(
        self, principal: KeyPrincipal, limit: int, starting_after: str | None = None
    ) -> dict[str, Any]:
        cursor = None
        if starting_after is not None:
            cursor = not_found_id(starting_after)
            if cursor is None:
                raise InvalidCursorError()
        async with self.engine.connect() as conn:
            try:
                records, has_more = await repository.list_for_account(
                    conn, principal.account_id, limit, cursor
                )
            except UnknownCursor:
                raise InvalidCursorError() from None
        return {"characters": [self._summary(record) for record in records], "has_more": has_more}

    def _summary(self, record: CharacterRecord) -> dict[str, Any]:
        status = record.status
        view: dict[str, Any] = {
            "id": record.id,
            "name": record.name,
            "status": status,
            "aspect_ratio": record.aspect_ratio,
            "created_at": format_wire(record.created_at),
        }
        video = record.video
        if video is not None:  # D13: once ready, so partners can choose finalize timestamps
            view["duration"] = record.duration
            view["video_url"] = self.video_url(record.public_token)
        failed = (
            record.create
            if status == CharacterStatus.FAILED
            else (
                record.finalize if record.finalize is not None and record.finalize.failed else None
            )
        )
        if failed is not None:
            view.update(
                error=failed.error,
                error_code=failed.error_code,
                failed_stage=failed.failed_stage,
                retryable=failed.retryable,
            )
        return present(view)

    def _detail(self, record: CharacterRecord) -> dict[str, Any]:
        view = self._summary(record)
        view.update(
            prompt=record.prompt,
            credits_used=record.create.credits_used,
            credits_refunded=record.create.credits_refunded,
        )
        if record.video is not None:
            view.update(width=record.video.get("width"), height=record.video.get("height"))
        finalize = record.finalize
        if finalize is not None:
            asked = finalize_params(finalize.params)
            view["finalize"] = present(
                {
                    "status": CharacterStatus.FINALIZED
                    if finalize.complete
                    else CharacterStatus.FAILED
                    if finalize.failed
                    else CharacterStatus.FINALIZING,
                    "timestamp_start": asked.get("timestamp_start"),
                    "timestamp_end": asked.get("timestamp_end"),
                    "character_prompt": asked.get("character_prompt"),
                    "credits_used": finalize.credits_used,
                    "credits_refunded": finalize.credits_refunded,
                    "created_at": format_wire(finalize.created_at),
                    "finished_at": format_wire(finalize.finished_at),
                    "error": finalize.error if finalize.failed else None,
                    "error_code": finalize.error_code if finalize.failed else None,
                }
            )
        return present(view)


class CharacterDirectory:
    """Resolves the characters a generate-video request names (D16), at submit, into job params."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def for_video(self, account_id: int, request: VideoRequest) -> VideoCharacters | None:
        async with self.engine.connect() as conn:
            usable = {record.id: record for record in await repository.finalized(conn, account_id)}
        for character_id in request.character_ids:
            if character_id not in usable:
                raise BadRequestError("Unknown character", code="unknown_character")
        mentions = find_mentions(
            request.prompt, [(record.id, record.name) for record in usable.values()]
        )
        chosen = list(
            dict.fromkeys([*request.character_ids, *(mention.character_id for mention in mentions)])
        )
        if not chosen:
            return None
        if len(chosen) > MAX_CHARACTERS:
            raise BadRequestError("At most 2 characters per video", code="too_many_characters")
        model = request.model
        records = [usable[character_id] for character_id in chosen]
        entries = [_usage(record) for record in records]
        if model.adapter != LOCAL:
            caps = upstream_capabilities(model.adapter, model.upstream_model)
            storyboard = model.adapter == AdapterName.KIE and (
                model.upstream_model == "sora-2-pro-storyboard" or request.duration == 25
            )
            if (
                caps is None
                or not caps.characters
                or storyboard
                or any(
                    entry["adapter"] != model.adapter or not entry.get("upstream_id")
                    for entry in entries
                )
            ):
                raise BadRequestError(
                    "Characters are not available for this model", code="characters_unsupported"
                )
        by_id = {entry["id"]: entry for entry in entries}
        prompt = rewrite(
            request.prompt,
            mentions,
            lambda character_id: _label(by_id[character_id], model.adapter),
        )
        unmentioned = [by_id[c] for c in chosen if c not in {m.character_id for m in mentions}]
        if unmentioned and model.adapter != LOCAL:  # upstreams want the character named in it
            featuring = " and ".join(_label(entry, model.adapter) for entry in unmentioned)
            prompt = f"Featuring {featuring}. {prompt}"
        caps = upstream_capabilities(model.adapter, model.upstream_model)
        if caps is not None and len(prompt) > caps.max_prompt_chars:
            raise BadRequestError(
                f"Prompt must be {caps.max_prompt_chars} characters or less for this model",
                code="prompt_too_long",
            )
        return {"characters": entries, "render_prompt": prompt}


def _usage(record: CharacterRecord) -> VideoCharacter:
    finalized = record.finalized or {}
    upstream = finalized.get("upstream") or {}
    entry: VideoCharacter = {
        "id": record.id,
        "name": record.name,
        "adapter": upstream.get("adapter") or record.adapter,
        "reference_keys": finalized.get("reference_keys") or [],
    }
    # Absent, not null, when the character has no upstream registration (D13).
    if upstream.get("character_id") is not None:
        entry["upstream_id"] = upstream["character_id"]
    if upstream.get("handle") is not None:
        entry["handle"] = upstream["handle"]
    if record.adapter == LOCAL:  # our presenter renderer drew it from its prompt: draw it live
        entry["presenter_prompt"] = record.prompt
    return entry


def _label(entry: VideoCharacter, adapter: str) -> str:
    """How a prompt names the character for the upstream rendering it."""
    handle = entry.get("handle")
    if adapter in (AdapterName.KIE, AdapterName.EVOLINK) and handle:
        return f"@{handle}"
    if adapter == AdapterName.OPENAI and handle:
        return handle  # OpenAI wants the registered name, word for word
    return entry["name"]
