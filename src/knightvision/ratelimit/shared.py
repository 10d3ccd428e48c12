"""The moving window on Redis, shared by every API process: one round trip per decision.

A Lua script tests the window, logs the hit and reads what the headers need in one atomic step on
the server, so N concurrent requests get N distinct ``RateLimit-Remaining`` values and no request
can slip between a test and a hit (issue 11; ADR 0004). Time is the Redis server's clock, so API
hosts with skewed clocks still share one window.

Per (bucket, identity) a list of hit times, newest first, trimmed to the limit: only the newest
``limit`` hits can decide a refusal, and the oldest of them is when a slot frees.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis

WINDOW_SECONDS = 60

# KEYS[1] the window; ARGV: its limit, 1 to log the hit (0 only to test), window seconds.
# Optionally KEYS[2] a guard window and ARGV[4] its limit: when that one is full nothing is logged.
# Returns {allowed 0/1, hits in the window after this call, seconds until a slot frees,
# 1 when refused by the guard window (the other two values are then the guard's)}.
_WINDOW_SCRIPT = """
local window = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local cutoff = now - window

local function state(key, limit)
  local entries = redis.call('LRANGE', key, 0, limit - 1)
  local count = 0
  for i = 1, #entries do
    if tonumber(entries[i]) < cutoff then break end
    count = i
  end
  local oldest = now
  if count > 0 then oldest = tonumber(entries[count]) end
  return count, oldest
end

local function reset_of(oldest)
  local reset = math.ceil(oldest + window - now)
  if reset < 0 then return 0 end
  return reset
end

if KEYS[2] then
  local guard_limit = tonumber(ARGV[4])
  local count, oldest = state(KEYS[2], guard_limit)
  if count >= guard_limit then return {0, count, reset_of(oldest), 1} end
end

local key, limit = KEYS[1], tonumber(ARGV[1])
local count, oldest = state(key, limit)
local allowed = count < limit
if allowed and ARGV[2] == '1' then
  redis.call('LPUSH', key, string.format('%.6f', now))
  redis.call('LTRIM', key, 0, limit - 1)
  redis.call('EXPIRE', key, window + 1)
  count = count + 1
  if count == 1 then oldest = now end
end
return {allowed and 1 or 0, count, reset_of(oldest), 0}
"""


class RedisWindows:
    """Moving windows on a shared Redis, through a bounded connection pool.

    ``max_connections`` caps this process's connections; a request that finds them all busy
    waits up to ``pool_timeout`` seconds for one, then fails like an unreachable Redis (503).
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
        )
        self.client: Redis = Redis(connection_pool=pool)
        self._script = self.client.register_script(_WINDOW_SCRIPT)
        self._prefix = key_prefix

    async def decide(
        self,
        bucket: str,
        identity: str,
        limit: int,
        *,
        hit: bool,
        unless_full: tuple[str, str, int] | None = None,
    ) -> tuple[bool, int, int, bool]:
        """(allowed, hits in the window, seconds until a slot frees, refused by ``unless_full``)
        in one round trip. ``unless_full`` (bucket, identity, limit) is a window tested first:
        when it is full the request is refused and nothing is logged."""
        keys = [self._key(bucket, identity)]
        args: list[Any] = [limit, 1 if hit else 0, WINDOW_SECONDS]
        if unless_full is not None:
            keys.append(self._key(unless_full[0], unless_full[1]))
            args.append(unless_full[2])
        result: Any = await self._script(keys=keys, args=args)
        allowed, count, reset, by_guard = result
        return bool(allowed), int(count), int(reset), bool(by_guard)

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
