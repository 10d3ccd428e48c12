"""S3-compatible object storage (AWS S3, MinIO, Ceph, Cloudflare R2, …) through boto3.

An object appears only when its PUT (or multipart upload) completes, so readers never see half a
file; boto3 checksums each body, so a truncated one is refused by the server, and s3transfer aborts
a multipart upload that fails. Transient failures (throttling, 5xx, dropped connections) are
retried by botocore's ``standard`` retry mode with exponential backoff and jitter.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from knightvision.kit.files import atomic_fill
from knightvision.providers.storage.port import StoredObject, is_safe_key

_CHUNK = 1 << 20
_MISSING = {"404", "NoSuchKey", "NotFound"}
# Multipart only for large files; each part is retried on its own.
_TRANSFER = TransferConfig(multipart_threshold=64 << 20, multipart_chunksize=16 << 20)


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ends with "/"

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3://bucket[/prefix] URL: {url!r}")
        prefix = parts.path.strip("/")
        return cls(bucket=parts.netloc, prefix=f"{prefix}/" if prefix else "")

    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


class S3Storage:
    def __init__(
        self, location: S3Location, client: Any, scratch_root: Path, redirect_seconds: int = 3600
    ) -> None:
        self.location = location
        self.client = client  # a boto3 S3 client: thread-safe, shared by every thread
        self.scratch_root = scratch_root
        self.redirect_seconds = redirect_seconds

    def _name(self, key: str) -> str:
        if not is_safe_key(key):
            raise ValueError(f"unsafe storage key {key!r}")
        return self.location.prefix + key

    def put_file(self, key: str, source: Path) -> int:
        self.client.upload_file(
            str(source),
            self.location.bucket,
            self._name(key),
            ExtraArgs={"ContentType": _content_type(key)},
            Config=_TRANSFER,
        )
        return source.stat().st_size

    def stat(self, key: str) -> StoredObject | None:
        try:
            head = self.client.head_object(Bucket=self.location.bucket, Key=self._name(key))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return StoredObject(
            size=int(head["ContentLength"]),
            etag=head["ETag"],
            last_modified=head["LastModified"].astimezone(UTC),
        )

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        body = self.client.get_object(
            Bucket=self.location.bucket, Key=self._name(key), Range=f"bytes={start}-{end}"
        )["Body"]
        try:
            yield from body.iter_chunks(_CHUNK)
        finally:
            body.close()

    def fetch(self, key: str) -> Path | None:
        """Downloads are cached under the object's ETag: exact, and a deleted or replaced object
        is never answered from the cache."""
        found = self.stat(key)
        if found is None:
            return None
        version = "".join(c for c in found.etag if c.isalnum() or c == "-")
        cached = self.scratch_dir() / "objects" / version / key
        if not cached.is_file():
            name = self._name(key)
            atomic_fill(
                cached,
                lambda sink: self.client.download_fileobj(self.location.bucket, name, sink),
            )
        return cached

    def local_path(self, key: str) -> Path | None:
        return None

    def presigned_url(self, key: str) -> str | None:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.location.bucket, "Key": self._name(key)},
            ExpiresIn=self.redirect_seconds,
        )
        return url

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.location.bucket, Key=self._name(key))

    def scratch_dir(self) -> Path:
        self.scratch_root.mkdir(parents=True, exist_ok=True)
        return self.scratch_root

    def describe(self) -> str:
        endpoint = self.client.meta.endpoint_url
        return f"{self.location.url()} at {endpoint}"


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


def _content_type(key: str) -> str:
    return {".mp4": "video/mp4", ".png": "image/png", ".jpg": "image/jpeg"}.get(
        os.path.splitext(key)[1], "application/octet-stream"
    )
