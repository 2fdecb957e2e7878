"""``relaydesk manage kb load [DIR]`` and ``relaydesk manage kb reindex``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Knowledge base: load a content folder (idempotent) or rebuild the search index"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="load DIR (default: the demo content shipped with RelayDesk)")
        load.add_argument("dir", nargs="?", default=None)
        load.add_argument("--strict", action="store_true", help="stop at the first bad file")
        sub.add_parser("reindex", help="re-render and re-index every article")

    def handle(self, *args: Any, **opts: Any) -> None:
        from relaydesk.kb import loader, services

        if opts["action"] == "load":
            try:
                report = loader.load(Path(opts["dir"]) if opts["dir"] else None, strict=opts["strict"])
            except loader.ContentError as exc:
                raise CommandError(str(exc)) from exc
            for err in report.errors:
                self.stderr.write(f"skipped: {err}")
            self.stdout.write(
                f"{report.articles} articles ({report.created} new, {report.updated_texts} texts written, "
                f"{report.unchanged_texts} unchanged) in {report.categories} categories; {len(report.errors)} problems"
            )
        else:
            n = services.reindex()
            self.stdout.write(f"re-indexed {n} translations")
