from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from relaydesk.monitoring.csvimport import ImportError_, import_telemetry


class Command(BaseCommand):
    help = (
        "Telemetry: import FILE.csv (columns ts,service,region,node,carrier,metric,value,weight; "
        "node, carrier and weight optional). Atomic: one bad row and nothing is stored."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a CSV file of samples (all or nothing)")
        imp.add_argument("file", type=Path)
        imp.add_argument(
            "--batch-id",
            help="idempotency key (default: the file's SHA-256, so the same file imports once)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            res = import_telemetry(path, batch_id=opts["batch_id"])
        except ImportError_ as exc:
            raise CommandError(f"{path}: nothing imported: {exc}") from None
        if res.duplicate:
            self.stdout.write(f"{path}: already imported (same batch id); nothing stored")
        else:
            self.stdout.write(
                f"{path}: imported {res.rows} samples ({res.minutes} series-minutes, {res.chunks} batch(es))"
            )
