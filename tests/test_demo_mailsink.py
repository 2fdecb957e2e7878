"""The demo's local mail sink: a real SMTP server on loopback that keeps what it receives,
and the staff page that shows it."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import translation

from relaydesk.core.models import User
from relaydesk.demo import mailsink
from relaydesk.notify import outbox
from relaydesk.notify.models import OutboundEmail
from relaydesk.tickets import services

ROOT = Path(__file__).resolve().parents[1]


class SinkProcess:
    """``python -m relaydesk.demo.mailsink`` as ``relaydesk demo`` runs it."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "relaydesk.demo.mailsink", "--dir", str(data_dir), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        assert ready, "the sink did not report its address within 30 s"
        info = json.loads(self.proc.stdout.readline())
        self.host, self.port = info["host"], int(info["port"])
        assert info["pid"] == self.proc.pid

    def stop(self) -> int:
        self.proc.terminate()
        code = self.proc.wait(timeout=20)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return code

    def mailers(self) -> dict[str, Any]:
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": self.host, "port": self.port, "use_tls": False, "timeout": 10},
            }
        }


@pytest.fixture
def sink(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SinkProcess]:
    settings.DATA_DIR = tmp_path
    s = SinkProcess(tmp_path)
    settings.MAILERS = s.mailers()
    monkeypatch.setenv(mailsink.ENV_ACTIVE, f"{s.host}:{s.port}")
    yield s
    if s.proc.poll() is None:
        s.stop()


def _login(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _raw_mail(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg


@pytest.mark.django_db(transaction=True)
def test_sink_receives_smtp_and_the_page_shows_it(
    world: Any, sink: SinkProcess, settings: Any
) -> None:
    assert sink.host == "127.0.0.1" and sink.port > 0

    # 1. The product's own path: a new ticket queues an acknowledgement in the outbox; the
    #    outbox delivers it over SMTP to the sink.
    ticket = services.create_ticket(
        actor=world.alice,
        requester=world.alice,
        subject="Viewers in Jakarta cannot join",
        description="Since 14:00 joins time out.",
        channel="portal",
    )
    ack = OutboundEmail.objects.get(ticket=ticket, kind="auto_ack")
    assert outbox.deliver_due()["sent"] >= 1
    ack.refresh_from_db()
    assert ack.status == OutboundEmail.SENT

    # 2. A hand-written reply in a thread, in Chinese, straight over SMTP.
    thread_root = make_msgid(domain="relaydesk.localhost")
    reply_id = make_msgid(domain="relaydesk.localhost")
    reply = _raw_mail(
        From="support@relaydesk.localhost",
        To="bob@panda.test",
        Subject="关于您的工单：推流中断",
        Message_ID=reply_id,
        In_Reply_To=ack.message_id,
        References=f"{thread_root} {ack.message_id}",
    )
    reply.set_content("您好，\n我们正在调查新加坡的推流中断。\n")
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        refused = smtp.send_message(reply, to_addrs=["bob@panda.test"])
    assert refused == {}

    store = mailsink.MailStore(mailsink.store_path(settings.DATA_DIR))
    assert store.count() == 2
    newest, oldest = store.latest()
    assert newest.message_id == reply_id and oldest.message_id == ack.message_id
    assert oldest.rcpt_to == ["alice@acme.test"] and newest.subject == "关于您的工单：推流中断"
    assert (Path(settings.DATA_DIR) / "demo-mail" / "mail.sqlite3").exists()

    staff = _login(world.agent)
    page = staff.get("/demo/mail/")
    assert page.status_code == 200
    html = page.content.decode()
    # Newest first, with time, recipient, subject and kind.
    rows = re.findall(r'<tr data-id="(\d+)" data-kind="([a-z_]*)">', html)
    assert rows == [(str(newest.id), ""), (str(oldest.id), "auto_ack")]
    assert "Acknowledgement" in html and "alice@acme.test" in html and "bob@panda.test" in html
    assert "关于您的工单：推流中断" in html and ticket.subject in html
    assert f"{sink.host}:{sink.port}" in html

    # The rows the page polls for are the same.
    assert re.findall(r'<tr data-id="(\d+)"', staff.get("/demo/mail/rows/").content.decode()) == [
        str(newest.id),
        str(oldest.id),
    ]

    # The detail view: threading headers and the text body.
    detail = staff.get(f"/demo/mail/{newest.id}/")
    assert detail.status_code == 200
    text = detail.content.decode()
    assert reply_id.replace("<", "&lt;").replace(">", "&gt;") in text
    assert (
        f'data-header="In-Reply-To"><th scope="row">In-Reply-To</th><td><code>&lt;{ack.message_id[1:-1]}&gt;'
        in text
    )
    assert (
        'data-header="References"' in text
        and thread_root.replace("<", "&lt;").replace(">", "&gt;") in text
    )
    assert "我们正在调查新加坡的推流中断。" in text
    # It links to the message it answers, held by the same sink.
    assert f'href="/demo/mail/{oldest.id}/"' in text

    ack_page = staff.get(f"/demo/mail/{oldest.id}/").content.decode()
    assert ack.body.splitlines()[0] in ack_page
    assert f'href="/console/tickets/{ticket.pk}/"' in ack_page
    assert 'data-kind="auto_ack"' in ack_page

    raw = staff.get(f"/demo/mail/{oldest.id}.eml")
    assert raw.status_code == 200 and raw["Content-Type"] == "message/rfc822"
    assert f"Message-ID: {ack.message_id}".encode() in raw.content

    # Customers get 403, visitors the login page; an unknown number is a 404.
    customer = _login(world.alice)
    for path in (
        "/demo/mail/",
        "/demo/mail/rows/",
        f"/demo/mail/{oldest.id}/",
        f"/demo/mail/{oldest.id}.eml",
    ):
        assert customer.get(path).status_code == 403, path
        anon = Client().get(path)
        assert anon.status_code == 302 and anon.url.startswith("/login/"), path
    assert staff.get("/demo/mail/99999/").status_code == 404

    assert sink.stop() == 0  # SIGTERM: a clean stop


@pytest.mark.django_db
def test_paging_bad_input_and_chinese(world: Any, settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    store = mailsink.MailStore(mailsink.store_path(tmp_path))
    store.create()
    for i in range(55):
        store.add(
            bytes(_raw_mail(To=f"c{i}@acme.test", Subject=f"Mail {i}", Message_ID=f"<m{i}@t>")),
            rcpt_to=[f"c{i}@acme.test"],
        )
    staff = _login(world.agent)
    first = staff.get("/demo/mail/").content.decode()
    ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', first)]
    assert ids == list(range(55, 5, -1))
    assert 'href="/demo/mail/?before=6"' in first
    older = staff.get("/demo/mail/?before=6").content.decode()
    assert [int(i) for i in re.findall(r'<tr data-id="(\d+)"', older)] == [5, 4, 3, 2, 1]
    assert "?before=" not in older.split('id="demo-mail"')[1].split("</table>")[0]

    bad = staff.get("/demo/mail/?before=soon")
    assert bad.status_code == 400 and "before" in bad.content.decode()

    # Without a running sink the page says so (and still shows what was received).
    assert "is not running" in first

    world.agent.language = "zh-Hans"
    world.agent.save()
    zh = _login(world.agent).get("/demo/mail/").content.decode()
    assert (
        "演示邮件" in zh
        and "共 55 封邮件（保留最新的 5000 封）" in zh
        and "收件人" in zh
        and "主题" in zh
    )


@pytest.mark.django_db
def test_nav_link_only_for_staff_while_the_sink_runs(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tpl = Template("{% load demo_mail %}[{% demo_mail_link %}]")
    monkeypatch.delenv(mailsink.ENV_ACTIVE, raising=False)
    assert tpl.render(Context({"user": world.agent})) == "[]"
    monkeypatch.setenv(mailsink.ENV_ACTIVE, "127.0.0.1:2525")
    with translation.override("en"):
        assert tpl.render(Context({"user": world.agent})) == (
            '[<a href="/demo/mail/" id="nav-demo-mail">Demo mail</a>]'
        )
    with translation.override("zh-hans"):
        assert "演示邮件" in tpl.render(Context({"user": world.agent}))
    assert tpl.render(Context({"user": world.alice})) == "[]"
    assert tpl.render(Context({})) == "[]"


def test_store_keeps_only_the_newest(tmp_path: Path) -> None:
    store = mailsink.MailStore(tmp_path / "m.sqlite3", keep=3)
    store.create()
    ids = [
        store.add(bytes(_raw_mail(Subject=f"n{i}", Message_ID=f"<n{i}@t>")), rcpt_to=["a@t"])
        for i in range(5)
    ]
    assert ids == [1, 2, 3, 4, 5]
    assert store.count() == 3
    assert [m.subject for m in store.latest()] == ["n4", "n3", "n2"]
    assert store.get(2) is None and store.get(5) is not None
    assert store.find("<n4@t>") == 5 and store.find("<n0@t>") is None
    with pytest.raises(ValueError, match="keep"):
        mailsink.MailStore(tmp_path / "x.sqlite3", keep=0)
    # Reading a store that was never created finds nothing (and creates nothing).
    missing = mailsink.MailStore(tmp_path / "nowhere" / "m.sqlite3")
    assert missing.latest() == [] and missing.count() == 0 and missing.get(1) is None
    assert not (tmp_path / "nowhere").exists()


def test_sink_listens_on_loopback_only(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "relaydesk.demo.mailsink",
            "--dir",
            str(tmp_path),
            "--host",
            "0.0.0.0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2 and "loopback" in out.stderr
    assert not (tmp_path / "demo-mail").exists()
    assert mailsink.is_loopback("127.0.0.1") and mailsink.is_loopback("::1")
    assert not mailsink.is_loopback("192.168.1.10") and not mailsink.is_loopback("example.com")


def test_catalog_is_complete() -> None:
    po = (ROOT / "relaydesk/demo/locale/zh_Hans/LC_MESSAGES/django.po").read_text("utf-8")
    entries = po.split("\n\n")[1:]
    assert len(entries) >= 25
    assert not [e for e in entries if e.rstrip().endswith('msgstr ""')]
    assert "#, fuzzy" not in po


CHROMIUM = os.environ.get("RELAYDESK_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"


@pytest.mark.django_db(transaction=True)
def test_browser_the_list_follows_new_mail(live_server: Any, world: Any, sink: SinkProcess) -> None:
    """In headless Chromium: a new message shows up on the open list without a reload."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"chromium not installed at {CHROMIUM}")
    playwright = pytest.importorskip("playwright.sync_api")

    def send(subject: str, body: str) -> None:
        msg = _raw_mail(
            From="support@relaydesk.localhost",
            To="alice@acme.test",
            Subject=subject,
            Message_ID=make_msgid(domain="relaydesk.localhost"),
        )
        msg.set_content(body)
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
            smtp.send_message(msg)

    send("[#1001] Jakarta viewers see frozen video", "Hello Alice,\nwe have your request.\n")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 800})
            page.set_default_timeout(15_000)
            page.goto(f"{live_server.url}/login/")
            page.fill("input[name=username]", world.agent.email)
            page.fill("input[name=password]", "a-long-test-password")
            page.click("button[type=submit].primary")
            page.wait_for_load_state()
            page.goto(f"{live_server.url}/demo/mail/")
            page.evaluate("window.__sameDocument = true")
            rows = page.locator("#demo-mail tbody tr[data-id]")
            playwright.expect(rows).to_have_count(1, timeout=15_000)

            send("[Incident] Packet loss on StarHub in Singapore", "We are investigating.\n")
            # The page polls every 5 s; the new row arrives in the same document.
            playwright.expect(rows).to_have_count(2, timeout=30_000)  # expect() waits 5 s by default: one poll period
            playwright.expect(rows.first).to_contain_text("Packet loss on StarHub")
            assert page.evaluate("window.__sameDocument") is True
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "en-demo-mail-list.png"), full_page=True)

            rows.first.locator("a").first.click()
            page.wait_for_url("**/demo/mail/2/")
            playwright.expect(page.locator("#demo-mail-body")).to_contain_text("investigating")
            page.screenshot(path=str(SHOTS / "en-demo-mail-detail.png"), full_page=True)
        finally:
            browser.close()
