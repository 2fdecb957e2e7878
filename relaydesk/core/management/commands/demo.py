"""`relaydesk demo`: migrate, load the demo world (once), then run web server + worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from relaydesk import demo
from relaydesk.core.models import DEFAULT_SCOPES, APIToken, User
from relaydesk.demo import world

STOP_TIMEOUT_S = 20


class Command(BaseCommand):
    help = (
        "Create the database schema, load the demo world (regions across time zones, "
        "business calendars, SLA plans, teams, staff, customer organisations and about two "
        "months of ticket history with real SLA clocks) unless it is already loaded, and "
        "start the web server and the background worker. Prints the URL, demo logins and a "
        "fresh API token. With --no-serve it loads, prints and exits. Ctrl-C stops both "
        "processes. Historical mail is recorded as sent, never delivered; the servers it "
        "starts write new mail to files under the data directory unless EMAIL_BACKEND is set."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)"
        )
        parser.add_argument(
            "--port", type=int, default=8000, help="port to serve on (default 8000)"
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="load the demo world, print logins and exit"
        )
        parser.add_argument(
            "--tickets",
            type=int,
            default=demo.DEFAULT_TICKETS,
            help=f"historical tickets to create on the first load (default {demo.DEFAULT_TICKETS})",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help=f"random seed of the ticket history (default {demo.DEFAULT_SEED}; same seed, same history)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        host, port = opts["host"], opts["port"]
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535")
        if not 0 <= opts["tickets"] <= 100_000:
            raise CommandError("--tickets must be between 0 and 100000")

        if not opts["no_serve"]:
            self._check_port(host, port)  # fail now, not after a minute of loading

        self.stdout.write(f"Database: {connection.vendor} — applying migrations…")
        call_command("migrate", interactive=False, verbosity=0)

        if world.is_loaded():
            result = demo.summary()
            self.stdout.write(
                f"The demo world is already loaded ({result.tickets} tickets); not loading it again."
            )
        else:
            self.stdout.write(
                f"Loading the demo world with {opts['tickets']} tickets (seed {opts['seed']})…"
            )
            self.stdout.flush()

            def progress(done: int, total: int) -> None:
                self.stdout.write(f"  {done}/{total} tickets")
                self.stdout.flush()

            try:
                result = demo.load(tickets=opts["tickets"], seed=opts["seed"], progress=progress)
            except KeyboardInterrupt:
                raise CommandError(
                    "interrupted: nothing was loaded (the load is one transaction)"
                ) from None
            if result.created:
                self.stdout.write(
                    f"Loaded in {result.seconds:.1f} s: {result.regions} regions, "
                    f"{result.organisations} organisations, {result.customers} customer users, "
                    f"{result.staff} staff, {result.tickets} tickets "
                    f"({result.open_tickets} still open, {result.solved_or_closed} solved or closed, "
                    f"{result.breached_tickets} with an SLA breach)."
                )
                for line in result.extras:
                    self.stdout.write(f"  {line}")
            else:  # another process finished a load first
                self.stdout.write("The demo world is already loaded; not loading it again.")

        token = self._issue_token()
        url = self._url(host, port)
        self._print_access(url, token)
        if opts["no_serve"]:
            return
        self._serve(host, port, url)

    @staticmethod
    def _check_port(host: str, port: int) -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise CommandError(f"--host {host!r}: {exc}") from exc
        family, _, _, _, address = infos[0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise CommandError(
                    f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port"
                ) from exc

    # -- access -------------------------------------------------------------------------------

    def _issue_token(self) -> str:
        lead = User.objects.filter(email__iexact=world.LOGIN_LEAD).first()
        if lead is None:
            raise CommandError(f"the demo lead {world.LOGIN_LEAD} is missing; was it deleted?")
        try:
            _, secret = APIToken.issue(lead, list(DEFAULT_SCOPES), name="demo")
        except ValidationError as exc:  # pragma: no cover - the default scopes are valid
            raise CommandError(" ".join(exc.messages)) from exc
        return secret

    @staticmethod
    def _url(host: str, port: int) -> str:
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - a comparison, not a bind
        if ":" in shown and not shown.startswith("["):
            shown = f"[{shown}]"
        return f"http://{shown}:{port}/"

    def _print_access(self, url: str, token: str) -> None:
        pw = world.PASSWORD
        lines = [
            "",
            "RelayDesk demo",
            f"  URL:            {url}",
            f"  Admin:          {url}admin/",
            f"  API docs:       {url}api/docs",
            f"  Staff login:    {world.LOGIN_LEAD} / {pw}   (support lead, APAC team)",
            f"  Agent login:    {world.LOGIN_AGENT} / {pw}   (agent, APAC; key-account manager)",
            f"  Admin login:    {world.ADMIN_EMAIL} / {pw}",
            f"  Customer login: {world.LOGIN_CUSTOMER} / {pw}   (Nimbus Live, Enterprise, key account)",
            f"                  {world.LOGIN_CUSTOMER_ZH} / {pw}   (星河互娱 StarRiver Live, 中文)",
            f"  API token:      {token}   (for {world.LOGIN_LEAD}; scopes {' '.join(DEFAULT_SCOPES)})",
            f'  Try:            curl -H "Authorization: Bearer {token}" "{url}api/v1/tickets?limit=5"',
            "",
        ]
        self.stdout.write("\n".join(lines))
        if not self._loopback(url):
            self.stderr.write(
                "Warning: every demo login uses the published password above; serve the demo "
                "on a loopback address only (--host 127.0.0.1)."
            )
        self.stdout.flush()

    @staticmethod
    def _loopback(url: str) -> bool:
        host = url.split("//", 1)[1].rsplit(":", 1)[0].strip("[]")
        return host in ("localhost", "::1") or host.startswith("127.")

    # -- the two servers ------------------------------------------------------------------

    def _serve(self, host: str, port: int, url: str) -> None:
        from django.conf import settings

        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "relaydesk.settings")
        env.setdefault("RELAYDESK_BASE_URL", url.rstrip("/"))
        env.setdefault("RELAYDESK_DATA_DIR", str(settings.DATA_DIR))
        if not env.get("EMAIL_BACKEND") and not env.get("EMAIL_HOST"):
            # A demo sends no real mail: new notifications go to files under the data directory.
            env["EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
            env.setdefault("EMAIL_FILE_PATH", str(settings.DATA_DIR / "mail"))
        # The worker feeds live synthetic telemetry and, a few minutes in, degrades one carrier
        # in one region, so detection -> incident -> notices -> status page plays out live.
        env.setdefault("RELAYDESK_DEMO_LIVE", "1")
        env.setdefault("RELAYDESK_DETECTION_INTERVAL_S", "15")
        python = [sys.executable, "-m", "relaydesk"]
        stop = threading.Event()
        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in handled}
        children: list[tuple[str, subprocess.Popen[bytes]]] = []
        failed = False
        try:
            # Own process groups: the terminal's Ctrl-C reaches only this process, which then
            # stops the children in order instead of all of them racing.
            for name, argv in (
                ("web server", [*python, "serve", "--host", host, "--port", str(port)]),
                ("worker", [*python, "worker"]),
            ):
                proc = subprocess.Popen(argv, env=env, process_group=0)  # noqa: S603 - our own interpreter
                children.append((name, proc))
                self.stdout.write(f"Started the {name} (pid {proc.pid}).")
            self.stdout.write(f"Serving on {url} — press Ctrl-C to stop.")
            self.stdout.flush()
            while not stop.wait(0.5):
                for name, proc in children:
                    code = proc.poll()
                    if code is not None:
                        self.stderr.write(
                            f"The {name} exited unexpectedly (status {code}); stopping."
                        )
                        failed = True
                        stop.set()
        finally:
            self._stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if failed:
            raise SystemExit(1)

    def _stop(self, children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
        alive = [(n, p) for n, p in children if p.poll() is None]
        if not alive:
            return
        self.stdout.write("Stopping…")
        for _, proc in alive:
            proc.send_signal(signal.SIGTERM)
        for name, proc in alive:
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.stderr.write(f"The {name} did not stop in {STOP_TIMEOUT_S} s; killing it.")
                proc.kill()
                proc.wait()
        self.stdout.write("Stopped.")
        self.stdout.flush()
