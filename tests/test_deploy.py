"""deploy/ is a deployment people can copy: its settings are ones Knightvision accepts, its parts
agree with each other (the same database, Redis and bucket everywhere, the proxy trusted, every
API behind the proxy), every long-running service has a health check, and the systemd units
pass systemd's own verification."""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from knightvision.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SHARED = ("KNIGHTVISION_DATABASE_URL", "KNIGHTVISION_REDIS_URL", "KNIGHTVISION_STORAGE_URL")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _knightvision_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("image") == "knightvision:local"
    }


def _settings_from(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    # pydantic-settings ignores variables that name no field: a misspelt one must fail here.
    unknown = [
        name
        for name in environment
        if name.startswith("KNIGHTVISION_")
        and name.removeprefix("KNIGHTVISION_").lower() not in Settings.model_fields
    ]
    assert not unknown, f"not Knightvision settings: {unknown}"
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    return Settings()


def test_every_service_runs_on_settings_knightvision_accepts(compose, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    services = _knightvision_services(compose)
    assert {"api-1", "api-2", "worker-1", "worker-2", "migrate"} <= set(services)
    for name, service in services.items():
        with monkeypatch.context() as env:
            settings = _settings_from(service["environment"], env)
        assert settings.storage_url is not None and settings.storage_url.startswith("s3://"), name
        assert settings.database_url and settings.database_url.startswith("postgresql://"), name
        assert settings.redis_url, name


def test_every_process_shares_one_database_redis_and_bucket(compose):
    services = _knightvision_services(compose).values()
    for variable in SHARED:
        assert len({service["environment"][variable] for service in services}) == 1, variable
    storage = next(iter(services))["environment"]["KNIGHTVISION_STORAGE_URL"]
    bucket = re.fullmatch(r"s3://([^/]+)/.*", storage)
    assert bucket is not None
    assert f"s3://{bucket.group(1)}" in " ".join(compose["services"]["bucket"]["entrypoint"])
    store = compose["services"]["s3"]
    config = json.loads((DEPLOY / "seaweedfs-s3.json").read_text())
    keys = {
        (c["accessKey"], c["secretKey"]) for i in config["identities"] for c in i["credentials"]
    }
    for service in [*services, compose["services"]["bucket"]]:
        env = service["environment"]
        assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) in keys
        assert env["AWS_ENDPOINT_URL"].endswith(":8333")
    assert "-s3.port=8333" in store["command"]


def test_the_apis_sit_behind_a_proxy_they_trust(compose, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    proxy = compose["services"]["proxy"]
    address = ipaddress.ip_address(proxy["networks"]["default"]["ipv4_address"])
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert address in ipaddress.ip_network(subnet)
    apis = [name for name in _knightvision_services(compose) if name.startswith("api-")]
    nginx = (DEPLOY / "nginx.conf").read_text()
    for name in apis:
        settings = _settings_from(compose["services"][name]["environment"], monkeypatch)
        trusted = [ipaddress.ip_network(net, strict=False) for net in settings.trusted_proxies]
        assert any(address in net for net in trusted), name
        assert f"server {name}:8000" in nginx
        assert "--no-workers" in compose["services"][name]["command"]
    for directive in ("client_header_timeout", "client_body_timeout", "proxy_read_timeout"):
        assert re.search(rf"^\s*{directive} \d+s;", nginx, re.M), directive
    assert "X-Forwarded-For" in nginx


def test_every_long_running_service_is_health_checked(compose):
    for name, service in compose["services"].items():
        if name in {"bucket", "migrate"}:  # one-shot jobs, waited for by their dependants
            continue
        assert "healthcheck" in service, name
    for name in ("api-1", "api-2"):
        assert "/readyz" in " ".join(compose["services"][name]["healthcheck"]["test"])
    for name, service in _knightvision_services(compose).items():
        if name != "migrate":
            assert service["depends_on"]["migrate"] == {
                "condition": "service_completed_successfully"
            }


def test_the_systemd_environment_file_is_valid(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    environment = dict(
        line.split("=", 1)
        for line in (DEPLOY / "systemd" / "knightvision.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    settings = _settings_from(environment, monkeypatch)
    assert settings.storage_url == "s3://knightvision/media"
    assert settings.trusted_proxies == ["127.0.0.1"]


@pytest.mark.parametrize("unit", ["knightvision-api@.service", "knightvision-worker@.service"])
def test_the_systemd_units_pass_systemds_verification(unit, tmp_path):
    verify = shutil.which("systemd-analyze")
    assert verify, "systemd-analyze is part of the machines CI runs on"
    # The units name the install's path; here the test's own environment stands in for it.
    executable = Path(sys.executable).parent / "knightvision"
    text = (DEPLOY / "systemd" / unit).read_text()
    text = text.replace("/opt/knightvision/.venv/bin/knightvision", str(executable))
    text = text.replace(
        "/etc/knightvision/knightvision.env", str(DEPLOY / "systemd" / "knightvision.env")
    )
    instance = tmp_path / unit.replace("@.", "@1.")
    instance.write_text(text)
    done = subprocess.run(
        [verify, "verify", "--man=no", str(instance)], capture_output=True, text=True, timeout=60
    )
    # systemd ignores a setting it cannot parse with only a warning, still exiting 0.
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stderr
