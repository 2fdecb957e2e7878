"""JSON API of the incidents capability; mounted under /api/v1 (paths below carry their own prefix)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["incidents"])
