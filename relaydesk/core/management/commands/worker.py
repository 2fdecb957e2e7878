from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

log = logging.getLogger("relaydesk.worker")


def run_periodic_once() -> dict[str, Any]:
    """One pass of every periodic sweep. Each is safe to run in several workers at once."""
    from relaydesk.core import periodic
    from relaydesk.notify.outbox import deliver_due
    from relaydesk.sla.sweep import sweep

    result: dict[str, Any] = {"sla_events": sweep()}
    for name, fn in periodic.registered().items():
        try:
            result[name] = fn()
        except Exception:
            log.exception("periodic sweep %s failed; retrying next tick", name)
            result[name] = "failed"
    result["outbox"] = deliver_due()
    return result


class Command(BaseCommand):
    help = "Run background jobs (Django tasks, database backend) and the periodic sweeps."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=settings.RELAYDESK_SWEEP_INTERVAL_S, help="seconds between sweeps (<= 30)")
        parser.add_argument("--once", action="store_true", help="run the sweeps and all queued jobs once, then exit")
        parser.add_argument("--no-jobs", action="store_true", help="only run the periodic sweeps")

    def handle(self, *args: Any, **opts: Any) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        interval = float(opts["interval"])
        if not 0 < interval <= 30:
            self.stderr.write("--interval must be between 0 and 30 seconds")
            raise SystemExit(2)
        worker_id = f"relaydesk-{os.getpid()}"
        if opts["once"]:
            self.stdout.write(str(run_periodic_once()))
            Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False, max_tasks=None, worker_id=worker_id, excluded_queue_names=[]).run()
            return
        stop = threading.Event()

        def ticker() -> None:
            while not stop.is_set():
                try:
                    close_old_connections()
                    result = run_periodic_once()
                    if result["sla_events"] or any(result["outbox"].values()):
                        log.info("sweep: %s", result)
                except Exception:
                    log.exception("periodic sweep failed; retrying next tick")
                finally:
                    close_old_connections()
                stop.wait(interval)

        if opts["no_jobs"]:
            # SIGTERM/SIGINT end the loop after the sweep in progress finishes. (With jobs, the
            # job worker installs its own handlers and stops after the current job.)
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_a: stop.set())
        thread = threading.Thread(target=ticker, name="relaydesk-sweeps", daemon=True)
        thread.start()
        self.stdout.write(f"worker {worker_id}: sweeps every {interval:g}s" + ("" if opts["no_jobs"] else ", running jobs"))
        try:
            if opts["no_jobs"]:
                while not stop.wait(1):
                    pass
                thread.join(timeout=30)
            else:
                Worker(queue_names=["*"], interval=1, batch=False, backend_name="default", startup_delay=True, max_tasks=None, worker_id=worker_id, excluded_queue_names=[]).run()
        finally:
            stop.set()
