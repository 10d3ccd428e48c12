"""The moving window on Redis, shared by every API process: one round trip per decision.

A Lua script tests the window, logs the hit and reads what the headers need in one atomic step on
the server, so N concurrent requests get N distinct ``RateLimit-Remaining`` values and no request
can slip between a test and a hit (ADR 0004). Time is the Redis server's clock, so API
hosts with skewed clocks still share one window.

Per (bucket, identity) a sorted set of the hit times in the window: hits that left it are dropped
first, so counting is O(1) and a lowered per-key limit counts the hits already logged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

WINDOW_SECONDS = 60

# Several decisions in one call, in order. Decision i has KEYS[2i-1] its window and KEYS[2i] its
# guard window (unused when its guard limit is 0), and ARGV[i+1] "limit hit guard_limit" (hit: 1 to
# log the hit, 0 only to test); ARGV[1] is the window in seconds. When the guard window is full
# nothing is logged. Returns one string, per decision "allowed count reset by_guard" (allowed 0/1,
# hits in the window after this call, seconds until a slot frees, 1 when refused by the guard:
# the two values before are then its), decisions joined by ";": one reply to parse, not 4 per
# decision.
_WINDOW_SCRIPT = """
local window = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local cutoff = '(' .. string.format('%.6f', now - window)

local function reset_of(oldest)
  local reset = math.ceil(oldest + window - now)
  if reset < 0 then return 0 end
  return reset
end

-- Hits that left the window are dropped; what is left is counted in O(1).
local function live(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  return redis.call('ZCARD', key)
end

-- When a full window frees a slot: the hit at rank count - limit, oldest first, leaves it.
local function refusal_reset(key, count, limit)
  local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  return reset_of(tonumber(entry[2]))
end

local function decide(key, limit, hit, guard_key, guard_limit)
  if guard_limit > 0 then
    local count = live(guard_key)
    if count >= guard_limit then
      return 0, count, refusal_reset(guard_key, count, guard_limit), 1
    end
  end
  local count = live(key)
  if count >= limit then return 0, count, refusal_reset(key, count, limit), 0 end
  if hit then
    local member = string.format('%.6f', now)
    if redis.call('ZSCORE', key, member) then member = member .. '-' .. count end
    redis.call('ZADD', key, now, member)
    redis.call('EXPIRE', key, window + 1)
    count = count + 1
  end
  local oldest = now
  if count > 0 then oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]) end
  return 1, count, reset_of(oldest), 0
end

local out = {}
for i = 1, #KEYS / 2 do
  local limit, hit, guard_limit = string.match(ARGV[i + 1], '(%d+) (%d) (%d+)')
  local allowed, count, reset, by_guard = decide(
    KEYS[2 * i - 1], tonumber(limit), hit == '1', KEYS[2 * i], tonumber(guard_limit))
  out[i] = allowed .. ' ' .. count .. ' ' .. reset .. ' ' .. by_guard
end
return table.concat(out, ';')
"""

#: At most this many decisions go in one call.
MAX_BATCH = 256

Outcome = tuple[bool, int, int, bool]


class RedisWindows:
    """Moving windows on a shared Redis, through a bounded connection pool.

    The decisions asked for in one event-loop turn go together in one call (a few calls overlap;
    past that they wait and go together in the next): one round trip for many requests under
    load, one per request when idle. Each decision is still atomic on the server.

    ``max_connections`` caps this process's connections; a call that finds them all busy waits up
    to ``timeout_seconds`` for one, then fails like an unreachable Redis (503).
    """

    def __init__(
        self,
        url: str,
        *,
        max_connections: int,
        timeout_seconds: float = 2.0,
        key_prefix: str = "kv:rl:",
    ) -> None:
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            socket_timeout=timeout_seconds,
            # One retry, on a fresh connection (a pooled one may be stale after a Redis restart);
            # more would hold a request for several timeouts before its 503.
            retry=Retry(NoBackoff(), 1),
        )
        self.client: Redis = Redis(connection_pool=pool)
        self._script = self.client.register_script(_WINDOW_SCRIPT)
        self._prefix = key_prefix
        self._pending: list[tuple[str, str, str, asyncio.Future[Outcome]]] = []
        self._in_flight = 0
        # Calls out at once: overlapping ones cut the wait to about one round trip.
        self._max_in_flight = max(1, min(4, max_connections - 1))
        self._flush_scheduled = False
        self._sending: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak refs

    async def decide(
        self,
        bucket: str,
        identity: str,
        limit: int,
        *,
        hit: bool,
        unless_full: tuple[str, str, int] | None = None,
    ) -> Outcome:
        """(allowed, hits in the window, seconds until a slot frees, refused by ``unless_full``).
        ``unless_full`` (bucket, identity, limit) is a window tested first: when it is full the
        request is refused and nothing is logged."""
        key = self._key(bucket, identity)
        if unless_full is None:
            guard_key, guard_limit = key, 0
        else:
            guard_key, guard_limit = self._key(unless_full[0], unless_full[1]), unless_full[2]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._pending.append((key, guard_key, f"{limit} {1 if hit else 0} {guard_limit}", future))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        """Sends this loop turn's decisions, unless ``max_in_flight`` calls are out already: then
        the first to come back sends them."""
        self._flush_scheduled = False
        if self._in_flight >= self._max_in_flight or not self._pending:
            return
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        self._in_flight += 1
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[str, str, str, asyncio.Future[Outcome]]]) -> None:
        keys = [key for entry in batch for key in entry[:2]]
        args = [str(WINDOW_SECONDS), *(entry[2] for entry in batch)]
        try:
            reply: Any = await self._script(keys=keys, args=args)
        except asyncio.CancelledError:
            for *_, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
        else:
            for outcome, (*_, future) in zip(reply.split(b";"), batch, strict=True):
                if not future.done():
                    allowed, count, reset, by_guard = outcome.split()
                    future.set_result((allowed == b"1", int(count), int(reset), by_guard == b"1"))
        finally:
            self._in_flight -= 1
            self._flush()

    def _key(self, bucket: str, identity: str) -> str:
        return f"{self._prefix}{bucket}:{identity}"

    async def ping(self) -> None:
        await self.client.ping()

    async def reset(self) -> None:
        """Forget every window under this prefix (tests: key ids restart in every database)."""
        async for key in self.client.scan_iter(match=f"{self._prefix}*", count=1000):
            await self.client.delete(key)

    async def close(self) -> None:
        await self.client.aclose()
