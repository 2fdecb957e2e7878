"""Login with e-mail and password, rate-limited per account and per client address.

Failed attempts are rows in the database, so the limit holds across every web process."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from .models import LoginAttempt


def _keys(request: HttpRequest | None, username: str | None) -> list[str]:
    keys = []
    if username:
        keys.append(f"user:{username.strip().lower()}")
    if request is not None:
        addr = request.META.get("REMOTE_ADDR")
        if addr:
            keys.append(f"ip:{addr}")
    return keys


def too_many_failures(request: HttpRequest | None, username: str | None) -> bool:
    since = timezone.now() - timedelta(seconds=settings.RELAYDESK_LOGIN_WINDOW_S)
    for key in _keys(request, username):
        if LoginAttempt.objects.filter(key=key, at__gte=since).count() >= settings.RELAYDESK_LOGIN_MAX_FAILURES:
            return True
    return False


class RateLimitedBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        username = username or kwargs.get("email")
        if too_many_failures(request, username):
            # PermissionDenied stops Django from trying other backends and counts as a failure.
            raise PermissionDenied("too many failed logins; wait and try again")
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed)
def _record_failure(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    username = credentials.get("username") or credentials.get("email")
    LoginAttempt.objects.bulk_create([LoginAttempt(key=k) for k in _keys(request, username)])
