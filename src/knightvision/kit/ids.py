"""Identifiers: request ids (D7), job ids (D9) and API keys (D3)."""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import string
from datetime import datetime

API_KEY_PREFIX = "kv_partner_"
TEST_API_KEY_PREFIX = "kv_partner_test_"  # test mode: offline engines, a test balance
_JOB_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
VIDEO_FAMILIES = ("sora", "kling", "local")

ANALYSIS_JOB_ID = re.compile(r"[0-9]{8}_[0-9]{6}_[a-z0-9]{6}")
VIDEO_JOB_ID = re.compile(
    r"(?:sora|kling|local)_[0-9]{8}_[0-9]{6}_[a-z0-9]{6}"
)  # ASCII digits only: \d matches any Unicode digit


def new_request_id() -> str:
    """12 lowercase hex characters. A label for logs, not a secret: the Mersenne Twister is
    plenty unique at 48 bits and skips a system call per request (ADR 0003)."""
    return f"{random.getrandbits(48):012x}"


def new_job_id(created_at: datetime, family: str | None = None) -> str:
    """``YYYYMMDD_HHMMSS_xxxxxx``, prefixed with the video family when there is one."""
    suffix = "".join(secrets.choice(_JOB_SUFFIX_ALPHABET) for _ in range(6))
    stamp = created_at.strftime("%Y%m%d_%H%M%S")
    return f"{family}_{stamp}_{suffix}" if family else f"{stamp}_{suffix}"


def is_analysis_job_id(value: str) -> bool:
    return ANALYSIS_JOB_ID.fullmatch(value) is not None


def is_video_job_id(value: str) -> bool:
    return VIDEO_JOB_ID.fullmatch(value) is not None


def new_api_key(*, test: bool = False) -> str:
    """``kv_partner_`` (``kv_partner_test_`` for a test key) + 43 URL-safe characters (32 random
    bytes)."""
    return (TEST_API_KEY_PREFIX if test else API_KEY_PREFIX) + secrets.token_urlsafe(32)


def hash_api_key(token: str) -> str:
    """Keys are stored and looked up only by their SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def key_display_prefix(token: str) -> str:
    """A short, non-secret handle an operator can name a key by (a test key's says so)."""
    kind = TEST_API_KEY_PREFIX if is_test_key(token) else API_KEY_PREFIX
    return token[: len(kind) + 8]


def is_test_key(token_or_prefix: str) -> bool:
    return token_or_prefix.startswith(TEST_API_KEY_PREFIX)
