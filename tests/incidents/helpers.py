"""Loopback sinks (a real SMTP server and a real HTTP webhook receiver) and footprint data
for the incident tests."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from relaydesk.core.models import Organisation, Region, Service
from relaydesk.monitoring.models import FootprintHour


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MailSink:
    """aiosmtpd on loopback; ``delay_s`` slows each accepted message (to kill a worker
    mid fan-out)."""

    def __init__(self, port: int | None = None, delay_s: float = 0.0) -> None:
        self.port = port or free_port()
        self.delay_s = delay_s
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def start(self) -> MailSink:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, server_hostname="sink.test")
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def notices(self) -> list[tuple[list[str], EmailMessage]]:
        """Only incident/maintenance notices (Message-ID ``<notice.…>``)."""
        with self.lock:
            return [(r, m) for r, m in self.received if str(m["Message-ID"]).startswith("<notice.")]

    def by_recipient(self) -> dict[str, list[str]]:
        """recipient → Message-IDs received (duplicates kept)."""
        out: dict[str, list[str]] = {}
        with self.lock:
            for rcpts, m in self.received:
                if not str(m["Message-ID"]).startswith("<notice."):
                    continue
                for r in rcpts:
                    out.setdefault(r, []).append(str(m["Message-ID"]))
        return out

    def mailers(self) -> dict[str, Any]:
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "use_tls": False, "timeout": 5},
            }
        }


class WebhookSink:
    """A loopback HTTP server recording every POST; answers ``fail_first`` requests with
    ``fail_status`` first."""

    def __init__(self, fail_first: int = 0, fail_status: int = 500, delay_s: float = 0.0) -> None:
        self.fail_first = fail_first
        self.delay_s = delay_s
        self.fail_status = fail_status
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                if sink.delay_s:
                    time.sleep(sink.delay_s)
                with sink.lock:
                    code = sink.fail_status if len(sink.requests) < sink.fail_first else 200
                    sink.requests.append(({**{k.lower(): v for k, v in self.headers.items()}, "x-path": self.path}, body, code))
                try:
                    self.send_response(code)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the client was killed mid-request
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> WebhookSink:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def by_recipient(self) -> dict[str, list[int]]:
        """webhook path → notice ids accepted (duplicates kept)."""
        out: dict[str, list[int]] = {}
        with self.lock:
            for h, b, code in self.requests:
                if code == 200:
                    out.setdefault(h["x-path"], []).append(json.loads(b)["notice_id"])
        return out

    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(b) for _h, b, code in self.requests if code == 200]


def service(code: str = "rtc") -> Service:
    return Service.objects.get_or_create(code=code, defaults={"name": code.upper() + " service"})[0]


def footprint(
    org: Organisation, svc: Service, region: Region, *, hours: int = 4, sessions: int = 1000,
    end: datetime | None = None,
) -> None:
    end = end or datetime.now().astimezone()
    h = end.replace(minute=0, second=0, microsecond=0)
    for i in range(hours):
        FootprintHour.objects.create(
            organisation=org, service=svc, region=region, hour=h - timedelta(hours=i),
            sessions=sessions, minutes=sessions * 10.0,
        )
