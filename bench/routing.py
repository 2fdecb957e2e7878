#!/usr/bin/env python
"""Routing decision latency with many agents and a large open-ticket table (PostgreSQL).

Builds a fresh ``relaydesk_bench_*`` database with 10 teams in ten time zones, ``--agents``
staff (each with a profile: languages, skills, capacities) on 8-hour daily rotations spread
over the day, 60 organisations, and ``--open`` open tickets assigned across the agents (bulk
inserted; the routing reads only assignee, status, priority and organisation).  Then, at a
fixed instant, times:

* ``assign_p50_ms`` / ``assign_p99_ms`` — ``relaydesk.routing.services.decide``, everything a
  routing decision reads, nothing it writes: the roster of agents on shift (staff directory
  and schedule windows cached in process), one statement that reads the cache stamps, every
  on-shift agent's presence, last assignment and load for the priority (the trigger-kept
  counters) and continuity for the agents likely to win (a second statement when the chooser
  needs someone not asked), and the scoring.  One decision before the loop warms the caches,
  the prepared statement and the hint for that priority (as a running server would be); the
  first decision of each other priority, which asks everyone's continuity, is measured;
* ``route_p99_ms`` — the full ``route_ticket`` (decision + update through the ticket
  services + Assignment row) inside a transaction that is rolled back;
* ``assign_cpu_p50_ms`` / ``assign_cpu_p99_ms`` — this process's CPU time per decision
  (without the database server's), steadier than wall time on a shared machine;
* ``on_shift_agents`` — how many agents the decisions chose from; ``agents_scored_p50`` —
  how many of them a decision scored;
* what the timed decisions exclude, as the first decision after each (median of 5):
  ``roster_rebuild_ms`` (a shift starts or ends: the roster is built again from the cached
  directory and windows), ``staff_change_decision_ms`` (a staff member's skills changed: the
  directory too) and ``schedule_change_decision_ms`` (a rotation changed: every team's
  schedule windows too).

Target: ``assign_p99_ms`` ≤ 5 with 500 agents and 50,000 open tickets.  One JSON line per
result; ``--quick`` uses 20,000 open tickets and 200 decisions (under a minute); ``--sqlite``
runs on the embedded database instead.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as c

BENCH = "routing"
TARGET_P99_MS = 5.0
NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)  # a Wednesday
TEAMS = [
    ("SG", "Asia/Singapore", "SG"),
    ("CN", "Asia/Shanghai", "CN"),
    ("JP", "Asia/Tokyo", "JP"),
    ("IN", "Asia/Kolkata", "IN"),
    ("AE", "Asia/Dubai", "AE"),
    ("DE", "Europe/Berlin", "DE"),
    ("GB", "Europe/London", "GB"),
    ("BR", "America/Sao_Paulo", "BR"),
    ("US", "America/New_York", "US"),
    ("MX", "America/Mexico_City", "MX"),
]
LANGS = ["en", "zh-Hans", "es", "pt", "ar", "de", "id", "ja"]
SKILLS = [
    "sdk:android",
    "sdk:ios",
    "sdk:web",
    "sdk:flutter",
    "sdk:unity",
    "category:connection",
    "category:stream_quality",
    "category:billing",
    "region:sg",
    "region:de",
    "region:us",
]
PRIORITY_MIX = [("P1", 5), ("P2", 15), ("P3", 50), ("P4", 30)]


def build(n_agents: int, n_open: int, seed: int = 7) -> list[Any]:
    from django.db import transaction

    from relaydesk.core.models import Organisation, Region, Team, User
    from relaydesk.routing.models import AgentProfile, Rotation
    from relaydesk.sla.defaults import install_default_policy
    from relaydesk.sla.models import Plan
    from relaydesk.tickets.models import Ticket, TicketCounter

    rng = random.Random(seed)
    install_default_policy()
    plans = list(Plan.objects.all())
    with transaction.atomic():
        teams = []
        for code, tz, country in TEAMS:
            region = Region.objects.create(
                code=code.lower(), name=code, country=country, timezone=tz
            )
            teams.append(
                Team.objects.create(
                    name=f"Team {code}", region=region, timezone=tz, languages=["en"]
                )
            )
        staff = User.objects.bulk_create(
            [
                User(
                    username=f"a{i}@bench.test",
                    email=f"a{i}@bench.test",
                    first_name=f"Agent{i}",
                    kind=User.KIND_STAFF,
                    team=teams[i % len(teams)],
                    languages=["en", rng.choice(LANGS)],
                )
                for i in range(n_agents)
            ]
        )
        AgentProfile.objects.bulk_create(
            [
                AgentProfile(
                    user=u,
                    skills=rng.sample(SKILLS, 3),
                    capacity={"P1": 8, "P2": 20, "P3": 60, "P4": 40},
                )
                for u in staff
            ]
        )
        rots = []
        for i, u in enumerate(staff):
            hour = (i // len(teams)) * 3 % 24  # shifts start every 3 hours across each team
            rots.append(
                Rotation(
                    team=u.team,
                    name=f"{u.first_name} shift",
                    member_ids=[u.pk],
                    rrule=f"FREQ=DAILY;BYHOUR={hour}",
                    dtstart=f"2026-01-01T{hour:02d}:00:00",
                    duration_minutes=8 * 60,
                )
            )
        Rotation.objects.bulk_create(rots)
        orgs = []
        for i in range(60):
            orgs.append(
                Organisation.objects.create(
                    name=f"Org {i}",
                    plan=rng.choice(plans),
                    home_region=teams[i % len(teams)].region,
                    language=rng.choice(LANGS[:4]),
                )
            )
        customers = User.objects.bulk_create(
            [
                User(
                    username=f"c{i}@org.test",
                    email=f"c{i}@org.test",
                    kind=User.KIND_CUSTOMER,
                    organisation=o,
                )
                for i, o in enumerate(orgs)
            ]
        )
        TicketCounter.objects.update_or_create(pk=1, defaults={"value": 0})
    pri = [p for p, w in PRIORITY_MIX for _ in range(w)]
    batch: list[Any] = []
    for n in range(n_open):
        k = rng.randrange(len(orgs))
        batch.append(
            Ticket(
                number=n + 1,
                subject="load",
                organisation=orgs[k],
                requester=customers[k],
                assignee=rng.choice(staff),
                priority=rng.choice(pri),
                status=rng.choice(["open", "open", "pending_customer", "new"]),
                created_at=NOW - timedelta(hours=rng.randrange(1, 500)),
                updated_at=NOW - timedelta(hours=rng.randrange(0, 400)),
            )
        )
        if len(batch) == 5000:
            Ticket.objects.bulk_create(batch)
            batch = []
            c.log(f"  {n + 1} open tickets")
    if batch:
        Ticket.objects.bulk_create(batch)
    TicketCounter.objects.filter(pk=1).update(value=n_open)
    return [(orgs[i], customers[i]) for i in range(len(orgs))]


def run(args: argparse.Namespace, db_url: str | None) -> None:
    with c.temp_data_dir("rd-bench-routing-") as data:
        c.setup_django(data, db_url)
        c.migrate()
        from django.db import connection, transaction

        from relaydesk.routing import schedules, services
        from relaydesk.tickets.models import Ticket

        t0 = time.perf_counter()
        pairs = build(args.agents, args.open)
        c.log(f"built world in {time.perf_counter() - t0:.1f}s")
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                # What autovacuum does on a running server: the bulk load leaves the counter
                # rows (updated once per inserted ticket) with dead versions until vacuumed.
                cur.execute("VACUUM ANALYZE")
        rng = random.Random(11)
        # Unassigned probe tickets (the ones being routed), one per decision.
        probes = []
        for i in range(args.decisions):
            org, cust = pairs[rng.randrange(len(pairs))]
            probes.append(
                Ticket(
                    number=10_000_000 + i,
                    subject="probe",
                    organisation=org,
                    requester=cust,
                    priority=rng.choice(["P1", "P2", "P3", "P3", "P4"]),
                    status="new",
                    category=rng.choice(["connection", "stream_quality", "billing", "other"]),
                    platform=rng.choice(["android", "ios", "web", ""]),
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        Ticket.objects.bulk_create(probes)
        probes = list(
            Ticket.objects.filter(number__gte=10_000_000).select_related(
                "organisation__account_manager", "region"
            )
        )
        schedules.invalidate()
        # Warm the caches, the prepared statement and the hint for that priority (as a
        # running server would be).
        services.decide(probes[0], NOW)
        lat: list[float] = []
        cpu: list[float] = []
        on_shift = len(services.pool_at(NOW).on_shift)
        budget = c.Budget(max_count=args.decisions, max_seconds=args.seconds)
        fetched: list[int] = []
        for t in probes:
            if not budget.take():
                break
            s, sc = time.perf_counter(), time.process_time()
            d = services.decide(t, NOW)
            lat.append((time.perf_counter() - s) * 1000)
            cpu.append((time.process_time() - sc) * 1000)
            fetched.append(len(d.scores))
        params = {
            "agents": args.agents,
            "open_tickets": args.open,
            "decisions": len(lat),
            "db": connection.vendor,
        }
        scope = {"includes": INCLUDES, "excludes": EXCLUDES}
        c.emit(BENCH, "assign_p50_ms", c.percentile(lat, 50), "ms", **params, **scope)
        c.emit(
            BENCH,
            "assign_p99_ms",
            c.percentile(lat, 99),
            "ms",
            target=TARGET_P99_MS,
            **params,
            **scope,
        )
        # This process's CPU per decision (the database server's time is not in it): a
        # steadier figure than wall time on a shared machine.
        c.emit(BENCH, "assign_cpu_p50_ms", c.percentile(cpu, 50), "ms", **params, **scope)
        c.emit(BENCH, "assign_cpu_p99_ms", c.percentile(cpu, 99), "ms", **params, **scope)
        c.emit(BENCH, "on_shift_agents", on_shift, "agents", **params)
        c.emit(BENCH, "agents_scored_p50", c.percentile(fetched, 50), "agents", **params)
        wl: list[float] = []
        for t in probes[: max(20, len(probes) // 4)]:
            s = time.perf_counter()
            try:
                with transaction.atomic():
                    services.route_ticket(t, trigger="bench", now=NOW)
                    wl.append((time.perf_counter() - s) * 1000)
                    raise _Rollback
            except _Rollback:
                pass
        c.emit(BENCH, "route_p99_ms", c.percentile(wl, 99), "ms", **params | {"decisions": len(wl)})
        for metric, value in rebuilds(probes[0]).items():
            c.emit(BENCH, metric, value, "ms", **params | {"decisions": REBUILDS})


INCLUDES = (
    "roster of agents on shift from the in-process cache; one statement: cache stamps, presence, "
    "last assignment and load of every agent on shift, continuity of the agents likely to win "
    "(a second statement if the chooser needs another); the scoring"
)
EXCLUDES = (
    "writes (see route_p99_ms); rebuilding the roster, directory or schedule windows after a "
    "shift boundary or a write (see roster_rebuild_ms, staff_change_decision_ms, "
    "schedule_change_decision_ms); the first decision (warms caches, prepared statement, hint)"
)
REBUILDS = 5


def rebuilds(probe: Any) -> dict[str, float]:
    """The first decision after a shift boundary (roster dropped), after a staff member's
    skills change and after a rotation changes (a real write each, committed)."""
    from relaydesk.routing import services
    from relaydesk.routing.models import AgentProfile, Rotation

    profile = AgentProfile.objects.order_by("pk").first()
    rotation = Rotation.objects.order_by("pk").first()
    assert profile is not None and rotation is not None

    def drop_roster() -> None:
        # As at a shift boundary: the cached roster no longer covers the instant.
        roster = services._roster
        assert roster is not None
        services._roster = replace(roster, hi=NOW)

    def change_skills() -> None:
        skills = list(profile.skills)
        profile.skills = skills[1:] + skills[:1] if len(skills) > 1 else [*skills, "service:bench"]
        AgentProfile.objects.filter(pk=profile.pk).update(skills=profile.skills)

    def change_rotation() -> None:
        rotation.name = f"{rotation.name}*"
        Rotation.objects.filter(pk=rotation.pk).update(name=rotation.name)

    out = {}
    for metric, write in (
        ("roster_rebuild_ms", drop_roster),
        ("staff_change_decision_ms", change_skills),
        ("schedule_change_decision_ms", change_rotation),
    ):
        times = []
        for _ in range(REBUILDS):
            services.decide(probe, NOW)
            write()
            s = time.perf_counter()
            services.decide(probe, NOW)
            times.append((time.perf_counter() - s) * 1000)
        out[metric] = c.percentile(times, 50)
    return out


class _Rollback(Exception):
    pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="200 decisions (under a minute)")
    p.add_argument("--agents", type=int, default=500)
    p.add_argument("--open", type=int, default=None, help="open tickets (50,000; --quick: 20,000)")
    p.add_argument("--decisions", type=int, default=2000)
    p.add_argument("--seconds", type=float, default=120.0, help="time bound of the measured loop")
    p.add_argument("--sqlite", action="store_true", help="embedded SQLite instead of PostgreSQL")
    args = p.parse_args()
    if args.quick:
        args.decisions = min(args.decisions, 200)
        args.seconds = min(args.seconds, 20.0)
    if args.open is None:
        args.open = 20_000 if args.quick else 50_000
    if args.sqlite:
        run(args, None)
    else:
        with c.fresh_pg_database("routing") as url:
            run(args, url)


if __name__ == "__main__":
    main()
