"""The one shape of a provider's failure: a stable code, a message, and whether a retry may help.

Every provider port's error (and our own media tools' errors) derives from ``ProviderError``, so a
job step turns any of them into a job failure the same way (``knightvision.job.errors``). It lives
in ``kit`` because both ``providers`` and ``media`` raise it.
"""

from __future__ import annotations

from typing import ClassVar


class ProviderError(Exception):
    # Some errors have always read "code: message" when printed (logs); they keep that.
    code_in_text: ClassVar[bool] = False

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"{code}: {message}" if self.code_in_text else message)
        self.code = code
        self.message = message
        self.retryable = retryable
