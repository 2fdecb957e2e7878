"""JSON API of the staffing capability; mounted under /api/v1 (paths below carry their own prefix).

``POST /api/v1/staffing/plan`` — staff only (customers get 403): agents needed per hour of the
week for an SLA target from ticket history or entered arrivals, compared with the rota and
checked by simulation.  Nothing is written."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from pydantic import ConfigDict

from relaydesk.api.auth import current_user, require_scope, require_staff

from .services import (
    MAX_AHT_S,
    MAX_WAIT_S,
    PlanInput,
    PlanInputError,
    build_plan,
    plan_payload,
    with_stored_rota,
    zone_for,
)

router = Router(tags=["staffing"])


class PlanIn(Schema):
    model_config = ConfigDict(extra="forbid")

    aht_s: float = Field(..., gt=0, le=MAX_AHT_S, description="average handling time, seconds")
    target: float = Field(..., gt=0, lt=1, description="service level target, e.g. 0.9")
    within_s: float = Field(..., ge=0, le=MAX_WAIT_S, description="answered within, seconds")
    patience_s: float | None = Field(
        None, gt=0, le=MAX_WAIT_S, description="mean patience; given: Erlang A"
    )
    arrivals: list[float] | None = Field(
        None, description="168 expected arrivals per hour of the week, Monday 00:00 first"
    )
    date_from: date | None = Field(None, description="history: first local day")
    date_to: date | None = Field(None, description="history: last local day (inclusive)")
    region: str | None = Field(None, max_length=32)
    language: str | None = Field(None, max_length=10)
    priority: str | None = Field(None, max_length=2)
    tz: str | None = Field(
        None,
        max_length=64,
        description="time zone of the hours of the week (default: the region's, else UTC)",
    )
    rota: list[int] | None = Field(
        None, description="168 agents on shift per hour (default: the stored rota, if any)"
    )
    rota_week: date | None = Field(
        None, description="stored rota: a day of the local week to use (default: next week)"
    )
    simulate: bool = True
    weeks: int = Field(2, ge=1, le=8, description="simulated weeks after one warm-up week")
    seed: int = Field(0, ge=0, lt=2**32)
    handling: Literal["exponential", "lognormal"] = Field(
        "exponential", description="distribution of simulated handling times"
    )
    handling_cv: float = Field(1.0, gt=0, le=10, description="its coefficient of variation")


@router.post("/staffing/plan", summary="Agents needed per hour of the week (staff only)")
def staffing_plan(request: HttpRequest, payload: PlanIn) -> dict[str, Any]:
    user = current_user(request)
    require_staff(user)
    require_scope(request, "tickets:read")
    p = PlanInput(
        aht_s=payload.aht_s,
        target=payload.target,
        within_s=payload.within_s,
        patience_s=payload.patience_s,
        arrivals=payload.arrivals,
        date_from=payload.date_from,
        date_to=payload.date_to,
        region=payload.region or None,
        language=payload.language or None,
        priority=payload.priority or None,
        tz=zone_for(payload.tz, payload.region),
        rota=payload.rota,
        simulate=payload.simulate,
        weeks=payload.weeks,
        seed=payload.seed,
        handling=payload.handling,
        handling_cv=payload.handling_cv,
    )
    try:
        p, stored = with_stored_rota(p, week=payload.rota_week)
        result, _ = build_plan(p)
    except PlanInputError as exc:
        raise HttpError(422, str(exc)) from None
    return plan_payload(p, result, stored)
