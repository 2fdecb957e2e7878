"""JSON API of the monitoring capability; mounted under /api/v1 (paths below carry their own prefix).

- ``POST /api/v1/telemetry``: a batch of samples, JSON or NDJSON (see :func:`post_telemetry`).
- ``POST /api/v1/footprint``: footprint rows (staff feeds), ``GET /api/v1/footprint``: read,
  a customer only ever their own organisation's.
"""

from __future__ import annotations

import gc
import json
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import Router, Schema
from ninja.errors import HttpError

from relaydesk.api.auth import current_user, require_scope, visible_organisations
from relaydesk.core.models import User

from . import footprint as fp
from .batch import BatchError, FieldError, parse_json, parse_ndjson
from .store import ingest, limits

router = Router(tags=["monitoring"])

NDJSON_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
}
JSON_TYPES = {"application/json", ""}


class TelemetryResult(Schema):
    batch_id: str
    accepted: int
    series: int
    minutes: int
    first_ts: str
    last_ts: str
    raw_stored: bool
    duplicate: bool


class ErrorOut(Schema):
    detail: str
    errors: list[dict[str, Any]] | None = None


_TELEMETRY_DOC = """Send a batch of network-quality samples. Atomic: one bad sample refuses the
whole batch (422 naming each bad sample's index and field), nothing is stored.

**JSON** (`Content-Type: application/json`): `{"batch_id": "feeder-1-000123", "samples": [...]}`.

**NDJSON** (`Content-Type: application/x-ndjson`): one sample object per line; the batch id in
the `X-Batch-ID` header or as a first line `{"batch_id": "…"}`. Errors also name the line.

A sample: `{"ts": "2026-11-25T19:00:00Z" | epoch seconds, "service": "rtc", "region": "sg",
"node": "sg-edge-01"?, "carrier": 7713 | "AS7713"?, "metric": "rtt_ms", "value": 120.5,
"weight": 340?}` — weight is the number of sessions behind the value (default 1).

Idempotent on the batch id (per token user): a repeat answers **200** with the original
result and `"duplicate": true`, and stores nothing; a new batch answers **201**. Limits:
`RELAYDESK_TELEMETRY_MAX_SAMPLES` (10,000) samples and `RELAYDESK_TELEMETRY_MAX_BYTES` (4 MiB)
per request → 413. `Content-Encoding: gzip` is accepted (the limit applies to the
uncompressed body). Needs the `telemetry:write` scope and a staff or system account."""


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch is parsed, validated and stored. A batch
    allocates tens of thousands of short-lived objects (its samples, columns, keys) without
    reference cycles; each allocation burst set off young-generation collections that walked
    them while they were still alive, and now and then a full collection of the whole process
    (~4 ms of ~36 ms of server CPU per batch of 5,000, measured). Reference counting still frees
    everything at once; the collector runs again when the last concurrent batch is done.
    Counted across threads so that one request's end does not re-enable it under another's."""
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


def _error(status: int, detail: str, errors: list[FieldError] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = [e.as_dict() for e in errors]
    return JsonResponse(body, status=status)


def _read_body(request: HttpRequest, max_bytes: int) -> bytes | JsonResponse:
    too_big = _error(
        413,
        f"request body too large: a telemetry batch may have at most {max_bytes} bytes and "
        f"{limits().max_samples} samples — split it",
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        return too_big
    body = request.read(max_bytes + 1) if not hasattr(request, "_body") else request.body
    if _gzipped(request):
        try:
            d = zlib.decompressobj(wbits=47)
            body = d.decompress(body, max_bytes + 1)
        except zlib.error as exc:
            return _error(422, f"body: Content-Encoding gzip, but it is not gzip data ({exc})")
    if len(body) > max_bytes:
        return too_big
    return body


def _gzipped(request: HttpRequest) -> bool:
    return request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower() == "gzip"


def _feeder(request: HttpRequest) -> User:
    require_scope(request, "telemetry:write")
    user = current_user(request)
    if user.kind not in (User.KIND_STAFF, User.KIND_SYSTEM):
        raise HttpError(403, "only staff or system accounts may feed telemetry and footprint")
    return user


@router.post(
    "/telemetry",
    summary="Ingest a batch of telemetry samples (JSON or NDJSON)",
    description=_TELEMETRY_DOC,
    response={
        200: TelemetryResult,
        201: TelemetryResult,
        403: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        422: ErrorOut,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "required": ["batch_id", "samples"]}
                },
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
def post_telemetry(request: HttpRequest) -> JsonResponse:
    user = _feeder(request)
    lim = limits()
    body = _read_body(request, lim.max_bytes)
    if isinstance(body, JsonResponse):
        return body
    ctype = (request.content_type or "").lower()
    header_id = request.META.get("HTTP_X_BATCH_ID") or None
    if ctype not in NDJSON_TYPES and ctype not in JSON_TYPES:
        return _error(
            415,
            f"Content-Type {ctype!r} is not accepted: send application/json or application/x-ndjson",
        )
    try:
        with _gc_paused():
            if ctype in NDJSON_TYPES:
                raw = parse_ndjson(body, header_id)
            else:
                raw = parse_json(body, header_id)
            result = ingest(raw, f"user:{user.pk}")
            del raw  # the samples go while the collector is still off
    except BatchError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse(
        {**result.body, "duplicate": result.duplicate}, status=200 if result.duplicate else 201
    )


# -- footprint ----------------------------------------------------------------------------------------


class FootprintWriteOut(Schema):
    written: int


class FootprintRowOut(Schema):
    organisation: int
    service: str
    region: str
    carrier: int | None
    hour: datetime
    sessions: int
    minutes: float


class FootprintPage(Schema):
    items: list[FootprintRowOut]
    count: int
    truncated: bool


@router.post(
    "/footprint",
    summary="Write customer footprint rows (staff feeds; atomic, rows replace the same hour)",
    description=(
        'Body `{"rows": [{"organisation": id or exact name, "service": code, "region": '
        'code, "carrier": ASN?, "hour": start of the hour (ISO 8601 with offset, or epoch '
        'seconds), "sessions": int, "minutes": session-minutes}]}`. One bad row refuses all '
        "(422 naming the row index and field). Needs `telemetry:write` and a staff account."
    ),
    response={200: FootprintWriteOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "required": ["rows"]}}},
        }
    },
)
def post_footprint(request: HttpRequest) -> JsonResponse:
    _feeder(request)
    try:
        doc = json.loads(request.body or b"null")
    except ValueError as exc:
        return _error(422, f"body: is not valid JSON: {exc}")
    if not isinstance(doc, dict):
        return _error(422, "body: must be a JSON object with 'rows'")
    unknown = sorted(set(doc) - {"rows"})
    if unknown:
        return _error(422, "; ".join(f"{k}: unknown field" for k in unknown))
    try:
        out = fp.ingest_rows(doc.get("rows"))
    except BatchError as exc:
        body = exc.as_dict()
        body["detail"] = body["detail"].replace("samples[", "rows[")
        return JsonResponse(body, status=exc.status)
    return JsonResponse(out, status=200)


@router.get(
    "/footprint",
    response={200: FootprintPage, 404: ErrorOut},
    summary="Read footprint rows (customers: their own organisation only)",
)
def get_footprint(
    request: HttpRequest,
    organisation: int | None = None,
    service: str | None = None,
    region: str | None = None,
    carrier: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> JsonResponse:
    require_scope(request, "tickets:read")
    user = current_user(request)
    if not 1 <= limit <= 10_000:
        return _error(422, "limit: must be between 1 and 10000")
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            return _error(422, f"{name}: needs a UTC offset, e.g. 2026-11-25T00:00:00Z")
    visible = visible_organisations(user).values_list("pk", flat=True)
    if organisation is not None and not visible.filter(pk=organisation).exists():
        # Same answer for "does not exist" and "not yours".
        return _error(404, f"organisation {organisation} not found")
    qs = fp.footprint_rows(
        visible,
        organisation=organisation,
        service=service,
        region=region,
        carrier=carrier,
        since=since,
        until=until,
    ).order_by("hour", "organisation_id", "service_id", "region_id", "carrier_key")
    rows = list(
        qs.values_list(
            "organisation_id",
            "service__code",
            "region__code",
            "carrier__asn",
            "hour",
            "sessions",
            "minutes",
        )[: limit + 1]
    )
    items = [
        {
            "organisation": o,
            "service": s,
            "region": r,
            "carrier": c,
            "hour": h.isoformat().replace("+00:00", "Z"),
            "sessions": n,
            "minutes": m,
        }
        for o, s, r, c, h, n, m in rows[:limit]
    ]
    return JsonResponse({"items": items, "count": len(items), "truncated": len(rows) > limit})
