"""Log lines that name what they belong to: the request (D7) or the job, its kind and stage.

Readable text by default; one JSON object per line with ``KNIGHTVISION_LOG_FORMAT=json``, for log
shippers. The request id and the job travel in context variables, so every line written while a
request or a job runs (in its task, or a thread it started) carries them without passing them.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

LogFormat = Literal["text", "json"]

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@dataclass
class JobLabels:
    """The running job, as its log lines name it; mutable, so a new stage reaches every task and
    thread of the job at once."""

    job_id: str
    kind: str
    stage: str


current_job: contextvars.ContextVar[JobLabels | None] = contextvars.ContextVar(
    "current_job", default=None
)

# Fields of a LogRecord that are its own, not ``extra=`` a caller passed (uvicorn passes its
# message again with terminal colours: not for a log file).
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
}


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        job = current_job.get()
        if job is not None and not hasattr(record, "job_id"):
            record.job_id, record.job_kind, record.stage = job.job_id, job.kind, job.stage
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(record).items()
        if name not in _RECORD_FIELDS and not name.startswith("_")
    }


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [request id] message job=… kind=… stage=…``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        job_id = getattr(record, "job_id", None)
        if job_id is None:
            return line
        head, sep, trace = line.partition("\n")  # the job's labels before any traceback
        kind, stage = getattr(record, "job_kind", "-"), getattr(record, "stage", "-")
        labels = f" job={job_id} kind={kind} stage={stage}"
        return head + labels + sep + trace


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, the job's labels, and
    whatever the caller passed as ``extra=`` (the access log's method, route, status, …)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(
            (name, value)
            for name, value in _extras(record).items()
            if not (name == "request_id" and value == "-")
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    """Our loggers and uvicorn's through one handler on stderr, in the chosen format."""
    # Neither format shows the process: not looking it up for every record halves the cost of an
    # access line (measured: bench/status_inprocess_bench.py).
    logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.addFilter(_ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    for name in ("knightvision", "uvicorn"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # uvicorn's own access lines would repeat ours without the request id: ours replace them.
    logging.getLogger("uvicorn.access").disabled = True
