"""``knightvision demo`` (D22): the whole flow through the HTTP API, as a partner would do it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console

from knightvision.account import admin
from knightvision.app import create_app
from knightvision.db.engine import create_engine
from knightvision.db.migrate import prepare_schema
from knightvision.errors import OperatorError
from knightvision.kit.ids import key_display_prefix
from knightvision.kit.logs import configure_logging
from knightvision.settings import load_settings
from knightvision.video.models import LOCAL_STORYBOARD_MODEL
from knightvision.worker.runner import WorkerRunner

DEMO_ACCOUNT = "demo"
DEMO_CREDITS = 1000
# What one run spends is far below this: a rerun tops the balance back up to DEMO_CREDITS only
# when it has fallen under it.
DEMO_RUN_CREDITS = 100
KEY_FILE = "demo-api-key"  # in the demo's data directory: keys are stored hashed, never in clear
DEMO_PROMPT = (
    "Meet Brightbrew, the cold brew that wakes you up gently. "
    "Smooth, never bitter, ready in seconds. "
    "Try it free for thirty days."
)


def _free_port(preferred: int = 8000) -> int:
    for candidate in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port: int = probe.getsockname()[1]
            return port
    raise OperatorError("no free port on 127.0.0.1")


def run_demo(*, data_dir: Path, port: int, keep_serving: bool, quiet: bool) -> dict[str, Any]:
    console = Console(quiet=quiet, soft_wrap=True)
    settings = load_settings(
        data_dir=data_dir, host="127.0.0.1", port=port or _free_port(), log_level="warning"
    )
    configure_logging("warning")
    return asyncio.run(_demo(settings, console, keep_serving))


async def _demo(settings: Any, console: Console, keep_serving: bool) -> dict[str, Any]:
    await asyncio.to_thread(prepare_schema, settings.async_database_url)
    key = await _demo_key(settings)
    # No worker claims just any job: the demo runs its own jobs (and, with --serve, starts the
    # usual worker only once they are done).
    app = create_app(settings, run_workers=False)
    container = app.state.container
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
            raise OperatorError(f"the server did not start on port {settings.port}")
        await asyncio.sleep(0.05)
    base = f"{settings.base_url}/api/v1/partner"
    console.print(
        f"[bold]Knightvision[/] running at {settings.base_url}"
        f" (data in {settings.resolved_data_dir})"
    )
    stop = asyncio.Event()
    worker_task = None
    try:
        runner = container.worker(1)
        summary = await _make_video(base, key, console, runner)
        video_path = settings.media_root / "videos" / f"{summary['job_id']}.mp4"
        summary.update(api_key=key, base_url=settings.base_url, video_path=str(video_path))
        summary["analysis"] = await _analyze_sample_ad(settings, base, key, console, runner)
        _print_next_steps(console, summary, base, key)
        if keep_serving:
            container.runner = container.worker(settings.workers)
            worker_task = asyncio.create_task(container.runner.run(stop))
            console.print("\nServing until Ctrl-C...")
            await serving
    finally:
        stop.set()
        if worker_task is not None:
            await worker_task
        server.should_exit = True
        await serving
    return summary


async def _run_own_job(runner: WorkerRunner, job_id: str) -> None:
    """Claim and run this one job (again after a retry's backoff) until it is finished."""
    kinds = list(runner.handlers)
    while True:
        job = await runner.queue.claim(runner.worker_id, kinds, only=[job_id])
        if job is None:
            await asyncio.sleep(0.2)
            continue
        await runner.execute(job)


async def _follow_own_job(
    client: httpx.AsyncClient, url: str, console: Console, runner: WorkerRunner, job_id: str
) -> dict[str, Any]:
    running = asyncio.create_task(_run_own_job(runner, job_id), name=f"demo-{job_id}")
    try:
        return await _follow(client, url, console)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def _demo_key(settings: Any) -> str:
    """The demo account's key, kept in the data directory so a rerun reuses it; a new account or
    key only when there is none yet (or it was deactivated); credits topped up only when low."""
    key_file = settings.resolved_data_dir / KEY_FILE
    engine = create_engine(settings.async_database_url)
    try:
        saved: str | None = key_file.read_text().strip() if key_file.is_file() else None
        try:
            balance = int((await admin.show_credits(engine, DEMO_ACCOUNT))["credits"])
        except OperatorError:  # no demo account yet
            created = await admin.create_account(engine, DEMO_ACCOUNT, DEMO_CREDITS)
            return _saved_key(key_file, str(created["api_key"]))
        if balance < DEMO_RUN_CREDITS:
            await admin.change_credits(
                engine, DEMO_ACCOUNT, DEMO_CREDITS - balance, "demo top-up", kind="grant"
            )
        active = {
            row["key_prefix"]
            for row in await admin.list_keys(engine, DEMO_ACCOUNT)
            if row["active"]
        }
        if saved is not None and key_display_prefix(saved) in active:
            return saved
        return _saved_key(key_file, str((await admin.create_key(engine, DEMO_ACCOUNT))["api_key"]))
    finally:
        await engine.dispose()


def _saved_key(key_file: Path, key: str) -> str:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_text(key + "\n")
    return key


async def _make_video(
    base: str, key: str, console: Console, runner: WorkerRunner
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        console.print(f"\nPOST {base}/generate-video  (model {LOCAL_STORYBOARD_MODEL}, 10 s, 9:16)")
        submitted = (
            await client.post(
                f"{base}/generate-video",
                json={
                    "prompt": DEMO_PROMPT,
                    "model": LOCAL_STORYBOARD_MODEL,
                    "duration": 10,
                    "aspect_ratio": "9:16",
                },
            )
        ).json()
        if "job_id" not in submitted:
            raise OperatorError(f"the API refused the demo video: {submitted}")
        console.print(
            f"  job {submitted['job_id']}: {submitted['credits_used']} credits used,"
            f" {submitted['credits_remaining']} left"
        )
        status = await _follow_own_job(
            client,
            f"{base}/video-status/{submitted['job_id']}",
            console,
            runner,
            submitted["job_id"],
        )
    if status["status"] != "complete":
        raise OperatorError(
            f"the demo video failed: {status.get('error')} ({status.get('error_code')})"
        )
    return {
        "job_id": status["job_id"],
        "video_url": status["video_url"],
        "status": status["status"],
    }


async def _analyze_sample_ad(
    settings: Any, base: str, key: str, console: Console, runner: WorkerRunner
) -> dict[str, Any]:
    """Seed the cache with our own sample ad under the contract's example id, then analyse it."""
    from knightvision.analysis.sample_ad import SAMPLE_AD_URL, seed_sample_ad

    console.print(
        f"\nSeeding the ad cache with a sample ad for {SAMPLE_AD_URL} (rendered here, offline)"
    )
    await asyncio.to_thread(seed_sample_ad, settings.ad_cache_root)
    console.print(f'POST {base}/analyze  {{"url": "{SAMPLE_AD_URL}"}}')
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        submitted = (await client.post(f"{base}/analyze", json={"url": SAMPLE_AD_URL})).json()
        if "job_id" not in submitted:
            raise OperatorError(f"the API refused the demo analysis: {submitted}")
        status = await _follow_own_job(
            client, f"{base}/status/{submitted['job_id']}", console, runner, submitted["job_id"]
        )
    if status["status"] != "complete":
        raise OperatorError(
            f"the demo analysis failed: {status.get('error')} ({status.get('error_code')})"
        )
    result = status["result"]
    console.print(f"\n[bold green]Analysis ready[/] ({submitted['job_id']})")
    console.print(f"[bold]Summary:[/] {result['summary']}")
    console.print(f"[bold]Transcription:[/] {result['transcription']}")
    console.print(f"[bold]UGC script:[/]\n{result['ugc_script']}")
    return {"job_id": submitted["job_id"], "status": status["status"], "summary": result["summary"]}


async def _follow(client: httpx.AsyncClient, url: str, console: Console) -> dict[str, Any]:
    """Poll a job until it finishes, printing each change of stage and progress."""
    started, last = time.monotonic(), None
    while True:
        status: dict[str, Any] = (await client.get(url)).json()
        line = (
            f"{status['status']:<17} {status.get('progress', 0):>3}%  {status.get('message', '')}"
        )
        if line != last:
            console.print(f"  {time.monotonic() - started:5.1f}s  {line}")
            last = line
        if status["status"] in {"complete", "error"}:
            return status
        await asyncio.sleep(1.0)


def _print_next_steps(console: Console, summary: dict[str, Any], base: str, key: str) -> None:
    console.print(f"\n[bold green]Video ready[/]: {summary['video_url']}")
    console.print(f"File: {summary['video_path']}")
    console.print("\nTry next (while the server runs, e.g. `knightvision demo --serve`):")
    console.print(f'  curl {base}/credits -H "Authorization: Bearer {key}"', soft_wrap=True)
    console.print(
        f'  curl "{base}/videos?limit=10" -H "Authorization: Bearer {key}"', soft_wrap=True
    )
    console.print(
        f'  curl -X POST {base}/generate-video -H "Authorization: Bearer {key}"'
        ' -H "Content-Type: application/json"'
        ' -d \'{"prompt": "A person walking through a futuristic city",'
        f' "model": "{LOCAL_STORYBOARD_MODEL}", "duration": 5}}\'',
        soft_wrap=True,
    )
    console.print(f"  curl -O {summary['video_url']}", soft_wrap=True)
    console.print(
        f'  curl {base}/status/{summary["analysis"]["job_id"]} -H "Authorization: Bearer {key}"',
        soft_wrap=True,
    )
