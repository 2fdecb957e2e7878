"""The public JSON API (django-ninja), mounted at /api/; OpenAPI at /api/openapi.json."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from .auth import SessionAuth, TokenAuth

api = NinjaAPI(
    title="RelayDesk API",
    version="1",
    description="Tickets with honest SLA clocks for real-time streaming networks.",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": f"request body too large: the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"},
        status=413,
    )


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": "authentication required: send 'Authorization: Bearer <token>' or log in"},
        status=401,
    )


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """422 with one readable sentence naming each bad field, plus the structured errors."""
    parts = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "filters")]
        where = ".".join(loc) or "body"
        msg = err.get("msg", "invalid")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"{where}: {msg}")
    return api.create_response(
        request, {"detail": "; ".join(parts) or "invalid request", "errors": exc.errors}, status=422
    )


@api.get("/v1/health", auth=None, tags=["ops"], summary="Liveness: answers without the database")
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


@api.get("/v1/ready", auth=None, tags=["ops"], summary="Readiness: checks the database")
def ready(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception as exc:
        return api.create_response(request, {"status": "unavailable", "detail": str(exc)[:200]}, status=503)
    return api.create_response(request, {"status": "ready", "database": connection.vendor}, status=200)


from .directory import router as directory_router  # noqa: E402
from .tickets import attachments_router  # noqa: E402
from .tickets import router as tickets_router  # noqa: E402

api.add_router("/v1/tickets", tickets_router)
api.add_router("/v1/attachments", attachments_router)
api.add_router("/v1", directory_router)

# Capability routers: each defines its own paths under /api/v1 (e.g. /telemetry, /kb/suggest).
from relaydesk.incidents.api import router as incidents_router  # noqa: E402
from relaydesk.kb.api import router as kb_router  # noqa: E402
from relaydesk.kb.diagnosis_api import router as diagnosis_router  # noqa: E402
from relaydesk.monitoring.api import router as monitoring_router  # noqa: E402
from relaydesk.reports.api import router as reports_router  # noqa: E402
from relaydesk.routing.api import router as routing_router  # noqa: E402
from relaydesk.staffing.api import router as staffing_router  # noqa: E402
from relaydesk.status.api import router as status_router  # noqa: E402
from relaydesk.web.api import router as web_router  # noqa: E402

api.add_router("/v1", routing_router)
api.add_router("/v1", monitoring_router)
api.add_router("/v1", kb_router)
api.add_router("/v1", diagnosis_router)
api.add_router("/v1", staffing_router)
api.add_router("/v1", reports_router)
api.add_router("/v1", web_router)
api.add_router("/v1", incidents_router)
api.add_router("/v1", status_router)
