"""Dependencies restarted mid-load (ADR 0004, D14), on real processes: ``serve --no-workers`` and
two ``knightvision worker``, partners on several keys submitting 1 s local renders and polling
them all along. Meanwhile PostgreSQL is cut for a few seconds (every connection through a TCP proxy
this test controls dropped, new ones refused: the shared server itself is never restarted), and
later this test's own redis-server is SIGKILLed and started again; on SQLite, which has no server
to lose, only Redis is.

Every answer is 200, 429 or 503 ``dependency_unavailable`` with Retry-After, never a 500 nor a
dropped connection; /readyz names what is down and is ready again by itself; afterwards every
accepted job completes exactly once and is charged once, nothing a 503 answered was created or
charged, and each account's balance is exact.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from knightvision.account import admin
from knightvision.db.migrate import upgrade
from knightvision.db.schema import accounts, jobs, ledger_entries
from knightvision.settings import Settings
from tests.fixtures.outages import ProxyThread, RedisServer, assert_not_ready, assert_unavailable
from tests.fixtures.partner_api import assert_error
from tests.fixtures.processes import PARTNER_API, Deployment, stop, wait_until

RENDER = {
    "prompt": "A knight rides out at dawn. The castle gates open.",
    "model": "local-storyboard",
    "duration": 1,
    "aspect_ratio": "1:1",
}
CREDITS = 1000
OUTAGE_SECONDS = 2.5
UNFINISHED_PER_KEY = 2  # keeps the workers busy without queueing more than they can drain
FINISHED_BETWEEN_OUTAGES = 3  # jobs that complete before, between and after: work resumes


class Answers:
    """Every answer the partners got, counted by the phase of the test it came in, and what was
    wrong with any of them."""

    def __init__(self) -> None:
        self.phase = "before"
        self.counts: Counter[tuple[str, int]] = Counter()
        self.refused_submits: Counter[tuple[str, int]] = Counter()
        self.problems: list[str] = []
        self.submitting = threading.Event()
        self.give_up = threading.Event()
        self._lock = threading.Lock()

    def check(self, what: str, response: httpx.Response) -> bool:
        """True for a 200; records the answer, and a problem unless it is a documented refusal."""
        phase = self.phase
        try:
            if response.status_code == 429:
                assert_error(response, 429, "Rate limit exceeded", "rate_limited")
                assert int(response.headers["Retry-After"]) >= 1
            elif response.status_code != 200:
                assert_unavailable(response)
        except (AssertionError, KeyError, ValueError) as exc:
            self.problem(f"{what} during {phase}: {response.status_code} {exc}")
        with self._lock:
            self.counts[(phase, response.status_code)] += 1
            if response.status_code != 200 and what.startswith("POST"):
                self.refused_submits[(phase, response.status_code)] += 1
        return response.status_code == 200

    def problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)


class Partner(threading.Thread):
    """One API key under load: submits a render whenever fewer than ``UNFINISHED_PER_KEY`` of its
    jobs are unfinished (a ``greedy`` one whatever it has unfinished), at most one every half
    second; polls its unfinished jobs in turn, and once submitting stops, polls until each has
    finished."""

    def __init__(
        self, base: str, api_key: str, account_id: int, answers: Answers, *, greedy: bool
    ) -> None:
        super().__init__(name=f"partner-{api_key[-6:]}", daemon=True)
        self.base = base
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.account_id = account_id
        self.answers = answers
        self.greedy = greedy
        self.accepted: dict[str, int] = {}  # job id: credits charged
        self.finished: dict[str, dict[str, Any]] = {}  # job id: its last status

    def unfinished(self) -> list[str]:
        return [job_id for job_id in list(self.accepted) if job_id not in self.finished]

    def run(self) -> None:
        last_submit = 0.0
        turn = 0
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=20) as client:
            while not self.answers.give_up.is_set():
                waiting = self.unfinished()
                if not self.answers.submitting.is_set() and not waiting:
                    return
                if (
                    self.answers.submitting.is_set()
                    and (self.greedy or len(waiting) < UNFINISHED_PER_KEY)
                    and time.monotonic() - last_submit >= 0.5
                ):
                    last_submit = time.monotonic()
                    self._submit(client)
                elif waiting:
                    turn += 1
                    self._poll(client, waiting[turn % len(waiting)])
                time.sleep(0.1)

    def _submit(self, client: httpx.Client) -> None:
        reply = self._send(client, "POST", f"{PARTNER_API}/generate-video", json=RENDER)
        if reply is not None:
            body = reply.json()
            self.accepted[body["job_id"]] = body["credits_used"]

    def _poll(self, client: httpx.Client, job_id: str) -> None:
        reply = self._send(client, "GET", f"{PARTNER_API}/video-status/{job_id}")
        if reply is not None and reply.json()["status"] in {"complete", "error"}:
            self.finished[job_id] = reply.json()

    def _send(
        self, client: httpx.Client, method: str, path: str, **options: Any
    ) -> httpx.Response | None:
        """The answer when it is a 200; every other outcome is recorded in ``answers``."""
        what = f"{method} {path}"
        try:
            response = client.request(method, path, **options)
        except httpx.TransportError as exc:  # a reset, a refused connection, no answer in time
            self.answers.problem(f"{what} during {self.answers.phase}: {exc!r}")
            return None
        return response if self.answers.check(what, response) else None


@contextmanager
def reachable_through_proxy(backend_url: str) -> Iterator[tuple[str, ProxyThread | None]]:
    """The URL the processes use: PostgreSQL through a proxy this test can cut; SQLite as is."""
    if not backend_url.startswith("postgresql"):
        yield backend_url, None
        return
    with ProxyThread(backend_url).running() as proxy:
        yield proxy.url, proxy


def _readiness(base: str) -> httpx.Response:
    return httpx.get(f"{base}/readyz", timeout=10)


def outage(
    deployment: Deployment,
    answers: Answers,
    name: str,
    down: Callable[[], None],
    up: Callable[[], None],
) -> None:
    """``name`` goes down for ``OUTAGE_SECONDS``: /readyz must say so meanwhile, and be ready again
    by itself once it is back."""
    answers.phase = f"{name} down"
    down()
    began = time.monotonic()
    not_ready = wait_until(
        lambda: (reply := _readiness(deployment.base)).status_code == 503 and reply,
        timeout=15,
        what=f"/readyz to notice {name} is down",
    )
    assert_not_ready(not_ready, name)
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - began)))
    up()
    answers.phase = f"{name} back"
    wait_until(
        lambda: _readiness(deployment.base).status_code == 200,
        timeout=30,
        what=f"/readyz to be ready once {name} is back",
    )
    answers.phase = f"after {name}"


def test_database_and_redis_restarted_mid_load_lose_nothing(
    backend_url: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    upgrade(Settings(database_url=backend_url).async_database_url)
    answers = Answers()
    with reachable_through_proxy(backend_url) as (url, proxy):
        deployment = Deployment(
            tmp_path / "data",
            url,
            KNIGHTVISION_REDIS_URL=redis_server.url,
            # Far longer than an outage: a job may run twice only if a worker gave it up.
            KNIGHTVISION_LEASE_SECONDS="20",
            # three processes on a PostgreSQL server other suites share
            KNIGHTVISION_DATABASE_POOL_SIZE="3",
            KNIGHTVISION_DATABASE_MAX_OVERFLOW="2",
        )
        partners = [
            Partner(deployment.base, key, account_id, answers, greedy=greedy)
            for account_id, key, greedy in deployment.admin(_partner_keys)
        ]

        def finished() -> int:
            return sum(len(partner.finished) for partner in partners)

        def more_finished(count: int) -> None:
            target = finished() + count
            wait_until(lambda: finished() >= target, timeout=120, what=f"{count} more jobs")

        with deployment.server("--no-workers"):
            workers = [deployment.spawn(f"worker-{n}", "worker", "--slots", "1") for n in (1, 2)]
            answers.submitting.set()
            try:
                for partner in partners:
                    partner.start()
                more_finished(FINISHED_BETWEEN_OUTAGES)
                if proxy is not None:
                    outage(deployment, answers, "database", proxy.cut, proxy.restore)
                    more_finished(FINISHED_BETWEEN_OUTAGES)
                outage(
                    deployment,
                    answers,
                    "redis",
                    lambda: redis_server.stop(signal.SIGKILL),
                    redis_server.start,
                )
                more_finished(FINISHED_BETWEEN_OUTAGES)
                answers.submitting.clear()
                for partner in partners:  # generous: a loaded box is slow, never wrong
                    partner.join(timeout=180)
            finally:
                answers.give_up.set()
                for partner in partners:
                    partner.join(timeout=30)
                for worker in workers:
                    stop(worker)
            account_ids = sorted({partner.account_id for partner in partners})
            books = deployment.admin(lambda engine: _books(engine, account_ids))

    assert answers.problems == [], answers.problems[:20]
    outages = ["database down", "redis down"] if proxy is not None else ["redis down"]
    for phase in outages:  # the load felt each outage: polls and submits were refused then
        assert answers.counts[(phase, 503)] > 0, (phase, answers.counts)
        assert answers.refused_submits[(phase, 503)] > 0, (phase, answers.refused_submits)
    assert any(status == 429 for _, status in answers.counts), answers.counts

    accepted = {job: cost for partner in partners for job, cost in partner.accepted.items()}
    seen = {job: status for partner in partners for job, status in partner.finished.items()}
    assert {job: seen.get(job, {}).get("status") for job in accepted} == dict.fromkeys(
        accepted, "complete"
    )
    # Every job a partner was told about exists, and none other: a 503'd submit made nothing.
    assert {row.id: row.credits_used for row in books["jobs"]} == accepted
    for row in books["jobs"]:
        assert (row.status, row.credits_refunded) == ("complete", 0), (row.id, row.error)
        assert row.attempts == 1, (row.id, row.last_error)  # rendered once
        video = Path(deployment.env["KNIGHTVISION_DATA_DIR"]) / "media" / "videos"
        assert (video / f"{row.id}.mp4").stat().st_size > 0
    # Charged once each, never refunded, and the balances exact.
    charges = Counter((e.kind, e.job_id) for e in books["ledger"] if e.kind != "grant")
    assert charges == Counter(("debit", job) for job in accepted)
    for account_id in account_ids:
        charged = sum(
            cost
            for partner in partners
            if partner.account_id == account_id
            for cost in partner.accepted.values()
        )
        entries = [entry.amount for entry in books["ledger"] if entry.account_id == account_id]
        assert books["balances"][account_id] == sum(entries) == CREDITS - charged
    for name in ("serve", "worker-1", "worker-2"):  # an outage is a warning line, not a crash
        assert "Traceback" not in deployment.log(name), deployment.log(name)[-5000:]


async def _partner_keys(engine: AsyncEngine) -> list[tuple[int, str, bool]]:
    """Two accounts with two keys each: (account, key, greedy). Three keys may submit as fast as
    the test does; the fourth, greedy, may submit twice a minute, so 429s are in the mix, and it
    keeps submitting through each outage."""
    keys = []
    for name in ("acme", "globex"):
        account = await admin.create_account(engine, name, CREDITS)
        second = await admin.create_key(engine, name)
        keys += [
            (account["account_id"], account["api_key"]),
            (account["account_id"], second["api_key"]),
        ]
    partners = []
    for number, (account_id, key) in enumerate(keys):
        greedy = number == len(keys) - 1
        limits = {"video_status": 100_000, "generate_video": 2 if greedy else 10_000}
        await admin.key_limits(engine, key, limits)
        partners.append((account_id, key, greedy))
    return partners


async def _books(engine: AsyncEngine, account_ids: list[int]) -> dict[str, Any]:
    async with engine.connect() as conn:
        job_rows = (
            await conn.execute(select(jobs).where(jobs.c.account_id.in_(account_ids)))
        ).all()
        ledger_rows = (
            await conn.execute(
                select(ledger_entries).where(ledger_entries.c.account_id.in_(account_ids))
            )
        ).all()
        balances = dict(
            (
                await conn.execute(
                    select(accounts.c.id, accounts.c.balance).where(accounts.c.id.in_(account_ids))
                )
            ).all()
        )
    return {"jobs": job_rows, "ledger": ledger_rows, "balances": balances}
