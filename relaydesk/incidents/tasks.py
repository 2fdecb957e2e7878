"""Background job: deliver the notice outbox (enqueued when a fan-out commits)."""

from __future__ import annotations

from django.tasks import task


@task()
def deliver_notices() -> dict[str, int]:
    """One delivery pass; when more is due, another job is enqueued instead of looping here,
    so the mail-outbox jobs the hand-off enqueued run in between (the first e-mails go out
    while a large fan-out is still being handed over)."""
    from .notices import _kick, deliver_due, pending_due
    from .paging import deliver_manager_pages

    result = deliver_due()
    deliver_manager_pages()
    if pending_due():
        _kick()
    return result
