"""The Django shell around the pure SLA domain: which rule applies, which calendar the clocks
run on, loading/storing clocks on a ticket, and recording clock events append-only."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from relaydesk.core import fastsql
from relaydesk.domain import clock as clk
from relaydesk.domain.calendar import BusinessCalendar as Cal
from relaydesk.domain.calendar import from_us, to_us

from .models import BusinessCalendar, ClockEvent, SLAPolicy, SLARule

if TYPE_CHECKING:
    from relaydesk.core.models import Organisation, Region
    from relaydesk.tickets.models import Ticket

PREFIX = {clk.FIRST_RESPONSE: "frt", clk.NEXT_RESPONSE: "nrt", clk.RESOLUTION: "ttr"}
DEFAULT_HOURS = {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}

_cache_lock = threading.Lock()
_calendar_cache: dict[tuple[int, datetime], Cal] = {}
_ALWAYS = Cal.twenty_four_seven("UTC")


def always_open() -> Cal:
    return _ALWAYS


def domain_calendar(cal: BusinessCalendar | None) -> Cal:
    """The pure calendar for a stored one (cached until the row changes); ``None`` is 24×7."""
    if cal is None:
        return _ALWAYS
    key = (cal.pk, cal.updated_at)
    found = _calendar_cache.get(key)
    if found is None:
        found = Cal.from_spec(cal.spec)
        with _cache_lock:
            for stale in [k for k in _calendar_cache if k[0] == cal.pk]:
                del _calendar_cache[stale]
            _calendar_cache[key] = found
    return found


def region_calendar(region: Region) -> BusinessCalendar:
    """The region's business calendar, creating a Mon–Fri 09:00–18:00 one if it has none."""
    if region.calendar_id is not None:
        assert region.calendar is not None
        return region.calendar
    holidays = {"country": region.country, "subdiv": region.subdivision or None}
    cal, _ = BusinessCalendar.objects.get_or_create(
        name=f"{region.name} business hours",
        defaults={
            "spec": {
                "tz": region.timezone,
                "hours": DEFAULT_HOURS,
                "holidays": holidays if region.country else None,
                "name": f"{region.name} business hours",
            },
            "description": "Created automatically for the region",
        },
    )
    region.calendar = cal
    region.save(update_fields=["calendar"])
    return cal


def active_policy() -> SLAPolicy | None:
    return SLAPolicy.objects.filter(is_active=True).first()


# The active policy's rules, read once and kept for RULES_TTL_S seconds. A change saved in this
# process (admin, API) clears it at once through model signals; another process sees it within
# RULES_TTL_S. Only new decisions use the cache: tickets keep the rule that set their clock.
RULES_TTL_S = 5.0
_rules_lock = threading.Lock()
_rules_cache: tuple[float, list[SLARule], list[clk.Rule]] | None = None


def forget_rules(**_: object) -> None:
    global _rules_cache
    with _rules_lock:
        _rules_cache = None


def active_rules() -> tuple[list[SLARule], list[clk.Rule]]:
    global _rules_cache
    found = _rules_cache
    now = time.monotonic()
    if found is not None and now - found[0] < RULES_TTL_S:
        return found[1], found[2]
    rules = list(
        SLARule.objects.filter(policy__is_active=True)
        .select_related("policy", "plan", "calendar")
        .order_by("order", "id")
    )
    with _rules_lock:
        _rules_cache = (now, rules, [r.as_domain() for r in rules])
        return _rules_cache[1], _rules_cache[2]


def choose_rule(ticket: Ticket, organisation: Organisation) -> tuple[SLAPolicy | None, SLARule | None]:
    """The active policy's first rule whose conditions hold for this ticket."""
    rules, domain_rules = active_rules()
    if not rules:
        return active_policy(), None
    policy = rules[0].policy
    chosen = clk.match_rule(
        domain_rules,
        plan=organisation.plan.code,
        priority=ticket.priority,
        category=ticket.category,
        channel=ticket.channel,
    )
    if chosen is None:
        return policy, None
    return policy, next(r for r in rules if r.pk == chosen.id)


def calendar_for_rule(rule: SLARule | None, organisation: Organisation) -> BusinessCalendar | None:
    if rule is None or rule.calendar_mode == "24x7":
        return None
    if rule.calendar_mode == "calendar":
        return rule.calendar
    return region_calendar(organisation.home_region)


# -- clocks on a ticket ---------------------------------------------------------


def _dt_us(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)


def _us_dt(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


def clocks_from_ticket(ticket: Ticket) -> dict[str, clk.Clock]:
    warn_pct = ticket.sla_rule.warn_pct if ticket.sla_rule_id and ticket.sla_rule else 75
    clocks = {}
    for metric, p in PREFIX.items():
        clocks[metric] = clk.Clock(
            metric=metric,
            target_us=getattr(ticket, f"{p}_target_us"),
            state=getattr(ticket, f"{p}_state"),
            spent_us=getattr(ticket, f"{p}_spent_us"),
            running_since_us=_dt_us(getattr(ticket, f"{p}_running_since")),
            due_us=_dt_us(getattr(ticket, f"{p}_due_at")),
            warn_us=_dt_us(getattr(ticket, f"{p}_warn_at")),
            cycle=getattr(ticket, f"{p}_cycle"),
            warned=getattr(ticket, f"{p}_warned"),
            breached=getattr(ticket, f"{p}_breached"),
            met_at_us=_dt_us(getattr(ticket, f"{p}_met_at")),
            warn_pct=warn_pct,
        )
    return clocks


CLOCK_COLUMNS = ("state", "target_us", "spent_us", "running_since", "due_at", "warn_at", "cycle", "warned", "breached", "met_at")
SUMMARY_COLUMNS = ("sla_due_at", "sla_sort_at", "sla_next_event_at", "sla_state")
_CLOCK_FIELDS = [f"{p}_{n}" for p in PREFIX.values() for n in CLOCK_COLUMNS] + list(SUMMARY_COLUMNS)


def clock_fields() -> list[str]:
    """Every column ``clocks_to_ticket`` writes (a new list: callers may extend it)."""
    return list(_CLOCK_FIELDS)


def clocks_to_ticket(ticket: Ticket, clocks: dict[str, clk.Clock]) -> list[str]:
    """Write clocks back and refresh the summary columns; returns the written field names."""
    from relaydesk.tickets.models import SORT_SENTINEL

    for metric, c in clocks.items():
        p = PREFIX[metric]
        values = (
            c.state,
            c.target_us,
            c.spent_us,
            _us_dt(c.running_since_us),
            _us_dt(c.due_us),
            _us_dt(c.warn_us),
            c.cycle,
            c.warned,
            c.breached,
            _us_dt(c.met_at_us),
        )
        for name, value in zip(CLOCK_COLUMNS, values, strict=True):
            setattr(ticket, f"{p}_{name}", value)
    running = [c for c in clocks.values() if c.state == clk.RUNNING]
    paused = [c for c in clocks.values() if c.state == clk.PAUSED]
    dues = [c.due_us for c in running if c.due_us is not None]
    ticket.sla_due_at = _us_dt(min(dues)) if dues else None
    ticket.sla_sort_at = ticket.sla_due_at or SORT_SENTINEL
    ticket.sla_next_event_at = _us_dt(clk.next_event_us(list(clocks.values())))
    active = running + paused
    if any(c.breached for c in active):
        state = "breached"
    elif running and any(c.warned for c in running):
        state = "warning"
    elif running:
        state = "ok"
    elif paused:
        state = "paused"
    else:
        state = "none"
    ticket.sla_state = state
    return clock_fields()


def ticket_calendar(ticket: Ticket) -> Cal:
    return domain_calendar(ticket.sla_calendar if ticket.sla_calendar_id else None)


def _event_row(ticket: Ticket, ev: clk.ClockEvent) -> ClockEvent:
    """The unsaved database row for a domain clock event."""
    return ClockEvent(
        ticket=ticket,
        metric=ev.metric,
        cycle=ev.cycle,
        kind=ev.kind,
        at=from_us(ev.at_us),
        due_at=_us_dt(ev.due_us),
        spent_s=ev.spent_us // 1_000_000,
        target_s=None if ev.target_us is None else ev.target_us // 1_000_000,
        detail=dict(ev.detail),
    )


def record_events(ticket: Ticket, events: list[clk.ClockEvent]) -> list[ClockEvent]:
    """Store events append-only. Once-per-cycle kinds that already exist are skipped and not
    returned, so callers notify exactly once even when two sweeps race or one re-runs."""
    stored: list[ClockEvent] = []
    pending: list[ClockEvent] = []
    for ev in events:
        row = _event_row(ticket, ev)
        if ev.kind in clk.ONCE_PER_CYCLE:
            _flush(pending, stored)
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue
            stored.append(row)
        else:
            pending.append(row)
    _flush(pending, stored)
    return stored


def record_events_batch(batch: list[tuple[Ticket, list[clk.ClockEvent]]]) -> dict[int, list[ClockEvent]]:
    """``record_events`` for many tickets in one statement (the sweep). Once-per-cycle events
    already stored are left out first; if another writer still wins a race, the batch falls
    back to the row-by-row path, which skips exactly those."""
    once_keys = {
        (t.pk, ev.metric, ev.cycle, ev.kind) for t, evs in batch for ev in evs if ev.kind in clk.ONCE_PER_CYCLE
    }
    existing: set[tuple[int, str, int, str]] = set()
    if once_keys:
        existing = set(
            ClockEvent.objects.filter(
                ticket_id__in={k[0] for k in once_keys}, kind__in=clk.ONCE_PER_CYCLE
            ).values_list("ticket_id", "metric", "cycle", "kind")
        )
    rows: list[ClockEvent] = []
    for ticket, events in batch:
        for ev in events:
            if (ticket.pk, ev.metric, ev.cycle, ev.kind) in existing:
                continue
            rows.append(_event_row(ticket, ev))
    out: dict[int, list[ClockEvent]] = {t.pk: [] for t, _ in batch}
    try:
        with transaction.atomic():
            stored = ClockEvent.objects.bulk_create(rows)
    except IntegrityError:
        for ticket, events in batch:
            out[ticket.pk] = record_events(ticket, events)
        return out
    for row in stored:
        out[row.ticket_id].append(row)
    return out


def _flush(pending: list[ClockEvent], stored: list[ClockEvent]) -> None:
    """Insert a run of plain events in one statement, keeping their order."""
    if pending:
        fastsql.insert(pending)
        stored.extend(pending)
        pending.clear()


def now_us(now: datetime | None = None) -> int:
    return to_us(now or datetime.now(UTC))
