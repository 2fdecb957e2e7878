"""The agent console's "send template" button in a real headless Chromium: a template the
API refuses (a placeholder without a value for this ticket) shows the API's reason to the
agent instead of doing nothing; a good one is applied and the page reloads with the reply."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relaydesk.kb.models import Macro
from relaydesk.tickets import services as tickets
from relaydesk.tickets.models import Message

CHROMIUM = os.environ.get("RELAYDESK_CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"chromium not installed at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        pg = browser.new_context(locale="en-GB").new_page()
        pg.set_default_timeout(10_000)
        yield pg
        browser.close()


def test_refused_template_shows_the_reason(world: Any, live_server: Any, page: Any) -> None:
    from playwright.sync_api import expect

    ticket = tickets.create_ticket(
        actor=world.bob, requester=world.bob, subject="直播卡顿", category="stream_quality",
        context={"region": world.sg, "app_id": "app-7", "platform": "android"},
    )
    bad = Macro.objects.create(name="A incident notice", categories=["stream_quality"], body_en="See {{ incident.url }}", body_zh="请查看 {{ incident.url }}")
    Macro.objects.create(name="B thanks", categories=["stream_quality"], body_en="Thanks {{ customer.name }}", body_zh="谢谢 {{ customer.name }}")
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", world.agent.email)
    page.fill("input[name=password]", "a-long-test-password")
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    page.goto(f"{base}/console/tickets/{ticket.pk}/")
    expect(page.locator("#macros")).to_be_visible()
    before = Message.objects.filter(ticket=ticket).count()
    page.select_option("#macro-select", str(bad.pk))
    page.click("#macro-apply")
    expect(page.locator("#macro-error")).to_contain_text("incident.url")
    expect(page.locator("#macro-error")).to_have_attribute("role", "alert")
    assert Message.objects.filter(ticket=ticket).count() == before
    # A template that renders is applied: the page reloads and the error is gone.
    page.select_option("#macro-select", label="★ B thanks")
    with page.expect_navigation():
        page.click("#macro-apply")
    expect(page.locator("#macro-error")).to_have_count(0)
    assert Message.objects.filter(ticket=ticket, body="谢谢 Bob").exists()
