"""Fixtures for routing tests: schedules on the shared ``world`` (APAC in Singapore, EMEA in
Berlin), a real SMTP sink and a real HTTP webhook receiver on loopback."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from relaydesk.core.models import Team, User
from relaydesk.routing import schedules
from relaydesk.routing.models import Rotation
from tests.test_email import Sink


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rotation(team: Team, name: str, members: list[User], rrule: str, dtstart: str, minutes: int, **kw: Any) -> Rotation:
    return Rotation.objects.create(
        team=team, name=name, member_ids=[m.pk for m in members], rrule=rrule, dtstart=dtstart, duration_minutes=minutes, **kw
    )


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _fresh_schedule_cache() -> Any:
    from relaydesk.routing import services

    schedules.invalidate()
    services.invalidate_directory()
    yield
    schedules.invalidate()
    services.invalidate_directory()


@pytest.fixture
def shifts(world: Any) -> Any:
    """APAC: Mei weekdays 09:00–18:00 Singapore; EMEA: Jonas weekdays 09:00–18:00 Berlin."""
    rotation(world.apac, "SG day", [world.agent], "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9", "2026-01-05T09:00:00", 9 * 60)
    rotation(world.emea, "DE day", [world.agent_emea], "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9", "2026-01-05T09:00:00", 9 * 60)
    return world


@pytest.fixture
def sink(settings: Any) -> Any:
    s = Sink(free_port())
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": s.port, "use_tls": False, "timeout": 5},
        }
    }
    s.start()
    yield s
    s.stop()


@dataclass
class Receiver:
    """A loopback HTTP server that records POSTs; answers with the codes queued in ``codes``."""

    port: int
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def bodies(self) -> list[Any]:
        return [json.loads(b) for _, b in self.requests]


@pytest.fixture
def receiver() -> Any:
    rec = Receiver(free_port())

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            rec.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            code = rec.codes.pop(0) if rec.codes else 200
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", rec.port), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield rec
    server.shutdown()
    server.server_close()


def make_team_member(team: Team, email: str, first: str, languages: list[str]) -> User:
    from tests.conftest import make_staff

    return make_staff(email, "agent", team, first_name=first, languages=languages)
