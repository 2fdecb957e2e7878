"""The staffing page (staff only): the plan as a table and a server-drawn SVG chart of agents
needed against agents rostered per hour of the week.  A GET form; nothing is written."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from relaydesk.core.models import LANGUAGES, Region, User
from relaydesk.domain.staffing import StaffingPlan
from relaydesk.sla.models import PRIORITIES

from .rota import RotaWeek
from .services import (
    MAX_AHT_S,
    MAX_WAIT_S,
    PlanInput,
    PlanInputError,
    build_plan,
    parse_number_list,
    with_stored_rota,
    zone_for,
)

PAGE_WEEKS = 2  # simulated weeks on the page (the API and CLI may ask for more)
HISTORY_DAYS = 28


class PlanForm(forms.Form):
    region = forms.ChoiceField(label=_("Region"), required=False)
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", "—"), *LANGUAGES]
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[("", "—"), *PRIORITIES]
    )
    date_from = forms.DateField(label=_("From"), required=False)
    date_to = forms.DateField(label=_("To"), required=False)
    tz = forms.CharField(label=_("Time zone"), required=False, max_length=64)
    aht_s = forms.FloatField(label=_("Average handling time (s)"), min_value=1, max_value=MAX_AHT_S)
    target = forms.FloatField(label=_("Target share"), min_value=0.01, max_value=0.999)
    within_s = forms.FloatField(label=_("Answered within (s)"), min_value=0, max_value=MAX_WAIT_S)
    patience_s = forms.FloatField(
        label=_("Mean patience (s)"), required=False, min_value=1, max_value=MAX_WAIT_S
    )
    arrivals = forms.CharField(
        label=_("Entered arrivals (168 values)"), required=False, widget=forms.Textarea
    )
    rota = forms.CharField(
        label=_("Rota: agents per hour (168 values)"), required=False, widget=forms.Textarea
    )
    week = forms.DateField(label=_("Rota week (a day in it)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = [(r.code, str(r)) for r in Region.objects.order_by("code")]
        self.fields["region"].choices = [("", "—"), *regions]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    plot_w: int
    plot_h: int
    needed_points: str
    rostered_points: str
    short_rects: list[dict[str, float]]
    days: list[dict[str, Any]]
    y_ticks: list[dict[str, Any]]


def _step_points(values: list[int], x0: float, dx: float, y: Any) -> str:
    pts: list[str] = []
    for h, v in enumerate(values):
        pts.append(f"{x0 + h * dx:.1f},{y(v):.1f}")
        pts.append(f"{x0 + (h + 1) * dx:.1f},{y(v):.1f}")
    return " ".join(pts)


def chart_for(plan: StaffingPlan) -> Chart:
    """Coordinates of the chart: step lines (needed, rostered) and the short hours shaded."""
    left, top, plot_w, plot_h = 40, 10, 840, 200
    needed = [r.needed for r in plan.rows]
    rostered = [r.rostered for r in plan.rows if r.rostered is not None]
    top_value = max([1, *needed, *rostered])
    dx = plot_w / len(plan.rows)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / top_value

    short = [
        {"x": left + r.hour * dx, "w": dx, "y": top, "h": plot_h}
        for r in plan.rows
        if r.gap is not None and r.gap < 0
    ]
    days = [
        {"x": left + d * 24 * dx, "label_x": left + (d * 24 + 12) * dx, "name": WEEKDAYS_ABBR[d]}
        for d in range(7)
    ]
    ticks = sorted({0, top_value // 2, top_value})
    return Chart(
        width=left + plot_w + 10,
        height=top + plot_h + 30,
        left=left,
        top=top,
        plot_w=plot_w,
        plot_h=plot_h,
        needed_points=_step_points(needed, left, dx, y),
        rostered_points=(
            _step_points([int(r.rostered or 0) for r in plan.rows], left, dx, y)
            if len(rostered) == len(plan.rows)
            else ""
        ),
        short_rects=short,
        days=days,
        y_ticks=[{"value": t, "y": y(t)} for t in ticks],
    )


def _pct(share: float | None) -> float | None:
    return None if share is None else 100.0 * share


def _defaults() -> dict[str, Any]:
    today = timezone.now().date()
    return {
        "date_from": (today - timedelta(days=HISTORY_DAYS)).isoformat(),
        "date_to": (today - timedelta(days=1)).isoformat(),
        "tz": "",
        "aht_s": 600,
        "target": 0.8,
        "within_s": 300,
    }


@login_required
def plan_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or user.kind != User.KIND_STAFF:
        raise PermissionDenied("only support staff may see staffing plans")
    data = request.GET if "aht_s" in request.GET else _defaults()
    form = PlanForm(data)
    plan: StaffingPlan | None = None
    stored: RotaWeek | None = None
    p: PlanInput | None = None
    rows: list[dict[str, Any]] = []
    chart: Chart | None = None
    if form.is_valid():
        c = form.cleaned_data
        try:
            arrivals = (
                parse_number_list("arrivals", c["arrivals"], integer=False)
                if c["arrivals"].strip()
                else None
            )
            rota_values = (
                [int(v) for v in parse_number_list("rota", c["rota"], integer=True)]
                if c["rota"].strip()
                else None
            )
            history = arrivals is None
            d_from: date | None = c["date_from"] if history else None
            d_to: date | None = c["date_to"] if history else None
            if history and d_from is None:
                raise PlanInputError("date_from", "is required unless arrivals are entered")
            if history and d_to is None:
                raise PlanInputError("date_to", "is required unless arrivals are entered")
            p = PlanInput(
                aht_s=c["aht_s"],
                target=c["target"],
                within_s=c["within_s"],
                patience_s=c["patience_s"],
                arrivals=arrivals,
                date_from=d_from,
                date_to=d_to,
                region=(c["region"] or None) if history else None,
                language=(c["language"] or None) if history else None,
                priority=(c["priority"] or None) if history else None,
                tz=zone_for(c["tz"], c["region"] or None),
                rota=rota_values,
                weeks=PAGE_WEEKS,
            )
            # No rota entered: the stored shifts of the region's teams (agents speaking the
            # language) over the chosen week, default next week.
            p, stored = with_stored_rota(
                p, c["region"] or None, c["language"] or None, c["week"] or None
            )
            plan, _arr = build_plan(p)
        except PlanInputError as exc:
            field = exc.field.split("[", 1)[0]
            form.add_error(field if field in form.fields else None, exc.message)
            plan = None
    if plan is not None and request.GET.get("format") == "csv":
        return plan_csv(plan, stored)
    if plan is not None:
        chart = chart_for(plan)
        for r in plan.rows:
            rows.append(
                {
                    "row": r,
                    "day": WEEKDAYS_ABBR[r.hour // 24],
                    "date": (
                        stored.week_start + timedelta(days=r.hour // 24)
                        if stored is not None
                        else None
                    ),
                    "time": f"{r.hour % 24:02d}:00",
                    "short": r.gap is not None and r.gap < 0,
                    "model_sl": _pct(r.model_sl_rostered),
                    "sim_sl": _pct(r.simulated_sl),
                    "sim_sl_needed": _pct(r.simulated_sl_needed),
                }
            )
    return render(
        request,
        "staffing/plan.html",
        {
            "form": form,
            "plan": plan,
            "rows": rows,
            "chart": chart,
            "stored": stored,
            "rota_entered": p is not None and p.rota is not None and stored is None,
            "csv_query": _csv_query(request),
        },
    )


CSV_COLUMNS = (
    "hour",
    "date",
    "when",
    "arrivals",
    "erlangs",
    "needed",
    "rostered",
    "gap",
    "status",
    "model_sl",
    "sim_sl",
    "sim_sl_needed",
)


def _csv_query(request: HttpRequest) -> str:
    q = request.GET.copy()
    q["format"] = "csv"
    return str(q.urlencode())


def plan_csv(plan: StaffingPlan, stored: RotaWeek | None) -> HttpResponse:
    """The page's table as CSV (fixed English column names, plain numbers)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="staffing-plan.csv"'
    w = csv.writer(response, lineterminator="\n")
    w.writerow(CSV_COLUMNS)

    def num(v: float | None, digits: int = 4) -> str:
        return "" if v is None else f"{v:.{digits}f}"

    for r in plan.rows:
        day = stored.week_start + timedelta(days=r.hour // 24) if stored is not None else None
        w.writerow(
            [
                r.hour,
                day.isoformat() if day else "",
                r.label,
                num(r.arrivals),
                num(r.load),
                r.needed,
                "" if r.rostered is None else r.rostered,
                "" if r.gap is None else r.gap,
                "" if r.gap is None else ("short" if r.gap < 0 else "ok"),
                num(r.model_sl_rostered),
                num(r.simulated_sl),
                num(r.simulated_sl_needed),
            ]
        )
    return response
