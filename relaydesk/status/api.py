"""JSON API of the status capability; mounted under /api/v1 (paths below carry their own prefix)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import Router

from . import data

router = Router(tags=["status"])


@router.get("/status/summary", auth=None, summary="Public status summary (no login): components, active incidents, maintenance")
def summary(request: HttpRequest, lang: str | None = None) -> JsonResponse:
    language = data.pick_language(lang, request.headers.get("Accept-Language"))
    cells = data.grid(language, with_uptime=False)
    indicator, key = data.overall([c.status for c in cells])

    def iso(v: Any) -> Any:
        return v.isoformat() if hasattr(v, "isoformat") else v

    def clean(d: dict[str, Any]) -> dict[str, Any]:
        return {
            k: ([clean(x) for x in v] if isinstance(v, list) and v and isinstance(v[0], dict) else iso(v))
            for k, v in d.items()
            if k not in ("colour",)
        }

    body = {
        "page": {"name": data.text("title", language), "language": language, "updated_at": timezone.now().isoformat()},
        "status": {"indicator": indicator, "description": data.text(key, language)},
        "components": [
            {"service": c.service, "region": c.region, "name": f"{c.service_name} · {c.region_name}", "status": c.status}
            for c in cells
        ],
        "incidents": [clean(i) for i in data.active_incidents(language)],
        "scheduled_maintenances": [clean(m) for m in data.maintenances(language)],
    }
    resp = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    resp["Cache-Control"] = "public, max-age=30"
    resp["Vary"] = "Accept-Language"
    return resp


from .subscribe_api import router as _subscribers  # noqa: E402

router.add_router("", _subscribers)
