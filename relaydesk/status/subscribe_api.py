"""Public JSON API of status subscriptions (no login): ``POST /status/subscribers`` (double
opt-in: the answer is the same whether or not the address is known), and the confirm /
unsubscribe actions of the signed links. Mounted on the status router."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from relaydesk.incidents import subscribers

router = Router(tags=["status"])

PENDING = {
    "status": "pending",
    "detail": "If the address can receive mail, a confirmation link is on its way. "
    "Nothing is sent until it is confirmed.",
}


class SubscriberIn(Schema):
    email: str = Field(..., max_length=254)
    language: Literal["en", "zh-Hans"] = "en"
    components: list[str] = Field(default_factory=list, description='"service/region"; [] = all')
    webhook_url: str = Field("", max_length=500)
    webhook_secret: str = Field("", max_length=100)

    model_config = {"extra": "forbid"}


class SubscriberOut(Schema):
    status: str
    detail: str


class TokenIn(Schema):
    token: str = Field(..., min_length=1, max_length=2000)

    model_config = {"extra": "forbid"}


class StateOut(Schema):
    status: Literal["confirmed", "unsubscribed"]
    components: list[str]
    language: str


@router.post(
    "/status/subscribers", auth=None, response={202: SubscriberOut},
    summary="Subscribe to public status notices (double opt-in; same answer for any address)",
)
def create_subscriber(request: HttpRequest, payload: SubscriberIn) -> Status:
    try:
        subscribers.subscribe(client=request.META.get("REMOTE_ADDR"), **payload.dict())
    except subscribers.SubscribeError as exc:
        raise HttpError(422, str(exc)) from exc
    except subscribers.RateLimited as exc:
        raise HttpError(429, str(exc)) from exc
    return Status(202, PENDING)


@router.post("/status/subscribers/confirm", auth=None, response=StateOut, summary="Confirm a subscription with the token of the e-mailed link")
def confirm_subscriber(request: HttpRequest, payload: TokenIn) -> dict[str, object]:
    sub = subscribers.confirm(payload.token)
    if sub is None:
        raise HttpError(400, "token: invalid or expired")
    return {"status": "confirmed", "components": sub.components, "language": sub.language}


@router.post("/status/subscribers/unsubscribe", auth=None, response=StateOut, summary="Unsubscribe with the token of a notice's unsubscribe link")
def unsubscribe_subscriber(request: HttpRequest, payload: TokenIn) -> dict[str, object]:
    sub = subscribers.unsubscribe(payload.token)
    if sub is None:
        raise HttpError(400, "token: invalid")
    return {"status": "unsubscribed", "components": sub.components, "language": sub.language}
