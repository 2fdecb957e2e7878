"""`relaydesk demo`: migrate, load the demo world (once), then run web server + worker."""

from __future__ import annotations

import json
import os
import select
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
from relaydesk.demo import mailsink, world

STOP_TIMEOUT_S = 20
SINK_START_TIMEOUT_S = 30


class Command(BaseCommand):
    help = (
        "Create the database schema, load the demo world (regions across time zones, "
        "business calendars, SLA plans, teams, staff, customer organisations and about two "
        "months of ticket history with real SLA clocks) unless it is already loaded, and "
        "start a local mail sink (SMTP on loopback), the web server and the background worker. "
        "Prints the URL, demo logins, the mail page and a fresh API token. With --no-serve it "
        "loads, prints and exits. Ctrl-C stops all three processes. Historical mail is "
        "recorded as sent, never delivered; new mail goes by SMTP to the sink, which staff "
        "read at /demo/mail/ (unless EMAIL_BACKEND or EMAIL_HOST is set: then it goes there "
        "and no sink is started)."
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
        if opts["no_serve"]:
            self._print_access(url, token)
            return
        self._serve(host, port, url, token)

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

    def _print_access(self, url: str, token: str, mail: list[str] | None = None) -> None:
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
            *(mail or []),
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

    # -- the processes ---------------------------------------------------------------------

    def _serve(self, host: str, port: int, url: str, token: str) -> None:
        from django.conf import settings

        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "relaydesk.settings")
        env.setdefault("RELAYDESK_BASE_URL", url.rstrip("/"))
        env.setdefault("RELAYDESK_DATA_DIR", str(settings.DATA_DIR))
        own_mail = bool(env.get("EMAIL_BACKEND") or env.get("EMAIL_HOST"))
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
            if own_mail:
                mail = [
                    "  Mail:           sent as EMAIL_BACKEND / EMAIL_HOST in the environment say "
                    "(no demo mail sink)"
                ]
            else:
                # A demo sends no real mail: every new message goes by SMTP (outbox -> worker
                # -> SMTP, the production path) to a loopback sink that keeps it for /demo/mail/.
                sink, sink_host, sink_port = self._start_sink(env, settings.DATA_DIR, stop)
                children.append(("mail sink", sink))
                env |= self.sink_env(sink_host, sink_port)
                env.setdefault("RELAYDESK_DEMO_MAIL_KEEP", str(mailsink.DEFAULT_KEEP))
                mail = [
                    f"  Demo mail:      {url}demo/mail/   (staff login; every e-mail the demo "
                    f"sends, caught by a local SMTP sink on {sink_host}:{sink_port})",
                ]
            self._print_access(url, token, mail)
            # Own process groups: the terminal's Ctrl-C reaches only this process, which then
            # stops the children in order instead of all of them racing.
            for name, argv in (
                ("web server", [*python, "serve", "--host", host, "--port", str(port)]),
                ("worker", [*python, "worker"]),
            ):
                if stop.is_set():
                    break
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
            # The web server and the worker first, the sink last: mail in flight still lands.
            self._stop(
                [c for c in children if c[0] != "mail sink"],
                [c for c in children if c[0] == "mail sink"],
            )
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if failed:
            raise SystemExit(1)

    @staticmethod
    def sink_env(host: str, port: int) -> dict[str, str]:
        """The outbound mail settings that send the web server's and the worker's mail to the
        demo sink (plain SMTP on loopback, no login)."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": host,
            "EMAIL_PORT": str(port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            mailsink.ENV_ACTIVE: f"{host}:{port}",
        }

    def _start_sink(
        self, env: dict[str, str], data_dir: Any, stop: threading.Event
    ) -> tuple[subprocess.Popen[bytes], str, int]:
        """Start the sink on a free loopback port and wait (bounded) for it to say where it
        listens."""
        argv = [sys.executable, "-m", "relaydesk.demo.mailsink", "--dir", str(data_dir)]
        keep = env.get("RELAYDESK_DEMO_MAIL_KEEP")
        if keep:
            argv += ["--keep", keep]
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter
            argv, env=env, stdout=subprocess.PIPE, process_group=0
        )
        assert proc.stdout is not None
        line = b""
        for _ in range(int(SINK_START_TIMEOUT_S / 0.25)):
            if stop.is_set() or proc.poll() is not None:
                break
            ready, _, _ = select.select([proc.stdout], [], [], 0.25)
            if ready:
                line = proc.stdout.readline()
                break
        try:
            info = json.loads(line)
            sink_host, sink_port = str(info["host"]), int(info["port"])
        except (ValueError, KeyError, TypeError):
            self._stop([("mail sink", proc)])
            if stop.is_set():
                raise CommandError("interrupted while starting the demo mail sink") from None
            raise CommandError(
                f"the demo mail sink did not start (status {proc.poll()}); see the messages above"
            ) from None
        self.stdout.write(f"Started the mail sink (pid {proc.pid}) on {sink_host}:{sink_port}.")
        return proc, sink_host, sink_port

    def _stop(self, *groups: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
        """Stop the children, one group after the other (each: SIGTERM to all, then wait)."""
        if not any(p.poll() is None for group in groups for _, p in group):
            return
        self.stdout.write("Stopping…")
        for group in groups:
            alive = [(n, p) for n, p in group if p.poll() is None]
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
