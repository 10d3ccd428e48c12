"""Keyset pages over a list ordered newest first (``created_at`` then ``id``, both descending):
``starting_after`` names the last item a partner saw, the next page holds the items after it.

A cursor is an item's own id, not an offset, so items created while a partner pages through the
list never shift a page: new items appear before the first page, none is skipped or repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

Row = TypeVar("Row")


class UnknownCursor(LookupError):
    """``starting_after`` names no item of this list."""


async def after_cursor(
    conn: AsyncConnection,
    query: Select[Any],
    created_at: Column[Any],
    item_id: Column[Any],
    cursor: Any | None,
    limit: int,
    scope: ColumnElement[bool],
) -> tuple[Sequence[Any], bool]:
    """One page of ``query`` (already filtered by ``scope``): up to ``limit`` rows after ``cursor``
    (newest first), and whether more follow. ``scope`` also bounds the cursor's own lookup, so
    another account's id is as unknown as a made-up one."""
    if cursor is not None:
        anchor = (
            await conn.execute(select(created_at).where(scope, item_id == cursor))
        ).scalar_one_or_none()
        if anchor is None:
            raise UnknownCursor(cursor)
        query = query.where(or_(created_at < anchor, and_(created_at == anchor, item_id < cursor)))
    rows = (
        await conn.execute(query.order_by(created_at.desc(), item_id.desc()).limit(limit + 1))
    ).all()
    return rows[:limit], len(rows) > limit
