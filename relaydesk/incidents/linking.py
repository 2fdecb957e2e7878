"""Tickets ↔ incidents: a new ticket from an affected organisation whose region, service and
time match an open incident is linked to it (in the ticket's create transaction); at
resolve, linked tickets get the agent-approved update."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import F
from django.utils import timezone

from relaydesk.core.models import Region, Service

from . import lifecycle as lc
from .models import Incident, IncidentTicket
from .text import t, word

if TYPE_CHECKING:
    from relaydesk.tickets.models import Ticket

log = logging.getLogger(__name__)

# A ticket about a problem that began up to this long before the incident's start still
# matches (customers notice first, detection confirms).
GRACE = timedelta(hours=2)


def _mentions(text: str, words: list[str]) -> bool:
    for w in words:
        w = w.strip().lower()
        if not w:
            continue
        # Codes are matched as whole words ("sg" must not match "msg"); names as substrings.
        if re.search(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])", text):
            return True
    return False


def _region_words(region: Region) -> list[str]:
    return [region.code, region.name]


def match_reason(ticket: Ticket, incident: Incident, text: str) -> str | None:
    """Why ``ticket`` belongs to ``incident`` (None when it does not): the typed region or
    a mention of it, no mention of a different service only, and a time that fits."""
    if ticket.region_id is not None:
        if ticket.region_id != incident.region_id:
            return None
        why = "region"
    elif _mentions(text, _region_words(incident.region)):
        why = "region named in text"
    else:
        return None
    services = list(Service.objects.values_list("pk", "code", "name"))
    named = {pk for pk, code, name in services if _mentions(text, [code, name])}
    if named and incident.service_id not in named:
        return None
    if incident.service_id in named:
        why += ", service named"
    when = ticket.problem_start or ticket.created_at
    if when < incident.started_at - GRACE:
        return None
    if incident.resolved_at is not None and when > incident.resolved_at:
        return None
    return why + ", time window"


def _any_active_incident_for(organisation_id: int) -> bool:
    from django.db import connection

    from .models import AffectedOrganisation

    inc, aff = Incident._meta.db_table, AffectedOrganisation._meta.db_table
    marks = ", ".join(["%s"] * len(lc.ACTIVE_STATUSES))
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT 1 FROM {aff} a JOIN {inc} i ON i.id = a.incident_id "  # noqa: S608 - table names from models
            f"WHERE a.organisation_id = %s AND i.status IN ({marks}) LIMIT 1",
            [organisation_id, *lc.ACTIVE_STATUSES],
        )
        return cur.fetchone() is not None


def on_ticket_created(sender: Any, ticket: Ticket, actor: Any = None, **kw: Any) -> None:
    """``ticket_created`` receiver: link, tell the customer (an automatic message, never a
    first response), and record the incident's first related ticket."""
    from relaydesk.tickets import services as tickets

    if not _any_active_incident_for(ticket.organisation_id):
        return  # the common case, answered by one small query on every ticket create
    candidates = list(
        Incident.objects.filter(
            status__in=lc.ACTIVE_STATUSES, affected__organisation_id=ticket.organisation_id
        )
        .select_related("service", "region")
        .order_by("-started_at")
    )
    if not candidates:
        return
    text = f"{ticket.subject}\n{ticket.description}".lower()
    lang = ticket.organisation.language
    for inc in candidates:
        why = match_reason(ticket, inc, text)
        if why is None:
            continue
        IncidentTicket.objects.create(
            incident=inc, ticket=ticket, how="auto", reason=why, linked_at=ticket.created_at
        )
        _first_customer_ticket(inc, ticket)
        from .notices import status_url

        fmt = {
            "id": inc.pk,
            "title": inc.title(lang),
            "status": word(lang, inc.status),
            "url": status_url(inc.pk),
        }
        tickets.add_message(
            ticket,
            author=None,
            body=t(lang, "link_message").format(**fmt),
            is_public=True,
            is_auto=True,
            channel=ticket.channel,
            now=ticket.created_at,
        )
        _mention_in_ack(ticket, t(lang, "link_ack").format(**fmt))
        break  # one incident per ticket: the most recent match


def _mention_in_ack(ticket: Ticket, extra: str) -> None:
    """The acknowledgement e-mail (written earlier in this transaction, not sent yet) says
    the ticket is linked."""
    from django.db.models import Value
    from django.db.models.functions import Concat

    from relaydesk.notify.models import OutboundEmail

    OutboundEmail.objects.filter(ticket=ticket, kind="auto_ack", status=OutboundEmail.PENDING).update(
        body=Concat(F("body"), Value(extra))
    )


def _first_customer_ticket(incident: Incident, ticket: Ticket) -> None:
    """Move the incident's first related customer ticket earlier if this one is. A probe of
    the off-hours audit is linked (agents see it) but is no customer ticket: it never counts
    for "notice before ticket"."""
    from relaydesk.reports.probe import is_enrolled

    if ticket.requester_id is not None and is_enrolled(ticket.requester):
        return
    Incident.objects.filter(pk=incident.pk, first_customer_ticket_at__isnull=True).update(
        first_customer_ticket_at=ticket.created_at
    )
    Incident.objects.filter(pk=incident.pk, first_customer_ticket_at__gt=ticket.created_at).update(
        first_customer_ticket_at=ticket.created_at
    )


def link_ticket(incident: Incident, ticket: Ticket, *, reason: str = "linked by staff") -> IncidentTicket:
    link, created = IncidentTicket.objects.get_or_create(
        incident=incident, ticket=ticket, defaults={"how": "manual", "reason": reason}
    )
    if created:
        _first_customer_ticket(incident, ticket)
    return link


def post_resolution(incident: Incident, now: datetime | None = None) -> int:
    """Post the approved template on every linked ticket not told yet (once each). Without
    an approved template nothing is posted; approving one later posts it then."""
    from relaydesk.tickets import services as tickets
    from relaydesk.tickets.services import TicketError

    if incident.status != lc.RESOLVED or incident.template_approved_at is None:
        return 0
    when = now or timezone.now()
    posted = 0
    links = IncidentTicket.objects.filter(
        incident=incident, resolution_posted_at__isnull=True
    ).select_related("ticket__organisation")
    for link in links:
        lang = link.ticket.organisation.language
        body = (
            incident.resolution_template_zh
            if lang == "zh-Hans" and incident.resolution_template_zh
            else incident.resolution_template_en
        )
        try:
            tickets.add_message(
                link.ticket,
                author=incident.template_approved_by,
                body=body,
                is_public=True,
                is_auto=True,
                now=when,
            )
        except TicketError as exc:  # a closed ticket: nothing to tell there
            log.info("resolution update skipped on ticket %s: %s", link.ticket_id, exc)
        IncidentTicket.objects.filter(pk=link.pk).update(resolution_posted_at=when)
        posted += 1
    return posted
