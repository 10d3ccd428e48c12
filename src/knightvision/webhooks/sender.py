"""One POST of a signed message to a checked address: bounded in time and in what it reads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from knightvision.webhooks.address import Target

MAX_RESPONSE_BYTES = 64 * 1024  # a receiver's reply is read only this far: it is never used


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def post(
    target: Target, headers: dict[str, str], body: bytes, timeout_seconds: float
) -> Outcome:
    """Send to ``target.address`` (never re-resolved here), naming the URL's host in Host and,
    for https, in SNI and the certificate check. No redirects: a 3xx is a failed attempt."""
    extensions = {"sni_hostname": target.url.host} if target.url.scheme == "https" else {}
    try:
        async with asyncio.timeout(timeout_seconds):  # the whole exchange, not each read
            async with httpx.AsyncClient(
                timeout=timeout_seconds, follow_redirects=False, trust_env=False
            ) as client:
                request = client.build_request(
                    "POST",
                    target.connect_url(),
                    content=body,
                    headers={**headers, "host": target.host_header()},
                    extensions=extensions,
                )
                response = await client.send(request, stream=True)
                try:
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read >= MAX_RESPONSE_BYTES:
                            break
                finally:
                    await response.aclose()
                return Outcome(response.status_code)
    except TimeoutError:
        return Outcome(None, f"timed out after {timeout_seconds:g} s")
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:300])
