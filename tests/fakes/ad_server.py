"""A loopback HTTP server standing in for ad platforms and their CDNs: canned replies, counted
requests.

Replies are real HTTP (status, headers, bodies, redirects, stalls, slow drips), so yt-dlp's own
networking, extractors and downloader run exactly as they would against a site.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before the status line: a server that does not answer
    drip: tuple[int, float] | None = (
        None  # (bytes per write, seconds between writes): a slow download
    )
    content_length: bool = (
        True  # False: no Content-Length, the body ends when the connection closes
    )

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Reply:
        return cls(status=status, headers={"Location": location})

    @classmethod
    def page(cls, html: str, status: int = 200) -> Reply:
        return cls(status=status, body=html.encode("utf-8"))


class AdServer:
    """``with AdServer() as server: server.route("/x", Reply(...)); server.url("/x")``."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.hits: Counter[str] = Counter()
        self.headers: dict[str, dict[str, str]] = {}  # the last request's headers, by path
        self.calls: list[tuple[str, str]] = []  # (method, path), in order
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # a stalled reply must not hold up shutdown
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``: the allowlist entry that lets our URL rules accept this server."""
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def route(self, path: str, reply: Reply, *, method: str | None = None) -> None:
        """Serve ``reply`` at ``path`` (with its query string, if it has one), for one method or
        all."""
        self.routes[f"{method} {path}" if method else path] = reply

    def count(self, path: str) -> int:
        with self._lock:
            return self.hits[path]

    def total(self) -> int:
        with self._lock:
            return sum(self.hits.values())

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(with_body=True)

            def do_HEAD(self) -> None:
                self._answer(with_body=False)

            def _answer(self, with_body: bool) -> None:
                with server._lock:
                    server.hits[self.path] += 1
                    server.headers[self.path] = dict(self.headers.items())
                    server.calls.append((self.command, self.path))
                reply = (
                    server.routes.get(f"{self.command} {self.path}")
                    or server.routes.get(self.path)
                    or server.routes.get(self.path.partition("?")[0])
                )
                if reply is None:
                    reply = Reply.page("<html><body>not found</body></html>", status=404)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    if reply.content_length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if with_body:
                        self._write(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a size or time cap): that is what the test wants

            def _write(self, reply: Reply) -> None:
                if reply.drip is None:
                    self.wfile.write(reply.body)
                    return
                size, pause = reply.drip
                for start in range(0, len(reply.body), size):
                    self.wfile.write(reply.body[start : start + size])
                    self.wfile.flush()
                    time.sleep(pause)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
