#!/usr/bin/env python
"""Incident notice fan-out to 10,000 affected organisations, delivered by the real worker to a
loopback SMTP server.

Creates a throw-away database (SQLite in WAL mode in a temporary data directory, or a fresh
PostgreSQL database with ``--db postgres``), migrates it, creates one service and region and
``--orgs`` organisations (one customer user each, a tenth of them key accounts) with traffic
in that place during the last hours (footprint rows), starts an aiosmtpd server on a free
loopback port and ``relaydesk worker`` as a separate process pointed at it, then opens one
incident through ``relaydesk.incidents.services.open_incident`` — the same call the API,
the Alertmanager receiver and the detection intake make.

Results (one JSON line each; ``db`` and ``orgs`` on every line):

* ``ingest_to_first_email_s`` — three degraded minutes of telemetry for one carrier in
  Singapore written through ``monitoring.store.ingest_samples`` (the API's validation and
  write) on top of 2.25 days of generated history → the worker's detection sweep
  (``RELAYDESK_DETECTION_INTERVAL_S=1``) opens an incident → the first notice e-mail accepted
  by the SMTP server (target ≤ 10 s);
* ``fanout_queue_s`` — incident opened for ``--orgs`` organisations → its transaction
  committed with every notice outbox row written (one per recipient; target ≤ 5 s for 10,000);
* ``incident_to_first_email_s`` — that incident opened → its first notice e-mail accepted
  (``after_commit_s``: from the commit);
* ``deliveries_per_s`` — notice e-mails accepted by the SMTP server per second, from the
  first to the last (or to the end of the measuring window with ``--quick``);
* ``notices_exactly_once`` — 1 when every recipient received exactly one distinct notice
  (counted by Message-ID at the server) and no duplicate, else 0 (null when the window ended
  before every notice was delivered).

``--quick`` finishes in under a minute (delivery measured over at most 20 s).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as c

BENCH = "fanout"
HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


class Sink:
    """aiosmtpd handler that records (monotonic time, recipient, Message-ID)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.got: list[tuple[float, str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mid = ""
        for line in envelope.original_content.split(b"\n", 60):
            if line.lower().startswith(b"message-id:"):
                mid = line.split(b":", 1)[1].strip().decode()
                break
        t = time.monotonic()
        with self.lock:
            for r in envelope.rcpt_tos:
                self.got.append((t, r, mid))
        return "250 OK"

    def notices(self) -> list[tuple[float, str, str]]:
        with self.lock:
            return [g for g in self.got if g[2].startswith("<notice.")]


def build_world(n_orgs: int) -> None:
    from datetime import UTC, datetime, timedelta

    from relaydesk.core.models import Organisation, Region, Service, User
    from relaydesk.monitoring.models import FootprintHour
    from relaydesk.sla.defaults import install_default_policy
    from relaydesk.sla.models import Plan

    install_default_policy()
    plan = Plan.objects.order_by("pk").first()
    assert plan is not None
    region = Region.objects.create(code="id", name="Jakarta", country="ID", timezone="Asia/Jakarta")
    svc = Service.objects.create(code="rtc", name="Real-time voice & video")
    manager = User.objects.create(
        username="am@bench.test", email="am@bench.test", kind=User.KIND_STAFF
    )
    orgs = [
        Organisation(
            name=f"Bench Org {i:05d}",
            plan=plan,
            home_region=region,
            language="zh-Hans" if i % 3 == 0 else "en",
            is_key_account=i % 10 == 0,
            account_manager=manager if i % 10 == 0 else None,
        )
        for i in range(n_orgs)
    ]
    Organisation.objects.bulk_create(orgs, batch_size=1000)
    orgs = list(Organisation.objects.order_by("pk"))
    User.objects.bulk_create(
        [
            User(
                username=f"ops{i}@org{i}.bench.test",
                email=f"ops{i}@org{i}.bench.test",
                kind=User.KIND_CUSTOMER,
                organisation=o,
                password="!",  # unusable
            )
            for i, o in enumerate(orgs)
        ],
        batch_size=1000,
    )
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    FootprintHour.objects.bulk_create(
        [
            FootprintHour(
                organisation=o,
                service=svc,
                region=region,
                hour=hour - timedelta(hours=h),
                sessions=100 + (i % 500),
                minutes=1000.0 + 10 * (i % 500),
            )
            for i, o in enumerate(orgs)
            for h in range(2)
        ],
        batch_size=2000,
    )


ASN = {"Singtel": 7473, "StarHub": 4657, "M1": 17547}


def load_telemetry(n_orgs: int) -> float:
    """Two days and a bit of generated per-minute telemetry for Singapore (three carriers, all
    metrics) through the store, except the last three minutes; footprint for ``n_orgs``
    organisations there. Returns the epoch second after the last minute held back."""
    from datetime import UTC, datetime, timedelta

    from relaydesk.core.models import Organisation, Region, Service, User
    from relaydesk.detection import generator
    from relaydesk.monitoring.models import Carrier, FootprintHour
    from relaydesk.monitoring.store import clear_caches, ingest_samples
    from relaydesk.sla.models import Plan

    sg = Region.objects.create(code="sg", name="Singapore", country="SG", timezone="Asia/Singapore")
    svc = Service.objects.get(code="rtc")
    for name, asn in ASN.items():
        Carrier.objects.create(asn=asn, name=name, country="SG").regions.add(sg)
    clear_caches()
    plan = Plan.objects.order_by("pk").first()
    orgs = Organisation.objects.bulk_create(
        [Organisation(name=f"SG Org {i:04d}", plan=plan, home_region=sg) for i in range(n_orgs)]
    )
    orgs = list(Organisation.objects.filter(home_region=sg))
    User.objects.bulk_create(
        [User(username=f"noc{i}@sg{i}.bench.test", email=f"noc{i}@sg{i}.bench.test",
              kind=User.KIND_CUSTOMER, organisation=o, password="!") for i, o in enumerate(orgs)]
    )  # fmt: skip
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    FootprintHour.objects.bulk_create(
        [FootprintHour(organisation=o, service=svc, region=sg, hour=hour - timedelta(hours=h),
                       sessions=50, minutes=500.0) for o in orgs for h in range(3)]
    )  # fmt: skip
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    tel = generator.generate(
        seed=5,
        start=end - timedelta(days=2.25),
        days=2.25,
        regions=("sg",),
        incidents_per_week=0.0,
        gaps=False,
        blips=False,
    )
    samples = []
    for s in tel.samples(tel.timestamps[0], tel.timestamps[-4] + 1):
        s["carrier"] = f"AS{ASN[str(s['carrier'])]}"
        samples.append(s)
    for i in range(0, len(samples), 10_000):
        ingest_samples(samples[i : i + 10_000], batch_id=f"history-{i}", now=end.timestamp())
    global _TEL
    _TEL = tel
    return float(tel.timestamps[-1]) + 60


_TEL: Any = None


def degraded_samples() -> list[dict[str, Any]]:
    """The held-back last three minutes, with Singtel degraded (loss, RTT, freezes, joins)."""
    import numpy as np

    tel = _TEL
    ci = tel.regions[0].carriers.index("Singtel")
    last = slice(tel.minutes - 3, tel.minutes)
    m = tel.metrics.index
    tel.values[0, 0, ci, m("packet_loss_pct"), last] += 12.0
    tel.values[0, 0, ci, m("rtt_ms"), last] *= 4.0
    tel.values[0, 0, ci, m("join_success_rate"), last] *= 0.7
    tel.values[0, 0, ci, m("video_freeze_rate"), last] = np.minimum(
        1.0, tel.values[0, 0, ci, m("video_freeze_rate"), last] + 0.2
    )
    out = []
    for s in tel.samples(tel.timestamps[-3], tel.timestamps[-1] + 1):
        s["carrier"] = f"AS{ASN[str(s['carrier'])]}"
        out.append(s)
    return out


def start_worker(data_dir: Path, url: str | None, smtp_port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RELAYDESK_DETECTION_INTERVAL_S": "1",
        "RELAYDESK_DATA_DIR": str(data_dir),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": HOST,
        "EMAIL_PORT": str(smtp_port),
        "LOG_LEVEL": os.environ.get("FANOUT_WORKER_LOG_LEVEL", "WARNING"),
    }
    if url:
        env["DATABASE_URL"] = url
    else:
        env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "relaydesk", "worker", "--interval", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=open(os.environ["FANOUT_WORKER_LOG"], "ab")
        if os.environ.get("FANOUT_WORKER_LOG")
        else subprocess.DEVNULL,
    )


def wait_ready(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait for the worker's start line (its sweep thread is running), then drain stdout."""
    ready = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if b"sweeps every" in line:
                ready.set()

    threading.Thread(target=reader, daemon=True).start()
    return ready.wait(timeout)


def run(args: argparse.Namespace, data_dir: Path, url: str | None) -> None:
    from aiosmtpd.controller import Controller

    c.migrate()
    db = c.db_vendor()
    t0 = time.perf_counter()
    build_world(args.orgs)
    c.log(f"world: {args.orgs} organisations in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    load_telemetry(args.sg_orgs)
    c.log(f"telemetry history loaded in {time.perf_counter() - t0:.1f} s")

    from relaydesk.incidents import services
    from relaydesk.incidents.models import Notice

    sink = Sink()
    port = c.free_port()
    controller = Controller(sink, hostname=HOST, port=port, server_hostname="sink.bench")
    controller.start()
    worker = start_worker(data_dir, url, port)
    try:
        t_ready = time.perf_counter()
        if not wait_ready(worker, 60):
            raise SystemExit("the worker did not start within 60 s")
        c.log(f"worker ready in {time.perf_counter() - t_ready:.1f} s")
        time.sleep(2.0)  # its first detection pass reads the history
        common = {"db": db, "orgs": args.orgs}
        from relaydesk.monitoring.store import ingest_samples

        bad = degraded_samples()
        m_ingest = time.monotonic()
        w_ingest = time.time()
        ingest_samples(bad, batch_id="degraded", source="bench")
        end = time.monotonic() + 30
        first_sg: float | None = None
        while time.monotonic() < end:
            got = [g for g in sink.notices() if "@sg" in g[1]]
            if got:
                first_sg = min(g[0] for g in got)
                break
            time.sleep(0.05)
        from relaydesk.incidents.models import Incident

        det = Incident.objects.filter(source="detection").first()
        stages: dict[str, float | None] = {"incident_opened_s": None, "notice_handed_over_s": None}
        if det is not None:
            stages["incident_opened_s"] = round(det.created_at.timestamp() - w_ingest, 3)
            first_sent = (
                Notice.objects.filter(incident=det, sent_at__isnull=False)
                .order_by("sent_at")
                .first()
            )
            if first_sent is not None and first_sent.sent_at is not None:
                stages["notice_handed_over_s"] = round(first_sent.sent_at.timestamp() - w_ingest, 3)
        c.emit(
            BENCH,
            "ingest_to_first_email_s",
            (first_sg - m_ingest) if first_sg is not None else None,
            "s",
            **common,
            target_s=10,
            **{"from": "telemetry_ingest"},
            via="monitoring.store.ingest_samples → worker detection sweep → incident → notice",
            samples=len(bad),
            detection_incident=det.pk if det else None,
            sg_orgs=args.sg_orgs,
            detection_interval_s=1,
            **stages,
        )
        t_open = time.perf_counter()
        m_open = time.monotonic()
        incident = services.open_incident(
            service="rtc",
            region="id",
            title_en="Packet loss on Telkomsel in Jakarta",
            title_zh="雅加达 Telkomsel 丢包",
            body_en="We are investigating packet loss for users on Telkomsel.",
            body_zh="我们正在调查 Telkomsel 用户的丢包问题。",
            severity="major",
            carriers=["Telkomsel"],
        )
        fanout_s = time.perf_counter() - t_open
        m_commit = time.monotonic()
        rows = Notice.objects.filter(incident=incident).count()
        c.emit(BENCH, "fanout_queue_s", fanout_s, "s", **common, rows=rows, target_s=5)

        window = 20.0 if args.quick else args.max_wait
        end = time.monotonic() + window
        first: float | None = None
        while time.monotonic() < end:
            got = [g for g in sink.notices() if "@org" in g[1]]
            if got and first is None:
                first = min(g[0] for g in got)
            if len(got) >= rows:
                break
            time.sleep(0.05)
        got = [g for g in sink.notices() if "@org" in g[1]]
        c.emit(
            BENCH,
            "incident_to_first_email_s",
            (first - m_open) if first is not None else None,
            "s",
            **common,
            after_commit_s=round(first - m_commit, 4) if first is not None else None,
        )
        if len(got) >= 2:
            t_first, t_last = min(g[0] for g in got), max(g[0] for g in got)
            span = max(t_last - t_first, 1e-6)
            rate = (len(got) - 1) / span
        else:
            rate = float("nan")
        by_rcpt: dict[str, set[str]] = {}
        for _t, r, mid in got:
            by_rcpt.setdefault(r, set()).add(mid)
        complete = len(got) >= rows
        exactly_once = int(
            complete
            and len(by_rcpt) == rows
            and all(len(v) == 1 for v in by_rcpt.values())
            and len(got) == rows
        )
        c.emit(
            BENCH,
            "deliveries_per_s",
            rate,
            "1/s",
            **common,
            delivered=len(got),
            rows=rows,
            complete=complete,
            window_s=window,
        )
        c.emit(
            BENCH,
            "notices_exactly_once",
            exactly_once if complete else None,
            "bool",
            **common,
            delivered=len(got),
            recipients=len(by_rcpt),
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)
        controller.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument(
        "--quick", action="store_true", help="measure delivery over at most 20 s (< 60 s)"
    )
    ap.add_argument("--orgs", type=int, default=10_000, help="affected organisations")
    ap.add_argument("--sg-orgs", type=int, default=200, help="organisations in the detected place")
    ap.add_argument(
        "--max-wait", type=float, default=300.0, help="delivery window without --quick (s)"
    )
    args = ap.parse_args(argv)
    if not 1 <= args.orgs <= 200_000:
        ap.error("--orgs must be between 1 and 200000")
    if not 1 <= args.max_wait <= 3600:
        ap.error("--max-wait must be between 1 and 3600 s")
    started = time.perf_counter()
    with ExitStack() as stack:
        data_dir = stack.enter_context(c.temp_data_dir("relaydesk-bench-fanout-"))
        url = stack.enter_context(c.fresh_pg_database("fanout")) if args.db == "postgres" else None
        c.setup_django(data_dir, url)
        run(args, data_dir, url)
    c.log(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
