"""Settings come from the environment: database, secret key, hosts, debug."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.db import connection
out = {"secret": settings.SECRET_KEY, "debug": settings.DEBUG, "hosts": settings.ALLOWED_HOSTS,
       "engine": settings.DATABASES["default"]["ENGINE"], "name": str(settings.DATABASES["default"]["NAME"]),
       "tz": settings.TIME_ZONE, "use_tz": settings.USE_TZ}
if connection.vendor == "sqlite":
    with connection.cursor() as c:
        c.execute("PRAGMA journal_mode")
        out["journal"] = c.fetchone()[0]
print(json.dumps(out))
"""


def _probe(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "DEBUG", "RELAYDESK_ENV", "ALLOWED_HOSTS")}
    base.update({"RELAYDESK_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "relaydesk.settings", **env})
    return subprocess.run([sys.executable, "-c", PROBE], env=base, capture_output=True, text=True, timeout=60)


def test_defaults_sqlite_wal_utc_no_debug_and_a_stored_secret(tmp_path) -> None:
    first = _probe(tmp_path)
    assert first.returncode == 0, first.stderr
    a = json.loads(first.stdout)
    assert a["engine"] == "relaydesk.core.dbbackends.sqlite" and a["name"].startswith(str(tmp_path))
    assert a["journal"] == "wal"
    assert a["debug"] is False and a["tz"] == "UTC" and a["use_tz"] is True
    assert len(a["secret"]) >= 50
    b = json.loads(_probe(tmp_path).stdout)
    assert b["secret"] == a["secret"], "the generated secret key must be kept for the next start"
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_requires_a_secret_key(tmp_path) -> None:
    r = _probe(tmp_path, RELAYDESK_ENV="production")
    assert r.returncode != 0 and "SECRET_KEY must be set" in r.stderr
    ok = _probe(tmp_path, RELAYDESK_ENV="production", SECRET_KEY="x" * 60)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["secret"] == "x" * 60


def test_database_url_hosts_and_debug_from_environment(tmp_path) -> None:
    r = _probe(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        ALLOWED_HOSTS="support.example.com, status.example.com",
        DEBUG="1",
    )
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["engine"] == "django.db.backends.postgresql" and s["name"] == "test"
    assert s["hosts"] == ["support.example.com", "status.example.com"]
    assert s["debug"] is True
