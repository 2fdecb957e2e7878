"""``relaydesk oncall who --at 2026-12-24T03:00+08:00 [--language zh-Hans] [--json]``,
``relaydesk oncall coverage [--days 14] [--language …]``, ``relaydesk oncall sweep``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def _instant(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--at: {text!r} is not an ISO date-time like 2026-12-24T03:00+08:00") from exc
    if t.tzinfo is None:
        raise CommandError("--at: give a UTC offset, e.g. 2026-12-24T03:00+08:00")
    return t


class Command(BaseCommand):
    help = "Who is on shift / on call, coverage gaps, and one routing sweep (handover, escalation)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        who = sub.add_parser("who", help="who is on shift or on call at an instant")
        who.add_argument("--at", help="ISO instant with offset (default: now)")
        who.add_argument("--language", help="only people speaking this language (e.g. zh-Hans)")
        who.add_argument("--json", action="store_true")
        cov = sub.add_parser("coverage", help="gaps of 24×7 promises over the next days")
        cov.add_argument("--start", help="ISO instant with offset (default: now)")
        cov.add_argument("--days", type=int, default=14)
        cov.add_argument("--language")
        cov.add_argument("--skill")
        sub.add_parser("sweep", help="run one handover + escalation pass now")

    def handle(self, *args: Any, **opts: Any) -> None:
        from relaydesk.routing import calendars, paging, services

        action = opts["action"]
        if action == "who":
            rows = calendars.who(_instant(opts.get("at")), opts.get("language"))
            if opts.get("json"):
                self.stdout.write(json.dumps(rows, ensure_ascii=False))
                return
            if not rows:
                self.stdout.write("nobody is on shift or on call then")
            for r in rows:
                self.stdout.write(
                    f"{r['team']:<10} {r['kind']:<7} {r['layer']:<16} {r['name']:<24} {','.join(r['languages']):<16} "
                    f"{r['presence']:<10} until {r['until']}"
                )
        elif action == "coverage":
            days = opts["days"]
            if not 1 <= days <= 31:
                raise CommandError("--days: must be between 1 and 31")
            report = calendars.coverage(_instant(opts.get("start")), days, opts.get("language"), opts.get("skill"))
            self.stdout.write(json.dumps({"start": report["start"], "end": report["end"], "gaps": report["gaps"]}, ensure_ascii=False, indent=1))
        else:
            self.stdout.write(json.dumps({**services.handover_sweep(), **paging.escalation_sweep()}))
