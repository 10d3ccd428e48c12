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

# Several decisions in one call, in order. Decision i has KEYS[i] its window and ARGV[i+1] its
# limit; ARGV[1] is the window in seconds. Returns one string, per decision "allowed count reset"
# (allowed 0/1, hits in the window after this call, seconds until a slot frees), decisions joined
# by ";": one reply to parse, not 3 per decision.
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

local function decide(key, limit)
  -- Hits that left the window are dropped; what is left is counted in O(1).
  redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    -- A full window frees a slot when the hit at rank count - limit, oldest first, leaves it.
    local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    return 0, count, reset_of(tonumber(entry[2]))
  end
  local member = string.format('%.6f', now)
  if redis.call('ZSCORE', key, member) then member = member .. '-' .. count end
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, window + 1)
  local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
  return 1, count + 1, reset_of(oldest)
end

local out = {}
for i = 1, #KEYS do
  local allowed, count, reset = decide(KEYS[i], tonumber(ARGV[i + 1]))
  out[i] = allowed .. ' ' .. count .. ' ' .. reset
end
return table.concat(out, ';')
"""

#: At most this many decisions go in one call.
MAX_BATCH = 256

Outcome = tuple[bool, int, int]


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
        self._pending: list[tuple[str, str, asyncio.Future[Outcome]]] = []
        self._in_flight = 0
        # Calls out at once: overlapping ones cut the wait to about one round trip.
        self._max_in_flight = max(1, min(4, max_connections - 1))
        self._flush_scheduled = False
        self._sending: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak refs

    async def decide(self, bucket: str, identity: str, limit: int) -> Outcome:
        """Logs a hit unless the window is full: (allowed, hits in the window, seconds until a
        slot frees)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._pending.append((self._key(bucket, identity), str(limit), future))
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

    async def _send(self, batch: list[tuple[str, str, asyncio.Future[Outcome]]]) -> None:
        keys = [key for key, _, _ in batch]
        args = [str(WINDOW_SECONDS), *(limit for _, limit, _ in batch)]
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
                    allowed, count, reset = outcome.split()
                    future.set_result((allowed == b"1", int(count), int(reset)))
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
