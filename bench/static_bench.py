#!/usr/bin/env python
"""Public video downloads (``GET /static/videos/<id>.mp4``): local files and an S3-compatible
store, each against its own baseline.

Run from the repository root::

    python bench/static_bench.py                      # 1 MiB video, 3 rounds x 5 s, 8 connections
    python bench/static_bench.py --size 8 --rounds 2

It starts, each as its own process on loopback: ``moto_server`` (the S3-compatible store),
``knightvision serve --no-workers`` on local files, the same on the store
(``KNIGHTVISION_STORAGE_URL=s3://…``, configured by the ``AWS_*`` variables), and a bare
Starlette app whose one route is a ``FileResponse`` of the same file. One video is put in both
storages, then ``wrk`` alternates between targets and the medians are printed as ratios:

- local / bare: our local path (miss throttle, validators, ranges) against FileResponse alone;
- S3 streamed / store direct: the API streaming the object against ``wrk`` fetching it from the
  store with a presigned URL (what the redirect mode hands clients).

No assertions; the load generator, the servers and the store share the machine's cores.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx


def bare_app() -> Any:
    """``uvicorn --factory static_bench:bare_app``: FileResponse of ``BENCH_FILE``."""
    from starlette.applications import Starlette
    from starlette.responses import FileResponse
    from starlette.routing import Route

    path = os.environ["BENCH_FILE"]

    async def video(_: Any) -> FileResponse:
        return FileResponse(path, media_type="video/mp4")

    return Starlette(routes=[Route("/video.mp4", video)])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"{process.args} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} never answered")


def wrk(url: str, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None or errors is not None:
        raise SystemExit(f"wrk against {url} failed:\n{out}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=float, default=1.0, help="video size in MiB")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed")

    work = Path(tempfile.mkdtemp(prefix="kv-static-bench-"))
    video = work / "video.mp4"
    video.write_bytes(os.urandom(int(args.size * (1 << 20))))
    job_id = "local_20260101_000000_bench1"
    store_port, local_port, s3_port, bare_port = (free_port() for _ in range(4))
    aws = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{store_port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    base_env = {**os.environ, "KNIGHTVISION_LOG_LEVEL": "warning", **aws}
    processes: list[subprocess.Popen[bytes]] = []

    def start(command: list[str], env: dict[str, str], url: str) -> None:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        processes.append(process)
        wait_up(url, process)

    try:
        moto = str(Path(sys.executable).with_name("moto_server"))
        start([moto, "-H", "127.0.0.1", "-p", str(store_port)], base_env, aws["AWS_ENDPOINT_URL"])
        import boto3
        from botocore.config import Config

        os.environ.update(aws)  # this process seeds the store the same way
        client = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
        client.create_bucket(Bucket="bench")
        client.upload_file(str(video), "bench", f"media/videos/{job_id}.mp4")
        presigned = client.generate_presigned_url(
            "get_object", Params={"Bucket": "bench", "Key": f"media/videos/{job_id}.mp4"}
        )
        (work / "local" / "media" / "videos").mkdir(parents=True)
        shutil.copy(video, work / "local" / "media" / "videos" / f"{job_id}.mp4")

        serve = [sys.executable, "-m", "knightvision", "serve", "--no-workers"]
        start(
            [*serve, "--port", str(local_port)],
            {**base_env, "KNIGHTVISION_DATA_DIR": str(work / "local")},
            f"http://127.0.0.1:{local_port}/healthz",
        )
        start(
            [*serve, "--port", str(s3_port)],
            {
                **base_env,
                "KNIGHTVISION_DATA_DIR": str(work / "s3"),
                "KNIGHTVISION_STORAGE_URL": "s3://bench/media",
            },
            f"http://127.0.0.1:{s3_port}/healthz",
        )
        bench_dir = str(Path(__file__).parent)
        start(
            [
                sys.executable, "-m", "uvicorn", "--factory", "static_bench:bare_app",
                "--app-dir", bench_dir, "--port", str(bare_port), "--log-level", "warning",
                "--no-access-log",
            ],
            {**base_env, "BENCH_FILE": str(video)},
            f"http://127.0.0.1:{bare_port}/video.mp4",
        )  # fmt: skip
        path = f"/static/videos/{job_id}.mp4"
        targets = {
            "bare FileResponse": f"http://127.0.0.1:{bare_port}/video.mp4",
            "ours, local": f"http://127.0.0.1:{local_port}{path}",
            "store direct": presigned,
            "ours, S3 streamed": f"http://127.0.0.1:{s3_port}{path}",
        }
        for url in targets.values():  # warm up, and check each serves the whole file
            assert len(httpx.get(url, timeout=30).content) == video.stat().st_size, url
        rates: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, url in targets.items():
                rates[name].append(wrk(url, args.seconds, args.connections))
        median = {name: statistics.median(values) for name, values in rates.items()}
        mib = video.stat().st_size / (1 << 20)
        print(f"{mib:.1f} MiB video, {args.connections} connections, {args.rounds} rounds")
        for name, rate in median.items():
            print(f"  {name:18} {rate:8.1f} req/s  {rate * mib:8.1f} MiB/s")
        print(
            f"local / bare:              {median['ours, local'] / median['bare FileResponse']:.2f}"
        )
        streamed = median["ours, S3 streamed"] / median["store direct"]
        print(f"S3 streamed / store direct: {streamed:.2f}")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
