"""The demo world behind ``relaydesk demo``: regions, calendars, plans, teams, staff,
customers and two months of realistic ticket history, built through the same services
the product uses.

``load(tickets=…, seed=…)`` writes it in one transaction (so a load is either complete or
absent) and returns a :class:`LoadResult`; when the world is already there it changes
nothing and says so (``created=False``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction

DEFAULT_TICKETS = 2000
DEFAULT_SEED = 20260101

# Capabilities that add to the demo world: each ``relaydesk.<app>.demo`` module that exists
# has ``load(seed: int, now: datetime) -> str`` (idempotent; returns a one-line summary), called
# in the same transaction after the core world and its ticket history.
CAPABILITIES = ["routing", "kb", "monitoring", "incidents", "reports"]


@dataclass(frozen=True)
class LoadResult:
    created: bool
    seconds: float
    regions: int
    organisations: int
    customers: int
    staff: int
    tickets: int
    open_tickets: int
    solved_or_closed: int
    breached_tickets: int
    extras: tuple[str, ...] = ()


def summary(created: bool = False, seconds: float = 0.0) -> LoadResult:
    """What the demo world holds now."""
    from relaydesk.core.models import Organisation, Region, User
    from relaydesk.sla.models import ClockEvent
    from relaydesk.tickets.models import STATUS_CLOSED, STATUS_SOLVED, Ticket

    from .world import ORGS, STAFF_DOMAIN

    demo = Ticket.objects.filter(organisation__name__in=[o.name for o in ORGS])
    done = demo.filter(status__in=[STATUS_SOLVED, STATUS_CLOSED]).count()
    total = demo.count()
    return LoadResult(
        created=created,
        seconds=seconds,
        regions=Region.objects.count(),
        organisations=Organisation.objects.filter(name__in=[o.name for o in ORGS]).count(),
        customers=User.objects.filter(
            kind=User.KIND_CUSTOMER, organisation__name__in=[o.name for o in ORGS]
        ).count(),
        staff=User.objects.filter(
            kind=User.KIND_STAFF, email__iendswith="@" + STAFF_DOMAIN
        ).count(),
        tickets=total,
        open_tickets=total - done,
        solved_or_closed=done,
        breached_tickets=ClockEvent.objects.filter(kind="breached", ticket__in=demo)
        .values("ticket_id")
        .distinct()
        .count(),
    )


def load(
    *,
    tickets: int = DEFAULT_TICKETS,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> LoadResult:
    """Build the world and its history unless it is already loaded."""
    from . import history, world

    started = time.monotonic()
    with transaction.atomic():
        if world.is_loaded():
            return summary()
        now = now or datetime.now(UTC)
        w = world.build(seed)
        sim = history.Simulator(w, now, seed)
        arrivals = history.plan_arrivals(w, tickets, seed, now)
        with history.historical_notices():
            for i, arrival in enumerate(arrivals, 1):
                sim.simulate(arrival)
                if progress is not None and (i % 250 == 0 or i == len(arrivals)):
                    progress(i, len(arrivals))
        extras = load_capabilities(seed, now)
    result = summary(True, time.monotonic() - started)
    return dataclasses.replace(result, extras=tuple(extras))


def load_capabilities(seed: int, now: datetime) -> list[str]:
    """Let each capability add its part of the demo world (see ``CAPABILITIES``)."""
    import importlib
    import importlib.util

    lines = []
    for app in CAPABILITIES:
        name = f"relaydesk.{app}.demo"
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        lines.append(f"{app}: {module.load(seed, now)}")
    return lines
