"""The storage a process uses, from its settings: ``file://`` (or none) → local files,
``s3://bucket/prefix`` → an S3-compatible object store."""

from __future__ import annotations

import functools
from typing import Any

from knightvision.providers.storage.local import LocalStorage
from knightvision.providers.storage.port import MediaStorage
from knightvision.settings import Settings


def build_storage(settings: Settings) -> MediaStorage:
    if settings.storage_url is None or not settings.storage_url.startswith("s3:"):
        return LocalStorage(settings.media_root)
    from knightvision.providers.storage.s3 import S3Location, S3Storage  # boto3: only when used

    return S3Storage(
        S3Location.parse(settings.storage_url),
        s3_client(settings),
        scratch_root=settings.resolved_data_dir / "scratch",
        redirect_seconds=settings.storage_redirect_seconds,
    )


def s3_client(settings: Settings) -> Any:
    """A boto3 client. Unset settings fall back to boto3's own chain: ``AWS_ENDPOINT_URL``,
    ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, profiles, roles."""
    import boto3
    import botocore.session
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": settings.storage_max_attempts, "mode": "standard"},
        connect_timeout=settings.storage_timeout_seconds,
        read_timeout=settings.storage_timeout_seconds,
        s3={"addressing_style": settings.storage_addressing_style},
        # Enough connections for the API's concurrent streams and a worker's upload threads.
        max_pool_connections=50,
    )
    session = botocore.session.get_session()
    session.register_component("data_loader", _service_models())
    return boto3.session.Session(botocore_session=session).client(
        "s3",
        endpoint_url=settings.storage_endpoint_url,
        region_name=settings.storage_region,
        aws_access_key_id=settings.storage_access_key_id,
        aws_secret_access_key=settings.storage_secret_access_key,
        config=config,
    )


@functools.cache
def _service_models() -> Any:
    """One loader of botocore's service descriptions per process: each session would otherwise
    parse S3's model again (~14 MB of dicts per client, for as long as the client lives)."""
    from botocore.loaders import create_loader

    return create_loader()
