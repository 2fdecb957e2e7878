"""The SQLite backend hands the write lock from writer to writer (ADR 0012)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from relaydesk.core.dbbackends.sqlite.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite backend only")


def _wrapper(path: Path) -> DatabaseWrapper:
    settings: dict[str, Any] = {
        "NAME": str(path), "ENGINE": "relaydesk.core.dbbackends.sqlite", "USER": "", "PASSWORD": "",
        "HOST": "", "PORT": "", "ATOMIC_REQUESTS": False, "AUTOCOMMIT": True, "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False, "TIME_ZONE": None, "TEST": {},
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL"},
    }
    w = DatabaseWrapper(settings, alias="writelock-test")
    w.ensure_connection()
    return w


@pytest.fixture(autouse=True)
def _own_files(django_db_blocker: Any) -> Any:
    # These tests open their own database files, not the test database.
    with django_db_blocker.unblock():
        yield


def test_writers_queue_and_every_write_lands(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite3"
    setup = _wrapper(db)
    with setup.cursor() as cur:
        cur.execute("CREATE TABLE n (v INTEGER)")
    setup.close()
    holders: list[int] = []
    overlap: list[bool] = []
    inside = threading.Lock()

    def writer(i: int) -> None:
        w = _wrapper(db)
        try:
            for _ in range(25):
                w._start_transaction_under_autocommit()
                got = inside.acquire(blocking=False)  # nobody else may be inside now
                overlap.append(not got)
                with w.cursor() as cur:
                    cur.execute("INSERT INTO n (v) VALUES (%s)", [i])
                holders.append(i)
                inside.release()
                w.commit()
        finally:
            w.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    check = _wrapper(db)
    with check.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM n")
        assert cur.fetchone()[0] == 100
    check.close()
    assert len(holders) == 100 and not any(overlap)


def test_rollback_and_close_release_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "y.sqlite3"
    a, b = _wrapper(db), _wrapper(db)
    with a.cursor() as cur:
        cur.execute("CREATE TABLE n (v INTEGER)")
    a._start_transaction_under_autocommit()
    assert a._write_lock_held
    a.rollback()
    assert not a._write_lock_held
    b._start_transaction_under_autocommit()  # would block for ever if a still held it
    b.rollback()
    a._start_transaction_under_autocommit()
    a.close()  # closing mid-transaction releases too
    b._start_transaction_under_autocommit()
    b.commit()
    b.close()
