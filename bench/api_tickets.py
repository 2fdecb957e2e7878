#!/usr/bin/env python
"""The ticket API under load, through the real server (`relaydesk serve`, gunicorn).

Creates a throw-away database (SQLite in WAL mode in a temporary data directory, or a fresh
PostgreSQL database with ``--db postgres``), migrates it, builds a small support world, starts
``relaydesk serve`` on a free loopback port and drives it with keep-alive HTTP connections
(one thread each, stdlib ``http.client``). Measured in the same run, so the ratios hold on a
noisy machine:

* ``health_rps`` (before and after the creates; the baseline), ``create_rps``
  (``POST /api/v1/tickets``) and ``create_to_health_ratio``;
* after bulk-loading realistic tickets to each size: ``list_p50_ms``/``list_p99_ms``
  (``GET /api/v1/tickets?limit=25`` with filter variants and cursor follow-ups) and
  ``detail_p50_ms``/``detail_p99_ms`` (``GET /api/v1/tickets/{id}``), each at one connection
  (service time) and at ``--connections`` (under load), with the health latency alongside;
* ``bytes_per_ticket`` (ticket rows and indexes, free text subtracted) and ``server_rss_mb``
  (gunicorn master + workers, from /proc).

One JSON line per result on stdout; progress on stderr. ``--quick`` finishes in under a minute.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as c

BENCH = "api_tickets"
HOST = "127.0.0.1"
LIST_TARGET_P99_MS = 30.0
DETAIL_TARGET_P99_MS = 20.0
BYTES_TARGET = 1100
RATIO_TARGET = 0.25


@dataclass(frozen=True)
class Plan:
    """Every bound of the run: request counts and seconds per phase."""

    sizes: tuple[int, ...]
    warmup_s: float
    health: tuple[int, float]
    create: tuple[int, float]
    mix_1: tuple[int, float]
    mix_n: tuple[int, float]
    detail_1: tuple[int, float]
    detail_n: tuple[int, float]
    health_lat: tuple[int, float]
    search: tuple[int, float]


QUICK = Plan(
    sizes=(10_000,),
    warmup_s=1.5,
    health=(6_000, 2.5),
    create=(800, 5.0),
    mix_1=(400, 4.0),
    mix_n=(2_000, 5.0),
    detail_1=(200, 2.0),
    detail_n=(1_000, 3.0),
    health_lat=(400, 1.0),
    search=(20, 2.0),
)
FULL = Plan(
    sizes=(10_000, 100_000),
    warmup_s=3.0,
    health=(8_000, 6.0),
    create=(4_000, 20.0),
    mix_1=(1_500, 15.0),
    mix_n=(6_000, 20.0),
    detail_1=(800, 6.0),
    detail_n=(4_000, 10.0),
    health_lat=(1_500, 3.0),
    search=(60, 6.0),
)


# -- HTTP load ------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    token: str | None = None
    body: dict[str, Any] | None = None
    label: str = ""
    expect: int = 200


@dataclass
class PhaseResult:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ok: int = 0
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    first_error: str = ""

    def rps(self) -> float:
        return self.ok / self.wall_s if self.wall_s > 0 else 0.0

    def all_latencies(self, labels: set[str] | None = None) -> list[float]:
        out: list[float] = []
        for label, vals in self.latencies.items():
            if labels is None or label in labels:
                out += vals
        return out


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects once when the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def send(self, req: Request) -> tuple[int, bytes]:
        headers = {"Accept": "application/json"}
        if req.token:
            headers["Authorization"] = f"Bearer {req.token}"
        payload = None
        if req.body is not None:
            payload = json.dumps(req.body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn = self._open()
            try:
                conn.request(req.method, req.path, body=payload, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, data
            except (http.client.HTTPException, ConnectionError, TimeoutError, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def server_cpu_s(pid: int) -> float:
    """CPU seconds used by the server: the master (with its reaped children, so workers
    recycled by --max-requests still count) plus its live workers."""
    tick = os.sysconf("SC_CLK_TCK")

    def stat(p: int) -> list[int]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return [0, 0, 0, 0]
        return [int(x) for x in fields[11:15]]  # utime, stime, cutime, cstime

    total = sum(stat(pid))
    for child in c.child_pids(pid):
        total += sum(stat(child)[:2])
    return total / tick


def run_phase(
    port: int,
    connections: int,
    next_request: Callable[[int, random.Random], Request],
    budget: c.Budget,
    server_pid: int,
    seed: int = 7,
) -> PhaseResult:
    """Drive ``connections`` threads, each with its own keep-alive connection, until the
    budget (count AND time) is spent; per-request latencies by label."""
    result = PhaseResult()
    lock = threading.Lock()

    def take() -> bool:
        with lock:
            return budget.take()

    def worker(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        conn = Connection(port)
        local: dict[str, list[float]] = defaultdict(list)
        ok = 0
        errors: dict[str, int] = defaultdict(int)
        first_error = ""
        try:
            while take():
                req = next_request(i, rng)
                t0 = time.perf_counter()
                try:
                    status, body = conn.send(req)
                except Exception as exc:
                    errors[req.label] += 1
                    first_error = first_error or f"{req.label}: {exc!r}"
                    continue
                dt = (time.perf_counter() - t0) * 1000
                if status == req.expect:
                    local[req.label].append(dt)
                    ok += 1
                else:
                    errors[req.label] += 1
                    first_error = first_error or f"{req.label}: HTTP {status} {body[:200]!r}"
        finally:
            conn.close()
        with lock:
            for k, v in local.items():
                result.latencies[k] += v
            for k, n in errors.items():
                result.errors[k] += n
            result.ok += ok
            result.first_error = result.first_error or first_error

    cpu0, srv0, t0 = time.process_time(), server_cpu_s(server_pid), time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=budget.max_seconds + 120)
    result.wall_s = time.perf_counter() - t0
    result.client_cpu_s = time.process_time() - cpu0
    result.server_cpu_s = server_cpu_s(server_pid) - srv0
    if result.first_error:
        c.log(f"  errors {dict(result.errors)}; first: {result.first_error}")
    return result


# -- server ---------------------------------------------------------------------------------


class Server:
    """``relaydesk serve`` as a subprocess in its own process group; always stopped."""

    def __init__(
        self, env: dict[str, str], port: int, workers: int, threads: int, log: Path
    ) -> None:
        exe = Path(sys.executable).with_name("relaydesk")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "relaydesk"]
        self.cmd = [
            *cmd,
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ]
        self.port = port
        self.log_path = log
        self._log = open(log, "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            self.cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        conn = Connection(self.port)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                status, _ = conn.send(Request("GET", "/api/v1/ready"))
                if status == 200:
                    conn.close()
                    return
            except OSError:
                time.sleep(0.2)
        conn.close()
        raise RuntimeError(f"server did not become ready; log:\n{self.tail()}")

    def workers(self) -> list[int]:
        return c.child_pids(self.pid)

    def tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            pgid = self.proc.pid  # its own session: the group id is its pid
            try:
                os.killpg(pgid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._log.close()


# -- database size ------------------------------------------------------------------------------


TICKET_TABLES = ("tickets_ticket", "tickets_ticket_tags")


def ticket_storage_bytes() -> int:
    """Bytes used by the ticket table, its tag links, their indexes (and TOAST on PG)."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c "
                "WHERE c.relname = ANY(%s) AND c.relkind = 'r'",
                [list(TICKET_TABLES)],
            )
            return int(cur.fetchone()[0])
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.execute(
            "SELECT SUM(pgsize) FROM dbstat WHERE name IN ("
            " SELECT name FROM sqlite_master WHERE tbl_name IN (%s, %s))",
            list(TICKET_TABLES),
        )
        return int(cur.fetchone()[0])


def database_bytes() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_database_size(current_database())")
            return int(cur.fetchone()[0])
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.execute("PRAGMA page_count")
        pages = int(cur.fetchone()[0])
        cur.execute("PRAGMA freelist_count")
        pages -= int(cur.fetchone()[0])
        cur.execute("PRAGMA page_size")
        return pages * int(cur.fetchone()[0])


def analyze() -> None:
    """What a running site has done after a bulk load: PostgreSQL's autovacuum (visibility
    map, statistics); on SQLite the worker's hourly statistics refresh (relaydesk.core.dbstats)."""
    from django.db import connection

    from relaydesk.core import dbstats

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    else:
        dbstats.refresh(force=True)


# -- requests --------------------------------------------------------------------------------


def create_body(rng: random.Random, region_codes: list[str]) -> dict[str, Any]:
    platform = rng.choice(["android", "ios", "web", "windows", "unity"])
    return {
        "subject": f"Video freezes after {rng.randrange(2, 30)} minutes on {platform}",
        "description": (
            "Since this morning viewers in two cities report frozen video while audio continues. "
            f"Channel live-{rng.randrange(10_000):04d}, about {rng.randrange(50, 5000)} viewers."
        ),
        "priority": rng.choices(["P1", "P2", "P3", "P4"], weights=[4, 16, 55, 25])[0],
        "category": rng.choice(["stream_quality", "connection", "sdk_integration", "other"]),
        "tags": rng.sample(["jitter", "latency", "black-screen", "cdn"], rng.randrange(0, 3)),
        "context": {
            "app_id": f"app-{rng.randrange(100):03d}",
            "channel_name": f"live-{rng.randrange(10_000):04d}",
            "sdk": "rtc-sdk",
            "sdk_version": "4.3.1",
            "platform": platform,
            "region": rng.choice(region_codes),
            "affected_user_ids": [f"u{rng.randrange(10**6)}" for _ in range(rng.randrange(3))],
        },
    }


def list_variants(world: Any) -> dict[str, tuple[str, str]]:
    """label -> (token, path): the queue views people actually open."""
    lead, agent = world.tokens["lead"], world.tokens["agent"]
    org = world.orgs[0].pk
    base = "/api/v1/tickets?limit=25"
    return {
        "all": (lead, base),
        "open": (lead, f"{base}&status=new&status=open"),
        "urgent": (lead, f"{base}&priority=P1&priority=P2&status=new&status=open"),
        "at_risk": (lead, f"{base}&sla_state=warning&sla_state=breached"),
        "organisation": (lead, f"{base}&organisation={org}"),
        "agent_mine": (agent, f"{base}&assignee=me&status=open&status=pending_customer"),
        "agent_queue": (agent, f"{base}&status=new&status=open"),
    }


def collect_cursors(
    port: int, variants: dict[str, tuple[str, str]], pages: int
) -> list[tuple[str, str]]:
    """Follow ``next`` from page 1 of a few views: the cursor follow-up requests."""
    conn = Connection(port)
    out: list[tuple[str, str]] = []
    try:
        for label in ("all", "open", "agent_queue"):
            token, path = variants[label]
            cur_path = path
            for _ in range(pages):
                status, body = conn.send(Request("GET", cur_path, token))
                if status != 200:
                    raise RuntimeError(f"{cur_path}: HTTP {status} {body[:200]!r}")
                nxt = json.loads(body)["next"]
                if not nxt:
                    break
                cur_path = f"{path}&cursor={nxt}"
                out.append((token, cur_path))
    finally:
        conn.close()
    return out


# -- the run -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--quick", action="store_true", help="10k tickets, short phases (< 60 s)")
    ap.add_argument("--workers", type=int, default=2, help="server worker processes")
    ap.add_argument("--threads", type=int, default=4, help="threads per worker (serve's default)")
    ap.add_argument("--connections", type=int, default=16, help="concurrent client connections")
    ap.add_argument(
        "--sizes",
        help="comma-separated ticket counts to load to (default 10000,100000; quick 10000)",
    )
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.sizes:
        sizes = tuple(int(s) for s in args.sizes.split(","))
        if any(b <= a for a, b in itertools.pairwise(sizes)) or sizes[0] < 1000:
            ap.error("--sizes must increase and start at 1000 or more")
        plan = Plan(**{**plan.__dict__, "sizes": sizes})
    if args.connections < 1 or args.workers < 1 or args.threads < 1:
        ap.error("--connections, --workers and --threads must be at least 1")
    started = time.perf_counter()
    with ExitStack() as stack:
        data_dir = stack.enter_context(c.temp_data_dir("relaydesk-bench-api-"))
        url = stack.enter_context(c.fresh_pg_database("api")) if args.db == "postgres" else None
        c.setup_django(data_dir, url)
        run(args, plan, data_dir, url)
    c.log(f"done in {time.perf_counter() - started:.1f} s")
    return 0


@dataclass
class Ctx:
    """What every phase needs: the server, the world, the shared result parameters."""

    args: argparse.Namespace
    plan: Plan
    server: Server
    world: Any
    common: dict[str, Any]

    def phase(self, connections: int, gen: RequestGen, budget: tuple[int, float]) -> PhaseResult:
        return run_phase(self.server.port, connections, gen, c.Budget(*budget), self.server.pid)


RequestGen = Callable[[int, random.Random], Request]


def health_requests() -> RequestGen:
    def gen(i: int, rng: random.Random) -> Request:
        return Request("GET", "/api/v1/health", label="health")

    return gen


def create_requests(tokens: list[str], region_codes: list[str]) -> RequestGen:
    """Each connection files tickets as one customer (of a different organisation)."""

    def gen(i: int, rng: random.Random) -> Request:
        body = create_body(rng, region_codes)
        return Request("POST", "/api/v1/tickets", tokens[i % len(tokens)], body, "create", 201)

    return gen


def mix_requests(
    variants: dict[str, tuple[str, str]], cursors: list[tuple[str, str]]
) -> RequestGen:
    """List views, each equally likely; 'cursor' is a follow-up page of one of them."""
    labels = [*variants, "cursor"] if cursors else list(variants)

    def gen(i: int, rng: random.Random) -> Request:
        label = labels[rng.randrange(len(labels))]
        token, path = cursors[rng.randrange(len(cursors))] if label == "cursor" else variants[label]
        return Request("GET", path, token, label=label)

    return gen


def detail_requests(ids: list[int], token: str) -> RequestGen:
    def gen(i: int, rng: random.Random) -> Request:
        return Request(
            "GET", f"/api/v1/tickets/{ids[rng.randrange(len(ids))]}", token, label="detail"
        )

    return gen


def search_requests(token: str) -> RequestGen:
    def gen(i: int, rng: random.Random) -> Request:
        term = rng.choice(["latency", "freezes", "Jakarta", "recording"])
        return Request("GET", f"/api/v1/tickets?limit=25&q={term}", token, label="search")

    return gen


def emit_rate(ctx: Ctx, metric: str, ph: PhaseResult, **params: Any) -> None:
    c.emit(
        BENCH,
        metric,
        ph.rps(),
        "req/s",
        **ctx.common,
        **params,
        requests=ph.ok,
        errors=sum(ph.errors.values()),
        server_cpu_ms_per_req=1000 * c.ratio(ph.server_cpu_s, ph.ok),
        client_cpu_share=c.ratio(ph.client_cpu_s, ph.wall_s),
    )


def emit_latency(
    ctx: Ctx, name: str, values: list[float], target: float | None = None, **params: Any
) -> None:
    """``{name}_p50_ms`` and ``{name}_p99_ms``; the p99 line says whether it meets ``target``."""
    for q in (50, 99):
        v = c.percentile(values, q)
        extra: dict[str, Any] = {}
        if target is not None and q == 99:
            extra = {"target": f"<={target:g}", "ok": v <= target}
        c.emit(
            BENCH, f"{name}_p{q}_ms", v, "ms", **ctx.common, **params, samples=len(values), **extra
        )


def measure_create(ctx: Ctx) -> None:
    """Ticket creation between two health baselines, on the same server, same connections."""
    from django.db import connection

    from relaydesk.tickets.models import Ticket

    n = ctx.args.connections
    plan = ctx.plan
    db_before = database_bytes()
    tickets_before = Ticket.objects.count()
    connection.close()
    create = create_requests(ctx.world.customer_tokens, sorted(ctx.world.regions))
    h1 = ctx.phase(n, health_requests(), plan.health)
    cr = ctx.phase(n, create, plan.create)
    h2 = ctx.phase(n, health_requests(), plan.health)
    created = Ticket.objects.count() - tickets_before
    db_growth = database_bytes() - db_before
    connection.close()
    health_rps = (h1.rps() + h2.rps()) / 2
    emit_rate(ctx, "health_rps_before", h1, connections=n)
    emit_rate(ctx, "health_rps_after", h2, connections=n)
    c.emit(
        BENCH,
        "health_rps",
        health_rps,
        "req/s",
        **ctx.common,
        connections=n,
        note="mean of the runs before and after the creates",
    )
    emit_rate(ctx, "create_rps", cr, connections=n)
    emit_latency(ctx, "create", cr.all_latencies(), connections=n)
    r = c.ratio(cr.rps(), health_rps)
    c.emit(
        BENCH,
        "create_to_health_ratio",
        r,
        "ratio",
        **ctx.common,
        connections=n,
        target=f">={RATIO_TARGET}",
        ok=r >= RATIO_TARGET,
        server_cpu_per_req_ratio=c.ratio(
            c.ratio(h1.server_cpu_s + h2.server_cpu_s, h1.ok + h2.ok),
            c.ratio(cr.server_cpu_s, cr.ok),
        ),
    )
    c.emit(
        BENCH,
        "bytes_per_created_ticket_all_rows",
        c.ratio(db_growth, created),
        "B",
        db=ctx.args.db,
        tickets=created,
        note="whole-database growth per API-created ticket: ticket, audit, clock events, "
        "auto-ack message, outbox e-mail and job rows, text included",
    )
    rss, procs = c.tree_rss_mb(ctx.server.pid)
    c.emit(BENCH, "server_rss_mb", rss, "MiB", **ctx.common, processes=procs, phase="after_create")


def load_to(ctx: Ctx, factory: Any, size: int) -> None:
    """Bulk-load realistic tickets up to ``size`` and report the storage they take."""
    from bench import _world as w
    from relaydesk.tickets.models import Ticket

    have = Ticket.objects.count()
    if size <= have:
        return
    t0 = time.perf_counter()
    before, text0 = ticket_storage_bytes(), factory.text_bytes
    w.bulk_load(factory, size - have, w.max_number() + 1)
    growth, text = ticket_storage_bytes() - before, factory.text_bytes - text0
    added = Ticket.objects.count() - have
    c.log(f"loaded {added} tickets in {time.perf_counter() - t0:.1f} s")
    per = (growth - text) / added
    c.emit(
        BENCH,
        "bytes_per_ticket",
        per,
        "B",
        db=ctx.args.db,
        tickets=size,
        loaded=added,
        text_bytes_per_ticket=text / added,
        total_bytes_per_ticket=growth / added,
        target=f"<={BYTES_TARGET}",
        ok=per <= BYTES_TARGET,
    )


def measure_reads(ctx: Ctx) -> None:
    """List (views + cursor pages) and detail latency at 1 and N connections, with the
    health latency of the same moment as the baseline."""
    from django.db import connection

    from relaydesk.tickets.models import Ticket

    analyze()
    ids = list(Ticket.objects.values_list("pk", flat=True))
    total = len(ids)
    connection.close()
    plan = ctx.plan
    lead = ctx.world.tokens["lead"]
    variants = list_variants(ctx.world)
    cursors = collect_cursors(ctx.server.port, variants, pages=4)
    mix = mix_requests(variants, cursors)
    detail = detail_requests(ids, lead)
    for conns, mix_budget, detail_budget in (
        (1, plan.mix_1, plan.detail_1),
        (ctx.args.connections, plan.mix_n, plan.detail_n),
    ):
        p = {"connections": conns, "tickets": total}
        hb = ctx.phase(conns, health_requests(), plan.health_lat)
        lm = ctx.phase(conns, mix, mix_budget)
        dt = ctx.phase(conns, detail, detail_budget)
        emit_latency(ctx, "health", hb.all_latencies(), **p)
        emit_latency(
            ctx,
            "list",
            lm.all_latencies(),
            LIST_TARGET_P99_MS,
            **p,
            variant="mix",
            errors=sum(lm.errors.values()),
        )
        for label in sorted(lm.latencies):
            emit_latency(ctx, "list", lm.latencies[label], **p, variant=label)
        emit_rate(ctx, "list_rps", lm, **p)
        emit_latency(
            ctx,
            "detail",
            dt.all_latencies(),
            DETAIL_TARGET_P99_MS,
            **p,
            errors=sum(dt.errors.values()),
        )
        emit_rate(ctx, "detail_rps", dt, **p)
    sr = ctx.phase(1, search_requests(lead), plan.search)
    emit_latency(
        ctx,
        "search",
        sr.all_latencies(),
        connections=1,
        tickets=total,
        note="q= substring search (icontains); not part of the list mix",
    )
    rss, procs = c.tree_rss_mb(ctx.server.pid)
    c.emit(BENCH, "server_rss_mb", rss, "MiB", **ctx.common, processes=procs, tickets=total)


def run(args: argparse.Namespace, plan: Plan, data_dir: Path, url: str | None) -> None:
    from django.db import connection

    from bench import _world as w

    c.migrate()
    world = w.build_world()
    common: dict[str, Any] = {"db": args.db, "workers": args.workers, "threads": args.threads}
    connection.close()
    env = dict(os.environ, RELAYDESK_DATA_DIR=str(data_dir), LOG_LEVEL="WARNING")
    if url:
        env["DATABASE_URL"] = url
    port = c.free_port(HOST)
    server = Server(env, port, args.workers, args.threads, data_dir / "server.log")
    try:
        server.wait_ready()
        initial_workers = set(server.workers())
        c.log(f"server pid {server.pid} on {HOST}:{port}, workers {sorted(initial_workers)}")
        ctx = Ctx(args, plan, server, world, common)
        # Warm-up: every worker thread imports, connects and fills its caches.
        gens = [
            health_requests(),
            create_requests(world.customer_tokens, sorted(world.regions)),
            mix_requests(list_variants(world), []),
        ]

        def warm(i: int, rng: random.Random) -> Request:
            return gens[rng.randrange(len(gens))](i, rng)

        ctx.phase(args.connections, warm, (2_000, plan.warmup_s))
        measure_create(ctx)
        factory = w.TicketFactory(world, w.now_utc(), seed=args.seed)
        for size in plan.sizes:
            load_to(ctx, factory, size)
            measure_reads(ctx)
        restarted = len(set(server.workers()) - initial_workers)
        c.emit(
            BENCH,
            "worker_restarts",
            restarted,
            "count",
            **common,
            note="gunicorn --max-requests recycling during the run",
        )
        if server.proc.poll() is not None:
            raise RuntimeError(f"the server exited early; log:\n{server.tail()}")
    finally:
        server.stop()
        connection.close()


if __name__ == "__main__":
    raise SystemExit(main())
