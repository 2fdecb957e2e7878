"""Public status-page subscribers: subscribe (double opt-in), confirm, unsubscribe.

* ``subscribe`` validates the request (``SubscribeError`` names the field) and always has the
  same outcome for the caller, whether the address is new, pending, confirmed or
  unsubscribed — so the answer never tells whether an address is subscribed. A new or
  pending or unsubscribed address gets a confirmation e-mail with a signed link (at most one
  per address per ``RELAYDESK_SUBSCRIBE_RESEND_S``, 10 min); a confirmed one is left as it is
  (its owner changes what they follow by unsubscribing and subscribing again).
* Nothing is sent to a subscriber before ``confirm`` (the fan-out only picks confirmed,
  not unsubscribed subscribers: ``notices.public_recipients``).
* Every notice carries a one-click unsubscribe link (signed, no login, no expiry).
* Requests are rate limited per client address (``RELAYDESK_SUBSCRIBE_PER_IP`` per
  ``RELAYDESK_SUBSCRIBE_WINDOW_S``, default 10 per hour), counted in the database so the
  limit holds across processes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from relaydesk.core.models import Region, Service

from .models import StatusSubscriber, SubscribeAttempt
from .text import t

SALT = "relaydesk.status.subscriber"
CONFIRM_DAYS = 7
LANGS = ("en", "zh-Hans")
_COMPONENT = re.compile(r"^[A-Za-z0-9_.-]{1,40}/[A-Za-z0-9_.-]{1,40}$")


class SubscribeError(Exception):
    """A bad field of a subscription. ``message`` is English (the API's answer);
    ``localized()`` is the same text in the active language (the subscribe page's), from the
    status app's catalog."""

    def __init__(self, message: str, field: str, **params: object) -> None:
        self.template = message
        self.params = params
        self.message = message % params if params else message
        self.field = field
        super().__init__(f"{field}: {self.message}")

    def localized(self) -> str:
        from django.utils.translation import gettext

        text = gettext(self.template)
        return text % self.params if self.params else text


class RateLimited(Exception):
    pass


def _conf(name: str, default: float) -> float:
    from .services import conf

    return conf(name, default)


# -- tokens ---------------------------------------------------------------------------------


def confirm_token(sub: StatusSubscriber) -> str:
    return signing.dumps({"s": sub.pk, "a": "confirm", "e": sub.email}, salt=SALT, compress=True)


def unsubscribe_token(subscriber_id: int) -> str:
    return signing.dumps({"s": subscriber_id, "a": "unsub"}, salt=SALT, compress=True)


def confirm_url(sub: StatusSubscriber) -> str:
    return f"{settings.RELAYDESK_BASE_URL.rstrip('/')}/status/subscribe/confirm/{confirm_token(sub)}"


def unsubscribe_url(subscriber_id: int) -> str:
    base = settings.RELAYDESK_BASE_URL.rstrip("/")
    return f"{base}/status/unsubscribe/{unsubscribe_token(subscriber_id)}"


def _read(token: str, action: str, max_age: timedelta | None) -> dict[str, object] | None:
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("a") != action or not isinstance(data.get("s"), int):
        return None
    return data


# -- validation -------------------------------------------------------------------------------


def clean(
    *,
    email: str,
    language: str = "en",
    components: Iterable[str] = (),
    webhook_url: str = "",
    webhook_secret: str = "",
) -> dict[str, object]:
    """The normalised request, or ``SubscribeError`` naming the first bad field."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise SubscribeError("enter a valid e-mail address", "email") from exc
    if len(email) > 254:
        raise SubscribeError("at most 254 characters", "email")
    if language not in LANGS:
        raise SubscribeError("must be en or zh-Hans", "language")
    comps = sorted({str(c).strip() for c in components if str(c).strip()})
    if len(comps) > 200:
        raise SubscribeError("at most 200 components", "components")
    bad = [c for c in comps if not _COMPONENT.match(c)]
    if bad:
        raise SubscribeError("use service/region, not %(value)s", "components", value=repr(bad[0]))
    services = {c.split("/")[0] for c in comps}
    regions = {c.split("/")[1] for c in comps}
    known_s = set(Service.objects.filter(code__in=services).values_list("code", flat=True))
    known_r = set(Region.objects.filter(code__in=regions).values_list("code", flat=True))
    unknown = [c for c in comps if c.split("/")[0] not in known_s or c.split("/")[1] not in known_r]
    if unknown:
        raise SubscribeError("unknown component %(value)s", "components", value=repr(unknown[0]))
    webhook_url = (webhook_url or "").strip()
    webhook_secret = (webhook_secret or "").strip()
    if webhook_url:
        try:
            URLValidator(schemes=["http", "https"])(webhook_url)
        except ValidationError as exc:
            raise SubscribeError("enter an http(s) URL", "webhook_url") from exc
        if len(webhook_url) > 500:
            raise SubscribeError("at most 500 characters", "webhook_url")
        if not 16 <= len(webhook_secret) <= 100:
            raise SubscribeError("16 to 100 characters, required with webhook_url", "webhook_secret")
    elif webhook_secret:
        raise SubscribeError("only together with webhook_url", "webhook_secret")
    return {
        "email": email,
        "language": language,
        "components": comps,
        "webhook_url": webhook_url,
        "webhook_secret": webhook_secret,
    }


# -- subscribe / confirm / unsubscribe ------------------------------------------------------


def check_rate(client: str | None, now: datetime | None = None) -> None:
    """Count this request for its client address; ``RateLimited`` over the limit."""
    when = now or timezone.now()
    key = f"ip:{client or 'unknown'}"[:100]
    window = timedelta(seconds=_conf("RELAYDESK_SUBSCRIBE_WINDOW_S", 3600))
    limit = int(_conf("RELAYDESK_SUBSCRIBE_PER_IP", 10))
    recent = SubscribeAttempt.objects.filter(key=key, at__gte=when - window).count()
    if recent >= limit:
        raise RateLimited("too many subscribe requests from this address; try again later")
    SubscribeAttempt.objects.create(key=key, at=when)
    if recent == 0:  # keep the table small: forget what no window can count any more
        SubscribeAttempt.objects.filter(at__lt=when - window).delete()


def _send_confirmation(sub: StatusSubscriber, now: datetime) -> None:
    from relaydesk.notify.outbox import queue_email

    lang = sub.language
    comps = ", ".join(sub.components) if sub.components else t(lang, "all_components")
    if sub.webhook_url:  # the owner sees what they confirm, webhook included
        comps += f"; webhook {sub.webhook_url}"
    queue_email(
        kind="status_subscribe_confirm",
        to=[sub.email],
        subject=t(lang, "confirm_subject"),
        body=t(lang, "confirm_body").format(components=comps, url=confirm_url(sub), days=CONFIRM_DAYS),
    )
    StatusSubscriber.objects.filter(pk=sub.pk).update(confirmation_sent_at=now)


def subscribe(*, client: str | None = None, now: datetime | None = None, **fields: object) -> None:
    """Validate, rate-limit, and record a pending subscription (see the module docstring).
    Returns nothing on purpose: the caller's answer must not depend on the address."""
    when = now or timezone.now()
    data = clean(**fields)  # type: ignore[arg-type]
    check_rate(client, when)
    resend = timedelta(seconds=_conf("RELAYDESK_SUBSCRIBE_RESEND_S", 600))
    with transaction.atomic():
        sub = StatusSubscriber.objects.select_for_update().filter(email=data["email"]).first()
        if sub is None:
            try:
                with transaction.atomic():
                    sub = StatusSubscriber.objects.create(created_at=when, **data)
            except IntegrityError:  # a parallel request created it: treat as pending
                return
            _send_confirmation(sub, when)
            return
        if sub.is_live:
            return
        for k, v in data.items():
            setattr(sub, k, v)
        sub.confirmed_at = None
        sub.unsubscribed_at = None
        sub.webhook_enabled, sub.webhook_failures = True, 0
        sub.save()
        if sub.confirmation_sent_at is None or sub.confirmation_sent_at <= when - resend:
            _send_confirmation(sub, when)


def confirm(token: str, now: datetime | None = None) -> StatusSubscriber | None:
    """Confirm a pending subscription from its signed link (``None`` for a bad or expired
    token or one issued for another address). Confirming twice changes nothing."""
    data = _read(token, "confirm", timedelta(days=CONFIRM_DAYS))
    if data is None:
        return None
    when = now or timezone.now()
    with transaction.atomic():
        sub = StatusSubscriber.objects.select_for_update().filter(pk=data["s"], email=data.get("e")).first()
        if sub is None:
            return None
        if sub.unsubscribed_at is not None and (
            sub.confirmation_sent_at is None or sub.confirmation_sent_at < sub.unsubscribed_at
        ):
            return None  # a link from before an unsubscribe does not subscribe again
        if sub.confirmed_at is None:
            sub.confirmed_at = when
            sub.save(update_fields=["confirmed_at"])
    return sub


def unsubscribe(token: str, now: datetime | None = None) -> StatusSubscriber | None:
    """Unsubscribe from a signed link (one click, no login); pending notices to the
    subscriber are dropped. ``None`` for a bad token; a second click changes nothing."""
    from .models import Notice

    data = _read(token, "unsub", None)
    if data is None:
        return None
    when = now or timezone.now()
    with transaction.atomic():
        sub = StatusSubscriber.objects.select_for_update().filter(pk=data["s"]).first()
        if sub is None:
            return None
        if sub.unsubscribed_at is None:
            sub.unsubscribed_at = when
            sub.save(update_fields=["unsubscribed_at"])
            Notice.objects.filter(subscriber=sub, status=Notice.PENDING).update(
                status=Notice.SUPERSEDED, last_error="unsubscribed"
            )
    return sub
