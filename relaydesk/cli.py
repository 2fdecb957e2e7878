"""`relaydesk`: the one command-line entry point for everything an operator does."""

from __future__ import annotations

import os
import sys

COMMANDS = {
    "serve": "run the production web server (gunicorn, several worker processes)",
    "worker": "run background jobs and the periodic sweeps (SLA warnings/breaches, outbox)",
    "migrate": "create or upgrade the database schema",
    "demo": "load the demo world and start web server + worker (--no-serve: load and exit)",
    "createadmin": "create an admin (interactive, or --email/--password)",
    "token": "API tokens: token create EMAIL [--scope …], token list, token revoke PREFIX",
    "mail-in": "run the inbound mail listener (SMTP/LMTP) that turns e-mail into tickets",
    "sweep": "run one SLA sweep pass now and print what it emitted",
    "check": "check the configuration and the database connection",
    "telemetry": "telemetry import FILE.csv: network samples (ts,service,region,node,carrier,metric,value,weight), all or nothing",
    "footprint": "footprint import FILE.csv: customer traffic per organisation × service × region × hour",
    "kb": "knowledge base: kb load [DIR] (articles from Markdown, idempotent), kb reindex",
    "audit": "off-hours audit: audit enrol --email E (a dedicated probe account); audit probe (--url URL --token T | --email E) files a synthetic test ticket; audit report",
    "reports": "reports rebuild (the fact table from all tickets), reports catch-up",
    "oncall": "who is on shift / on call (oncall who --at … [--language …]), coverage gaps, one routing sweep",
    "staffing": "staffing plans: staffing plan --aht-s S --target 0.9 --within-s S [--from/--to | --arrivals FILE] [--rota FILE]",
    "manage": "any other Django management command (e.g. relaydesk manage shell)",
}
ALIASES = {"mail-in": "mail_in"}


def usage() -> str:
    lines = ["usage: relaydesk COMMAND [options]   (relaydesk COMMAND --help for its options)", ""]
    lines += [f"  {name:<12} {text}" for name, text in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relaydesk.settings")
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return
    if argv[0] in ("-V", "--version"):
        from relaydesk import __version__

        print(__version__)
        return
    command = argv[0]
    if command == "manage":
        rest = argv[1:]
    elif command in COMMANDS:
        rest = [ALIASES.get(command, command), *argv[1:]]
    else:
        print(f"relaydesk: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        raise SystemExit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["relaydesk", *rest])


if __name__ == "__main__":
    main()
