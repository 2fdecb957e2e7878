"""Helpers of the web page tests: logged-in clients and tickets filed through the real
services. (The project catalogs come from settings.LOCALE_PATHS.)"""

from __future__ import annotations

from typing import Any

from django.test import Client

from relaydesk.core.models import User
from relaydesk.tickets import services


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def file_ticket(user: User, subject: str = "Audio drops in Singapore", **kw: Any) -> Any:
    return services.create_ticket(actor=user, requester=user, subject=subject,
                                  description=kw.pop("description", "Users hear gaps."), **kw)
