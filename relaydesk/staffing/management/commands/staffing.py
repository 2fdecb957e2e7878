"""``relaydesk manage staffing plan …``: agents needed per hour of the week, against the rota."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relaydesk.domain.staffing import PlanRow, StaffingPlan
from relaydesk.staffing.rota import RotaWeek
from relaydesk.staffing.services import (
    PlanInput,
    PlanInputError,
    build_plan,
    parse_week_text,
    plan_payload,
    with_stored_rota,
    zone_for,
)

# API field name -> command-line option, so errors name what the operator typed.
OPTION = {
    "aht_s": "--aht-s",
    "target": "--target",
    "within_s": "--within-s",
    "patience_s": "--patience-s",
    "arrivals": "--arrivals",
    "date_from": "--from",
    "date_to": "--to",
    "region": "--region",
    "language": "--language",
    "priority": "--priority",
    "tz": "--tz",
    "rota": "--rota",
    "rota_week": "--week",
    "weeks": "--weeks",
    "seed": "--seed",
    "handling": "--handling",
    "handling_cv": "--handling-cv",
}

COLUMNS = [
    ("hour", "hour"),
    ("label", "when"),
    ("arrivals", "arrivals"),
    ("load", "erlangs"),
    ("needed", "needed"),
    ("rostered", "rostered"),
    ("gap", "gap"),
    ("status", "status"),
    ("model_sl_rostered", "model_sl"),
    ("simulated_sl", "sim_sl"),
    ("simulated_sl_needed", "sim_sl_needed"),
    ("simulated_asa_s", "sim_asa_s"),
    ("simulated_max_wait_s", "sim_max_wait_s"),
]


def _option_error(exc: PlanInputError) -> CommandError:
    base, _, rest = exc.field.partition("[")
    name = OPTION.get(base, base) + (f"[{rest}" if rest else "")
    return CommandError(f"{name}: {exc.message}")


def _date(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: {text!r} is not a date (use YYYY-MM-DD)") from None


def _read(option: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"{option}: cannot read {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{option}: {path!r} is not UTF-8 text") from None


def status(row: PlanRow) -> str:
    """``short`` when the rota has fewer agents than needed, ``ok`` when enough, else empty."""
    if row.gap is None:
        return ""
    return "short" if row.gap < 0 else "ok"


def _cells(row: PlanRow) -> dict[str, Any]:
    d = row.as_dict()
    d["status"] = status(row)
    return d


def _fmt(value: Any, key: str) -> str:
    if value is None or (key == "status" and not value):
        return "-"
    if key == "status":
        return "SHORT" if value == "short" else str(value)
    if key in ("model_sl_rostered", "simulated_sl", "simulated_sl_needed"):
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.2f}" if key in ("arrivals", "load") else f"{value:.0f}"
    return str(value)


class Command(BaseCommand):
    help = "Staffing plans: agents needed per hour of the week (Erlang C / Erlang A) checked by simulation."
    # A read-only computation: it needs the models, not the URL configuration or the checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        p = sub.add_parser(
            "plan",
            help="agents needed per hour of the week for an SLA target, against the rota",
            description=(
                "Arrivals come from ticket history (--from/--to with optional --region, "
                "--language, --priority) or from a file (--arrivals: 168 values, Monday 00:00 "
                "first, in --tz). The rota (--rota) is 168 agent counts in the same layout; "
                "without it the stored shift rotations of the region's teams (agents speaking "
                "--language) over the local week containing --week (default next week) are used."
            ),
        )
        p.add_argument("--region", help="region code (the ticket's, else its organisation's)")
        p.add_argument("--language", help="organisation language: en or zh-Hans")
        p.add_argument("--priority", help="only tickets of this priority (P1–P4)")
        p.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD")
        p.add_argument("--to", dest="date_to", metavar="DATE", help="last day (inclusive)")
        p.add_argument("--arrivals", metavar="FILE", help="entered arrivals per hour (CSV/JSON)")
        p.add_argument("--aht-s", type=float, required=True, help="average handling time, seconds")
        p.add_argument("--target", type=float, required=True, help="service level target, e.g. 0.9")
        p.add_argument("--within-s", type=float, required=True, help="answered within, seconds")
        p.add_argument("--patience-s", type=float, help="mean patience (switches to Erlang A)")
        p.add_argument("--rota", metavar="FILE", help="agents on shift per hour (CSV/JSON)")
        p.add_argument(
            "--week",
            dest="rota_week",
            metavar="DATE",
            help="stored rota: a day of the week to compare with (default: next week)",
        )
        p.add_argument(
            "--tz", help="time zone of the hours of the week (default: the region's, else UTC)"
        )
        p.add_argument("--weeks", type=int, default=4, help="simulated weeks (1–8, default 4)")
        p.add_argument("--seed", type=int, default=0, help="simulation seed (default 0)")
        p.add_argument("--no-simulate", action="store_true", help="skip the simulation")
        p.add_argument(
            "--handling",
            choices=("exponential", "lognormal"),
            default="exponential",
            help="simulated handling times (default exponential)",
        )
        p.add_argument(
            "--handling-cv", type=float, default=1.0, help="their coefficient of variation"
        )
        p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] != "plan":  # pragma: no cover - argparse allows only "plan"
            raise CommandError(f"unknown action {opts['action']!r}")
        if opts["arrivals"] and (opts["date_from"] or opts["date_to"]):
            raise CommandError("--arrivals: give either --arrivals FILE or --from/--to, not both")
        if not opts["arrivals"] and not (opts["date_from"] or opts["date_to"]):
            raise CommandError("--arrivals: give --arrivals FILE or --from DATE --to DATE")
        try:
            arrivals = (
                parse_week_text("arrivals", _read("--arrivals", opts["arrivals"]), integer=False)
                if opts["arrivals"]
                else None
            )
            rota: list[int] | None = None
            if opts["rota"]:
                rota = [
                    int(v)
                    for v in parse_week_text("rota", _read("--rota", opts["rota"]), integer=True)
                ]
            p = PlanInput(
                aht_s=opts["aht_s"],
                target=opts["target"],
                within_s=opts["within_s"],
                patience_s=opts["patience_s"],
                arrivals=arrivals,
                date_from=_date("--from", opts["date_from"]),
                date_to=_date("--to", opts["date_to"]),
                # With entered arrivals, --region/--language choose the stored rota only.
                region=None if arrivals is not None else opts["region"],
                language=None if arrivals is not None else opts["language"],
                priority=opts["priority"],
                tz=zone_for(opts["tz"], opts["region"]),
                rota=rota,
                simulate=not opts["no_simulate"],
                weeks=opts["weeks"],
                seed=opts["seed"],
                handling=opts["handling"],
                handling_cv=opts["handling_cv"],
            )
            p, stored = with_stored_rota(
                p, opts["region"], opts["language"], _date("--week", opts["rota_week"])
            )
            result, _ = build_plan(p)
        except PlanInputError as exc:
            raise _option_error(exc) from None
        fmt = opts["format"]
        if fmt == "json":
            payload = plan_payload(p, result, stored)
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
        elif fmt == "csv":
            self.stdout.write(self._csv(result), ending="")
        else:
            self.stdout.write(self._table(result, p, stored))

    @staticmethod
    def _csv(result: StaffingPlan) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([title for _, title in COLUMNS])
        for row in result.rows:
            d = _cells(row)
            w.writerow(["" if d[k] is None else d[k] for k, _ in COLUMNS])
        return buf.getvalue()

    @staticmethod
    def _table(result: StaffingPlan, p: PlanInput, stored: RotaWeek | None = None) -> str:
        model = "Erlang A" if result.model == "erlang_a" else "Erlang C"
        lines = [
            f"Staffing plan ({model}): {100 * result.target:.0f}% answered within "
            f"{result.within_s:g} s, AHT {result.aht_s:g} s"
            + (f", mean patience {result.patience_s:g} s" if result.patience_s else "")
            + f"; hours of the week in {p.tz}",
        ]
        if stored is not None:
            lines.append(
                f"rota: stored shifts of {', '.join(stored.teams)} for the week "
                f"{stored.week_start.isoformat()} to {stored.week_end.isoformat()} "
                f"({stored.people} people on shift)"
            )
        elif p.rota is not None:
            lines.append("rota: entered")
        else:
            lines.append("rota: none stored for this region/language; give --rota to compare")
        titles = [title for _, title in COLUMNS[1:]]
        cells = [[_fmt(_cells(r)[k], k) for k, _ in COLUMNS[1:]] for r in result.rows]
        widths = [max(len(t), *(len(c[i]) for c in cells)) for i, t in enumerate(titles)]
        lines.append("  ".join(t.rjust(w) for t, w in zip(titles, widths, strict=True)))
        lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
        s = result.summary
        lines.append("")
        lines.append(
            f"arrivals/week {s['arrivals_per_week']:.1f}; agent-hours needed "
            f"{s['agent_hours_needed']}, peak {s['peak_needed']}"
        )
        if s["agent_hours_rostered"] is not None:
            lines.append(
                f"agent-hours rostered {s['agent_hours_rostered']}; hours short {s['hours_short']}"
            )
        if s["simulated_sl_rota"] is not None:
            lines.append(
                f"simulated service level with the rota: {100 * float(s['simulated_sl_rota']):.1f}%"
            )
        if s["simulated_sl_needed"] is not None:
            lines.append(
                f"simulated service level with the plan: {100 * float(s['simulated_sl_needed']):.1f}%"
            )
        return "\n".join(lines)
