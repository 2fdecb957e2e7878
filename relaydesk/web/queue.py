"""The agent console's queue: the tickets an agent may see, most urgent first.

Order is the API's: ``sla_sort_at`` (the earliest due instant of a running clock, so breached
tickets come first, then the least remaining business time), then id. A page is two steps —
the ids from the queue indexes, then those rows with what the queue shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, Q, QuerySet

from relaydesk.api.auth import visible_tickets
from relaydesk.core.models import LANGUAGES, Organisation, Region, User
from relaydesk.sla.models import PRIORITIES, ClockEvent
from relaydesk.tickets.models import (
    STATUS_NEW,
    STATUS_ON_HOLD,
    STATUS_OPEN,
    STATUS_PENDING,
    STATUSES,
    Ticket,
)

ACTIVE = [STATUS_NEW, STATUS_OPEN, STATUS_PENDING, STATUS_ON_HOLD]
VIEWS = ("all", "mine", "team", "unassigned")
PAGE = 50
COUNT_LIMIT = 1000


@dataclass
class QueueFilters:
    view: str = "all"
    priority: str = ""
    region: str = ""
    language: str = ""
    status: str = ""  # "" = every active status
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, data: Any) -> QueueFilters:
        f = cls(
            view=data.get("view", "all") or "all",
            priority=data.get("priority", ""),
            region=data.get("region", ""),
            language=data.get("language", ""),
            status=data.get("status", ""),
        )
        if f.view not in VIEWS:
            f.errors["view"] = f.view
            f.view = "all"
        if f.priority and f.priority not in dict(PRIORITIES):
            f.errors["priority"] = f.priority
            f.priority = ""
        if f.status and f.status not in dict(STATUSES):
            f.errors["status"] = f.status
            f.status = ""
        if f.language and f.language not in dict(LANGUAGES):
            f.errors["language"] = f.language
            f.language = ""
        if f.region and not Region.objects.filter(code=f.region).exists():
            f.errors["region"] = f.region
            f.region = ""
        return f

    def params(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("view", self.view if self.view != "all" else ""),
                ("priority", self.priority),
                ("region", self.region),
                ("language", self.language),
                ("status", self.status),
            )
            if v
        }


def filtered(user: User, f: QueueFilters) -> QuerySet[Ticket]:
    qs = visible_tickets(user)
    qs = qs.filter(status=f.status) if f.status else qs.filter(status__in=ACTIVE)
    if f.view == "mine":
        qs = qs.filter(assignee_id=user.pk)
    elif f.view == "team":
        qs = qs.filter(team_id=user.team_id) if user.team_id else qs.none()
    elif f.view == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    if f.priority:
        qs = qs.filter(priority=f.priority)
    if f.region:
        # The ticket's own region (its real-time context) or, when it names none, the
        # organisation's home region. Organisations are few: resolved to ids first.
        region_id = Region.objects.filter(code=f.region).values_list("pk", flat=True).first()
        homes = list(Organisation.objects.filter(home_region_id=region_id).values_list("pk", flat=True))
        qs = qs.filter(Q(region_id=region_id) | Q(region__isnull=True, organisation_id__in=homes))
    if f.language:
        orgs = list(Organisation.objects.filter(language=f.language).values_list("pk", flat=True))
        qs = qs.filter(organisation_id__in=orgs)
    return qs


CLOCK_COLUMNS = ("state", "target_us", "spent_us", "running_since", "due_at", "warned", "breached")
ROW_COLUMNS = (
    "id", "number", "subject", "status", "priority", "updated_at", "sla_state", "sla_calendar_id",
    "organisation__name", "organisation__is_key_account", "region__code",
    "assignee__first_name", "assignee__last_name", "assignee__email",
    *(f"{p}_{c}" for p in ("frt", "nrt", "ttr") for c in CLOCK_COLUMNS),
)


def page(user: User, f: QueueFilters, limit: int = PAGE) -> tuple[list[dict[str, Any]], int, bool]:
    """(rows as plain dicts of the columns a row shows, count up to COUNT_LIMIT, whether the
    count is exact). Rows are read as values, not model instances: a queue page builds no
    ORM objects (see bench/pages.py)."""
    qs = filtered(user, f)
    ids = list(qs.order_by("sla_sort_at", "id").values_list("id", flat=True)[:limit])
    by_id = {r["id"]: r for r in Ticket.objects.filter(pk__in=ids).order_by().values(*ROW_COLUMNS)}
    rows = [by_id[i] for i in ids if i in by_id]
    if len(ids) < limit:
        return rows, len(ids), True
    count = qs.order_by()[: COUNT_LIMIT + 1].count()
    return rows, min(count, COUNT_LIMIT), count <= COUNT_LIMIT


def calendars(rows: list[dict[str, Any]]) -> dict[int | None, Any]:
    """The pure business calendars the rows' clocks run on (one query for the page)."""
    from relaydesk.sla.engine import domain_calendar
    from relaydesk.sla.models import BusinessCalendar

    wanted = {r["sla_calendar_id"] for r in rows if r["sla_calendar_id"] is not None}
    found: dict[int | None, Any] = {None: domain_calendar(None)}
    for cal in BusinessCalendar.objects.filter(pk__in=wanted):
        found[cal.pk] = domain_calendar(cal)
    return found


def change_token() -> str:
    """Changes when any ticket is created or changed, or any SLA clock event is recorded
    (warnings and breaches from the sweep): two index look-ups."""
    last = Ticket.objects.aggregate(m=Max("updated_at"))["m"]
    ev = ClockEvent.objects.aggregate(m=Max("id"))["m"]
    stamp = last.timestamp() if last else 0
    return f"{stamp:.6f}-{ev or 0}"
