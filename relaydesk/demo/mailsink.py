"""The demo's local mail sink: a loopback SMTP server that keeps every message it receives.

``relaydesk demo`` runs it as its own process (``python -m relaydesk.demo.mailsink``) and
points the web server's and the worker's outbound SMTP settings at it, so the demo's mail
(auto-acknowledgements, replies, incident notices, pages) travels the real delivery path —
outbox row, worker, SMTP — and lands here instead of in anyone's inbox.

Messages are kept in a small SQLite file of their own (``<data dir>/demo-mail/mail.sqlite3``,
independent of the product database): the raw bytes plus an index (time, envelope, To,
Subject, Message-ID, In-Reply-To, References). Only the newest ``keep`` messages are kept.
This module needs no Django, so the sink starts in a fraction of a second; the staff page
that shows the mail is ``relaydesk.demo.views``.

Started with ``--port 0`` (the default) the operating system picks a free port; once the
server listens, the process prints one JSON line ``{"host": …, "port": …, "pid": …}`` on
standard output, so its supervisor learns where it is without racing for a port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger("relaydesk.demo.mailsink")

SUBDIR = "demo-mail"
FILENAME = "mail.sqlite3"
DEFAULT_KEEP = 5000
MAX_KEEP = 1_000_000
DEFAULT_MAX_SIZE = 10 * 1024 * 1024
# Set by ``relaydesk demo`` in the environment of the processes it starts: the sink's address.
ENV_ACTIVE = "RELAYDESK_DEMO_MAIL_SINK"

SCHEMA = """
CREATE TABLE IF NOT EXISTS message (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    peer TEXT NOT NULL DEFAULT '',
    mail_from TEXT NOT NULL DEFAULT '',
    rcpt_to TEXT NOT NULL DEFAULT '[]',
    to_header TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    in_reply_to TEXT NOT NULL DEFAULT '',
    refs TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL,
    raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS message_message_id ON message (message_id);
"""

INDEX_COLUMNS = (
    "id, received_at, peer, mail_from, rcpt_to, to_header, subject, message_id, "
    "in_reply_to, refs, size"
)


def store_path(data_dir: Path | str) -> Path:
    """Where the sink under ``data_dir`` keeps its mail."""
    return Path(data_dir) / SUBDIR / FILENAME


def active_address() -> str:
    """``host:port`` of the sink ``relaydesk demo`` started for this process, or ``""``."""
    return os.environ.get(ENV_ACTIVE, "").strip()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class StoredMessage:
    id: int
    received_at: datetime
    peer: str
    mail_from: str
    rcpt_to: list[str]
    to_header: str
    subject: str
    message_id: str
    in_reply_to: str
    references: str
    size: int
    raw: bytes = field(default=b"", repr=False)

    @property
    def to_display(self) -> str:
        return self.to_header or ", ".join(self.rcpt_to)

    def parsed(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.raw)

    def text_body(self) -> str:
        """The text/plain body (or, lacking one, the first text part), decoded."""
        try:
            msg = self.parsed()
            part = msg.get_body(preferencelist=("plain", "html"))
            if part is None:
                return ""
            content = part.get_content()
            return content if isinstance(content, str) else ""
        except Exception:  # a malformed message still shows its raw text
            return self.raw.decode("utf-8", "replace")


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # an undecodable header is shown as absent, not as a crash
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _row(row: tuple[Any, ...], raw: bytes = b"") -> StoredMessage:
    try:
        rcpts = json.loads(row[4])
    except ValueError:
        rcpts = []
    return StoredMessage(
        id=int(row[0]),
        received_at=datetime.fromisoformat(row[1]),
        peer=row[2],
        mail_from=row[3],
        rcpt_to=[str(r) for r in rcpts] if isinstance(rcpts, list) else [],
        to_header=row[5],
        subject=row[6],
        message_id=row[7],
        in_reply_to=row[8],
        references=row[9],
        size=int(row[10]),
        raw=raw,
    )


class MailStore:
    """The sink's messages in one SQLite file (WAL, so the web server reads while the sink
    writes). ``keep`` bounds it: after each insert only the newest ``keep`` rows remain."""

    def __init__(self, path: Path | str, keep: int = DEFAULT_KEEP) -> None:
        if not 1 <= keep <= MAX_KEEP:
            raise ValueError(f"keep must be between 1 and {MAX_KEEP}, got {keep}")
        self.path = Path(path)
        self.keep = keep

    # -- writing (the sink) -----------------------------------------------------------------

    def create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def add(
        self,
        raw: bytes,
        *,
        mail_from: str = "",
        rcpt_to: list[str] | None = None,
        peer: str = "",
        now: datetime | None = None,
    ) -> int:
        """Store one received message; returns its number in the sink."""
        msg = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        received = (now or datetime.now(UTC)).astimezone(UTC)
        values = (
            received.isoformat(timespec="microseconds"),
            peer,
            mail_from,
            json.dumps(list(rcpt_to or [])),
            _header(msg, "To"),
            _header(msg, "Subject"),
            _header(msg, "Message-ID"),
            _header(msg, "In-Reply-To"),
            _header(msg, "References"),
            len(raw),
            raw,
        )
        with contextlib.closing(self._connect()) as db, db:
            cur = db.execute(
                "INSERT INTO message (received_at, peer, mail_from, rcpt_to, to_header, "
                "subject, message_id, in_reply_to, refs, size, raw) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            new_id = int(cur.lastrowid or 0)
            # Ids only grow and rows leave only from the old end, so this keeps exactly the
            # newest ``keep`` messages.
            db.execute("DELETE FROM message WHERE id <= ?", (new_id - self.keep,))
        return new_id

    # -- reading (the page) -----------------------------------------------------------------

    @contextlib.contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection | None]:
        if not self.path.exists():
            yield None
            return
        db = self._connect()
        try:
            yield db
        finally:
            db.close()

    def latest(self, limit: int = 50, before: int | None = None) -> list[StoredMessage]:
        """Newest first, without the raw bytes; ``before`` pages to older messages."""
        limit = max(1, min(limit, 500))
        with self._reader() as db:
            if db is None:
                return []
            try:
                if before is None:
                    rows = db.execute(
                        f"SELECT {INDEX_COLUMNS} FROM message ORDER BY id DESC LIMIT ?",  # noqa: S608 - constant columns
                        (limit,),
                    ).fetchall()
                else:
                    rows = db.execute(
                        f"SELECT {INDEX_COLUMNS} FROM message WHERE id < ? ORDER BY id DESC LIMIT ?",  # noqa: S608 - constant columns
                        (before, limit),
                    ).fetchall()
            except sqlite3.OperationalError:  # created but no table yet
                return []
        return [_row(r) for r in rows]

    def get(self, message_id: int) -> StoredMessage | None:
        with self._reader() as db:
            if db is None:
                return None
            try:
                row = db.execute(
                    f"SELECT {INDEX_COLUMNS}, raw FROM message WHERE id = ?",  # noqa: S608 - constant columns
                    (message_id,),
                ).fetchone()
            except sqlite3.OperationalError:
                return None
        return None if row is None else _row(row[:-1], bytes(row[-1]))

    def find(self, message_id: str) -> int | None:
        """The sink's number of the newest message with this Message-ID, if it holds one."""
        with self._reader() as db:
            if db is None:
                return None
            try:
                row = db.execute(
                    "SELECT MAX(id) FROM message WHERE message_id = ?", (message_id,)
                ).fetchone()
            except sqlite3.OperationalError:
                return None
        return None if row is None or row[0] is None else int(row[0])

    def count(self) -> int:
        with self._reader() as db:
            if db is None:
                return 0
            try:
                return int(db.execute("SELECT COUNT(*) FROM message").fetchone()[0])
            except sqlite3.OperationalError:
                return 0

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA busy_timeout=10000")
        return db


class SinkHandler:
    """aiosmtpd handler: accepts every recipient and stores each message once."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):  # pragma: no cover - decode_data is off
            raw = raw.encode("utf-8", "surrogateescape")
        peer = session.peer
        peer_text = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else ""
        try:
            new_id = await asyncio.to_thread(
                self.store.add,
                raw,
                mail_from=envelope.mail_from or "",
                rcpt_to=[str(r) for r in envelope.rcpt_tos],
                peer=peer_text,
            )
        except Exception:
            log.exception("could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 The demo mail sink could not store the message; try again"
        log.info("stored #%s from %s to %s", new_id, envelope.mail_from, envelope.rcpt_tos)
        return f"250 OK stored as #{new_id}"


async def serve(
    store: MailStore,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    started: asyncio.Future[tuple[str, int]] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Listen on ``host:port`` (loopback only) until ``stop`` is set."""
    if not is_loopback(host):
        raise ValueError(f"the demo mail sink listens on loopback only, not {host!r}")
    store.create()
    handler = SinkHandler(store)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="relaydesk-demo-sink.localhost",
            data_size_limit=max_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            ident="RelayDesk demo mail sink",
        ),
        host=host.strip("[]"),
        port=port,
    )
    sockname = server.sockets[0].getsockname()
    if started is not None:
        started.set_result((str(sockname[0]), int(sockname[1])))
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        server.close()
        await server.wait_closed()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m relaydesk.demo.mailsink",
        description="The RelayDesk demo's local mail sink (SMTP on loopback; keeps the newest mail).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument("--dir", required=True, help="data directory (mail goes to DIR/demo-mail/)")
    parser.add_argument(
        "--keep", type=int, default=DEFAULT_KEEP, help=f"messages kept (default {DEFAULT_KEEP})"
    )
    parser.add_argument(
        "--max-size", type=int, default=DEFAULT_MAX_SIZE, help="largest message in bytes"
    )
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        parser.error(f"--host must be a loopback address, not {args.host!r}")
    if not 0 <= args.port < 65536:
        parser.error("--port must be between 0 and 65535")
    if not 1 <= args.keep <= MAX_KEEP:
        parser.error(f"--keep must be between 1 and {MAX_KEEP}")
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # aiosmtpd logs every SMTP command at INFO; the demo's console wants one line per message.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    store = MailStore(store_path(args.dir), keep=args.keep)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        started: asyncio.Future[tuple[str, int]] = loop.create_future()
        task = asyncio.create_task(
            serve(store, args.host, args.port, max_size=args.max_size, started=started, stop=stop)
        )
        waiters: list[asyncio.Future[Any]] = [task, started]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if started.done():
            host, port = started.result()
            sys.stdout.write(json.dumps({"host": host, "port": port, "pid": os.getpid()}) + "\n")
            sys.stdout.flush()
            log.info("demo mail sink listening on %s:%s, storing in %s", host, port, store.path)
        await task  # raises if the server could not start

    try:
        asyncio.run(run())
    except OSError as exc:
        sys.stderr.write(f"the demo mail sink cannot listen on {args.host}:{args.port}: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
