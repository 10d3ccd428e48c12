"""One validated settings object (D21).

Precedence, highest first: explicit values (CLI flags), ``KNIGHTVISION_*`` environment variables,
the TOML file (``KNIGHTVISION_CONFIG``, default ``<data dir>/knightvision.toml``), defaults.
No configuration at all is the embedded default (D19).
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from knightvision.adapter_names import AdapterName
from knightvision.errors import OperatorError
from knightvision.pricing import DEFAULT_PRICES, DEFAULT_RATE_LIMITS

ENV_PREFIX = "KNIGHTVISION_"
# After 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h and three times 14 h: 11 attempts over ~2.9 days.
WEBHOOK_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0) + (50400.0,) * 3


class ModelUpstream(BaseModel):
    """Which adapter serves a public model or the characters, and which upstream model it calls
    (D15, D16, D21).

    ``upstream_model`` may be omitted: the adapter's default for that public model is used.
    ``disabled`` answers 500 "Video generation not available", with nothing charged. Only the
    shape is checked here; the video and character packages check the pairing when the server is
    built (``video.upstreams``, ``character.upstream``).
    """

    model_config = ConfigDict(extra="forbid")

    adapter: AdapterName
    upstream_model: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    data_dir: Path = Path("./knightvision-data")
    config: Path | None = None
    database_url: str | None = None
    redis_url: str | None = None
    storage_url: str | None = None
    # S3-compatible storage (storage_url s3://bucket/prefix); unset: the AWS_* environment
    # variables and boto3's usual credential chain.
    storage_endpoint_url: str | None = None
    storage_region: str | None = None
    storage_access_key_id: str | None = None
    storage_secret_access_key: str | None = None
    # auto: the bucket in the host name on AWS, in the path on any other endpoint
    storage_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    storage_max_attempts: int = Field(5, ge=1, le=20, description="per call, with backoff")
    storage_timeout_seconds: float = Field(30.0, gt=0.0, le=600.0)
    storage_redirect: bool = Field(
        False, description="answer /static/ with a 302 to a presigned URL instead of streaming"
    )
    storage_redirect_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600)
    public_base_url: str | None = None
    # Connection pools per process (sizing rule: README "Scaling out"). PostgreSQL: the ordinary
    # pool for writes and queue work, and as many again for the hot-path reads; Redis: the limiter.
    database_pool_size: int = Field(5, ge=1, le=1000)
    database_max_overflow: int = Field(5, ge=0, le=1000)
    redis_max_connections: int = Field(8, ge=1, le=10_000)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(2, ge=0, le=64, description="in-process job slots; 0 runs no worker")
    log_level: str = "info"
    log_format: Literal["text", "json"] = Field("text", description="json: one object per line")
    access_log: bool = Field(True, description="one line per request answered")
    # Prometheus metrics (README "Logs and metrics"): /metrics on the API's port unless off,
    # behind a bearer token when one is set; a `knightvision worker` serves its own on metrics_port.
    metrics: bool = True
    metrics_token: str | None = None
    metrics_port: int | None = Field(None, ge=1, le=65535)

    # A crashed worker's job is claimed again after about this long; heartbeats every third of it
    # (ADR 0001 has the measurement).
    lease_seconds: float = Field(10.0, ge=1.0, le=3600.0)
    max_attempts: int = Field(3, ge=1, le=20)
    job_timeout_seconds: int = Field(1800, ge=10)
    poll_interval_seconds: float = Field(0.5, gt=0.0, le=60.0)

    max_body_bytes: int = Field(64 * 1024, ge=1024)
    # Slow or silent clients (ADR 0007): a connection that has not sent a whole request head this
    # long after it opened (or after its last answer) is closed; a body not wholly received this
    # long after its head is answered 408. Beyond max_connections open at once, requests get 503.
    header_timeout_seconds: float = Field(10.0, gt=0.0, le=300.0)
    body_timeout_seconds: float = Field(15.0, gt=0.0, le=600.0)
    max_connections: int = Field(1000, ge=1, le=1_000_000)
    # Guessing throttles per client address (ADR 0007): past the limit a failure is answered 429
    # after throttle_delay_seconds; a live key and an existing file are never refused by them.
    auth_failures_per_minute: int = Field(30, ge=1)
    static_misses_per_minute: int = Field(60, ge=1)
    throttle_delay_seconds: float = Field(1.0, ge=0.0, le=30.0)
    # Proxies whose X-Forwarded-For is believed: a JSON list or comma-separated addresses/CIDRs.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Webhooks (an addition): private, loopback and link-local targets (and plain http) only when
    # the operator allows them, e.g. receivers on the same host or network.
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = Field(15.0, gt=0.0, le=60.0)
    # Seconds to wait after each failed attempt, in order; when it runs out the delivery fails.
    webhook_retry_schedule: list[float] = Field(
        default_factory=lambda: list(WEBHOOK_RETRY_SCHEDULE),
        min_length=1,
        max_length=30,
    )
    webhook_disable_after_seconds: float = Field(5 * 24 * 3600.0, gt=0.0)

    prices: dict[str, int] = Field(default_factory=dict)
    rate_limits: dict[str, int] = Field(default_factory=dict)

    voice_model: Path | None = None

    evolink_api_key: str | None = None
    evolink_base_url: str = "https://api.evolink.ai"
    kie_api_key: str | None = None
    kie_base_url: str = "https://api.kie.ai"
    openai_api_key: str | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    kling_access_key: str | None = None
    kling_secret_key: str | None = None
    kling_base_url: str = "https://api-singapore.klingai.com"

    # Each public model's upstream (D15): model name -> adapter and upstream model, e.g. in TOML
    # [models.sora-2]
    # adapter = "kie"
    models: dict[str, ModelUpstream] = Field(default_factory=dict)
    # The characters' upstream (D16), e.g. in TOML [character_route] adapter = "kie". The key keeps
    # the name operators already write.
    character_route: ModelUpstream = Field(
        default_factory=lambda: ModelUpstream(adapter=AdapterName.LOCAL_STORYBOARD)
    )
    upstream_timeout_seconds: float = Field(
        1200.0, ge=10.0, description="overall cap on one upstream render"
    )
    upstream_poll_interval_seconds: float = Field(5.0, gt=0.0, le=300.0)
    upstream_poll_max_interval_seconds: float = Field(30.0, gt=0.0, le=600.0)
    upstream_request_timeout_seconds: float = Field(60.0, gt=0.0, le=600.0)
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None
    llm_vision: bool = Field(False, description="send selected frames to the LLM as images")
    llm_timeout_seconds: float = Field(
        90.0, gt=0.0, le=900.0, description="whole call: retries and the repair round"
    )
    llm_max_attempts: int = Field(3, ge=1, le=10)
    llm_temperature: float | None = Field(None, ge=0.0, le=2.0)
    llm_max_tokens: int | None = Field(None, ge=64)
    llm_json_mode: Literal["json_schema", "json_object", "off"] = "json_object"
    llm_max_reply_chars: int = Field(20_000, ge=1_000, le=1_000_000)

    # Ad analysis (D17, D18)
    ad_cookies_file: Path | None = Field(None, description="Netscape cookies file for yt-dlp")
    ad_max_bytes: int = Field(200 * 1024 * 1024, ge=1024 * 1024)
    ad_max_duration_seconds: int = Field(300, ge=5, le=3600)
    ad_download_timeout_seconds: float = Field(180.0, ge=5.0, le=3600.0)
    transcription: Literal["local", "openai"] = "local"
    transcription_model: Literal["base", "tiny.en"] = Field(
        "base", description="packaged Whisper model: multilingual base, or English-only tiny.en"
    )
    transcription_model_dir: Path | None = Field(
        None, description="a CTranslate2 Whisper model directory, instead of a packaged model"
    )
    transcription_model_cache: Path | None = Field(
        None, description="where the packaged base is joined; default ~/.cache/knightvision/models"
    )
    openai_transcription_model: str = "whisper-1"

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.lower() not in {"critical", "error", "warning", "info", "debug"}:
            raise ValueError("must be one of critical, error, warning, info, debug")
        return value.lower()

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme.split("+")[0] not in {
            "sqlite",
            "postgresql",
            "postgres",
        }:
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in {"redis", "rediss"}:
            raise ValueError("must be a redis:// or rediss:// URL")
        return value

    @field_validator("storage_url")
    @classmethod
    def _known_storage(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme == "s3" and parts.netloc:
            return value
        if parts.scheme != "file":
            raise ValueError("must be a file:// or s3://bucket[/prefix] URL")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _absolute_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: Any) -> Any:
        """From the environment: a JSON list, or addresses separated by commas."""
        if not isinstance(value, str):
            return value
        if value.lstrip().startswith("["):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a valid JSON list ({exc})") from None
        return [part.strip() for part in value.split(",") if part.strip()]

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or CIDR network (e.g. 10.0.0.5 or 10.0.0.0/24)"
                ) from None
        return [entry.strip() for entry in value]

    @field_validator("prices")
    @classmethod
    def _known_prices(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(DEFAULT_PRICES))
        if unknown:
            raise ValueError(f"unknown price names {unknown}; known: {sorted(DEFAULT_PRICES)}")
        if any(price < 0 for price in value.values()):
            raise ValueError("prices must be zero or more")
        return value

    @field_validator("rate_limits")
    @classmethod
    def _known_limits(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(DEFAULT_RATE_LIMITS))
        if unknown:
            raise ValueError(
                f"unknown endpoint names {unknown}; known: {sorted(DEFAULT_RATE_LIMITS)}"
            )
        if any(limit < 1 for limit in value.values()):
            raise ValueError("limits must be at least 1 per minute")
        return value

    @model_validator(mode="after")
    def _kling_pair(self) -> Settings:
        if bool(self.kling_access_key) != bool(self.kling_secret_key):
            raise ValueError(
                "KNIGHTVISION_KLING_ACCESS_KEY and KNIGHTVISION_KLING_SECRET_KEY go together"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls, init_settings))

    # Derived values -----------------------------------------------------------------------

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def async_database_url(self) -> str:
        """The SQLAlchemy URL with the async driver this build uses."""
        if self.database_url is None:
            return f"sqlite+aiosqlite:///{self.resolved_data_dir / 'knightvision.db'}"
        scheme, rest = self.database_url.split(":", 1)
        family = scheme.split("+")[0]
        return ("sqlite+aiosqlite:" if family == "sqlite" else "postgresql+psycopg:") + rest

    @property
    def media_root(self) -> Path:
        """Local files: the storage itself when it is ``file://``, else this host's scratch for
        analysis work and caches."""
        if self.storage_url is None or self.storage_url.startswith("s3:"):
            return self.resolved_data_dir / "media"
        return Path(urlsplit(self.storage_url).path).expanduser().resolve()

    @property
    def ad_cache_root(self) -> Path:
        """Downloaded ad media, content-addressed; shared by the workers on a shared mount."""
        return self.media_root / "ads"

    @property
    def base_url(self) -> str:
        if self.public_base_url:
            return self.public_base_url
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host
        return f"http://{host}:{self.port}"

    @property
    def price_table(self) -> dict[str, int]:
        return {**DEFAULT_PRICES, **self.prices}

    @property
    def rate_limit_table(self) -> dict[str, int]:
        return {**DEFAULT_RATE_LIMITS, **self.rate_limits}


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the optional TOML file; its path may itself come from flags or the environment."""

    def __init__(
        self, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource
    ) -> None:
        super().__init__(settings_cls)
        self._init = init_settings

    def _path(self) -> tuple[Path, bool]:
        explicit = self._init().get("config") or os.environ.get(f"{ENV_PREFIX}CONFIG")
        if explicit:
            return Path(explicit).expanduser(), True
        data_dir = (
            self._init().get("data_dir")
            or os.environ.get(f"{ENV_PREFIX}DATA_DIR")
            or "./knightvision-data"
        )
        return Path(data_dir).expanduser() / "knightvision.toml", False

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path, explicit = self._path()
        if not path.is_file():
            if explicit:
                raise OperatorError(f"KNIGHTVISION_CONFIG: no such file {path}")
            return {}
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise OperatorError(f"{path}: not valid TOML ({exc})") from exc


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation failures into one readable message naming each
    setting."""
    explicit = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**explicit)
    except ValidationError as exc:
        problems = "; ".join(_named(_setting_name(*err["loc"]), err["msg"]) for err in exc.errors())
        raise OperatorError(f"invalid settings: {problems}") from None
    except SettingsError as exc:  # an environment value that is not the JSON its setting needs
        raise OperatorError(f"invalid settings: {exc}") from None


def invalid_setting(field: str, problems: Sequence[str]) -> OperatorError:
    """The error that stops the start when a setting fails a check its domain owns: the same one
    line as a failed validation in ``load_settings``."""
    return OperatorError(
        f"invalid settings: {_named(_setting_name(field), 'Value error, ' + '; '.join(problems))}"
    )


def _setting_name(*loc: int | str) -> str:
    return f"{ENV_PREFIX}{'_'.join(str(part) for part in loc).upper() or 'SETTINGS'}"


def _named(setting: str, message: str) -> str:
    return f"{setting}: {message}"
