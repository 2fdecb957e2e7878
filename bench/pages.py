#!/usr/bin/env python
"""Agent console pages with a large ticket table: the queue, its live refresh and the ticket page.

Creates a throw-away database (SQLite in WAL mode in a temporary data directory, or a fresh
PostgreSQL database with ``--db postgres``), migrates it, builds a support world and
bulk-loads realistic tickets (``bench/_world.py``: real SLA rules, clocks driven on real
calendars). Then renders the pages through Django's full request stack (URL routing,
middleware, sessions, templates, translations) in-process, as an APAC agent and as a lead:

* ``queue_p95_ms`` (and p50): ``GET /console/`` with each filter (all, mine, team,
  unassigned, priority, region, language) — the 50 most urgent tickets with their SLA clocks;
* ``rows_p95_ms``: ``GET /console/rows/``, the fragment the live refresh fetches;
* ``changes_p95_ms``: ``GET /api/v1/console/changes``, the poll every console makes every 2 s;
* ``ticket_page_p95_ms`` (and p50): ``GET /console/tickets/{id}/`` for random active tickets.

One JSON line per result on stdout; progress on stderr. ``--quick`` (10k tickets, short
loops) finishes in under a minute; the default is 100k tickets.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as c

BENCH = "pages"
QUEUE_FILTERS = [
    "",
    "?view=mine",
    "?view=team",
    "?view=unassigned",
    "?priority=P1",
    "?region=sg",
    "?language=zh-Hans",
]


def measure(client: Any, paths: list[str], budget: c.Budget) -> list[float]:
    """Milliseconds per request, cycling through ``paths`` until the budget runs out."""
    times: list[float] = []
    i = 0
    while budget.take():
        path = paths[i % len(paths)]
        i += 1
        t0 = time.perf_counter()
        resp = client.get(path)
        body = resp.content
        times.append((time.perf_counter() - t0) * 1000)
        if resp.status_code != 200 or not body:
            raise RuntimeError(f"GET {path} answered {resp.status_code}")
    return times


def run(tickets: int, quick: bool, seed: int) -> None:
    from django.db import connection
    from django.test import Client

    from bench import _world as w
    from relaydesk.api.auth import visible_tickets
    from relaydesk.web.queue import ACTIVE

    c.migrate()
    world = w.build_world()
    factory = w.TicketFactory(world, w.now_utc(), seed=seed)
    t0 = time.perf_counter()
    w.bulk_load(factory, tickets, 100_000)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    c.log(f"loaded {tickets} tickets in {time.perf_counter() - t0:.1f} s ({connection.vendor})")
    agent = world.agents["APAC"][0]
    rng = random.Random(seed)
    params = {"tickets": tickets, "db": connection.vendor, "quick": quick}
    n_req, secs = (80, 3.0) if quick else (700, 30.0)
    for role, user in (("agent", agent), ("lead", world.lead)):
        client = Client()
        client.force_login(user)
        client.get("/console/")  # warm: templates, translations, calendars
        active = list(
            visible_tickets(user).filter(status__in=ACTIVE).values_list("pk", flat=True)[:5000]
        )
        rng.shuffle(active)
        queue = measure(client, ["/console/" + f for f in QUEUE_FILTERS], c.Budget(n_req, secs))
        rows = measure(
            client, ["/console/rows/" + f for f in QUEUE_FILTERS], c.Budget(n_req // 2, secs / 2)
        )
        changes = measure(client, ["/api/v1/console/changes"], c.Budget(n_req, secs / 3))
        pages = measure(
            client, [f"/console/tickets/{pk}/" for pk in active[:300]], c.Budget(n_req, secs)
        )
        for metric, values in (
            ("queue", queue),
            ("rows", rows),
            ("changes", changes),
            ("ticket_page", pages),
        ):
            for p in (50, 95):
                c.emit(
                    BENCH,
                    f"{metric}_p{p}_ms",
                    c.percentile(values, p),
                    "ms",
                    role=role,
                    requests=len(values),
                    **params,
                )
        c.log(
            f"{role}: queue p95 {c.percentile(queue, 95):.1f} ms, ticket page p95 {c.percentile(pages, 95):.1f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--quick", action="store_true", help="10k tickets and short loops (under a minute)"
    )
    ap.add_argument(
        "--tickets", type=int, help="tickets to load (default 100000; 20000 with --quick)"
    )
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    tickets = args.tickets or (10_000 if args.quick else 100_000)
    if tickets < 100:
        ap.error("--tickets must be at least 100")
    started = time.perf_counter()
    with ExitStack() as stack:
        data_dir = stack.enter_context(c.temp_data_dir("relaydesk-bench-pages-"))
        url = stack.enter_context(c.fresh_pg_database("pages")) if args.db == "postgres" else None
        c.setup_django(data_dir, url)
        run(tickets, args.quick, args.seed)
    c.log(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
