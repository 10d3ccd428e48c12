"""The wire format of the webhook and events routes (additions), beside ``schemas``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from knightvision.api.schemas import HasMore, RequestId, Timestamp, Wire
from knightvision.webhooks.address import MAX_URL_CHARS
from knightvision.webhooks.endpoints import MAX_DESCRIPTION_CHARS
from knightvision.webhooks.events import EVENT_TYPES, EventType
from knightvision.webhooks.ids import ENDPOINT_ID_PATTERN, EVENT_ID_PATTERN


class WebhookEndpoint(Wire):
    id: str = Field(pattern=f"^{ENDPOINT_ID_PATTERN}$")
    url: str
    events: list[EventType]
    description: str | None = None
    enabled: bool
    disabled_reason: Literal["gone", "failing"] | None = Field(
        None, description="gone: the receiver answered 410; failing: it failed for days"
    )
    created_at: str = Timestamp


class WebhookEndpointWithSecret(WebhookEndpoint):
    request_id: str = RequestId
    secret: str = Field(
        pattern=r"^whsec_[A-Za-z0-9+/=]+$", description="shown only in this reply: keep it"
    )


class WebhookEndpointsRead(Wire):
    request_id: str = RequestId
    webhooks: list[WebhookEndpoint]


class WebhookDeleted(Wire):
    request_id: str = RequestId
    id: str
    deleted: Literal[True]


class Event(Wire):
    id: str = Field(pattern=f"^{EVENT_ID_PATTERN}$", description="also its webhook-id")
    type: EventType
    timestamp: str = Timestamp
    data: dict[str, Any] = Field(description="what the job's status endpoint answers")


class EventsRead(Wire):
    request_id: str = RequestId
    events: list[Event]
    has_more: bool = HasMore


class Redelivered(Wire):
    request_id: str = RequestId
    event_id: str
    deliveries: int = Field(ge=0, description="how many endpoints it is being sent to")


def webhook_create_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {
                "type": "string",
                "maxLength": MAX_URL_CHARS,
                "description": "https URL on a public address (http and private addresses "
                "only where the operator allows them)",
            },
            "events": {
                "type": ["array", "null"],
                "items": {"enum": list(EVENT_TYPES)},
                "minItems": 1,
                "description": "the event types to send; absent or null: all",
            },
            "description": {"type": ["string", "null"], "maxLength": MAX_DESCRIPTION_CHARS},
        },
    }
