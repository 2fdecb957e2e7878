"""``relaydesk manage reports rebuild|catch-up``: maintain the reports' fact table."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Reports fact table: 'rebuild' re-computes every ticket's fact (run once after an "
        "upgrade or a bulk import); 'catch-up' runs one pass of the periodic catch-up now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rebuild", "catch-up"])
        parser.add_argument("--chunk", type=int, default=20_000, help="tickets per transaction (rebuild)")

    def handle(self, *args: Any, **opts: Any) -> None:
        from relaydesk.reports import facts

        if opts["action"] == "rebuild":
            if opts["chunk"] < 1:
                self.stderr.write("--chunk must be at least 1")
                raise SystemExit(2)

            def progress(done: int, max_id: int) -> None:
                if opts["verbosity"] > 1:
                    self.stderr.write(f"{done} facts (ids up to {max_id})")

            result: dict[str, Any] = dict(facts.rebuild(chunk=opts["chunk"], progress=progress))
        else:
            result = {"facts": facts.catch_up()}
        self.stdout.write(json.dumps(result))
