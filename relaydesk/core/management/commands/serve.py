from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the production web server (gunicorn with several worker processes)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("RELAYDESK_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("RELAYDESK_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("RELAYDESK_WEB_WORKERS", "2")), help="worker processes")
        parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
        parser.add_argument("--timeout", type=int, default=30)
        parser.add_argument("--access-log", action="store_true", help="log every request")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["workers"] < 1 or opts["threads"] < 1:
            self.stderr.write("--workers and --threads must be at least 1")
            raise SystemExit(2)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "relaydesk.wsgi:application",
            "--bind",
            f"{opts['host']}:{opts['port']}",
            "--workers",
            str(opts["workers"]),
            "--threads",
            str(opts["threads"]),
            "--worker-class",
            "gthread",
            "--timeout",
            str(opts["timeout"]),
            "--graceful-timeout",
            "10",
            "--max-requests",
            "20000",
            "--max-requests-jitter",
            "2000",
        ]
        if opts["access_log"]:
            argv += ["--access-logfile", "-"]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relaydesk.settings")
        # Prometheus multi-process mode: every worker process writes its samples here and
        # /metrics adds them up. A fresh folder per server start.
        from django.conf import settings

        prom = Path(settings.DATA_DIR) / "prometheus"
        shutil.rmtree(prom, ignore_errors=True)
        prom.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(prom)
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn
