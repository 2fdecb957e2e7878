"""Django's SQLite backend with a fair hand-off of the write lock between writers.

SQLite lets one writer at a time hold the database; others wait in its busy handler, which
*sleeps* in growing steps (1, 2, 5, 10 … 100 ms) and re-tries. Under concurrent ticket
creates most of the wall time went to those sleeps while the CPU idled (the write itself takes
well under a millisecond). Here every write transaction (``BEGIN IMMEDIATE``) first takes an
exclusive ``flock`` on a file next to the database; the kernel wakes the next waiter the moment
the lock is released, so writers queue instead of polling. The lock is released at commit,
rollback or close, and by the kernel if a process dies. SQLite's own locking stays in place
underneath, so a writer that does not use this backend (the sqlite3 shell, another tool) is
still safe; it just waits in SQLite's busy handler as before. See ADR 0012.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock_fd: int | None = None
        self._write_lock_held = False

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict.get("NAME") or "")
        if not name or name == ":memory:" or name.startswith("file:"):
            return None
        return name + ".writelock"

    def _acquire_write_lock(self) -> None:
        if self._write_lock_held:
            return
        if self._write_lock_fd is None:
            path = self._lock_path()
            if path is None:
                return
            self._write_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._write_lock_fd, fcntl.LOCK_EX)
        self._write_lock_held = True

    def _release_write_lock(self) -> None:
        if self._write_lock_held and self._write_lock_fd is not None:
            fcntl.flock(self._write_lock_fd, fcntl.LOCK_UN)
        self._write_lock_held = False

    def _start_transaction_under_autocommit(self) -> None:
        self._acquire_write_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._release_write_lock()
            if self._write_lock_fd is not None:
                os.close(self._write_lock_fd)
                self._write_lock_fd = None
