"""Operator actions on accounts, keys and credits, on each real database: what the CLI relies on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from knightvision.account import admin
from knightvision.db.engine import create_engine
from knightvision.db.migrate import upgrade
from knightvision.db.schema import api_keys
from knightvision.errors import OperatorError
from knightvision.kit.ids import hash_api_key
from knightvision.pricing import DEFAULT_RATE_LIMITS
from knightvision.settings import Settings


@pytest.fixture
async def engine(backend_url: str) -> AsyncIterator[AsyncEngine]:
    async_url = Settings(database_url=backend_url).async_database_url
    await asyncio.to_thread(upgrade, async_url)
    engine = create_engine(async_url)
    yield engine
    await engine.dispose()


async def test_a_new_account_gets_its_credits_and_one_key_kept_only_as_a_hash(engine) -> None:
    created = await admin.create_account(engine, "acme", 500)
    assert created["credits"] == 500
    token = created["api_key"]
    assert token.startswith("kv_partner_") and token.startswith(created["key_prefix"])
    async with engine.connect() as conn:
        rows = (await conn.execute(select(api_keys))).all()
    assert len(rows) == 1
    stored = rows[0]._mapping
    assert stored["key_hash"] == hash_api_key(token)
    assert token not in {str(value) for value in stored.values()}
    shown = await admin.show_credits(engine, "acme")
    assert shown["credits"] == shown["ledger_sum"] == 500
    assert [entry["kind"] for entry in shown["recent"]] == ["grant"]


@pytest.mark.parametrize(
    ("name", "credits", "message"),
    [(" ", 10, "an account needs a name"), ("acme", -1, "credits must be zero or more")],
)
async def test_bad_accounts_are_refused(engine, name: str, credits: int, message: str) -> None:
    with pytest.raises(OperatorError, match=message):
        await admin.create_account(engine, name, credits)
    assert await admin.list_accounts(engine) == []


async def test_an_account_name_is_taken_once(engine) -> None:
    await admin.create_account(engine, "acme", 0)
    with pytest.raises(OperatorError, match="account 'acme' already exists"):
        await admin.create_account(engine, "acme", 0)


async def test_a_key_deactivated_by_its_prefix_stays_listed_as_inactive(engine) -> None:
    first = await admin.create_account(engine, "acme", 0)
    second = await admin.create_key(engine, "acme")
    shown = await admin.deactivate_key(engine, second["key_prefix"])
    assert shown["active"] is False and shown["deactivated_at"] is not None
    keys = {key["key_prefix"]: key["active"] for key in await admin.list_keys(engine, "acme")}
    assert keys == {first["key_prefix"]: True, second["key_prefix"]: False}
    with pytest.raises(OperatorError, match="no key matches"):
        await admin.deactivate_key(engine, "kv_partner_nosuchkey")


async def test_key_limits_are_set_removed_and_cleared(engine) -> None:
    key = (await admin.create_account(engine, "acme", 0))["api_key"]
    shown = await admin.key_limits(engine, key, {"video_status": 1000, "credits": 5})
    assert shown["rate_limits"] == {"video_status": 1000, "credits": 5}
    assert shown["effective_limits"] == {**DEFAULT_RATE_LIMITS, "video_status": 1000, "credits": 5}
    shown = await admin.key_limits(engine, key, {"credits": None})
    assert shown["rate_limits"] == {"video_status": 1000}
    shown = await admin.key_limits(engine, key, clear=True)
    assert shown["rate_limits"] == {} and shown["effective_limits"] == DEFAULT_RATE_LIMITS
    with pytest.raises(OperatorError, match="unknown endpoint names"):
        await admin.key_limits(engine, key, {"everything": 1})
    with pytest.raises(OperatorError, match="at least 1 request per minute"):
        await admin.key_limits(engine, key, {"credits": 0})


async def test_credits_change_only_by_ledger_entries_and_never_below_zero(engine) -> None:
    await admin.create_account(engine, "acme", 100)
    assert (await admin.change_credits(engine, "acme", 50, "top-up", kind="grant"))[
        "credits"
    ] == 150
    after = await admin.change_credits(engine, "acme", -30, "goodwill reversal", kind="adjustment")
    assert after["credits"] == 120
    with pytest.raises(OperatorError, match="the balance is 120; it cannot go below zero"):
        await admin.change_credits(engine, "acme", -121, "too much", kind="adjustment")
    with pytest.raises(OperatorError, match="credits to add must be positive"):
        await admin.change_credits(engine, "acme", 0, "nothing", kind="grant")
    with pytest.raises(OperatorError, match="needs a non-zero amount and a reason"):
        await admin.change_credits(engine, "acme", -5, " ", kind="adjustment")
    shown = await admin.show_credits(engine, "acme")
    assert shown["credits"] == shown["ledger_sum"] == 120
    assert [entry["amount"] for entry in shown["recent"]][:2] == [-30, 50]


async def test_an_unknown_job_or_account_is_an_operator_error(engine) -> None:
    with pytest.raises(OperatorError, match="no job 'local_20260101_000000_abcdef'"):
        await admin.show_job(engine, "local_20260101_000000_abcdef")
    with pytest.raises(OperatorError):
        await admin.show_credits(engine, "nobody")
