"""Background jobs (Django's task framework; the database backend runs them in `relaydesk worker`)."""

from __future__ import annotations

from django.tasks import task


@task()
def deliver_outbox() -> dict[str, int]:
    from .outbox import deliver_due

    return deliver_due()
