"""Settings (D21): defaults, environment, TOML file, flags, and clear errors naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from knightvision.errors import OperatorError
from knightvision.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("KNIGHTVISION_"):
            monkeypatch.delenv(name)


def test_no_configuration_is_the_embedded_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.resolved_data_dir == tmp_path / "knightvision-data"
    assert (
        settings.async_database_url
        == f"sqlite+aiosqlite:///{tmp_path / 'knightvision-data' / 'knightvision.db'}"
    )
    assert (
        settings.redis_url is None
        and settings.media_root == tmp_path / "knightvision-data" / "media"
    )
    assert settings.base_url == "http://127.0.0.1:8000"
    assert (
        settings.price_table["analysis"] == 50 and settings.rate_limit_table["generate_video"] == 5
    )


def test_precedence_flags_over_environment_over_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    (data_dir / "knightvision.toml").write_text(
        "port = 9001\nworkers = 4\n[prices]\nanalysis = 40\n[rate_limits]\nvideo_status = 120\n"
    )
    monkeypatch.setenv("KNIGHTVISION_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KNIGHTVISION_WORKERS", "3")
    settings = load_settings(port=9100)
    assert (settings.port, settings.workers) == (9100, 3)
    assert (
        settings.price_table["analysis"] == 40 and settings.price_table["character_finalize"] == 3
    )
    assert settings.rate_limit_table["video_status"] == 120


def test_database_urls_get_the_async_driver(tmp_path: Path) -> None:
    assert (
        load_settings(database_url="postgresql://kv@db:5432/kv").async_database_url
        == "postgresql+psycopg://kv@db:5432/kv"
    )
    assert (
        load_settings(database_url="sqlite:////tmp/x.db").async_database_url
        == "sqlite+aiosqlite:////tmp/x.db"
    )


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"port": 70000}, "KNIGHTVISION_PORT"),
        ({"database_url": "mysql://x"}, "KNIGHTVISION_DATABASE_URL"),
        ({"redis_url": "http://x"}, "KNIGHTVISION_REDIS_URL"),
        ({"public_base_url": "not a url"}, "KNIGHTVISION_PUBLIC_BASE_URL"),
        ({"storage_url": "ftp://host/media"}, "KNIGHTVISION_STORAGE_URL"),
        ({"storage_url": "s3:///no-bucket"}, "KNIGHTVISION_STORAGE_URL"),
        ({"prices": {"videos": 3}}, "KNIGHTVISION_PRICES"),
        ({"rate_limits": {"status": 0}}, "KNIGHTVISION_RATE_LIMITS"),
        ({"log_level": "loud"}, "KNIGHTVISION_LOG_LEVEL"),
        ({"kling_access_key": "only-half"}, "KLING_SECRET_KEY"),
        ({"nonsense": 1}, "KNIGHTVISION_NONSENSE"),
    ],
)
def test_invalid_settings_name_the_setting(overrides: dict, named: str) -> None:
    with pytest.raises(OperatorError, match=named):
        load_settings(**overrides)


def test_invalid_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNIGHTVISION_WORKERS", "many")
    with pytest.raises(OperatorError, match="KNIGHTVISION_WORKERS"):
        load_settings()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["127.0.0.1", "10.0.0.0/8"]', ["127.0.0.1", "10.0.0.0/8"]),
        ("127.0.0.1, 10.0.0.0/8", ["127.0.0.1", "10.0.0.0/8"]),
        ("fd00::/8", ["fd00::/8"]),
        ("", []),
    ],
)
def test_trusted_proxies_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    monkeypatch.setenv("KNIGHTVISION_TRUSTED_PROXIES", value)
    assert load_settings().trusted_proxies == expected


@pytest.mark.parametrize(
    ("value", "fault"),
    [
        ("10.0.0.1/33", "'10.0.0.1/33' is not an IP address or CIDR network"),
        ("10.0.0.1, proxy.internal", "'proxy.internal' is not an IP address or CIDR network"),
        ('["10.0.0.1"', "not a valid JSON list"),
    ],
)
def test_an_invalid_trusted_proxy_stops_the_start_in_one_line(
    monkeypatch: pytest.MonkeyPatch, value: str, fault: str
) -> None:
    monkeypatch.setenv("KNIGHTVISION_TRUSTED_PROXIES", value)
    with pytest.raises(OperatorError) as caught:
        load_settings()
    message = str(caught.value)
    assert (
        message.startswith("invalid settings: KNIGHTVISION_TRUSTED_PROXIES: ") and fault in message
    )
    assert "\n" not in message


def test_a_list_setting_that_is_not_json_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNIGHTVISION_WEBHOOK_RETRY_SCHEDULE", "5 then 60")
    with pytest.raises(OperatorError, match="webhook_retry_schedule"):
        load_settings()


def test_missing_or_broken_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNIGHTVISION_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(OperatorError, match="no such file"):
        load_settings()
    broken = tmp_path / "broken.toml"
    broken.write_text("port = = 1")
    monkeypatch.setenv("KNIGHTVISION_CONFIG", str(broken))
    with pytest.raises(OperatorError, match="not valid TOML"):
        load_settings()


def test_character_upstream_problems_stop_the_start_naming_the_setting() -> None:
    from knightvision.character.upstream import character_upstream

    with pytest.raises(OperatorError) as caught:
        character_upstream(load_settings(character_route={"adapter": "kling"}).character_route)
    assert str(caught.value) == (
        "invalid settings: KNIGHTVISION_CHARACTER_ROUTE: Value error, adapter 'kling' cannot make "
        "characters; one of ['local-storyboard', 'kie', 'openai', 'evolink', 'disabled']"
    )
    with pytest.raises(OperatorError, match="KNIGHTVISION_CHARACTER_ROUTE_ADAPTER"):
        load_settings(character_route={"adapter": "somewhere"})


def test_settings_import_nothing_of_the_domain() -> None:
    import subprocess
    import sys

    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, knightvision.settings; print(' '.join(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    plain_data = {
        "knightvision.errors",
        "knightvision.pricing",
        "knightvision.providers",
        "knightvision.providers.video_model",
        "knightvision.adapter_names",  # the adapter names, an enum and nothing else
        "knightvision.settings",
    }
    ours = {name for name in loaded if name.startswith("knightvision.")}
    assert {name for name in ours - plain_data if not name.startswith("knightvision.kit")} == set()
