"""The notice outbox: fan-out (rows written in the transaction of the incident update) and
delivery (e-mail handed to the mail outbox, webhooks POSTed with an HMAC signature).

Exactly one notice per recipient per update: each row has an idempotency key
``u<update>:<channel>:<recipient>`` under a unique constraint, rows are claimed with a lease
(a worker that dies leaves an expired lease, and the next pass takes the row again), and an
e-mail notice is handed to the mail outbox in the same transaction that marks it sent, with
``Message-ID: <notice.<id>@…>`` (unique there too). Each notice carries its id (Message-ID,
``notice_id`` in the webhook body) so a receiver can drop a redelivery after a crash between
the remote accept and our commit.

Coalescing: a new update supersedes the same incident's notices still waiting, and a
recipient who got a notice less than ``RELAYDESK_NOTICE_COALESCE_S`` (60 s) ago gets the new
one when that window ends — one notice with the latest state instead of a burst.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from relaydesk.core.models import Organisation, User

from .models import (
    AffectedOrganisation,
    Incident,
    IncidentUpdate,
    Maintenance,
    Notice,
    NoticeSubscription,
    StatusSubscriber,
    WebhookEndpoint,
)
from .text import t, word

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 10


def conf(name: str, default: float) -> float:
    from .services import conf as _conf

    return _conf(name, default)


def coalesce_window() -> timedelta:
    return timedelta(seconds=conf("RELAYDESK_NOTICE_COALESCE_S", 60))


def webhook_backoff(attempts: int) -> timedelta:
    """base, 2×base, 4×base … (base 10 s by default), capped at one hour."""
    base = conf("RELAYDESK_WEBHOOK_BACKOFF_S", 10)
    return timedelta(seconds=min(3600.0, base * 2 ** max(0, attempts - 1)))


def webhook_disable_after() -> int:
    return int(conf("RELAYDESK_WEBHOOK_DISABLE_AFTER", 5))


def webhook_timeout() -> float:
    return conf("RELAYDESK_WEBHOOK_TIMEOUT_S", 5)


def _digest(text: str) -> str:
    return hashlib.sha256(text.lower().encode()).hexdigest()[:24]


# -- recipients ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    organisation_id: int | None
    channel: str
    address: str
    language: str
    webhook_id: int | None
    priority: int
    subscriber_id: int | None = None


def public_recipients(service_code: str, region_code: str) -> list[Recipient]:
    """Confirmed, not unsubscribed public status subscribers who follow the place: one e-mail
    each, plus their webhook when they gave one (and it is not disabled). After every
    organisation's recipients (priority 2)."""
    out: list[Recipient] = []
    live = StatusSubscriber.objects.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)
    for s in live.only("pk", "email", "webhook_url", "webhook_enabled", "language", "components"):
        if not s.follows(service_code, region_code):
            continue
        out.append(Recipient(None, Notice.EMAIL, s.email.lower(), s.language, None, 2, s.pk))
        if s.webhook_url and s.webhook_enabled:
            out.append(Recipient(None, Notice.WEBHOOK, s.webhook_url, s.language, None, 2, s.pk))
    return out


def recipients(
    org_ids_query: Any, service_code: str, region_code: str, key_accounts: set[int]
) -> list[Recipient]:
    """Who hears about a place, for the organisations selected by ``org_ids_query`` (a
    subquery of organisation ids): each organisation's active subscriptions that follow the
    place; an organisation without any subscription gets e-mail at its active customer
    users' addresses. Key accounts come first."""
    langs = dict(Organisation.objects.filter(pk__in=org_ids_query).values_list("pk", "language"))
    subscribed: set[int] = set()
    out: list[Recipient] = []
    subs = NoticeSubscription.objects.filter(organisation_id__in=org_ids_query).select_related(
        "webhook"
    )
    for s in subs:
        subscribed.add(s.organisation_id)
        if not s.active or not s.follows(service_code, region_code):
            continue
        lang = s.language or langs.get(s.organisation_id, "en")
        prio = 0 if s.organisation_id in key_accounts else 1
        if s.channel == NoticeSubscription.EMAIL and s.email:
            out.append(Recipient(s.organisation_id, Notice.EMAIL, s.email.lower(), lang, None, prio))
        elif s.channel == NoticeSubscription.WEBHOOK and s.webhook is not None and s.webhook.enabled:
            out.append(
                Recipient(s.organisation_id, Notice.WEBHOOK, s.webhook.url, lang, s.webhook.pk, prio)
            )
    users = User.objects.filter(
        organisation_id__in=org_ids_query, kind=User.KIND_CUSTOMER, is_active=True
    ).values_list("organisation_id", "email")
    for org_id, email in users:
        if org_id in subscribed or not email:
            continue
        prio = 0 if org_id in key_accounts else 1
        out.append(
            Recipient(org_id, Notice.EMAIL, email.lower(), langs.get(org_id, "en"), None, prio)
        )
    seen: set[tuple[int | None, str, str]] = set()
    unique = []
    for r in sorted(out, key=lambda r: (r.priority, r.organisation_id, r.channel, r.address)):
        k = (r.organisation_id, r.channel, r.address)
        if k not in seen:
            seen.add(k)
            unique.append(r)
    return unique


def insert_rows(model: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Plain ``executemany`` INSERT of already-adapted values (no model instances: a fan-out
    to 10,000 organisations spent most of its time building and preparing them)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    # Only quoted identifiers from model metadata and placeholders are composed here.
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({cols}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cur:
        for i in range(0, len(rows), 5000):
            cur.executemany(sql, rows[i : i + 5000])


def adapt_dt(dt: datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(dt) if dt is not None else None


NOTICE_COLUMNS = [
    "key", "incident_id", "update_id", "maintenance_id", "organisation_id", "channel",
    "address", "webhook_id", "language", "priority", "status", "attempts", "next_attempt_at",
    "lease_until", "sent_at", "last_error", "created_at", "subscriber_id",
]


def _notice_rows(notices: list[Notice]) -> list[tuple[Any, ...]]:
    cache: dict[datetime, Any] = {}

    def dt(v: datetime) -> Any:
        if v not in cache:
            cache[v] = adapt_dt(v)
        return cache[v]

    return [
        (
            n.key, n.incident_id, n.update_id, n.maintenance_id, n.organisation_id, n.channel,
            n.address, n.webhook_id, n.language, n.priority, n.status, 0, dt(n.next_attempt_at),
            None, None, "", dt(n.created_at), n.subscriber_id,
        )
        for n in notices
    ]


def _recipient_key(r: Recipient) -> str:
    if r.subscriber_id is not None:
        return f"s{r.subscriber_id}"
    return f"w{r.webhook_id}" if r.webhook_id is not None else _digest(r.address)


# -- fan-out -------------------------------------------------------------------------------


def fan_out(update: IncidentUpdate, now: datetime | None = None) -> int:
    """Write one notice row per recipient and channel for ``update`` (inside the caller's
    transaction); returns how many rows were written. Calling it twice writes nothing more."""
    when = now or timezone.now()
    incident = update.incident
    affected = AffectedOrganisation.objects.filter(incident=incident)
    key_accounts = set(affected.filter(is_key_account=True).values_list("organisation_id", flat=True))
    people = recipients(
        affected.values("organisation_id"),
        incident.service.code,
        incident.region.code,
        key_accounts,
    ) + public_recipients(incident.service.code, incident.region.code)
    if not people:
        return 0
    # Coalesce: what still waits for this incident is replaced by this update's notices …
    Notice.objects.filter(incident=incident, status=Notice.PENDING).exclude(update=update).update(
        status=Notice.SUPERSEDED, lease_until=None
    )
    # … and whoever was told within the window hears again when the window ends.
    window = coalesce_window()
    recent: dict[tuple[str, str], datetime] = {}
    if window.total_seconds() > 0:
        for channel, address, last in (
            Notice.objects.filter(incident=incident)
            .filter(
                Q(status=Notice.SENT, sent_at__gt=when - window)
                | Q(status=Notice.SENDING)
            )
            .values_list("channel", "address")
            .annotate(last=Max("sent_at"))
            .values_list("channel", "address", "last")
        ):
            recent[(channel, address)] = last or when
    existing = set(Notice.objects.filter(update=update).values_list("key", flat=True))
    when_db = adapt_dt(when)
    rows: list[tuple[Any, ...]] = []
    for r in people:
        key = f"u{update.pk}:{r.channel}:{_recipient_key(r)}"
        if key in existing:
            continue
        last = recent.get((r.channel, r.address))
        due = adapt_dt(max(when, last + window)) if last is not None else when_db
        rows.append(
            (
                key, incident.pk, update.pk, None, r.organisation_id, r.channel, r.address,
                r.webhook_id, r.language, r.priority, Notice.PENDING, 0, due, None, None, "",
                when_db, r.subscriber_id,
            )
        )
    insert_rows(Notice, NOTICE_COLUMNS, rows)
    if rows:
        _kick_on_commit()
    return len(rows)


def fan_out_maintenance(m: Maintenance, now: datetime | None = None) -> int:
    """Advance notice of a maintenance window to the organisations with traffic in its place
    during the last week (same outbox, key ``m<id>:…``)."""
    from relaydesk.monitoring.footprint import affected_organisations

    when = now or timezone.now()
    found = affected_organisations(m.service_id, m.region_id, when - timedelta(days=7), when)
    org_ids = [a.organisation_id for a in found]
    keys = {a.organisation_id for a in found if a.is_key_account}
    people = recipients(org_ids, m.service.code, m.region.code, keys) if org_ids else []
    people += public_recipients(m.service.code, m.region.code)
    if not people:
        return 0
    existing = set(Notice.objects.filter(maintenance=m).values_list("key", flat=True))
    rows = _notice_rows(
        [
            Notice(
                key=f"m{m.pk}:{r.channel}:{_recipient_key(r)}",
                maintenance=m,
                organisation_id=r.organisation_id,
                channel=r.channel,
                address=r.address,
                webhook_id=r.webhook_id,
                language=r.language,
                priority=r.priority,
                next_attempt_at=when,
                created_at=when,
                subscriber_id=r.subscriber_id,
            )
            for r in people
            if f"m{m.pk}:{r.channel}:{_recipient_key(r)}" not in existing
        ]
    )
    insert_rows(Notice, NOTICE_COLUMNS, rows)
    if rows:
        _kick_on_commit()
    return len(rows)


def _kick_on_commit() -> None:
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(f is _kick for _s, f, _r in conn.run_on_commit):
        return
    transaction.on_commit(_kick)


def _kick() -> None:
    try:
        from .tasks import deliver_notices

        deliver_notices.enqueue()
    except Exception:  # the periodic sweep delivers anyway
        log.exception("could not enqueue notice delivery")


# -- rendering -----------------------------------------------------------------------------


def status_url(incident_id: int | None = None) -> str:
    base = settings.RELAYDESK_BASE_URL
    return f"{base}/status/incidents/{incident_id}" if incident_id else f"{base}/status/"


def _fmt(dt: datetime | None) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if dt else ""


def _service_name(svc: Any, lang: str) -> str:
    return str(svc.name)


def unsubscribe_url(n: Notice) -> str:
    from .subscribers import unsubscribe_url as _url

    assert n.subscriber_id is not None
    return _url(n.subscriber_id)


def render_email(n: Notice) -> tuple[str, str]:
    """Subject and body of an e-mail notice. A public subscriber's notice carries only what
    the status page shows (no organisation, no internal note) and a one-click unsubscribe
    link."""
    lang = n.language
    public = n.subscriber_id is not None
    if n.maintenance_id is not None:
        m = n.maintenance
        assert m is not None
        fmt = {
            "title": m.title(lang),
            "service": m.service.name,
            "region": m.region.name,
            "start": _fmt(m.starts_at),
            "end": _fmt(m.ends_at),
            "body": m.body(lang),
            "url": status_url(),
            "notice_id": n.pk,
        }
        body = t(lang, "maint_body").format(**fmt)
        if public:
            body += t(lang, "public_footer").format(unsubscribe=unsubscribe_url(n))
        return t(lang, "maint_subject").format(**fmt), body
    inc, upd = n.incident, n.update
    assert inc is not None and upd is not None
    locations = [*map(str, inc.carriers), *inc.nodes]
    fmt = {
        "status": word(lang, upd.status),
        "title": inc.title(lang),
        "service": inc.service.name,
        "region": inc.region.name,
        "where": t(lang, "where").format(locations=", ".join(locations)) if locations else "",
        "started": _fmt(inc.started_at),
        "body": upd.body(lang),
        "url": status_url(inc.pk),
        "notice_id": n.pk,
    }
    if public:
        body = t(lang, "public_notice_body").format(**fmt)
        body += t(lang, "public_footer").format(unsubscribe=unsubscribe_url(n))
        return t(lang, "notice_subject").format(**fmt), body
    assert n.organisation is not None
    fmt["org"] = n.organisation.name
    return t(lang, "notice_subject").format(**fmt), t(lang, "notice_body").format(**fmt)


def webhook_payload(n: Notice) -> dict[str, Any]:
    lang = n.language
    out: dict[str, Any] = {
        "notice_id": n.pk,
        "idempotency_key": n.key,
        "language": lang,
    }
    if n.subscriber_id is not None:
        out["subscriber"] = {"unsubscribe_url": unsubscribe_url(n)}
    else:
        out["organisation_id"] = n.organisation_id
    if n.maintenance_id is not None:
        m = n.maintenance
        assert m is not None
        out["type"] = "maintenance.scheduled"
        out["maintenance"] = {
            "id": m.pk,
            "title": m.title(lang),
            "body": m.body(lang),
            "service": m.service.code,
            "region": m.region.code,
            "starts_at": m.starts_at.isoformat(),
            "ends_at": m.ends_at.isoformat(),
        }
        return out
    inc, upd = n.incident, n.update
    assert inc is not None and upd is not None
    out["type"] = "incident.update"
    out["incident"] = {
        "id": inc.pk,
        "title": inc.title(lang),
        "status": inc.status,
        "severity": inc.severity,
        "impact": inc.impact,
        "service": inc.service.code,
        "region": inc.region.code,
        "carriers": inc.carriers,
        "nodes": inc.nodes,
        "started_at": inc.started_at.isoformat(),
        "resolved_at": inc.resolved_at.isoformat() if inc.resolved_at else None,
        "url": status_url(inc.pk),
    }
    out["update"] = {
        "id": upd.pk,
        "status": upd.status,
        "body": upd.body(lang),
        "created_at": upd.created_at.isoformat(),
    }
    return out


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>`` (header
    ``X-RelayDesk-Signature``; the timestamp travels in ``X-RelayDesk-Timestamp``)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, tolerance_s: int = 300) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale timestamps."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


# -- delivery ------------------------------------------------------------------------------


def _claim(now: datetime, limit: int) -> list[Notice]:
    due = Notice.objects.filter(
        Q(status=Notice.PENDING, next_attempt_at__lte=now)
        | Q(status=Notice.SENDING, lease_until__lt=now)
    ).order_by("priority", "next_attempt_at", "id")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        Notice.objects.filter(pk__in=ids).update(status=Notice.SENDING, lease_until=now + LEASE)
    return list(
        Notice.objects.filter(pk__in=ids)
        .select_related(
            "organisation",
            "incident__service",
            "incident__region",
            "update",
            "subscriber",
            "maintenance__service",
            "maintenance__region",
            "webhook",
        )
        .order_by("priority", "id")
    )


def _mark_first_notice(incident_ids: set[int], at: datetime) -> None:
    if incident_ids:
        Incident.objects.filter(pk__in=incident_ids, first_notice_at__isnull=True).update(
            first_notice_at=at
        )


def _hand_off_emails(rows: list[Notice], now: datetime) -> int:
    """Turn e-mail notices into mail-outbox rows and mark them sent — one transaction, so a
    crash either does both or neither."""
    from relaydesk.notify.models import OutboundEmail
    from relaydesk.notify.outbox import queue_emails

    if not rows:
        return 0
    mails = []
    for n in rows:
        subject, body = render_email(n)
        mails.append(
            OutboundEmail(
                kind="incident_notice",
                to=[n.address],
                subject=subject[:300],
                body=body,
                message_id=f"<notice.{n.pk}@{settings.RELAYDESK_MAIL_DOMAIN}>",
            )
        )
    with transaction.atomic():
        # Only rows still ours: a lease that expired and was re-claimed elsewhere is skipped.
        mine = set(
            Notice.objects.filter(
                pk__in=[n.pk for n in rows], status=Notice.SENDING
            ).values_list("pk", flat=True)
        )
        mails = [m for m, n in zip(mails, rows, strict=True) if n.pk in mine]
        already = set(
            OutboundEmail.objects.filter(
                message_id__in=[m.message_id for m in mails]
            ).values_list("message_id", flat=True)
        )
        queue_emails([m for m in mails if m.message_id not in already])
        Notice.objects.filter(pk__in=mine).update(
            status=Notice.SENT, sent_at=now, lease_until=None, attempts=1
        )
        _mark_first_notice({n.incident_id for n in rows if n.incident_id and n.pk in mine}, now)
    return len(mine)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[bool, str]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=webhook_timeout()) as resp:  # noqa: S310
            code = resp.status
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"[:500]
    return 200 <= code < 300, f"HTTP {code}"


def _deliver_webhooks(rows: list[Notice], now: datetime) -> dict[str, int]:
    result = {"sent": 0, "retry": 0, "failed": 0}
    if not rows:
        return result
    jobs: list[tuple[Notice, Any, bytes, dict[str, str]]] = []
    for n in rows:
        hook: Any = n.subscriber if n.subscriber_id is not None else n.webhook
        if n.subscriber_id is not None:
            sub = n.subscriber
            enabled = sub is not None and bool(sub.webhook_url) and sub.webhook_enabled and sub.is_live
        else:
            enabled = hook is not None and hook.enabled
        if not enabled:
            Notice.objects.filter(pk=n.pk).update(
                status=Notice.FAILED, lease_until=None, last_error="webhook disabled"
            )
            result["failed"] += 1
            continue
        body = json.dumps(webhook_payload(n), ensure_ascii=False, sort_keys=True).encode()
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "RelayDesk-Notices/1",
            "X-RelayDesk-Notice-Id": str(n.pk),
            "X-RelayDesk-Timestamp": str(ts),
            "X-RelayDesk-Signature": sign(_secret(hook), ts, body),
        }
        jobs.append((n, hook, body, headers))
    # Each outcome is recorded as soon as its request returns, so a worker killed mid-batch
    # leaves at most the requests in flight to be sent again.
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(jobs)))) as pool:
        futures = {pool.submit(_post, _url(j[1]), j[2], j[3]): j for j in jobs}
        for fut in as_completed(futures):
            n, hook, _body, _h = futures[fut]
            ok, detail = fut.result()
            result[_record(n, hook, ok, detail, now)] += 1
    return result


def _secret(hook: WebhookEndpoint | StatusSubscriber) -> str:
    return hook.webhook_secret if isinstance(hook, StatusSubscriber) else hook.secret


def _url(hook: WebhookEndpoint | StatusSubscriber) -> str:
    return hook.webhook_url if isinstance(hook, StatusSubscriber) else hook.url


def _record(
    n: Notice, hook: WebhookEndpoint | StatusSubscriber, ok: bool, detail: str, now: datetime
) -> str:
    at = datetime.now(UTC)
    if ok:
        with transaction.atomic():
            Notice.objects.filter(pk=n.pk).update(
                status=Notice.SENT, sent_at=at, lease_until=None,
                attempts=n.attempts + 1, last_error="",
            )
            if isinstance(hook, StatusSubscriber):
                StatusSubscriber.objects.filter(pk=hook.pk).update(webhook_failures=0)
            else:
                WebhookEndpoint.objects.filter(pk=hook.pk).update(consecutive_failures=0)
            if n.incident_id:
                _mark_first_notice({n.incident_id}, at)
        return "sent"
    attempts = n.attempts + 1
    final = attempts >= MAX_ATTEMPTS
    with transaction.atomic():
        Notice.objects.filter(pk=n.pk).update(
            status=Notice.FAILED if final else Notice.PENDING,
            attempts=attempts,
            next_attempt_at=now + webhook_backoff(attempts),
            lease_until=None,
            last_error=detail,
        )
        if isinstance(hook, StatusSubscriber):
            _count_public_failure(hook, detail)
        else:
            _count_failure(hook, detail, at)
    return "failed" if final else "retry"


def _count_public_failure(sub: StatusSubscriber, detail: str) -> None:
    """A public subscriber's webhook is switched off after the same number of failures in a
    row as an organisation's (their e-mail notices go on); nobody on our side is told."""
    sub = StatusSubscriber.objects.select_for_update().get(pk=sub.pk)
    sub.webhook_failures += 1
    fields = ["webhook_failures"]
    if sub.webhook_enabled and sub.webhook_failures >= webhook_disable_after():
        sub.webhook_enabled = False
        fields.append("webhook_enabled")
        Notice.objects.filter(
            subscriber=sub, channel=Notice.WEBHOOK, status=Notice.PENDING
        ).update(status=Notice.FAILED, last_error="webhook disabled after repeated failures")
        log.warning("public subscriber %s: webhook disabled (%s)", sub.pk, detail)
    sub.save(update_fields=fields)


def _count_failure(hook: WebhookEndpoint, detail: str, at: datetime) -> None:
    from relaydesk.notify.outbox import queue_email

    hook = WebhookEndpoint.objects.select_for_update().get(pk=hook.pk)
    hook.consecutive_failures += 1
    fields = ["consecutive_failures"]
    if hook.enabled and hook.consecutive_failures >= webhook_disable_after():
        hook.enabled = False
        hook.disabled_at = at
        hook.disabled_reason = detail[:300]
        fields += ["enabled", "disabled_at", "disabled_reason"]
        Notice.objects.filter(webhook=hook, status=Notice.PENDING).update(
            status=Notice.FAILED, last_error="webhook disabled after repeated failures"
        )
        org = hook.organisation
        to = [hook.created_by.email] if hook.created_by is not None else []
        to += list(
            User.objects.filter(is_active=True)
            .filter(Q(kind=User.KIND_STAFF, is_superuser=True) | Q(pk=org.account_manager_id))
            .values_list("email", flat=True)
        )
        fmt = {"url": hook.url, "n": hook.consecutive_failures, "error": detail, "id": hook.pk}
        queue_email(
            kind="webhook_disabled",
            to=to,
            subject=t(org.language, "webhook_disabled_subject").format(**fmt),
            body=t(org.language, "webhook_disabled_body").format(**fmt),
        )
    hook.save(update_fields=fields)


def deliver_due(now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """One delivery pass: claim what is due (key accounts first) and deliver it."""
    when = now or datetime.now(UTC)
    rows = _claim(when, limit)
    result = {"sent": 0, "retry": 0, "failed": 0}
    if not rows:
        return result
    result["sent"] += _hand_off_emails([n for n in rows if n.channel == Notice.EMAIL], when)
    for k, v in _deliver_webhooks([n for n in rows if n.channel == Notice.WEBHOOK], when).items():
        result[k] += v
    return result


def pending_due(now: datetime | None = None) -> bool:
    when = now or datetime.now(UTC)
    return Notice.objects.filter(
        Q(status=Notice.PENDING, next_attempt_at__lte=when)
        | Q(status=Notice.SENDING, lease_until__lt=when)
    ).exists()


def deliver_all(max_rounds: int = 100, limit: int = 500) -> dict[str, int]:
    """Deliver until nothing is due (bounded): the job and the periodic sweep."""
    total = {"sent": 0, "retry": 0, "failed": 0}
    for _ in range(max_rounds):
        r = deliver_due(limit=limit)
        for k, v in r.items():
            total[k] += v
        if sum(r.values()) < limit:
            break
    return total
