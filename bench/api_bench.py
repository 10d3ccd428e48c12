#!/usr/bin/env python
"""API hot-path benchmark: ``GET /api/v1/partner/video-status/<id>`` and its 429 path vs
bare Starlette.

Run from the repository root::

    python bench/api_bench.py                 # 3 rounds x 10 s per target, 32 connections
    python bench/api_bench.py --duration 5 --rounds 2 --pin
    python bench/api_bench.py --database-url postgresql://postgres@127.0.0.1/kv_bench \
        --redis-url redis://127.0.0.1:6379/13   # the scaled-out stack (an empty database)

What it does, all in this one script:

1. Creates a throw-away data directory (or migrates ``--database-url``), an account and two keys
   through the library
   (``knightvision.account.admin``). Key A gets ``video_status`` lifted to 10,000,000/min so the
   limiter never refuses it; key B gets ``video_status`` = 1/min and is exhausted, so every
   request with it is answered 429 by the limiter (the full auth + limiter path, no job query).
2. Starts ONE uvicorn process of our app (``knightvision serve --no-workers``) and ONE uvicorn
   process of a bare Starlette app whose two JSON endpoints return bodies of exactly the same
   sizes as our status and 429 bodies. Both: uvloop/httptools (uvicorn defaults), log level
   warning, access log off.
3. Submits one ``local-storyboard`` 1 s job over HTTP with key A (it stays queued: no workers).
4. Warms every target up, then alternates bare/ours runs of
   ``wrk -t2 -c32 -d10s --latency`` for ``--rounds`` rounds and prints medians and ratios.

No assertions: it reports, against the targets of ADR 0003: status/bare throughput >= 0.40,
status p99 / bare p99 <= 3.0, 429/bare throughput >= 0.60 (>= 0.40 on PostgreSQL + Redis, ADR 0004).

The load generator and the server share the machine's cores (2 on the reference box), so the
absolute numbers are pessimistic; compare ratios, which is why bare runs alternate with ours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

API = "/api/v1/partner"
TARGETS = {"status/bare throughput": 0.40, "status/bare p99": 3.0, "429/bare throughput": 0.60}
# On PostgreSQL + Redis a 429 needs a network round trip the embedded default does not (ADR 0004).
SCALED_OUT_TARGETS = {**TARGETS, "429/bare throughput": 0.40}


# The bare comparison app (imported by uvicorn in its own process) ---------------------------------


def bare_app() -> Any:
    """``uvicorn --factory api_bench:bare_app``: two plain JSON endpoints, bodies sized by
    env vars.
    """
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def content_of(size: int) -> dict[str, str]:
        base = {"request_id": "0123456789ab", "pad": ""}
        empty = len(json.dumps(base, separators=(",", ":")))
        return {**base, "pad": "x" * max(0, size - empty)}

    status_content = content_of(int(os.environ.get("KV_BENCH_STATUS_BYTES", "300")))
    limited_content = content_of(int(os.environ.get("KV_BENCH_429_BYTES", "100")))

    async def status(request: Request) -> JSONResponse:
        return JSONResponse(status_content)

    async def limited(request: Request) -> JSONResponse:
        return JSONResponse(limited_content, status_code=429)

    return Starlette(
        routes=[Route("/bare/status/{job_id}", status), Route("/bare/429/{job_id}", limited)]
    )


# Processes ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(cmd: list[str], cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu), *cmd] if cpu is not None and shutil.which("taskset") else cmd


def start_ours(
    data_dir: Path, port: int, log: Path, cpu: int | None, stack: dict[str, str]
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-c",
        "import sys; from knightvision.cli import main; sys.argv[0] = 'knightvision'; main()",
        "serve",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--no-workers",
    ]
    env = {**os.environ, **stack, "KNIGHTVISION_LOG_LEVEL": "warning", "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        pinned(cmd, cpu), env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def start_bare(
    port: int, status_bytes: int, limited_bytes: int, log: Path, cpu: int | None
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "--app-dir",
        str(Path(__file__).resolve().parent),
        "api_bench:bare_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    env = {
        **os.environ,
        "KV_BENCH_STATUS_BYTES": str(status_bytes),
        "KV_BENCH_429_BYTES": str(limited_bytes),
    }
    return subprocess.Popen(
        pinned(cmd, cpu), env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(
                f"server exited with {proc.returncode}; its log:\n{log.read_text(errors='replace')}"
            )
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    sys.exit(
        f"server at {url} not ready after {timeout:.0f}s;"
        f" its log:\n{log.read_text(errors='replace')}"
    )


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# Accounts and keys, through the library -----------------------------------------------------------


async def make_partner(data_dir: Path, database_url: str | None) -> dict[str, str]:
    from knightvision.account import admin
    from knightvision.db.engine import create_engine
    from knightvision.db.migrate import prepare_schema, upgrade
    from knightvision.settings import load_settings

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    await asyncio.to_thread(
        upgrade if database_url else prepare_schema, settings.async_database_url
    )
    engine = create_engine(settings.async_database_url)
    try:
        account = await admin.create_account(engine, "bench", 1000)
        await admin.key_limits(engine, account["key_prefix"], {"video_status": 10_000_000})
        limited = await admin.create_key(engine, "bench")
        await admin.key_limits(engine, limited["key_prefix"], {"video_status": 1})
    finally:
        await engine.dispose()
    return {"ok_key": account["api_key"], "limited_key": limited["api_key"]}


# wrk ----------------------------------------------------------------------------------------------


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if match is None:
        raise ValueError(f"unparseable wrk duration {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> Run:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Run(
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sock.groups()) if sock else 0,
    )


def wrk(
    url: str, headers: dict[str, str], args: argparse.Namespace, duration: float, cpu: int | None
) -> Run:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration:g}s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    done = subprocess.run(pinned([*cmd, url], cpu), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


# The benchmark ------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    url: str
    headers: dict[str, str]
    expect: str  # "2xx" or "429"
    runs: list[Run] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(run, attr) for run in self.runs)


def exhaust(url: str, headers: dict[str, str]) -> None:
    """Make sure key B's 1/min window is full, so its run sees 429 from the first request."""
    import httpx

    for _ in range(3):
        if httpx.get(url, headers=headers, timeout=5).status_code == 429:
            return
    sys.exit("the limited key is not being refused: is the limiter working?")


class BackgroundCommits:
    """Touches the bench job's ``updated_at`` ``per_second`` times a second from this process, as a
    worker's heartbeat would, so the server's reads cannot all come from its row cache."""

    def __init__(
        self, database: Path, job_id: str, per_second: float, database_url: str | None = None
    ) -> None:
        self.database, self.job_id, self.per_second = database, job_id, per_second
        self.database_url = database_url
        self.count, self.elapsed = 0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        if self.per_second > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        import sqlite3

        import psycopg

        connection: Any
        if self.database_url:
            connection = psycopg.connect(_libpq_url(self.database_url), autocommit=True)
            update = "UPDATE jobs SET updated_at = now() WHERE id = %s"
        else:
            connection = sqlite3.connect(self.database, isolation_level=None, timeout=30)
            update = "UPDATE jobs SET updated_at = datetime('now') WHERE id = ?"
        started = time.monotonic()
        try:
            while not self._stop.wait(1.0 / self.per_second):
                connection.execute(update, (self.job_id,))
                self.count += 1
        finally:
            self.elapsed = time.monotonic() - started
            connection.close()


def _libpq_url(url: str) -> str:
    """A SQLAlchemy-style ``postgresql+driver://`` URL as libpq takes it."""
    scheme, rest = url.split(":", 1)
    return "postgresql:" + rest if scheme.startswith("postgres") else url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per measured wrk run (default 10)"
    )
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of wrk warm-up per target (default 3)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating bare/ours rounds (default 3)"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--pin", action="store_true", help="pin servers to CPU 0 and wrk to CPU 1 (taskset)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the data directory and server logs"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--commits-per-second",
        type=float,
        default=0.0,
        help="meanwhile commit this often to the server's database, as a busy worker's heartbeats"
        " do; every commit empties the server's row cache (default 0: the cache's best case)",
    )
    parser.add_argument(
        "--database-url",
        help="serve from this PostgreSQL database (migrated here; best empty) instead of SQLite",
    )
    parser.add_argument("--redis-url", help="keep the rate limits on this Redis")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        sys.exit(
            "wrk is not installed; this benchmark drives the servers with it.\n"
            "  Debian/Ubuntu: apt-get update && apt-get install -y wrk\n"
            "  macOS:         brew install wrk"
        )
    import httpx

    server_cpu, wrk_cpu = (0, 1) if args.pin else (None, None)
    work = Path(tempfile.mkdtemp(prefix="kv-api-bench-"))
    data_dir = work / "data"
    ours = bare = None
    try:
        keys = asyncio.run(make_partner(data_dir, args.database_url))
        stack = {
            name: value
            for name, value in (
                ("KNIGHTVISION_DATABASE_URL", args.database_url),
                ("KNIGHTVISION_REDIS_URL", args.redis_url),
            )
            if value
        }
        ok = {"Authorization": f"Bearer {keys['ok_key']}"}
        limited = {"Authorization": f"Bearer {keys['limited_key']}"}

        ours_port = free_port()
        ours = start_ours(data_dir, ours_port, work / "ours.log", server_cpu, stack)
        base = f"http://127.0.0.1:{ours_port}"
        wait_ready(f"{base}/healthz", ours, work / "ours.log")

        submitted = httpx.post(
            f"{base}{API}/generate-video",
            headers=ok,
            timeout=30,
            json={
                "prompt": "A knight crosses a misty bridge at dawn",
                "model": "local-storyboard",
                "duration": 1,
            },
        )
        if submitted.status_code != 200:
            sys.exit(f"generate-video answered {submitted.status_code}: {submitted.text}")
        job_id = submitted.json()["job_id"]
        status_url = f"{base}{API}/video-status/{job_id}"
        sample = httpx.get(status_url, headers=ok, timeout=5)
        if sample.status_code != 200:
            sys.exit(f"video-status answered {sample.status_code}: {sample.text}")
        exhaust(status_url, limited)
        refused = httpx.get(status_url, headers=limited, timeout=5)
        status_bytes, limited_bytes = len(sample.content), len(refused.content)

        bare_port = free_port()
        bare = start_bare(bare_port, status_bytes, limited_bytes, work / "bare.log", server_cpu)
        bare_base = f"http://127.0.0.1:{bare_port}"
        wait_ready(f"{bare_base}/bare/status/x", bare, work / "bare.log")
        bare_sizes = (
            len(httpx.get(f"{bare_base}/bare/status/{job_id}").content),
            len(httpx.get(f"{bare_base}/bare/429/{job_id}").content),
        )

        targets = [
            Target("bare (status-sized)", f"{bare_base}/bare/status/{job_id}", {}, "2xx"),
            Target("video-status 200", status_url, ok, "2xx"),
            Target("bare (429-sized)", f"{bare_base}/bare/429/{job_id}", {}, "429"),
            Target("video-status 429", status_url, limited, "429"),
        ]
        cores = os.cpu_count()
        print(
            f"job {job_id} ({sample.json()['status']}); body bytes: status {status_bytes},"
            f" 429 {limited_bytes}, bare {bare_sizes[0]}/{bare_sizes[1]}"
        )
        print(
            f"{cores} CPU cores;"
            f" wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency; "
            + (
                "servers pinned to CPU 0, wrk to CPU 1"
                if args.pin
                else "wrk and the server share all cores (unpinned)"
            )
        )
        print(
            f"database: {'PostgreSQL' if args.database_url else 'SQLite'};"
            f" rate limits: {'Redis' if args.redis_url else 'in memory'}"
        )
        print(f"python {platform.python_version()}, {_versions()}")
        print(
            f"load average at start: {_load()}"
            " (other processes on the machine skew absolute numbers)"
        )

        for target in targets:
            if target.headers is limited:
                exhaust(status_url, limited)
            wrk(target.url, target.headers, args, args.warmup, wrk_cpu)
        commits = BackgroundCommits(
            data_dir / "knightvision.db", job_id, args.commits_per_second, args.database_url
        )
        commits.start()
        for round_no in range(1, args.rounds + 1):
            for target in targets:
                if target.headers is limited:
                    exhaust(status_url, limited)
                run = wrk(target.url, target.headers, args, args.duration, wrk_cpu)
                target.runs.append(run)
                print(
                    f"  round {round_no} {target.name:<20} {run.rps:>9.0f} req/s"
                    f"  p50 {run.p50_ms:7.2f} ms  p99 {run.p99_ms:7.2f} ms"
                    f"  non-2xx {run.non_2xx}/{run.requests}  socket errors {run.socket_errors}",
                    flush=True,
                )
        commits.stop()
        if args.commits_per_second:
            print(f"background commits: {commits.count} ({commits.count / commits.elapsed:.0f}/s)")
        print(f"load average at end: {_load()}")
        report(targets, args)
    finally:
        stop(ours)
        stop(bare)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for name in (
        "uvicorn",
        "starlette",
        "fastapi",
        "uvloop",
        "httptools",
        "redis",
        "psycopg",
        "aiosqlite",
        "sqlalchemy",
    ):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} -")
    return ", ".join(parts)


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def report(targets: list[Target], args: argparse.Namespace) -> None:
    bare_status, status, bare_429, limited = targets
    print(f"\nmedian of {args.rounds} rounds:")
    print(f"  {'':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}   responses")
    for target in targets:
        wrong = sum(
            (run.non_2xx if target.expect == "2xx" else run.requests - run.non_2xx)
            for run in target.runs
        )
        note = f"all {target.expect}" if wrong == 0 else f"{wrong} not {target.expect}"
        print(
            f"  {target.name:<22}{target.median('rps'):>10.0f}{target.median('p50_ms'):>10.2f}"
            f"{target.median('p99_ms'):>10.2f}   {note}"
        )
    ratios = {
        "status/bare throughput": status.median("rps") / bare_status.median("rps"),
        "status/bare p99": status.median("p99_ms") / bare_status.median("p99_ms"),
        "429/bare throughput": limited.median("rps") / bare_429.median("rps"),
    }
    print("\nratios (target):")
    for name, value in ratios.items():
        goal = (SCALED_OUT_TARGETS if args.database_url or args.redis_url else TARGETS)[name]
        meets = value <= goal if name.endswith("p99") else value >= goal
        sign = "<=" if name.endswith("p99") else ">="
        print(f"  {name:<24}{value:>6.2f}   ({sign} {goal:.2f}: {'met' if meets else 'NOT met'})")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "settings": {
                        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                    },
                    "cpu_count": os.cpu_count(),
                    "targets": {t.name: [run.__dict__ for run in t.runs] for t in targets},
                    "ratios": ratios,
                },
                indent=2,
            )
        )
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
