#!/usr/bin/env python
"""Telemetry ingest through the real server: ``POST /api/v1/telemetry`` in batches of 5,000.

Creates a throw-away database (SQLite in WAL mode in a temporary data directory, or a fresh
PostgreSQL database with ``--db postgres``), migrates it, creates a topology (a service, six
regions with two edge nodes and three carriers each) and a feeder account with a
``telemetry:write`` token, starts ``relaydesk serve --workers 2`` on a free loopback port and
posts pre-serialised batches over keep-alive connections (one thread each). Every batch is new
(its own batch id, the next half hour of per-minute samples for every series: 6 regions × 3
carriers × 9 metrics, spread over the nodes), so each one does the full work: parse, validate,
aggregate, upsert the rollups, store the raw samples.

Results (one JSON line each, ``db`` on every line):

* ``samples_per_s`` — accepted samples per second of wall time (target ≥ 100,000 on PostgreSQL);
* ``batch_p50_ms`` / ``batch_p99_ms`` — request latency of one batch;
* ``server_cpu_ms_per_batch`` — CPU of gunicorn master + workers per batch; on PostgreSQL also
  ``db_cpu_ms_per_batch`` (the backends serving the bench database, polled so that a backend
  whose connection is recycled mid-run still counts) and ``cpu_bound_samples_per_s_per_core``
  (batch size ÷ both CPUs per batch), the figures that do not depend on what else the shared
  machine is doing;
* ``server_cpu_us_per_sample``, ``db_cpu_us_per_sample`` (PostgreSQL), ``client_cpu_us_per_sample``
  (the load threads) and ``client_build_cpu_us_per_sample`` (serialising the bodies, done before
  the run) — where the CPU goes, per accepted sample;
* ``machine_busy_share`` — how busy all cores were during the ingest phase, with the bench's
  own share and everyone else's (``others_share``): on a shared machine the wall-clock rate is
  only comparable between runs with similar ``others_share``;
* ``health_rps`` — ``GET /api/v1/health`` on the same server before and after (the baseline),
  and ``ingest_to_health_ratio`` = batches/s ÷ health requests/s;
* ``stored_samples_match`` — the rollup counts add up to the accepted samples (1) or not (0).

``--quick`` finishes in under a minute.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as c

BENCH = "telemetry_ingest"
HOST = "127.0.0.1"
TARGET_PG = 100_000
METRICS = {
    # metric: (typical value, spread, low, high)
    "rtt_ms": (120.0, 40.0, 0.0, 60_000.0),
    "jitter_ms": (12.0, 5.0, 0.0, 60_000.0),
    "packet_loss_pct": (0.6, 0.4, 0.0, 100.0),
    "join_success_rate": (0.985, 0.01, 0.0, 1.0),
    "join_in_5s_rate": (0.95, 0.02, 0.0, 1.0),
    "video_freeze_rate": (0.02, 0.01, 0.0, 1.0),
    "audio_freeze_rate": (0.01, 0.005, 0.0, 1.0),
    "bitrate_kbps": (1800.0, 300.0, 0.0, 1e6),
    "concurrent_users": (4000.0, 1500.0, 0.0, 1e10),
}
REGIONS = [
    (
        "id",
        "Jakarta",
        "ID",
        "Asia/Jakarta",
        [(7713, "Telkomsel"), (4761, "Indosat"), (24203, "XL")],
    ),
    ("th", "Bangkok", "TH", "Asia/Bangkok", [(133481, "AIS"), (7470, "True"), (23969, "TOT")]),
    ("sa", "Riyadh", "SA", "Asia/Riyadh", [(25019, "STC"), (35819, "Mobily"), (43766, "Zain")]),
    (
        "br",
        "São Paulo",
        "BR",
        "America/Sao_Paulo",
        [(26599, "Vivo"), (28573, "Claro"), (26615, "TIM")],
    ),
    (
        "de",
        "Frankfurt",
        "DE",
        "Europe/Berlin",
        [(3320, "Deutsche Telekom"), (3209, "Vodafone"), (6805, "Telefonica")],
    ),
    (
        "us",
        "Virginia",
        "US",
        "America/New_York",
        [(701, "Verizon"), (7018, "AT&T"), (21928, "T-Mobile")],
    ),
]


@dataclass(frozen=True)
class Plan:
    batches: int
    warmup: int
    ingest_s: float
    health: tuple[int, float]


QUICK = Plan(batches=150, warmup=6, ingest_s=10.0, health=(3_000, 1.0))
FULL = Plan(batches=600, warmup=10, ingest_s=60.0, health=(8_000, 5.0))


# -- data ---------------------------------------------------------------------------------------


def build_topology() -> str:
    """Service, regions, nodes, carriers and a feeder with a telemetry:write token."""
    from relaydesk.core.models import APIToken, Region, Service, User
    from relaydesk.monitoring.models import Carrier, EdgeNode

    Service.objects.create(code="rtc", name="Real-time voice and video")
    for code, name, country, tz, carriers in REGIONS:
        region = Region.objects.create(code=code, name=name, country=country, timezone=tz)
        for k in (1, 2):
            EdgeNode.objects.create(code=f"{code}-edge-{k}", region=region)
        for asn, cname in carriers:
            carrier = Carrier.objects.create(asn=asn, name=cname, country=country)
            carrier.regions.add(region)
    feeder = User.objects.create_user(
        username="feeder@bench.test", email="feeder@bench.test", password=None, kind=User.KIND_STAFF
    )
    return APIToken.issue(feeder, ["telemetry:write"], "bench")[1]


def bench_series() -> list[tuple[str, str, int, str]]:
    """(region, node, carrier ASN, metric) of every series the bench feeds: 6 × 3 × 9 = 162."""
    return [
        (region, f"{region}-edge-{1 + (i % 2)}", asn, metric)
        for region, *_rest, carriers in REGIONS
        for i, (asn, _n) in enumerate(carriers)
        for metric in METRICS
    ]


def batch_bodies(count: int, size: int, seed: int, now: float | None = None) -> list[bytes]:
    """``count`` JSON batches of ``size`` samples; batch k holds the minutes after batch k-1,
    ending before ``now`` (so no sample is in the future). Each sample is an object with ISO
    8601 timestamps, as a feeder would send it. The JSON text is assembled from per-series
    fragments (the same bytes ``json.dumps`` of the sample dicts gives, ~5x faster), so that
    building the data does not eat the short run's time budget."""
    import numpy as np

    rng = np.random.default_rng(seed)
    series = bench_series()
    per_batch_minutes = -(-size // len(series))
    now_min = int((time.time() if now is None else now) // 60) - 2
    first_min = now_min - per_batch_minutes * count
    typical, spread, lo, hi = (np.array([METRICS[s[3]][q] for s in series]) for q in range(4))
    middle = [
        f'", "service": "rtc", "region": "{r}", "node": "{n}", "carrier": {a}, "metric": "{m}", "value": '
        for r, n, a, m in series
    ]
    j = np.arange(size)
    pick = j % len(series)
    mid = [middle[p] for p in pick.tolist()]
    bodies = []
    for k in range(count):
        m0 = first_min + k * per_batch_minutes
        noise = rng.standard_normal(size)
        epoch = (m0 + j // len(series)) * 60 + rng.integers(0, 60, size)
        stamps = np.datetime_as_string(epoch.astype("datetime64[s]"), unit="s").tolist()
        weights = rng.integers(5, 3000, size).tolist()
        values = np.round(
            np.clip(typical[pick] + spread[pick] * noise, lo[pick], hi[pick]), 4
        ).tolist()
        parts = [
            f'{{"ts": "{t}Z{md}{v!r}, "weight": {w}}}'
            for t, md, v, w in zip(stamps, mid, values, weights, strict=True)
        ]
        head = f'{{"batch_id": "bench-{seed}-{k:06d}", "samples": ['
        bodies.append((head + ", ".join(parts) + "]}").encode())
    return bodies


# -- load ---------------------------------------------------------------------------------------


@dataclass
class IngestResult:
    ok: int = 0
    errors: int = 0
    accepted: int = 0
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    db_cpu_s: float = 0.0
    machine_busy_s: float = 0.0
    machine_total_s: float = 0.0
    first_error: str = ""
    latencies: list[float] | None = None


def post_batches(
    port: int, token: str, bodies: list[bytes], connections: int, max_s: float, server_pid: int
) -> IngestResult:
    """Each body once, spread over ``connections`` keep-alive connections; bounded by the
    number of bodies and by ``max_s``."""
    from bench.api_tickets import server_cpu_s

    res = IngestResult(latencies=[])
    lock = threading.Lock()
    budget = c.Budget(max_count=len(bodies), max_seconds=max_s)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }

    def take() -> int | None:
        with lock:
            return budget.count if budget.take() else None

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        lat: list[float] = []
        ok = err = accepted = 0
        first = ""
        try:
            while (i := take()) is not None:
                t0 = time.perf_counter()
                try:
                    conn.request("POST", "/api/v1/telemetry", body=bodies[i - 1], headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, port, timeout=120)
                    err += 1
                    first = first or repr(exc)
                    continue
                lat.append((time.perf_counter() - t0) * 1000)
                if resp.status == 201:
                    ok += 1
                    accepted += json.loads(data)["accepted"]
                else:
                    err += 1
                    first = first or f"HTTP {resp.status} {data[:300]!r}"
        finally:
            conn.close()
        with lock:
            res.ok += ok
            res.errors += err
            res.accepted += accepted
            assert res.latencies is not None
            res.latencies += lat
            res.first_error = res.first_error or first

    with DbCpu() as db:
        busy0, total0 = machine_cpu()
        cpu0, srv0, t0 = time.process_time(), server_cpu_s(server_pid), time.perf_counter()
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max_s + 180)
        res.wall_s = time.perf_counter() - t0
        res.client_cpu_s = time.process_time() - cpu0  # the load threads (and the poller's)
        res.server_cpu_s = server_cpu_s(server_pid) - srv0
        busy1, total1 = machine_cpu()
    res.db_cpu_s = db.cpu_s
    res.machine_busy_s = busy1 - busy0
    res.machine_total_s = total1 - total0
    if res.first_error:
        c.log(f"  {res.errors} errors; first: {res.first_error}")
    return res


def _proc_cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _bench_backend_pids(cur: Any) -> list[int]:
    cur.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    return [r[0] for r in cur.fetchall()]


class DbCpu:
    """CPU seconds of the PostgreSQL backends serving this bench's database, from /proc.

    Polled every ``interval`` s in a thread, because a backend whose connection the server
    recycles (``CONN_MAX_AGE``) exits, and its CPU with it: a start/end difference alone would
    miss it. Loses at most the last ``interval`` of an exiting backend. Zero on SQLite, where the
    database work is inside the server's own CPU. Not counted: the WAL writer, checkpointer
    and background writer, which serve every database of the cluster."""

    def __init__(self, interval: float = 0.2) -> None:
        from django.db import connection

        self.enabled = connection.vendor == "postgresql"
        self.interval = interval
        self.base: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _poll(self, cur: Any) -> None:
        for pid in _bench_backend_pids(cur):
            cpu = _proc_cpu_s(pid)
            if cpu is not None:
                self.last[pid] = cpu

    def __enter__(self) -> DbCpu:
        if not self.enabled:
            return self
        from django.db import connection

        with connection.cursor() as cur:
            self._poll(cur)
        self.base = dict(self.last)

        def run() -> None:
            from django.db import connection as conn

            try:
                with conn.cursor() as cur:
                    while not self._stop.wait(self.interval):
                        self._poll(cur)
            finally:
                conn.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=10)
            from django.db import connection

            with connection.cursor() as cur:
                self._poll(cur)

    @property
    def cpu_s(self) -> float:
        return sum(cpu - self.base.get(pid, 0.0) for pid, cpu in self.last.items())


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / tick, sum(fields) / tick


def health_rate(port: int, connections: int, budget: tuple[int, float], pid: int) -> Any:
    from bench.api_tickets import Request, run_phase

    return run_phase(
        port,
        connections,
        lambda i, rng: Request("GET", "/api/v1/health", label="health"),
        c.Budget(*budget),
        pid,
    )


# -- the run ------------------------------------------------------------------------------------


def stored_samples() -> int:
    from django.db.models import Sum

    from relaydesk.monitoring.models import TelemetryMinute

    return int(TelemetryMinute.objects.aggregate(n=Sum("count"))["n"] or 0)


def run(args: argparse.Namespace, plan: Plan, data_dir: Path, url: str | None) -> None:
    from django.db import connection

    from bench.api_tickets import Server

    t_mig = time.perf_counter()
    c.migrate()
    token = build_topology()
    connection.close()
    c.log(f"migrated and built the topology in {time.perf_counter() - t_mig:.1f} s")
    common: dict[str, Any] = {
        "db": args.db,
        "workers": args.workers,
        "threads": args.threads,
        "connections": args.connections,
        "batch_size": args.batch_size,
    }
    env = dict(os.environ, RELAYDESK_DATA_DIR=str(data_dir), LOG_LEVEL="WARNING")
    if url:
        env["DATABASE_URL"] = url
    port = c.free_port(HOST)
    t_srv = time.perf_counter()
    server = Server(env, port, args.workers, args.threads, data_dir / "server.log")
    try:
        # The bodies are built while the server starts (both mostly CPU, on different cores).
        t0, cpu0 = time.perf_counter(), time.process_time()
        bodies = batch_bodies(plan.batches + plan.warmup, args.batch_size, args.seed)
        build_cpu_s = time.process_time() - cpu0
        c.log(
            f"built {len(bodies)} batches of {args.batch_size} samples "
            f"({sum(map(len, bodies)) / len(bodies) / 1024:.0f} KiB each) "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        server.wait_ready()
        c.log(
            f"server pid {server.pid} on {HOST}:{port} ready in {time.perf_counter() - t_srv:.1f} s"
        )
        warm = post_batches(port, token, bodies[: plan.warmup], args.connections, 60.0, server.pid)
        if warm.ok == 0:
            raise RuntimeError(f"warm-up failed: {warm.first_error}\n{server.tail()}")
        h1 = health_rate(port, args.connections, plan.health, server.pid)
        ing = post_batches(
            port, token, bodies[plan.warmup :], args.connections, plan.ingest_s, server.pid
        )
        h2 = health_rate(port, args.connections, plan.health, server.pid)
        if server.proc.poll() is not None:
            raise RuntimeError(f"the server exited early; log:\n{server.tail()}")
    finally:
        server.stop()
    rate = c.ratio(ing.accepted, ing.wall_s)
    extra: dict[str, Any] = {}
    if args.db == "postgres":
        extra = {"target": f">={TARGET_PG}", "ok": rate >= TARGET_PG}
    c.emit(
        BENCH,
        "samples_per_s",
        rate,
        "samples/s",
        **common,
        batches=ing.ok,
        errors=ing.errors,
        wall_s=ing.wall_s,
        client_cpu_share=c.ratio(ing.client_cpu_s, ing.wall_s),
        **extra,
    )
    lat = ing.latencies or []
    for q in (50, 99):
        c.emit(BENCH, f"batch_p{q}_ms", c.percentile(lat, q), "ms", **common, batches=len(lat))
    c.emit(
        BENCH,
        "server_cpu_ms_per_batch",
        1000 * c.ratio(ing.server_cpu_s, ing.ok),
        "ms",
        **common,
        batches=ing.ok,
    )
    # Where the CPU goes, per accepted sample: these do not depend on the machine's load the
    # way wall-clock rates do (they still scale with the speed of one core).
    per_sample = {
        "server": ing.server_cpu_s,
        "db": ing.db_cpu_s,
        "client": ing.client_cpu_s,
    }
    for who, cpu_s in per_sample.items():
        if who == "db" and args.db != "postgres":
            continue
        c.emit(
            BENCH,
            f"{who}_cpu_us_per_sample",
            1e6 * c.ratio(cpu_s, ing.accepted),
            "us",
            **common,
            samples=ing.accepted,
            note={
                "server": "gunicorn master + workers: HTTP, parse, validate, aggregate, "
                + ("SQLite writes" if args.db == "sqlite" else "psycopg"),
                "db": "PostgreSQL backends of the bench database (polled /proc; no WAL writer)",
                "client": "the bench's load threads sending pre-serialised bodies over HTTP",
            }[who],
        )
    c.emit(
        BENCH,
        "client_build_cpu_us_per_sample",
        1e6 * c.ratio(build_cpu_s, len(bodies) * args.batch_size),
        "us",
        **common,
        note="building the JSON bodies before the run (what a feeder pays to serialise)",
    )
    cores = os.cpu_count() or 1
    ours = ing.server_cpu_s + ing.db_cpu_s + ing.client_cpu_s
    c.emit(
        BENCH,
        "machine_busy_share",
        c.ratio(ing.machine_busy_s, ing.machine_total_s),
        "share",
        **common,
        cores=cores,
        loadavg_1m=os.getloadavg()[0],
        bench_share=c.ratio(ours, ing.machine_total_s),
        others_share=c.ratio(ing.machine_busy_s - ours, ing.machine_total_s),
        note="all cores busy during the ingest phase; bench_share = server + db + client, "
        "others_share = everything else on the machine (other users, WAL writer, …)",
    )
    if args.db == "postgres":
        per_batch = c.ratio(ing.server_cpu_s + ing.db_cpu_s, ing.ok)
        c.emit(
            BENCH,
            "db_cpu_ms_per_batch",
            1000 * c.ratio(ing.db_cpu_s, ing.ok),
            "ms",
            **common,
            batches=ing.ok,
            note="CPU of the PostgreSQL backends serving the bench database (not WAL writer/checkpointer)",
        )
        c.emit(
            BENCH,
            "cpu_bound_samples_per_s_per_core",
            c.ratio(args.batch_size, per_batch),
            "samples/s",
            **common,
            note="batch size over server + database CPU per batch: what one otherwise idle core gives",
        )
    health = (h1.rps() + h2.rps()) / 2
    c.emit(BENCH, "health_rps", health, "req/s", **common, before=h1.rps(), after=h2.rps())
    c.emit(
        BENCH,
        "ingest_to_health_ratio",
        c.ratio(c.ratio(ing.ok, ing.wall_s), health),
        "ratio",
        **common,
        note="telemetry batches/s over health requests/s, same server, same run",
        server_cpu_per_req_ratio=c.ratio(
            c.ratio(ing.server_cpu_s, ing.ok),
            c.ratio(h1.server_cpu_s + h2.server_cpu_s, h1.ok + h2.ok),
        ),
    )
    n_stored = stored_samples()
    expected = ing.accepted + warm.accepted
    c.emit(
        BENCH,
        "stored_samples_match",
        int(n_stored == expected),
        "bool",
        **common,
        stored=n_stored,
        accepted=expected,
    )
    connection.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--quick", action="store_true", help="fewer batches, short phases (< 60 s)")
    ap.add_argument("--workers", type=int, default=2, help="server worker processes")
    ap.add_argument("--threads", type=int, default=4, help="threads per worker (serve's default)")
    ap.add_argument("--connections", type=int, default=4, help="concurrent client connections")
    ap.add_argument("--batch-size", type=int, default=5000, help="samples per batch")
    ap.add_argument("--batches", type=int, help="batches to post (default 600; quick 150)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.batches:
        plan = Plan(**{**plan.__dict__, "batches": args.batches})
    if min(args.connections, args.workers, args.threads, args.batch_size, plan.batches) < 1:
        ap.error(
            "--connections, --workers, --threads, --batch-size and --batches must be at least 1"
        )
    started = time.perf_counter()
    with ExitStack() as stack:
        data_dir = stack.enter_context(c.temp_data_dir("relaydesk-bench-telemetry-"))
        url = (
            stack.enter_context(c.fresh_pg_database("telemetry")) if args.db == "postgres" else None
        )
        c.setup_django(data_dir, url)
        run(args, plan, data_dir, url)
    c.log(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
