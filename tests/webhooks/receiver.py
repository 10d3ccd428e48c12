"""A webhook receiver on loopback: a real HTTP server in a thread that answers each request by a
script (a status, or a stall longer than the sender waits) and records what arrived."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Arrival:
    at: float  # time.monotonic()
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Stall:
    """Answer only after ``seconds`` (the sender gives up first)."""

    seconds: float


@dataclass(frozen=True)
class Endless:
    """Answer 200 with a body that never ends (until the sender hangs up or 30 s pass)."""


@dataclass
class Receiver:
    url: str
    script: list[int | Stall | Endless]
    arrivals: list[Arrival] = field(default_factory=list)
    then: int = 200  # the answer once the script is used up

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Arrival]:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.arrivals)


@contextmanager
def receiver(
    script: list[int | Stall | Endless] | None = None, then: int = 200
) -> Iterator[Receiver]:
    state = Receiver(url="", script=list(script or []), then=then)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                state.arrivals.append(
                    Arrival(time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body)
                )
                step = state.script.pop(0) if state.script else state.then
            if isinstance(step, Endless):
                self._endless()
                return
            if isinstance(step, Stall):
                time.sleep(step.seconds)
                step = 200
            try:
                self.send_response(step)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the sender gave up waiting
                pass

        def _endless(self) -> None:
            self.send_response(200)
            self.end_headers()
            deadline = time.monotonic() + 30
            try:
                while time.monotonic() < deadline:
                    self.wfile.write(b"x" * 16384)
            except OSError:  # the sender stopped reading and hung up
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
