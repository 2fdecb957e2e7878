"""Customer footprint: sessions and session-minutes per organisation × service × region
(× carrier) × hour — who had traffic where — and the ranking of affected organisations.

Rows are *replaced* on write (the feed reports the hour's totals; sending an hour again
corrects it), validated as a whole and written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet, Sum

from relaydesk.core.models import Organisation, Region, Service

from . import conf
from .batch import MAX_ERRORS, BatchError, FieldError
from .models import Carrier, FootprintHour
from .store import parse_asn

ROW_FIELDS = ("organisation", "service", "region", "carrier", "hour", "sessions", "minutes")


@dataclass(frozen=True)
class FootprintRow:
    organisation_id: int
    service_id: int
    region_id: int
    carrier_id: int | None
    hour: datetime
    sessions: int
    minutes: float


def _parse_hour(value: Any) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        dt = datetime.fromtimestamp(float(value), UTC)
    elif isinstance(value, str):
        dt = datetime.fromisoformat(value)
        if dt.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. '2026-11-25T19:00:00Z'")
    else:
        raise ValueError("must be an ISO 8601 date-time or epoch seconds")
    if dt.minute or dt.second or dt.microsecond:
        raise ValueError("must be the start of an hour (minutes and seconds zero)")
    return dt.astimezone(UTC)


def validate_rows(
    rows: Any, now: datetime | None = None, max_rows: int | None = None, first_index: int = 0
) -> list[FootprintRow]:
    """Check every row (index and field named in each error); nothing is written here.
    ``first_index`` numbers the rows of a later chunk of a file."""
    if not isinstance(rows, list):
        raise BatchError(422, [FieldError(None, "rows", "required: a list of footprint rows")])
    if not rows:
        raise BatchError(422, [FieldError(None, "rows", "must hold at least one row")])
    limit = max_rows or conf.get_int("RELAYDESK_FOOTPRINT_MAX_ROWS")
    if len(rows) > limit:
        raise BatchError(
            413,
            [
                FieldError(
                    None, "rows", f"too many rows: {len(rows)}; the limit is {limit} per request"
                )
            ],
        )
    now = now or datetime.now(UTC)
    horizon = now.timestamp() + conf.get("RELAYDESK_TELEMETRY_FUTURE_TOLERANCE_S")
    orgs_by_name = dict(Organisation.objects.values_list("name", "id"))
    org_ids = set(orgs_by_name.values())
    services = dict(Service.objects.values_list("code", "id"))
    regions = dict(Region.objects.values_list("code", "id"))
    carriers = dict(Carrier.objects.values_list("asn", "id"))
    errors: list[FieldError] = []
    out: list[FootprintRow] = []
    seen: dict[tuple[int, int, int, int, datetime], int] = {}

    def err(i: int, name: str, msg: str) -> None:
        errors.append(FieldError(i + first_index, name, msg))

    for i, row in enumerate(rows):
        if len(errors) >= MAX_ERRORS:
            break
        if not isinstance(row, dict):
            err(i, "row", "must be a JSON object")
            continue
        for k in sorted(set(row) - set(ROW_FIELDS), key=str)[:3]:
            err(i, str(k), f"unknown field; allowed: {', '.join(ROW_FIELDS)}")
        missing = [
            f
            for f in ("organisation", "service", "region", "hour", "sessions", "minutes")
            if row.get(f) is None
        ]
        for f in missing:
            err(i, f, "required")
        if missing:
            continue
        org = row["organisation"]
        org_id: int | None
        if isinstance(org, int) and not isinstance(org, bool):
            org_id = org if org in org_ids else None
        elif isinstance(org, str):
            org_id = orgs_by_name.get(org)
        else:
            org_id = None
        if org_id is None:
            err(i, "organisation", f"unknown organisation {org!r} (give its id or exact name)")
        svc = services.get(row["service"]) if isinstance(row["service"], str) else None
        if svc is None:
            err(i, "service", f"unknown service {row['service']!r}")
        reg = regions.get(row["region"]) if isinstance(row["region"], str) else None
        if reg is None:
            err(i, "region", f"unknown region {row['region']!r}")
        carrier_id = None
        if row.get("carrier") is not None:
            c = row["carrier"]
            asn = parse_asn(c) if isinstance(c, (int, str)) else None
            carrier_id = carriers.get(asn) if asn else None
            if carrier_id is None:
                err(i, "carrier", f"unknown carrier {c!r} (give its ASN, e.g. 7713 or 'AS7713')")
        try:
            hour = _parse_hour(row["hour"])
            if hour.timestamp() > horizon:
                err(i, "hour", "is in the future")
        except ValueError as exc:
            err(i, "hour", str(exc))
            hour = None  # type: ignore[assignment]
        sessions = row["sessions"]
        if type(sessions) is float and sessions.is_integer():
            sessions = int(sessions)
        if type(sessions) is not int or not 0 <= sessions < 2**62:
            err(i, "sessions", "must be a whole number >= 0")
        minutes = row["minutes"]
        if type(minutes) not in (int, float) or not 0 <= minutes < 1e15:
            err(i, "minutes", "must be a number >= 0")
        if errors and errors[-1].index == i + first_index:
            continue
        assert org_id is not None and svc is not None and reg is not None and hour is not None
        key = (org_id, svc, reg, carrier_id or 0, hour)
        if key in seen:
            err(
                i,
                "hour",
                f"duplicates row {seen[key] + first_index} (same organisation, service, region, carrier and hour)",
            )
            continue
        seen[key] = i
        out.append(FootprintRow(org_id, svc, reg, carrier_id, hour, int(sessions), float(minutes)))
    if errors:
        raise BatchError(422, errors)
    return out


def write_rows(rows: Sequence[FootprintRow]) -> int:
    """Upsert validated rows in one transaction (a row for the same key replaces the old)."""
    now = datetime.now(UTC)
    objs = [
        FootprintHour(
            organisation_id=r.organisation_id,
            service_id=r.service_id,
            region_id=r.region_id,
            carrier_id=r.carrier_id,
            carrier_key=r.carrier_id or 0,
            hour=r.hour,
            sessions=r.sessions,
            minutes=r.minutes,
            updated_at=now,
        )
        for r in rows
    ]
    with transaction.atomic():
        FootprintHour.objects.bulk_create(
            objs,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["organisation", "service", "region", "carrier_key", "hour"],
            update_fields=["sessions", "minutes", "carrier", "updated_at"],
        )
    return len(objs)


def ingest_rows(rows: Any) -> dict[str, int]:
    valid = validate_rows(rows)
    return {"written": write_rows(valid)}


# -- reading ---------------------------------------------------------------------------------------


def footprint_rows(
    organisations: QuerySet[Organisation] | Sequence[int] | None,
    *,
    organisation: int | None = None,
    service: str | None = None,
    region: str | None = None,
    carrier: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[FootprintHour]:
    """Footprint rows of the given organisations (None: all), filtered."""
    qs = FootprintHour.objects.all()
    if organisations is not None:
        qs = qs.filter(organisation_id__in=organisations)
    if organisation is not None:
        qs = qs.filter(organisation_id=organisation)
    if service:
        qs = qs.filter(service__code=service)
    if region:
        qs = qs.filter(region__code=region)
    if carrier is not None:
        qs = qs.filter(carrier__asn=carrier)
    if since is not None:
        qs = qs.filter(hour__gte=since)
    if until is not None:
        qs = qs.filter(hour__lt=until)
    return qs


@dataclass(frozen=True)
class AffectedOrganisation:
    organisation_id: int
    name: str
    is_key_account: bool
    language: str
    sessions: int
    minutes: float
    share: float  # of all organisations' traffic in the place and window
    exposure: float  # of this organisation's own traffic on the service in the window
    by_carrier: bool  # counted from carrier rows (False: from region totals)


def _hour_floor(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("start and end must be aware datetimes (UTC)")
    return dt.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def affected_organisations(
    service: Service | str | int,
    region: Region | str | int,
    start: datetime,
    end: datetime,
    *,
    carrier: Carrier | str | int | None = None,
    min_share: float = 0.0,
    min_exposure: float = 0.0,
    min_sessions: int = 1,
    measure: str = "minutes",
) -> list[AffectedOrganisation]:
    """Organisations with traffic on ``service`` in ``region`` (and ``carrier``, when given)
    in the hours overlapping ``[start, end)``, ranked by their share of that traffic (largest
    first).

    ``share`` is the organisation's part of all traffic in the place; ``exposure`` is the part
    of the organisation's own traffic on the service (all regions) that went through the
    place, so a small customer whose whole traffic is there is not lost. Filters:
    ``min_share`` and ``min_exposure`` (fractions) and ``min_sessions``. Traffic is measured in
    session-``minutes`` (or ``sessions``). With a carrier, organisations whose footprint has
    carrier rows are counted from them; those with only region totals are counted from the
    totals (``by_carrier`` False) — they may be on that carrier and are not left out.
    """
    if measure not in ("minutes", "sessions"):
        raise ValueError("measure must be 'minutes' or 'sessions'")
    svc = (
        service.pk
        if isinstance(service, Service)
        else (service if isinstance(service, int) else Service.objects.get(code=service).pk)
    )
    reg = (
        region.pk
        if isinstance(region, Region)
        else (region if isinstance(region, int) else Region.objects.get(code=region).pk)
    )
    h0 = _hour_floor(start)
    h1 = _hour_floor(end)
    if h1 < end.astimezone(UTC):  # a partly covered last hour counts
        h1 += timedelta(hours=1)
    window = FootprintHour.objects.filter(service_id=svc, hour__gte=h0, hour__lt=h1)
    place = window.filter(region_id=reg)

    def totals(qs: QuerySet[FootprintHour]) -> dict[int, tuple[int, float]]:
        return {
            o: (int(s or 0), float(m or 0.0))
            for o, s, m in qs.values_list("organisation_id")
            .annotate(s=Sum("sessions"), m=Sum("minutes"))
            .values_list("organisation_id", "s", "m")
        }

    region_rows = totals(place.filter(carrier_key=0))
    carrier_rows: dict[int, tuple[int, float]] = {}
    carrier_id: int | None = None
    if carrier is not None:
        if isinstance(carrier, Carrier):
            carrier_id = carrier.pk
        else:
            asn = parse_asn(carrier)
            carrier_id = (
                Carrier.objects.filter(asn=asn).values_list("pk", flat=True).first()
                if asn
                else None
            )
            if carrier_id is None:
                raise LookupError(f"unknown carrier {carrier!r}")
        carrier_rows = totals(place.filter(carrier_key=carrier_id))
        has_carrier_rows = set(
            place.exclude(carrier_key=0).values_list("organisation_id", flat=True).distinct()
        )
        per_org = dict(carrier_rows)
        for o, t in region_rows.items():
            if o not in has_carrier_rows:
                per_org[o] = t
    else:
        # Region totals; an organisation that only reports per carrier is summed over carriers.
        per_org = dict(region_rows)
        for o, t in totals(place.exclude(carrier_key=0)).items():
            per_org.setdefault(o, t)
    if not per_org:
        return []
    own_total_rows = totals(window.filter(carrier_key=0))
    for o, t in totals(window.exclude(carrier_key=0)).items():
        own_total_rows.setdefault(o, t)
    k = 0 if measure == "sessions" else 1
    place_total = sum(t[k] for t in per_org.values())
    meta = {
        o.pk: o
        for o in Organisation.objects.filter(pk__in=list(per_org)).only(
            "name", "is_key_account", "language"
        )
    }
    out = []
    for o, (sessions, minutes) in per_org.items():
        amount = (sessions, minutes)[k]
        share = amount / place_total if place_total > 0 else 0.0
        own = own_total_rows.get(o, (sessions, minutes))[k]
        exposure = amount / own if own > 0 else 0.0
        if sessions < min_sessions or share < min_share or exposure < min_exposure:
            continue
        org = meta[o]
        out.append(
            AffectedOrganisation(
                organisation_id=o,
                name=org.name,
                is_key_account=org.is_key_account,
                language=org.language,
                sessions=sessions,
                minutes=minutes,
                share=share,
                exposure=min(exposure, 1.0),
                by_carrier=carrier_id is not None and o in carrier_rows,
            )
        )
    out.sort(key=lambda a: (-a.share, -a.sessions, a.organisation_id))
    return out
