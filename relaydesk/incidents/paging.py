"""Page a key account's manager when an incident affects the account (registered into
``services.key_account_hooks`` by the app config).

Once per incident and manager: the first affected key account of a manager writes a
``ManagerPage`` (unique per incident × manager) and queues the page e-mail in the mail
outbox; another of the same manager's accounts, or any later update, only adds the account
to that page. Routing's pager decides the webhook: the escalation chain routing would use for
a P1 of the organisation (``routing.paging.chain_for``: a chain of a team serving it, else a
global one); when that chain has a webhook URL the page is POSTed there, signed like
routing's pages (``routing.paging.sign_body``: HMAC-SHA256 of ``<timestamp>.<body>``),
retried with backoff by ``deliver_manager_pages``.

Routing's own ``Page`` rows belong to a ticket, and an incident page has none, so the page is
recorded here (and shown in the incident API detail) rather than as a routing ``Page``.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from relaydesk.core.models import Organisation, User

from .models import Incident, ManagerPage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
TIMEOUT_S = 5.0


def _chain_for(organisation: Organisation) -> Any:
    from relaydesk.routing.paging import chain_for

    # chain_for reads only the priority and the organisation of the "ticket".
    return chain_for(SimpleNamespace(priority="P1", organisation=organisation), None)  # type: ignore[arg-type]


def page_account_manager(incident: Incident, organisation: Organisation, manager: User) -> None:
    """The key-account hook (inside the transaction that first finds the account affected)."""
    from relaydesk.notify.outbox import queue_email

    now = datetime.now(UTC)
    page = ManagerPage.objects.select_for_update().filter(incident=incident, manager=manager).first()
    if page is not None:
        if organisation.pk not in page.organisations:
            page.organisations = [*page.organisations, organisation.pk]
            page.save(update_fields=["organisations"])
        return
    try:
        with transaction.atomic():
            page = ManagerPage.objects.create(
                incident=incident, manager=manager, organisations=[organisation.pk], created_at=now
            )
    except IntegrityError:  # paged by a parallel transaction a moment ago
        return
    url = f"{settings.RELAYDESK_BASE_URL.rstrip('/')}/admin/incidents/incident/{incident.pk}/change/"
    mail = queue_email(
        kind="page",
        to=[manager.email],
        subject=f"[PAGE {incident.severity}] Key account {organisation.name}: incident #{incident.pk} {incident.title_en}"[:300],
        body=(
            f"You are paged because your key account {organisation.name} is affected by incident "
            f"#{incident.pk} ({incident.severity}, {incident.status}):\n\n{incident.title_en}\n"
            f"Service: {incident.service.name}   Region: {incident.region.name}\n\n"
            f"The customer is notified automatically; please reach out in person.\n{url}\n"
        ),
    )
    fields = ["email_id"]
    page.email_id = mail.pk if mail is not None else None
    chain = _chain_for(organisation)
    if chain is not None and chain.webhook_url:
        page.chain_id = chain.pk
        page.webhook_url = chain.webhook_url
        page.webhook_status = ManagerPage.PENDING
        page.webhook_next_at = now
        fields += ["chain_id", "webhook_url", "webhook_status", "webhook_next_at"]
    page.save(update_fields=fields)


def payload(page: ManagerPage) -> dict[str, Any]:
    inc = page.incident
    orgs = dict(Organisation.objects.filter(pk__in=page.organisations).values_list("pk", "name"))
    return {
        "type": "incident_page",
        "page_id": page.pk,
        "reason": "key account affected by an incident",
        "incident": {
            "id": inc.pk, "title": inc.title_en, "severity": inc.severity, "status": inc.status,
            "service": inc.service.code, "region": inc.region.code,
            "url": f"{settings.RELAYDESK_BASE_URL.rstrip('/')}/admin/incidents/incident/{inc.pk}/change/",
        },
        "organisations": [{"id": o, "name": orgs.get(o, "")} for o in page.organisations],
        "target": {"id": page.manager_id, "email": page.manager.email},
        "sent_at": datetime.now(UTC).isoformat(),
    }


def deliver_manager_pages(now: datetime | None = None, limit: int = 50) -> dict[str, int]:
    """POST due page webhooks (lease by pushing the next attempt out, as routing does)."""
    from relaydesk.routing.models import EscalationChain
    from relaydesk.routing.paging import retry_delay, sign_body

    when = now or datetime.now(UTC)
    result = {"pages_sent": 0, "pages_retried": 0, "pages_failed": 0}
    due = ManagerPage.objects.filter(webhook_status=ManagerPage.PENDING, webhook_next_at__lte=when)
    if not due.exists():
        return result
    with transaction.atomic():
        qs = due.order_by("webhook_next_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.select_related("incident__service", "incident__region", "manager")[:limit])
        ManagerPage.objects.filter(pk__in=[r.pk for r in rows]).update(
            webhook_next_at=when + timedelta(minutes=2)
        )
    for row in rows:
        chain = EscalationChain.objects.filter(pk=row.chain_id).first()
        secret = chain.webhook_secret if chain is not None else ""
        body = json.dumps(payload(row), sort_keys=True, separators=(",", ":")).encode()
        ts = int(when.timestamp())
        req = urllib.request.Request(  # noqa: S310 - http(s) URL from the escalation chain
            row.webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "RelayDesk-Pager/1",
                "X-RelayDesk-Timestamp": str(ts),
                "X-RelayDesk-Signature": sign_body(secret, ts, body),
            },
        )
        row.webhook_attempts += 1
        try:
            if not row.webhook_url.startswith(("http://", "https://")):
                raise ValueError("no http(s) webhook URL")
            with urllib.request.urlopen(req, timeout=TIMEOUT_S):  # noqa: S310
                pass
            row.webhook_status, row.webhook_next_at, row.webhook_error = ManagerPage.SENT, None, ""
            result["pages_sent"] += 1
        except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
            row.webhook_error = str(exc)[:500]
            if row.webhook_attempts >= MAX_ATTEMPTS:
                row.webhook_status, row.webhook_next_at = ManagerPage.FAILED, None
                result["pages_failed"] += 1
            else:
                row.webhook_next_at = when + retry_delay(row.webhook_attempts)
                result["pages_retried"] += 1
        row.save(update_fields=["webhook_attempts", "webhook_status", "webhook_next_at", "webhook_error"])
    return result
