"""`relaydesk mail-in`: the inbound mail listener (SMTP, or LMTP behind an MTA)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connections

from relaydesk.notify import inbound

log = logging.getLogger("relaydesk.mail_in")

DEFAULT_MAX_SIZE = 25 * 1024 * 1024

OK = "250 OK"
RETRY = "451 4.3.0 Temporary failure processing the message; please retry later"


def _run(raw: bytes, envelope_from: str | None) -> inbound.InboundResult:
    """One message on the worker thread, with a fresh database connection around it (as a
    web request would have); closed afterwards so an idle listener holds no connection."""
    close_old_connections()
    try:
        return inbound.process_message(raw, envelope_from=envelope_from)
    finally:
        connections.close_all()


def _smtp_text(reason: str) -> str:
    """A reason safe to put on one SMTP reply line."""
    text = " ".join(reason.split()).encode("ascii", "replace").decode("ascii")
    return text[:300] or "rejected"


class InboundHandler:
    """aiosmtpd handler: every accepted DATA is processed once, whatever the recipients."""

    def __init__(self, *, lmtp: bool = False) -> None:
        self.lmtp = lmtp

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):  # pragma: no cover - decode_data is off
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            result = await sync_to_async(_run, thread_sensitive=True)(
                raw, envelope.mail_from or None
            )
        except Exception:
            log.exception("inbound mail from %s could not be processed", envelope.mail_from)
            status = RETRY
        else:
            log.info(
                "inbound %s from %s: %s ticket=%s %s",
                result.message_id,
                envelope.mail_from,
                result.outcome,
                result.ticket_number,
                result.reason,
            )
            if result.outcome == inbound.REJECTED:
                status = f"550 5.7.1 {_smtp_text(result.reason)}"
            else:
                status = OK
        if self.lmtp:
            # LMTP answers DATA once per accepted recipient; the outcome is the same for all.
            return "\r\n".join([status] * max(1, len(envelope.rcpt_tos)))
        return status


class _LMTPController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


def build_controller(
    host: str, port: int, lmtp: bool = False, *, max_size: int = DEFAULT_MAX_SIZE
) -> Controller:
    """An unstarted aiosmtpd controller (own thread and event loop) for the listener."""
    cls = _LMTPController if lmtp else Controller
    return cls(
        InboundHandler(lmtp=lmtp),
        hostname=host,
        port=port,
        server_hostname=settings.RELAYDESK_MAIL_DOMAIN,
        data_size_limit=max_size,
        enable_SMTPUTF8=True,
        decode_data=False,
        ident="RelayDesk mail-in",
    )


class Command(BaseCommand):
    help = (
        "Run the inbound mail listener: an SMTP server (or LMTP with --lmtp, for delivery "
        "from a local MTA such as Postfix) that turns each e-mail into a new ticket or a "
        "reply on an existing one. Answers 250 when the mail was taken (created, threaded "
        "or a redelivery), 550 when it is refused (unknown sender, see "
        "RELAYDESK_INBOUND_UNKNOWN_SENDERS), 451 on unexpected errors so the sender retries, "
        "552 when the message exceeds --max-size. Listen on loopback and let the MTA do "
        "TLS, spam and sender checks."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=2525, help="port to listen on (default 2525)")
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP instead of SMTP")
        parser.add_argument(
            "--max-size",
            type=int,
            default=DEFAULT_MAX_SIZE,
            help=f"largest message accepted, in bytes (default {DEFAULT_MAX_SIZE}); larger ones get 552",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if not 0 < opts["port"] < 65536:
            raise CommandError("--port must be between 1 and 65535")
        if opts["max_size"] <= 0:
            raise CommandError("--max-size must be positive")
        controller = build_controller(
            opts["host"], opts["port"], opts["lmtp"], max_size=opts["max_size"]
        )
        try:
            controller.start()
        except OSError as exc:
            raise CommandError(f"cannot listen on {opts['host']}:{opts['port']}: {exc}") from exc
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        proto = "LMTP" if opts["lmtp"] else "SMTP"
        self.stdout.write(f"mail-in: {proto} on {opts['host']}:{opts['port']} (Ctrl-C to stop)")
        try:
            stop.wait()
        finally:
            controller.stop()
            self.stdout.write("mail-in: stopped")
