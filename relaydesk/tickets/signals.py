"""Events other capabilities subscribe to (routing, incident linking, KB deflection).

Each is sent *inside* the transaction that made the change, after the ticket, its audit rows
and clock events are written, so a receiver may write its own rows atomically with the change
(an assignment, an incident link). A receiver that raises rolls the whole change back, so
receivers must only raise for a reason that should refuse the change.

- ``ticket_created(sender=Ticket, ticket, actor)``
- ``message_added(sender=Ticket, ticket, message)`` — also for a customer reply
- ``ticket_changed(sender=Ticket, ticket, actor, fields)`` — ``fields`` is the set of
  audited field names that changed (e.g. ``{"status", "assignee"}``)
"""

from __future__ import annotations

from django.dispatch import Signal

ticket_created = Signal()
message_added = Signal()
ticket_changed = Signal()
