"""Helpers shared by the benchmark scripts: JSON result lines, percentiles, bounded loops,
throw-away databases, Django set-up, loopback ports and process memory.

Nothing here imports Django at module level, so the pure helpers are importable (and
testable) without a configured project.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("RELAYDESK_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB_PREFIX = "relaydesk_bench_"


# -- results ------------------------------------------------------------------------


def result_line(
    bench: str, metric: str, value: float | int | None, unit: str, **params: Any
) -> str:
    """One result as a JSON line: bench, metric, value, unit first, then the parameters."""
    if not bench or not metric:
        raise ValueError("bench and metric must be non-empty")
    if isinstance(value, float):
        value = None if math.isnan(value) or math.isinf(value) else round(value, 4)
    record: dict[str, Any] = {"bench": bench, "metric": metric, "value": value, "unit": unit}
    for key, val in params.items():
        record[key] = round(val, 4) if isinstance(val, float) else val
    return json.dumps(record, ensure_ascii=False, sort_keys=False, default=str)


def emit(bench: str, metric: str, value: float | int | None, unit: str, **params: Any) -> None:
    """Print one result line on stdout (flushed, so a killed run keeps what it measured)."""
    print(result_line(bench, metric, value, unit, **params), flush=True)


def log(*parts: Any) -> None:
    """Progress and diagnostics go to stderr, never between the JSON lines."""
    print(*parts, file=sys.stderr, flush=True)


# -- statistics -----------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100) with linear interpolation between closest ranks (the
    same as numpy's default); NaN for no values."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    if not values:
        return math.nan
    data = sorted(values)
    if len(data) == 1:
        return float(data[0])
    rank = (len(data) - 1) * p / 100
    lo = math.floor(rank)
    hi = min(lo + 1, len(data) - 1)
    return float(data[lo] + (data[hi] - data[lo]) * (rank - lo))


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def ratio(a: float, b: float) -> float:
    """a / b, NaN when b is zero or either is NaN (never an exception in a report)."""
    if b == 0 or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b


# -- bounded loops ------------------------------------------------------------------------


@dataclass
class Budget:
    """A loop bound in count AND time: ``while budget.take(): …`` stops at whichever comes
    first. Thread-safe enough for counting (an overshoot of one per thread is harmless)."""

    max_count: int
    max_seconds: float

    def __post_init__(self) -> None:
        if self.max_count < 1 or self.max_seconds <= 0:
            raise ValueError("a budget needs max_count >= 1 and max_seconds > 0")
        self.started = time.perf_counter()
        self.count = 0

    @property
    def deadline(self) -> float:
        return self.started + self.max_seconds

    def take(self) -> bool:
        if self.count >= self.max_count or time.perf_counter() >= self.deadline:
            return False
        self.count += 1
        return True


# -- loopback networking ----------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A free TCP port on a loopback address."""
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError("benchmarks listen on loopback addresses only")
    family = socket.AF_INET6 if host == "::1" else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


# -- processes ------------------------------------------------------------------------------


def child_pids(pid: int) -> list[int]:
    """Direct children of a process, from /proc (Linux)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return sorted(out)


def rss_kib(pid: int) -> int:
    """Resident set size of one process in KiB (0 if it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    m = re.search(r"^VmRSS:\s+(\d+)\s+kB", status, re.M)
    return int(m.group(1)) if m else 0


def tree_rss_mb(pid: int) -> tuple[float, int]:
    """Summed RSS (MiB) of a process and its direct children, and how many processes."""
    pids = [pid, *child_pids(pid)]
    return sum(rss_kib(p) for p in pids) / 1024, len(pids)


# -- databases ---------------------------------------------------------------------------------


def bench_db_name(tag: str) -> str:
    tag = re.sub(r"[^a-z0-9_]", "_", tag.lower())
    return f"{PG_DB_PREFIX}{tag}_{os.getpid()}_{secrets.token_hex(3)}"


def pg_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{dbname}"


@contextmanager
def fresh_pg_database(tag: str) -> Iterator[str]:
    """Create an empty ``relaydesk_bench_*`` database and drop it afterwards, always."""
    import psycopg

    name = bench_db_name(tag)
    if not name.startswith(PG_DB_PREFIX):  # pragma: no cover - guarded by bench_db_name
        raise ValueError(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"created PostgreSQL database {name}")
    try:
        yield pg_url(name)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception as exc:  # Django may not be set up yet
            log(f"(closing Django connections: {exc})")
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped PostgreSQL database {name}")


@contextmanager
def temp_data_dir(prefix: str) -> Iterator[Path]:
    """A temporary RELAYDESK_DATA_DIR (embedded SQLite database, secret), removed after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as d:
        yield Path(d)


def setup_django(data_dir: Path, database_url: str | None) -> None:
    """Point the settings at a throw-away data directory (and database) and set Django up.
    Must run before anything imports ``relaydesk.settings``."""
    if "django.conf" in sys.modules:
        from django.conf import settings

        if settings.configured:
            raise RuntimeError("Django is configured already; call setup_django first")
    os.environ["RELAYDESK_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "relaydesk.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Outbound mail is only queued by what the benches do; never reach a real server.
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def db_vendor() -> str:
    from django.db import connection

    return str(connection.vendor)
