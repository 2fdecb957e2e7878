"""JSON API of the status capability; mounted under /api/v1 (paths below carry their own prefix)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["status"])
