"""Attachment files never outlive a failed request, and orphans are swept."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from relaydesk.core import periodic
from relaydesk.tickets import files, services, signals
from relaydesk.tickets.models import Attachment, Ticket


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / files.ROOT
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_failed_create_leaves_no_file(world) -> None:
    def boom(**kwargs: object) -> None:
        raise RuntimeError("a later step failed")

    signals.ticket_created.connect(boom, dispatch_uid="test-boom")
    try:
        with pytest.raises(RuntimeError):
            services.create_ticket(
                actor=world.alice, requester=world.alice, subject="Black screen",
                attachments=[services.Upload("trace.txt", "text/plain", b"trace lines")],
            )
    finally:
        signals.ticket_created.disconnect(dispatch_uid="test-boom")
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    assert _stored_files() == []
    # the same call without the failure keeps its file
    t = services.create_ticket(
        actor=world.alice, requester=world.alice, subject="Black screen",
        attachments=[services.Upload("trace.txt", "text/plain", b"trace lines")],
    )
    assert len(_stored_files()) == 1 and t.attachments.count() == 1


def test_a_failed_reply_leaves_no_file(world) -> None:
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Echo")

    def boom(**kwargs: object) -> None:
        raise RuntimeError("a later step failed")

    signals.message_added.connect(boom, dispatch_uid="test-boom")
    try:
        with pytest.raises(RuntimeError):
            services.add_message(
                t, author=world.alice, body="one more thing",
                attachments=[services.Upload("log.txt", "text/plain", b"log")],
            )
    finally:
        signals.message_added.disconnect(dispatch_uid="test-boom")
    assert not Attachment.objects.exists()
    assert _stored_files() == []


def test_orphan_sweep_deletes_only_old_unreferenced_files(world) -> None:
    t = services.create_ticket(
        actor=world.alice, requester=world.alice, subject="Black screen",
        attachments=[services.Upload("kept.txt", "text/plain", b"kept")],
    )
    root = Path(settings.MEDIA_ROOT) / files.ROOT / "2020" / "01" / "deadbeef"
    root.mkdir(parents=True)
    old, young = root / "old-orphan.txt", root / "young-orphan.txt"
    old.write_bytes(b"x")
    young.write_bytes(b"y")
    week_ago = time.time() - 7 * 86400
    os.utime(old, (week_ago, week_ago))
    kept = Path(settings.MEDIA_ROOT) / t.attachments.get().file.name
    os.utime(kept, (week_ago, week_ago))  # old, but referenced
    result = files.sweep_orphans(datetime.now(UTC), min_age=timedelta(days=1))
    assert result == {"looked_at": 3, "deleted": 1}
    assert not old.exists() and young.exists() and kept.exists()
    assert periodic.registered()["attachment_orphans"] is files.periodic
