from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run one pass of the periodic sweeps (SLA warnings/breaches, outbox delivery) now."

    def handle(self, *args: Any, **opts: Any) -> None:
        from relaydesk.core.management.commands.worker import run_periodic_once

        self.stdout.write(str(run_periodic_once()))
