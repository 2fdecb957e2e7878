"""JSON the pages need, mounted under /api/v1 (paths below carry their own prefix)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from relaydesk.api.auth import current_user, require_scope, require_staff

from . import queue

router = Router(tags=["web"])


class ChangesOut(Schema):
    token: str


@router.get("/console/changes", response=ChangesOut, summary="A token that changes when the queue may have changed (staff)")
def console_changes(request: HttpRequest) -> dict[str, str]:
    """The console polls this every few seconds and reloads its rows when the token moves:
    any ticket created or changed, or any SLA clock event (warning, breach) recorded."""
    require_scope(request, "tickets:read")
    require_staff(current_user(request))
    return {"token": queue.change_token()}
