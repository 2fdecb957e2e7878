from __future__ import annotations

from typing import Any

import pytest

from tests.incidents.helpers import MailSink, WebhookSink, footprint, service


@pytest.fixture
def place(world: Any) -> Any:
    """Service ``rtc`` with Acme (key account) and Panda (zh-Hans) in Singapore, Globex in
    Frankfurt."""
    svc = service("rtc")
    footprint(world.acme, svc, world.sg, sessions=5000)
    footprint(world.panda, svc, world.sg, sessions=1000)
    footprint(world.globex, svc, world.de, sessions=3000)
    world.rtc = svc
    return world


@pytest.fixture
def mail(settings: Any) -> Any:
    s = MailSink().start()
    settings.MAILERS = s.mailers()
    yield s
    s.stop()


@pytest.fixture
def hook_sink() -> Any:
    s = WebhookSink().start()
    yield s
    s.stop()
