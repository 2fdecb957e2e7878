"""The `relaydesk` command line: help on every command, admin and token creation."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.test import Client

from relaydesk.cli import COMMANDS
from relaydesk.core.models import APIToken, User


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="relaydesk.settings")
    return subprocess.run([sys.executable, "-m", "relaydesk", *args], capture_output=True, text=True, timeout=120, env=env)


def test_top_level_help_lists_commands() -> None:
    out = _run("--help")
    assert out.returncode == 0
    for name in ("serve", "worker", "migrate", "demo", "createadmin", "token", "check", "mail-in"):
        assert name in out.stdout


@pytest.mark.parametrize("name", [c for c in COMMANDS if c != "manage"])
def test_every_command_has_help(name: str) -> None:
    out = _run(name, "--help")
    assert out.returncode == 0, out.stderr
    assert "usage" in out.stdout.lower()


def test_unknown_command_fails_clearly() -> None:
    out = _run("frobnicate")
    assert out.returncode == 2 and "unknown command" in out.stderr


def test_token_create_help_mentions_scope() -> None:
    out = _run("token", "create", "--help")
    assert out.returncode == 0 and "--scope" in out.stdout


@pytest.mark.django_db
def test_createadmin_non_interactive_and_token(world) -> None:
    call_command("createadmin", "--email", "ops@example.test", "--password", "correct-horse-battery")
    admin = User.objects.get(email="ops@example.test")
    assert admin.is_superuser and admin.is_admin_role
    out = io.StringIO()
    call_command("token", "create", "ops@example.test", "--scope", "tickets:read", "--scope", "admin", stdout=out)
    secret = out.getvalue().strip()
    assert secret.startswith("rdk_")
    tok = APIToken.objects.get(user=admin)
    assert tok.digest != secret and secret not in str(tok.__dict__)
    assert sorted(tok.scopes) == ["admin", "tickets:read"]
    r = Client().get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert r.status_code == 200
    call_command("token", "revoke", tok.key_prefix, stdout=io.StringIO())
    assert Client().get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


@pytest.mark.django_db
def test_createadmin_rejects_bad_input(world) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="e-mail"):
        call_command("createadmin", "--email", "not-an-address", "--password", "correct-horse-battery")
    with pytest.raises(CommandError, match="password"):
        call_command("createadmin", "--email", "x@example.test", "--password", "123")
    with pytest.raises(CommandError, match="admin"):
        call_command("token", "create", world.alice.email, "--scope", "admin")


@pytest.mark.django_db
def test_login_is_rate_limited(world, settings) -> None:
    settings.RELAYDESK_LOGIN_MAX_FAILURES = 3
    c = Client()
    for _ in range(3):
        r = c.post("/admin/login/", {"username": world.admin.email, "password": "wrong"})
        assert r.status_code == 200  # form shown again with an error
    r = c.post("/admin/login/", {"username": world.admin.email, "password": "a-long-test-password"})
    assert "_auth_user_id" not in c.session  # even the right password is refused for now
    settings.RELAYDESK_LOGIN_MAX_FAILURES = 100
    c.post("/admin/login/", {"username": world.admin.email, "password": "a-long-test-password"})
    assert "_auth_user_id" in c.session


def _run_in(data_dir: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, DJANGO_SETTINGS_MODULE="relaydesk.settings", RELAYDESK_DATA_DIR=data_dir, **env)
    full.pop("DATABASE_URL", None)
    full.update(env)
    return subprocess.run([sys.executable, "-m", "relaydesk", *args], capture_output=True, text=True, timeout=300, env=full)


def test_check_reports_an_unmigrated_then_a_current_database(tmp_path) -> None:
    data = str(tmp_path)
    out = _run_in(data, "check")
    assert out.returncode != 0
    assert "unapplied migration" in out.stderr and "relaydesk migrate" in out.stderr
    assert _run_in(data, "migrate", "-v", "0").returncode == 0
    out = _run_in(data, "check")
    assert out.returncode == 0, out.stderr
    assert "reachable" in out.stdout and "schema current" in out.stdout


def test_check_fails_clearly_when_the_database_cannot_be_reached(tmp_path) -> None:
    out = _run_in(str(tmp_path), "check", DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere")
    assert out.returncode != 0
    assert "cannot be reached" in out.stderr and "DATABASE_URL" in out.stderr
    # the configuration-only mode does not touch the database
    assert _run_in(str(tmp_path), "check", "--skip-database", DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere").returncode == 0


@pytest.mark.django_db
def test_createadmin_interactive_asks_twice_and_validates(world, monkeypatch) -> None:
    from django.core.management.base import CommandError

    answers = iter(["a-long-admin-passphrase", "a-long-admin-passphrase"])
    monkeypatch.setattr("builtins.input", lambda prompt="": "night-ops@example.test")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    out = io.StringIO()
    call_command("createadmin", stdout=out)
    admin = User.objects.get(email="night-ops@example.test")
    assert admin.is_superuser and admin.check_password("a-long-admin-passphrase")
    assert "created" in out.getvalue()
    # typed differently the second time: nothing created
    answers = iter(["a-long-admin-passphrase", "a-long-admin-passphrasf"])
    monkeypatch.setattr("builtins.input", lambda prompt="": "second@example.test")
    with pytest.raises(CommandError, match="do not match"):
        call_command("createadmin")
    # too weak: refused with the validator's reason
    answers = iter(["abc", "abc"])
    with pytest.raises(CommandError, match="--password"):
        call_command("createadmin")
    assert not User.objects.filter(email="second@example.test").exists()
