"""The operator CLI: ``knightvision`` (also ``kv``). Every command that reports data takes
``--json``."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from knightvision import __version__
from knightvision.account import admin
from knightvision.errors import OperatorError
from knightvision.settings import ENV_PREFIX, Settings, load_settings

T = TypeVar("T")

app = typer.Typer(
    help="Knightvision: AI ad analysis and video generation (Partner API v1).",
    no_args_is_help=True,
    context_settings={"max_content_width": 120},
)
accounts_app = typer.Typer(help="Partner accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
credits_app = typer.Typer(help="Credit pools and the ledger.", no_args_is_help=True)
jobs_app = typer.Typer(help="Jobs in the queue.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
ads_app = typer.Typer(help="The ad media cache.", no_args_is_help=True)
for sub, name in (
    (accounts_app, "accounts"),
    (keys_app, "keys"),
    (credits_app, "credits"),
    (jobs_app, "jobs"),
    (db_app, "db"),
    (ads_app, "ads"),
):
    app.add_typer(sub, name=name)

# soft_wrap: piped into a file or another program, a long line (a path, a URL) stays one line
# instead of being broken at 80 columns.
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


def setting_help(name: str, text: str = "") -> str:
    """An option backed by a setting: its environment variable and its default, in the help."""
    default = Settings.model_fields[name].default
    shown = "none" if default is None else default
    if isinstance(default, Path) and not default.is_absolute():
        shown = f"./{default}"
    # escaped: the help is rich markup, where [..] would be read as a style and vanish
    return escape(f"{text} [env: {ENV_PREFIX}{name.upper()}; default: {shown}]".strip())


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help=setting_help("data_dir", "Data directory."), show_default=False
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help=setting_help("database_url", "Database URL (none: SQLite in the data directory)."),
        show_default=False,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _version(show: bool) -> None:
    if show:
        console.print(f"knightvision {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Knightvision: AI ad analysis and video generation (Partner API v1)."""


def _settings(data_dir: Path | None, database_url: str | None, **more: Any) -> Settings:
    return load_settings(data_dir=data_dir, database_url=database_url, **more)


def _run(settings: Settings, action: Callable[[Any], Awaitable[T]]) -> T:
    """Run one operator action against the database (migrating an embedded SQLite first)."""
    from knightvision.db.engine import create_engine
    from knightvision.db.migrate import prepare_schema

    async def main() -> T:
        await asyncio.to_thread(prepare_schema, settings.async_database_url)
        engine = create_engine(settings.async_database_url)
        try:
            return await action(engine)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def readable(data: dict[str, Any], indent: int = 0) -> str:
    """A record as aligned ``name  value`` lines, nested records indented under their name; no
    Python reprs (None is ``-``, lists are comma-separated)."""
    width = max((len(name) for name in data), default=0)
    pad = " " * indent
    lines = []
    for name, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{name}" + ("" if value else f"{' ' * (width - len(name))}  -"))
            if value:
                lines.append(readable(value, indent + 2))
        else:
            lines.append(f"{pad}{name:<{width}}  {_scalar(value)}")
    return "\n".join(lines)


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            return ", ".join(_scalar(item) for item in value) or "-"
        return json.dumps(value, default=str)
    return str(value)


def _emit(data: Any, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    elif human is not None:
        console.print(human(data), highlight=False)
    else:
        rows = data if isinstance(data, list) else [data]
        for row in rows:
            console.print("  ".join(f"[bold]{k}[/]={v}" for k, v in row.items()), highlight=False)


# Accounts, keys, credits ----------------------------------------------------------------------


@accounts_app.command("create")
def accounts_create(
    name: str,
    credits: Annotated[int, typer.Option("--credits", help="Initial credits.")] = 0,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an account and its first API key (shown once)."""
    result = _run(
        _settings(data_dir, database_url),
        lambda engine: admin.create_account(engine, name, credits),
    )
    _emit(
        result,
        as_json,
        lambda r: (
            f"account {r['account']} with {r['credits']} credits\n"
            f"API key (shown once): {r['api_key']}"
        ),
    )


@accounts_app.command("list")
def accounts_list(
    data_dir: DataDir = None, database_url: DatabaseUrl = None, as_json: JsonFlag = False
) -> None:
    """List accounts and their balances."""
    _emit(_run(_settings(data_dir, database_url), admin.list_accounts), as_json)


@keys_app.command("create")
def keys_create(
    account: Annotated[str, typer.Option("--account")],
    test: Annotated[
        bool,
        typer.Option(
            "--test",
            help="A test-mode key (kv_partner_test_…): offline engines, the test balance.",
        ),
    ] = False,
    test_credits: Annotated[
        int, typer.Option("--test-credits", help="Credits of a new test balance.")
    ] = admin.DEFAULT_TEST_CREDITS,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Create another API key for an account (shown once); --test for a test-mode key."""
    result = _run(
        _settings(data_dir, database_url),
        lambda engine: (
            admin.create_test_key(engine, account, test_credits)
            if test
            else admin.create_key(engine, account)
        ),
    )
    _emit(
        result,
        as_json,
        lambda r: (
            f"test key for {r['live_account']}, on {r['account']} ({r['credits']} test credits)"
            f" (shown once): {r['api_key']}"
            if test
            else f"API key for {r['account']} (shown once): {r['api_key']}"
        ),
    )


@keys_app.command("list")
def keys_list(
    account: Annotated[str, typer.Option("--account")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """List an account's keys by their display prefix."""
    _emit(
        _run(_settings(data_dir, database_url), lambda engine: admin.list_keys(engine, account)),
        as_json,
    )


@keys_app.command("deactivate")
def keys_deactivate(
    key: Annotated[str, typer.Argument(metavar="KEY_OR_PREFIX")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Deactivate a key; it is refused from its very next request."""
    _emit(
        _run(_settings(data_dir, database_url), lambda engine: admin.deactivate_key(engine, key)),
        as_json,
    )


def _parse_limit_updates(pairs: list[str]) -> dict[str, int | None]:
    updates: dict[str, int | None] = {}
    for pair in pairs:
        endpoint, sep, value = pair.partition("=")
        if not sep:
            raise OperatorError(f"--set takes ENDPOINT=N or ENDPOINT=default, not {pair!r}")
        if value == "default":
            updates[endpoint] = None
        elif value.isdigit():
            updates[endpoint] = int(value)
        else:
            raise OperatorError(
                f"{pair!r}: the limit must be a whole number of requests per minute, or 'default'"
            )
    return updates


@keys_app.command("limits")
def keys_limits(
    key: Annotated[str, typer.Argument(metavar="KEY_OR_PREFIX")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="ENDPOINT=N per minute, or ENDPOINT=default.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every override.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Show or change a key's per-endpoint rate-limit overrides (D5)."""
    updates = _parse_limit_updates(set_ or [])
    _emit(
        _run(
            _settings(data_dir, database_url),
            lambda engine: admin.key_limits(engine, key, updates, clear),
        ),
        as_json,
    )


@credits_app.command("add")
def credits_add(
    amount: int,
    account: Annotated[str, typer.Option("--account")],
    reason: Annotated[str, typer.Option("--reason")] = "credits added by operator",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Add credits to an account's pool."""
    result = _run(
        _settings(data_dir, database_url),
        lambda engine: admin.change_credits(engine, account, amount, reason, kind="grant"),
    )
    _emit(result, as_json, lambda r: f"{r['account']}: {r['credits']} credits")


@credits_app.command("adjust")
def credits_adjust(
    account: Annotated[str, typer.Option("--account")],
    amount: Annotated[int, typer.Option("--amount", help="Signed change, e.g. -20.")],
    reason: Annotated[str, typer.Option("--reason")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Correct a balance up or down, with a reason recorded in the ledger."""
    result = _run(
        _settings(data_dir, database_url),
        lambda engine: admin.change_credits(engine, account, amount, reason, kind="adjustment"),
    )
    _emit(result, as_json, lambda r: f"{r['account']}: {r['credits']} credits")


@credits_app.command("show")
def credits_show(
    account: Annotated[str, typer.Option("--account")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Show a balance and the latest ledger entries."""
    result = _run(
        _settings(data_dir, database_url), lambda engine: admin.show_credits(engine, account)
    )
    _emit(
        result,
        as_json,
        lambda r: (
            f"{r['account']}: {r['credits']} credits (ledger sum {r['ledger_sum']})\n"
            + "\n".join(
                f"  {e['created_at']}  {e['amount']:+d}  {e['kind']}  {e['reason']}  "
                f"{e['job_id'] or ''}"
                for e in r["recent"]
            )
        ),
    )


# Jobs and the database --------------------------------------------------------------------------


@jobs_app.command("list")
def jobs_list(
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account's jobs [default: all].")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only jobs in this status, e.g. queued [default: all]."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """List recent jobs, newest first."""
    _emit(
        _run(
            _settings(data_dir, database_url),
            lambda engine: admin.list_jobs(engine, account, status, limit),
        ),
        as_json,
    )


@jobs_app.command("show")
def jobs_show(
    job_id: str,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Show one job with its queue bookkeeping."""
    _emit(
        _run(_settings(data_dir, database_url), lambda engine: admin.show_job(engine, job_id)),
        as_json,
        readable,
    )


@db_app.command("upgrade")
def db_upgrade(
    data_dir: DataDir = None, database_url: DatabaseUrl = None, as_json: JsonFlag = False
) -> None:
    """Migrate the database schema to this build's head."""
    from knightvision.db.migrate import current_revision, upgrade
    from knightvision.preflight import database_failure

    settings = _settings(data_dir, database_url)
    try:
        upgrade(settings.async_database_url)
    except Exception as exc:
        raise database_failure(
            "upgrade", settings.async_database_url, settings.database_url, exc
        ) from None
    _emit(
        {"revision": current_revision(settings.async_database_url)},
        as_json,
        lambda r: f"database at revision {r['revision']}",
    )


@ads_app.command("import")
def ads_import(
    url: Annotated[
        str,
        typer.Argument(help="The ad's URL (or numeric Ad Library id) as partners will submit it."),
    ],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Seed the media cache with a file you already hold, so analysing URL never downloads."""
    from knightvision.providers.ad_source.cache import ImportRefused, MediaCache, import_ad_media

    settings = _settings(data_dir, None)
    try:
        cached = import_ad_media(MediaCache(settings.ad_cache_root), url, file)
    except ImportRefused as exc:
        raise OperatorError(str(exc)) from None
    _emit(
        {"canonical_key": cached.canonical_key, "sha256": cached.sha256, "size_bytes": cached.size},
        as_json,
        lambda r: (
            f"cached {r['canonical_key']} ({r['size_bytes']} bytes, sha256 {r['sha256'][:12]}…)"
        ),
    )


# Processes ----------------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option("--host", help=setting_help("host"), show_default=False)
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help=setting_help("port"), show_default=False)
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", help=setting_help("workers", "In-process job slots."), show_default=False
        ),
    ] = None,
    no_workers: Annotated[
        bool, typer.Option("--no-workers", help="Run no jobs here (API hosts when scaled out).")
    ] = False,
    public_base_url: Annotated[
        str | None,
        typer.Option(
            "--public-base-url",
            help=setting_help("public_base_url", "Base of video URLs (none: http://HOST:PORT)."),
            show_default=False,
        ),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            "--redis-url",
            help=setting_help("redis_url", "Shared rate limits (none: in this process)."),
            show_default=False,
        ),
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Run the Partner API (and, unless --no-workers, in-process workers). Logs go to stderr:
    text, or JSON lines with KNIGHTVISION_LOG_FORMAT=json."""
    import uvicorn

    from knightvision.api.connection_limits import check_open_file_limit, guarded_http_protocol
    from knightvision.app import create_app
    from knightvision.kit.heap import freeze_startup_heap
    from knightvision.kit.logs import configure_logging
    from knightvision.preflight import check_dependencies
    from knightvision.ratelimit.sole_process import sole_api_process

    settings = _settings(
        data_dir,
        database_url,
        host=host,
        port=port,
        workers=workers,
        public_base_url=public_base_url,
        redis_url=redis_url,
    )
    configure_logging(settings.log_level, settings.log_format)
    check_dependencies(settings)
    application = create_app(settings, run_workers=not no_workers)
    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # uvicorn's lines go through our handler, in our format
        access_log=False,  # ours (api/access.py) carry the request id, route and key
        timeout_graceful_shutdown=1,  # a slow client cannot hold the exit up past 3 s
        # The header timeout and the connection cap (ADR 0007); the body timeout is the app's.
        http=guarded_http_protocol(settings.header_timeout_seconds, settings.max_connections),
        # Forwarding headers are read in one place, by KNIGHTVISION_TRUSTED_PROXIES
        # (api/proxies.py): uvicorn's own reading would trust any local peer's X-Forwarded-For.
        proxy_headers=False,
    )
    check_open_file_limit(settings.max_connections)
    server = _stopping_server(config, application.state.stop_work)
    application.state.work_stopped = server.signals.stopped
    freeze_startup_heap()  # full collections that walk only what requests made (kit/heap.py)
    with sole_api_process(settings):  # limits in memory: refuse a second API process (ADR 0004)
        server.run()


def _stopping_server(config: Any, stop_work: Callable[[], None]) -> Any:
    """uvicorn's server, whose signal handling also stops the in-process jobs at once (not after
    the connections drain) and bounds the exit (``StopSignals``)."""
    import uvicorn

    from knightvision.kit.stopping import StopSignals

    class StoppingServer(uvicorn.Server):
        def __init__(self) -> None:
            super().__init__(config)
            self.signals = StopSignals(self._stop_work)

        @staticmethod
        def _stop_work() -> None:
            try:  # the handler runs on the loop's thread, between two of its steps
                asyncio.get_running_loop().call_soon_threadsafe(stop_work)
            except RuntimeError:  # before the loop runs
                stop_work()

        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            self.signals(sig)

    return StoppingServer()


@app.command()
def worker(
    slots: Annotated[int, typer.Option("--slots", min=1, max=64, help="Jobs run at once.")] = 2,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Claim and run jobs in this process until SIGINT/SIGTERM. With KNIGHTVISION_METRICS_PORT
    set, serves its own /metrics there."""
    from knightvision.preflight import check_dependencies
    from knightvision.worker_process import run_worker_process

    settings = _settings(data_dir, database_url)
    check_dependencies(settings)
    run_worker_process(settings, slots)


@app.command()
def status(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="The server to check (default: KNIGHTVISION_PUBLIC_BASE_URL, else HOST:PORT).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Is the server up; the queue by kind and state; storage; which upstreams are configured."""
    from knightvision.operator_status import collect_status

    settings = _settings(data_dir, database_url)
    _emit(_run(settings, lambda engine: collect_status(settings, engine, url)), as_json, readable)


@app.command()
def demo(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="The demo's own data directory.")
    ] = Path("./knightvision-demo"),
    port: Annotated[int, typer.Option("--port", help="0: 8000 if free, else any free port.")] = 0,
    serve_after: Annotated[
        bool, typer.Option("--serve", help="Keep the server up afterwards.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Start the embedded server, make a video through the API as a partner would, print what it
    made. A second run reuses the demo account and its key."""
    from knightvision.demo import run_demo

    summary = run_demo(data_dir=data_dir, port=port, keep_serving=serve_after, quiet=as_json)
    if as_json:
        _emit(summary, True)


def main() -> None:
    try:
        app()
    except OperatorError as exc:
        errors.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise SystemExit(2) from None
