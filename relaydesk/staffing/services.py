"""The staffing plan as the CLI, the API and the page use it: read and check the inputs, count
ticket arrivals per hour of the week from history, and hand plain numbers to the pure models in
``relaydesk.domain.staffing``.  Every input error is a ``PlanInputError`` naming its field."""

from __future__ import annotations

import csv
import io
import json
import math
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from relaydesk.core.models import LANGUAGES, Region
from relaydesk.domain import staffing as model
from relaydesk.domain.simulation import SimulationError
from relaydesk.sla.models import PRIORITIES
from relaydesk.tickets.models import Ticket

from . import rota as rota_adapter

HOURS = model.HOURS_PER_WEEK
MAX_RANGE_DAYS = 366
MAX_AHT_S = 86_400.0
MAX_WAIT_S = 7 * 86_400.0
MAX_AGENTS_PER_HOUR = 100_000
MAX_ARRIVALS_PER_HOUR = 10_000.0
LANGUAGE_CODES = tuple(code for code, _ in LANGUAGES)
PRIORITY_CODES = tuple(code for code, _ in PRIORITIES)
# Proactive tickets are notices the provider opened itself: nobody waits for an answer.
EXCLUDED_CHANNELS = ("proactive",)
HANDLING = ("exponential", "lognormal")


class PlanInputError(ValueError):
    """A bad input; ``field`` names it (as the API and the CLI spell it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PlanInput:
    aht_s: float
    target: float
    within_s: float
    patience_s: float | None = None
    arrivals: Sequence[float] | None = None  # entered: 168 values
    date_from: date | None = None  # history: local dates in `tz`, both inclusive
    date_to: date | None = None
    region: str | None = None
    language: str | None = None
    priority: str | None = None
    tz: str = "UTC"
    rota: Sequence[int] | None = None
    # The rota's real shifts as steps on the simulation's week axis (a stored rota only).
    rota_changes: Sequence[tuple[float, int]] | None = None
    simulate: bool = True
    weeks: int = 4
    seed: int = 0
    handling: str = "exponential"  # simulated handling times: exponential | lognormal
    handling_cv: float = 1.0  # their coefficient of variation (lognormal only)


def _number(field: str, value: Any, lo: float, hi: float, lo_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanInputError(field, f"must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < lo or (lo_open and v == lo) or v > hi:
        low = f"> {lo:g}" if lo_open else f"≥ {lo:g}"
        raise PlanInputError(field, f"must be {low} and ≤ {hi:g}, got {value!r}")
    return v


def check_week(field: str, values: Sequence[Any], integer: bool, hi: float) -> list[float]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise PlanInputError(field, f"must be a list of {HOURS} numbers")
    if len(values) != HOURS:
        raise PlanInputError(
            field,
            f"must have {HOURS} values (one per hour of the week, Monday 00:00 first), "
            f"got {len(values)}",
        )
    out: list[float] = []
    for i, v in enumerate(values):
        x = _number(f"{field}[{i}]", v, 0.0, hi)
        if integer and x != int(x):
            raise PlanInputError(f"{field}[{i}]", f"must be a whole number of agents, got {v!r}")
        out.append(x)
    return out


def validate(p: PlanInput) -> PlanInput:
    """Check every field; returns the input unchanged or raises ``PlanInputError``."""
    _number("aht_s", p.aht_s, 0.0, MAX_AHT_S, lo_open=True)
    if isinstance(p.target, bool) or not isinstance(p.target, int | float):
        raise PlanInputError("target", f"must be a number, got {p.target!r}")
    if not 0 < p.target < 1:
        raise PlanInputError(
            "target", f"must be a share strictly between 0 and 1 (e.g. 0.9), got {p.target!r}"
        )
    _number("within_s", p.within_s, 0.0, MAX_WAIT_S)
    if p.patience_s is not None:
        _number("patience_s", p.patience_s, 0.0, MAX_WAIT_S, lo_open=True)
    try:
        zoneinfo.ZoneInfo(p.tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise PlanInputError(
            "tz", f"unknown time zone {p.tz!r}: use an IANA name such as 'Asia/Singapore'"
        ) from exc
    history = p.date_from is not None or p.date_to is not None
    if p.arrivals is not None and history:
        raise PlanInputError("arrivals", "give either arrivals or a date range, not both")
    if p.arrivals is None and not history:
        raise PlanInputError("arrivals", f"give arrivals ({HOURS} values) or date_from and date_to")
    if p.arrivals is not None:
        check_week("arrivals", p.arrivals, integer=False, hi=MAX_ARRIVALS_PER_HOUR)
        for name in ("region", "language", "priority"):
            if getattr(p, name):
                raise PlanInputError(
                    name,
                    "filters apply to ticket history only; give a date range instead of arrivals",
                )
    else:
        if p.date_from is None:
            raise PlanInputError("date_from", "is required with date_to")
        if p.date_to is None:
            raise PlanInputError("date_to", "is required with date_from")
        if p.date_to < p.date_from:
            raise PlanInputError("date_to", "must not be before date_from")
        if (p.date_to - p.date_from).days + 1 > MAX_RANGE_DAYS:
            raise PlanInputError("date_to", f"the range may span at most {MAX_RANGE_DAYS} days")
    if p.region and not Region.objects.filter(code=p.region).exists():
        raise PlanInputError("region", f"unknown region {p.region!r}")
    if p.language and p.language not in LANGUAGE_CODES:
        raise PlanInputError(
            "language", f"must be one of {', '.join(LANGUAGE_CODES)}, got {p.language!r}"
        )
    if p.priority and p.priority not in PRIORITY_CODES:
        raise PlanInputError(
            "priority", f"must be one of {', '.join(PRIORITY_CODES)}, got {p.priority!r}"
        )
    if p.rota is not None:
        check_week("rota", p.rota, integer=True, hi=MAX_AGENTS_PER_HOUR)
    if isinstance(p.weeks, bool) or not isinstance(p.weeks, int) or not 1 <= p.weeks <= 8:
        raise PlanInputError("weeks", f"must be a whole number from 1 to 8, got {p.weeks!r}")
    if p.handling not in HANDLING:
        raise PlanInputError(
            "handling", f"must be one of {', '.join(HANDLING)}, got {p.handling!r}"
        )
    _number("handling_cv", p.handling_cv, 0.0, 10.0, lo_open=True)
    if isinstance(p.seed, bool) or not isinstance(p.seed, int) or not 0 <= p.seed < 2**32:
        raise PlanInputError("seed", f"must be a whole number from 0 to 2^32 - 1, got {p.seed!r}")
    return p


def arrivals_from_history(
    date_from: date,
    date_to: date,
    tz: str = "UTC",
    region: str | None = None,
    language: str | None = None,
    priority: str | None = None,
) -> list[float]:
    """Mean tickets created per hour of the week (Monday 00:00 first, local to ``tz``) over the
    local dates ``date_from``…``date_to`` (inclusive).

    ``region``: the ticket's region, or its organisation's home region when the ticket names
    none.  ``language``: the organisation's language.  Proactive tickets are left out."""
    zone = zoneinfo.ZoneInfo(tz)
    start = datetime.combine(date_from, time(), tzinfo=zone)
    end = datetime.combine(date_to + timedelta(days=1), time(), tzinfo=zone)
    qs = Ticket.objects.filter(created_at__gte=start, created_at__lt=end).exclude(
        channel__in=EXCLUDED_CHANNELS
    )
    if region:
        qs = qs.filter(
            Q(region__code=region) | Q(region__isnull=True, organisation__home_region__code=region)
        )
    if language:
        qs = qs.filter(organisation__language=language)
    if priority:
        qs = qs.filter(priority=priority)
    rows = (
        qs.annotate(
            dow=ExtractIsoWeekDay("created_at", tzinfo=zone),
            hr=ExtractHour("created_at", tzinfo=zone),
        )
        .values("dow", "hr")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = [0] * HOURS
    for row in rows:
        counts[(int(row["dow"]) - 1) * 24 + int(row["hr"])] += int(row["n"])
    # How often each weekday occurs in the range (every hour of that weekday as often).
    days_of = [0] * 7
    d = date_from
    while d <= date_to:
        days_of[d.weekday()] += 1
        d += timedelta(days=1)
    return [counts[h] / days_of[h // 24] if days_of[h // 24] else 0.0 for h in range(HOURS)]


def build_plan(p: PlanInput) -> tuple[model.StaffingPlan, list[float]]:
    """Validate, gather the arrivals and compute the plan; returns it with the arrivals used."""
    validate(p)
    if p.arrivals is not None:
        arrivals = [float(a) for a in p.arrivals]
    else:
        assert p.date_from is not None and p.date_to is not None
        arrivals = arrivals_from_history(
            p.date_from, p.date_to, p.tz, p.region or None, p.language or None, p.priority or None
        )
    rota = [int(v) for v in p.rota] if p.rota is not None else None
    try:
        result = model.plan(
            arrivals,
            aht_s=float(p.aht_s),
            target=float(p.target),
            within_s=float(p.within_s),
            patience_s=None if p.patience_s is None else float(p.patience_s),
            rota=rota,
            simulate=p.simulate,
            weeks=p.weeks,
            seed=p.seed,
            handling="lognormal" if p.handling == "lognormal" else "exponential",
            handling_cv=float(p.handling_cv),
            rota_changes=p.rota_changes if rota is not None else None,
        )
    except model.StaffingError as exc:  # e.g. an absurd load; the message says why
        raise PlanInputError(exc.field or "arrivals", str(exc)) from exc
    except SimulationError as exc:  # too many tickets to simulate
        raise PlanInputError("weeks", f"{exc}, or turn the simulation off") from exc
    return result, arrivals


def zone_for(tz: str | None, region: str | None) -> str:
    """The time zone of the hours of the week: ``tz`` when given, else the region's, else UTC."""
    if tz:
        return tz
    if region:
        found = Region.objects.filter(code=region).values_list("timezone", flat=True).first()
        if found:
            return str(found)
    return "UTC"


def with_stored_rota(
    p: PlanInput,
    region: str | None = None,
    language: str | None = None,
    week: date | None = None,
    today: date | None = None,
) -> tuple[PlanInput, rota_adapter.RotaWeek | None]:
    """The input with the stored rota of the teams in ``region`` for the agents speaking
    ``language`` (default: the input's history filters) over the local week containing
    ``week`` (default next week), when no rota was entered and one is stored."""
    if p.rota is not None:
        return p, None
    validate(p)
    region = region or p.region or None
    language = language or p.language or None
    if region and not Region.objects.filter(code=region).exists():
        raise PlanInputError("region", f"unknown region {region!r}")
    if language and language not in LANGUAGE_CODES:
        raise PlanInputError(
            "language", f"must be one of {', '.join(LANGUAGE_CODES)}, got {language!r}"
        )
    found = rota_adapter.current_rota(region, language, p.tz, week, today)
    if found is None:
        return p, None
    return replace(p, rota=found.counts, rota_changes=found.changes), found


def plan_payload(
    p: PlanInput, result: model.StaffingPlan, stored: rota_adapter.RotaWeek | None = None
) -> dict[str, Any]:
    out = result.as_dict()
    if stored is not None:
        out["rota"] = stored.as_dict()
    elif p.rota is not None:
        out["rota"] = {"source": "entered"}
    else:
        out["rota"] = None
    out["source"] = "entered" if p.arrivals is not None else "history"
    out["filters"] = {
        "region": p.region or None,
        "language": p.language or None,
        "priority": p.priority or None,
        "date_from": p.date_from.isoformat() if p.date_from else None,
        "date_to": p.date_to.isoformat() if p.date_to else None,
        "tz": p.tz,
    }
    out["simulation"] = {
        "enabled": p.simulate,
        "weeks": p.weeks,
        "seed": p.seed,
        "handling": p.handling,
        "handling_cv": p.handling_cv if p.handling == "lognormal" else 1.0,
    }
    return out


# -- files ---------------------------------------------------------------------------------


def parse_week_text(field: str, text: str, integer: bool) -> list[float]:
    """168 values from a file: JSON (a list, or an object with ``values``), CSV with one value
    per line, or CSV ``hour,value`` rows (hour of the week 0–167, each once).  A first line
    that is not numeric is a header."""
    stripped = text.strip()
    if not stripped:
        raise PlanInputError(field, "the file is empty")
    hi = MAX_AGENTS_PER_HOUR if integer else MAX_ARRIVALS_PER_HOUR
    if stripped[0] in "[{":
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise PlanInputError(field, f"not valid JSON: {exc.msg} (line {exc.lineno})") from exc
        if isinstance(data, dict):
            data = data.get("values")
        if not isinstance(data, list):
            raise PlanInputError(
                field, f'JSON must be a list of {HOURS} numbers or {{"values": [...]}}'
            )
        return check_week(field, data, integer, hi)
    rows = [r for r in csv.reader(io.StringIO(stripped)) if r and any(c.strip() for c in r)]
    if rows and not _is_number(rows[0][-1]):
        rows = rows[1:]  # header
    values: list[float] = []
    by_hour: dict[int, float] = {}
    if len(rows) == 1 and len(rows[0]) > 2:  # one line: all values separated by commas
        rows = [[c] for c in rows[0]]
    for lineno, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if len(cells) == 1:
            values.append(_cell(field, cells[0], lineno))
        elif len(cells) == 2:
            hour = _cell(field, cells[0], lineno)
            if hour != int(hour) or not 0 <= hour < HOURS:
                raise PlanInputError(
                    field, f"row {lineno}: hour of the week must be 0–167, got {cells[0]!r}"
                )
            if int(hour) in by_hour:
                raise PlanInputError(field, f"row {lineno}: hour {int(hour)} appears twice")
            by_hour[int(hour)] = _cell(field, cells[1], lineno)
        else:
            raise PlanInputError(
                field, f"row {lineno}: expected 'value' or 'hour,value', got {len(cells)} columns"
            )
    if by_hour and values:
        raise PlanInputError(field, "mixes rows with and without an hour column")
    if by_hour:
        missing = [h for h in range(HOURS) if h not in by_hour]
        if missing:
            raise PlanInputError(
                field,
                f"hours missing: {', '.join(map(str, missing[:10]))}{' …' if len(missing) > 10 else ''}",
            )
        values = [by_hour[h] for h in range(HOURS)]
    return check_week(field, values, integer, hi)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cell(field: str, text: str, lineno: int) -> float:
    try:
        v = float(text)
    except ValueError:
        raise PlanInputError(field, f"row {lineno}: {text!r} is not a number") from None
    if not math.isfinite(v):
        raise PlanInputError(field, f"row {lineno}: {text!r} is not a finite number")
    return v


def parse_number_list(field: str, text: str, integer: bool) -> list[float]:
    """168 numbers separated by commas, spaces or new lines (the page's text box)."""
    parts = [t for t in text.replace(",", " ").split() if t]
    values = [_cell(field, t, i) for i, t in enumerate(parts, start=1)]
    hi = MAX_AGENTS_PER_HOUR if integer else MAX_ARRIVALS_PER_HOUR
    return check_week(field, values, integer, hi)
