"""`relaydesk check`: Django's system checks, then the database itself.

Django's own ``check`` looks at the configuration only; an operator running it before a
deploy also wants to know that the database answers and that its schema is current. So this
command runs the system checks (including the database-tagged ones) and then connects, runs
a query and compares the applied migrations with the code's; any failure exits non-zero
with a message that says what to do.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import check as django_check
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor


class Command(django_check.Command):
    help = "Check the configuration, the database connection and that every migration is applied."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--skip-database", action="store_true", help="only the configuration checks"
        )

    def handle(self, *app_labels: Any, **options: Any) -> None:
        skip_db = options.pop("skip_database", False)
        if not skip_db and not options.get("databases"):
            options["databases"] = ["default"]
        super().handle(*app_labels, **options)
        if skip_db:
            return
        for alias in options["databases"]:
            self.stdout.write(self._check_database(alias))

    def _check_database(self, alias: str) -> str:
        conn = connections[alias]
        where = f"{conn.vendor} {conn.settings_dict.get('NAME') or ''}".strip()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchone()
            executor = MigrationExecutor(conn)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            raise CommandError(
                f"database {alias!r} ({where}) cannot be reached: {exc}. "
                "Check DATABASE_URL and that the server is running."
            ) from exc
        if pending:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in pending[:5])
            more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
            raise CommandError(
                f"database {alias!r} ({where}) has {len(pending)} unapplied migration(s): "
                f"{names}{more}. Run `relaydesk migrate`."
            )
        applied = len(executor.loader.applied_migrations)
        return f"database {alias!r}: reachable ({where}), schema current ({applied} migrations applied)"
