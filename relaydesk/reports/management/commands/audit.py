"""``relaydesk audit probe|report``: the off-hours audit (see ``relaydesk/reports/probe.py``)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Off-hours audit. 'enrol' / 'withdraw' --email make a dedicated customer account a probe "
        "account (every ticket it files is a probe, kept out of customer metrics) or not; "
        "'accounts' lists them. 'probe' files one synthetic test ticket now — over HTTP with --url "
        "and --token of an enrolled account (the real customer path), or from the enrolled account "
        "--email; 'report' prints the human first response per hour of the week for probe "
        "tickets. Scheduled probes: set RELAYDESK_AUDIT_PROBE_SCHEDULE (e.g. 'mon 03, sat 22') and "
        "RELAYDESK_AUDIT_PROBE_EMAIL; the worker enrols that account and files them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["probe", "report", "enrol", "withdraw", "accounts"])
        parser.add_argument("--url", help="base URL of the running server, e.g. http://127.0.0.1:8000")
        parser.add_argument("--token", help="the probe customer's API token (with --url)")
        parser.add_argument("--email", help="the probe customer's e-mail (files through the ticket service)")
        parser.add_argument("--priority", default="P2", choices=["P1", "P2", "P3", "P4"])
        parser.add_argument("--force", action="store_true", help="enrol: even if the account filed non-probe tickets")
        parser.add_argument("--start", help="report: first day YYYY-MM-DD (default 30 days ago)")
        parser.add_argument("--end", help="report: last day YYYY-MM-DD (default today)")
        parser.add_argument("--tz", default="UTC", help="report: time zone of the hours (default UTC)")

    def handle(self, *args: Any, **opts: Any) -> None:
        from relaydesk.reports import probe

        if opts["action"] in ("enrol", "withdraw"):
            if not opts["email"]:
                raise CommandError(f"{opts['action']}: give --email of the probe account")
            user = probe.probe_customer(opts["email"])
            if user is None:
                raise CommandError(f"probe account {opts['email']!r}: no active customer user has this e-mail")
            try:
                changed = probe.enrol(user, force=opts["force"]) if opts["action"] == "enrol" else probe.withdraw(user)
            except probe.ScheduleError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(json.dumps({"action": opts["action"], "email": user.email, "changed": changed}))
            return
        if opts["action"] == "accounts":
            from relaydesk.reports.models import ProbeAccount

            emails = list(ProbeAccount.objects.order_by("user__email").values_list("user__email", flat=True))
            self.stdout.write(json.dumps({"accounts": emails}))
            return
        if opts["action"] == "probe":
            if opts["url"] and opts["token"]:
                answer = probe.file_probe_http(opts["url"], opts["token"], priority=opts["priority"])
                self.stdout.write(json.dumps({"id": answer.get("id"), "number": answer.get("number")}))
                return
            if opts["email"]:
                try:
                    ticket = probe.file_probe_local(opts["email"], priority=opts["priority"])
                except probe.ScheduleError as exc:
                    raise CommandError(str(exc)) from None
                self.stdout.write(json.dumps({"id": ticket.pk, "number": ticket.number}))
                return
            raise CommandError("probe: give --url and --token, or --email")
        from relaydesk.core.models import User
        from relaydesk.reports import queries

        query = {k: opts[k] for k in ("start", "end", "tz") if opts[k]} | {"population": "probes"}
        lead = User.objects.filter(is_superuser=True).first() or User(kind=User.KIND_STAFF, is_superuser=True)
        try:
            params = queries.parse_params(query, lead)
        except queries.ReportInputError as exc:
            raise CommandError(str(exc)) from None
        data = queries.heatmap(params)
        rows = [r for r in data["rows"] if r.get("tickets")]
        self.stdout.write(json.dumps({**{k: v for k, v in data.items() if k != "rows"}, "rows": rows}, default=str))
