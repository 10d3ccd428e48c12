"""What a connection may hold of the server (ADR 0007): a header read timeout and a connection
cap, in uvicorn's HTTP protocol (``knightvision serve`` passes it as ``http=``).

uvicorn closes an idle keep-alive connection (``timeout_keep_alive``, 5 s) but never one that
opened and sent nothing, or sends its request head a byte at a time: 300 such connections stayed
open as long as their clients liked. Here a connection must send a whole request head within
``header_timeout_seconds`` of opening or of its last answer, else it is closed. One timer for all
connections sweeps them (at most a second late): a timer per request would cost every request
two more timer operations.

The cap counts open connections (uvicorn's ``limit_concurrency`` counts the asking connection
too, so a cap of N served N - 1) and requests in flight. Past it a request is answered 503
``server_busy`` in our JSON error shape with ``Retry-After`` and the connection closed, where
uvicorn answers plain text; the body timeout is ``api/middleware.py``'s.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import weakref

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from knightvision.api.middleware import send_error
from knightvision.errors import ServerBusyError
from knightvision.kit.ids import new_request_id
from knightvision.kit.metrics import connection_limited
from knightvision.kit.notices import OncePerKey

log = logging.getLogger("knightvision.connections")

#: File descriptors a process needs besides its clients' connections (database and Redis pools,
#: files being served, the listening socket).
_DESCRIPTORS_BESIDES_CLIENTS = 100
_BUSY_LOGGED_EVERY_SECONDS = 60.0
_busy_logged = OncePerKey(1)


def guarded_http_protocol(
    header_timeout_seconds: float, max_connections: int
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the header timeout and the cap (for ``http=``)."""
    return type(
        "GuardedHttpToolsProtocol",
        (GuardedHttpToolsProtocol,),
        {"header_timeout_seconds": header_timeout_seconds, "max_connections": max_connections},
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_timeout_seconds = 10.0
    max_connections = 1000
    #: When the next request head is due (loop time); None while a request is being answered.
    head_deadline: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.head_deadline = self.loop.time() + self.header_timeout_seconds
        _HeadSweep.of(self.server_state, self.loop, self.header_timeout_seconds).arm()

    def on_headers_complete(self) -> None:
        self.head_deadline = None
        over = (
            len(self.connections) > self.max_connections or len(self.tasks) >= self.max_connections
        )
        # uvicorn starts the request with ``self.app``: ours, or the 503 past the cap.
        self.app = _server_busy if over else self.config.loaded_app
        if over and _busy_logged.first("max_connections", _BUSY_LOGGED_EVERY_SECONDS):
            log.warning(
                "connection cap reached: %d connections open, %d requests in flight"
                " (KNIGHTVISION_MAX_CONNECTIONS=%d); answering 503 server_busy",
                len(self.connections),
                len(self.tasks),
                self.max_connections,
            )
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Unless the connection is closing or a pipelined request already started (its head
        # arrived whole), the next head is due from now.
        if not self.transport.is_closing() and self.cycle.response_complete:
            self.head_deadline = self.loop.time() + self.header_timeout_seconds

    def head_overdue(self, now: float) -> bool:
        return (
            self.head_deadline is not None
            and now >= self.head_deadline
            and (self.cycle is None or self.cycle.response_complete)
            and not self.transport.is_closing()
        )


class _HeadSweep:
    """One timer per server, running while it has connections: closes those whose head is
    overdue."""

    def __init__(self, state: ServerState, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.state = state
        self.loop = loop
        self.every = max(0.05, min(1.0, timeout / 4))
        self.timer: asyncio.TimerHandle | None = None

    @classmethod
    def of(cls, state: ServerState, loop: asyncio.AbstractEventLoop, timeout: float) -> _HeadSweep:
        sweep = _SWEEPS.get(state)
        if sweep is None:
            sweep = _SWEEPS[state] = cls(state, loop, timeout)
        return sweep

    def arm(self) -> None:
        if self.timer is None:
            self.timer = self.loop.call_later(self.every, self._sweep)

    def _sweep(self) -> None:
        self.timer = None
        now = self.loop.time()
        for connection in list(self.state.connections):
            if isinstance(connection, GuardedHttpToolsProtocol) and connection.head_overdue(now):
                log.debug("closed %s: no whole request head in time", connection.client)
                connection_limited("header_timeout")
                connection.transport.close()
        if self.state.connections:
            self.arm()


_SWEEPS: weakref.WeakKeyDictionary[ServerState, _HeadSweep] = weakref.WeakKeyDictionary()


async def _server_busy(scope: Scope, receive: Receive, send: Send) -> None:
    connection_limited("max_connections")
    await send_error(send, new_request_id(), ServerBusyError())


def check_open_file_limit(max_connections: int) -> None:
    """A cap above what the process may open fails as refused connections, not as 503s: say so
    at start."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and max_connections + _DESCRIPTORS_BESIDES_CLIENTS > soft:
        log.warning(
            "KNIGHTVISION_MAX_CONNECTIONS=%d is close to this process's open-file limit (%d):"
            " raise the limit (ulimit -n, systemd LimitNOFILE) or lower the cap",
            max_connections,
            soft,
        )
