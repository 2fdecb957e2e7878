"""Background jobs (Django's task framework; the database backend runs them in `relaydesk worker`)."""

from __future__ import annotations

from django.tasks import task

# A job delivers until nothing is due (bounded); see outbox._kick_on_commit.
BATCH = 100
MAX_ROUNDS = 50


@task()
def deliver_outbox() -> dict[str, int]:
    from .outbox import deliver_due

    total = {"sent": 0, "retry": 0, "failed": 0}
    for _ in range(MAX_ROUNDS):
        result = deliver_due(limit=BATCH)
        for key, n in result.items():
            total[key] = total.get(key, 0) + n
        if sum(result.values()) < BATCH:
            break
    return total
