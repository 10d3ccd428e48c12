"""A tiny fake of OpenAI's ``POST /v1/audio/transcriptions`` on loopback (real HTTP, no mocks).

Answers come from a script of ``(status, headers, body)``; every request is recorded with its
headers and parsed multipart fields so tests can check what the adapter sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    fields: list[tuple[str, str]]
    files: dict[str, tuple[str, bytes]]


@dataclass
class FakeOpenAI:
    base_url: str
    script: list[tuple[int, dict[str, str], Any]]
    requests: list[Recorded] = field(default_factory=list)


def verbose_body(
    *, language: str = "english", avg_logprob: float = -0.2, text: str | None = None
) -> dict[str, Any]:
    """A ``verbose_json`` answer with word and segment timestamps."""
    words = [
        ("Order", 0.5, 0.8),
        ("today", 0.8, 1.2),
        ("and", 1.2, 1.3),
        ("get", 1.3, 1.5),
        ("free", 1.5, 1.8),
        ("shipping.", 1.8, 2.4),
    ]
    spoken = text or " ".join(w for w, _, _ in words)
    return {
        "task": "transcribe",
        "language": language,
        "duration": 6.0,
        "text": spoken,
        "segments": [
            {
                "id": 0,
                "seek": 0,
                "start": 0.5,
                "end": 2.4,
                "text": " " + spoken,
                "tokens": [1, 2, 3],
                "temperature": 0.0,
                "avg_logprob": avg_logprob,
                "compression_ratio": 1.1,
                "no_speech_prob": 0.01,
            },
        ],
        "words": [{"word": w, "start": s, "end": e} for w, s, e in words],
        "usage": {"type": "duration", "seconds": 6},
    }


def error_body(
    message: str, kind: str = "invalid_request_error", code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _parse_multipart(
    content_type: str, body: bytes
) -> tuple[list[tuple[str, str]], dict[str, tuple[str, bytes]]]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: list[tuple[str, str]] = []
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename:
            files[name] = (filename, payload)
        else:
            fields.append((name, payload.decode()))
    return fields, files


@contextmanager
def fake_openai(
    script: list[tuple[int, dict[str, str], Any]], prefix: str = "/v1"
) -> Iterator[FakeOpenAI]:
    state = FakeOpenAI(base_url="", script=list(script))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            fields, files = _parse_multipart(self.headers.get("Content-Type", ""), body)
            with lock:
                state.requests.append(
                    Recorded(self.path, dict(self.headers.items()), fields, files)
                )
                status, headers, answer = (
                    state.script.pop(0) if len(state.script) > 1 else state.script[0]
                )
            if self.path != f"{prefix}/audio/transcriptions":
                status, headers, answer = 404, {}, error_body(f"no route {self.path}")
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
