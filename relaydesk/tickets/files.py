"""Attachment files and their database rows stay in step.

A file is written to storage inside the transaction that inserts its ``Attachment`` row, but
storage is not transactional: if that transaction rolls back (a later step fails), the file
would stay behind with nothing pointing at it. Two guards:

* ``discard_on_failure()`` wraps the services' write transactions: every file saved inside it
  is deleted again when the block raises, so a failed request leaves no file.
* ``sweep_orphans`` (periodic, at most every ``EVERY_S`` per process) deletes files under
  ``attachments/`` that no row references and that are older than ``MIN_AGE`` — what a crash
  between the file write and the commit, or the deletion of a ticket, leaves behind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.files.storage import Storage

log = logging.getLogger(__name__)

ROOT = "attachments"
MIN_AGE = timedelta(days=1)
EVERY_S = 6 * 3600
_written: ContextVar[list[tuple[Storage, str]] | None] = ContextVar("attachment_files", default=None)
_lock = threading.Lock()
_last = [-float("inf")]


@contextmanager
def discard_on_failure() -> Iterator[None]:
    written: list[tuple[Storage, str]] = []
    token = _written.set(written)
    try:
        yield
    except BaseException:
        for storage, name in written:
            with suppress(Exception):
                storage.delete(name)
        raise
    finally:
        _written.reset(token)


def track(storage: Storage, name: str) -> None:
    """Note a file just written, for ``discard_on_failure``."""
    written = _written.get()
    if written is not None:
        written.append((storage, name))


def _walk(storage: Storage, path: str) -> Iterator[str]:
    try:
        dirs, files = storage.listdir(path)
    except FileNotFoundError:
        return
    for f in files:
        yield f"{path}/{f}"
    for d in dirs:
        yield from _walk(storage, f"{path}/{d}")


def sweep_orphans(
    now: datetime | None = None, *, min_age: timedelta = MIN_AGE, limit: int = 20_000
) -> dict[str, Any]:
    """Delete unreferenced attachment files older than ``min_age`` (at most ``limit`` looked at)."""
    from .models import Attachment

    storage = Attachment._meta.get_field("file").storage
    cutoff = (now or datetime.now(UTC)) - min_age
    seen = deleted = 0
    batch: list[str] = []

    def flush() -> int:
        known = set(Attachment.objects.filter(file__in=batch).values_list("file", flat=True))
        n = 0
        for name in batch:
            if name in known:
                continue
            with suppress(FileNotFoundError):
                if storage.get_modified_time(name) >= cutoff:
                    continue
                storage.delete(name)
                n += 1
        batch.clear()
        return n

    for name in _walk(storage, ROOT):
        seen += 1
        batch.append(name)
        if len(batch) >= 500:
            deleted += flush()
        if seen >= limit:
            break
    if batch:
        deleted += flush()
    if deleted:
        log.info("attachments: deleted %d orphaned file(s)", deleted)
    return {"looked_at": seen, "deleted": deleted}


def periodic() -> dict[str, Any]:
    now = time.monotonic()
    with _lock:
        if now - _last[0] < EVERY_S:
            return {}
        _last[0] = now
    return sweep_orphans()
