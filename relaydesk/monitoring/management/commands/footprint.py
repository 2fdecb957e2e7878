from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from relaydesk.monitoring.csvimport import ImportError_, import_footprint


class Command(BaseCommand):
    help = (
        "Customer footprint: import FILE.csv (columns organisation,service,region,carrier,hour,"
        "sessions,minutes; carrier optional). Atomic; rows replace the same hour."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a CSV file of footprint rows (all or nothing)")
        imp.add_argument("file", type=Path)

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            res = import_footprint(path)
        except ImportError_ as exc:
            raise CommandError(f"{path}: nothing imported: {exc}") from None
        self.stdout.write(f"{path}: imported {res.rows} footprint rows")
