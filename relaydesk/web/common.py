"""What every page shares: who may see it, the viewer's language and time zone, and the
words for times and durations."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from relaydesk.core.models import User

View = Callable[..., HttpResponse]

# User.language uses "zh-Hans"; Django's language codes are lower case.
SUPPORTED = {code.lower() for code, _name in settings.LANGUAGES}


def django_language(code: str | None) -> str:
    value = (code or "").lower()
    return value if value in SUPPORTED else settings.LANGUAGE_CODE


def user_language(code: str) -> str:
    """The User.language value for a Django language code."""
    return {"zh-hans": "zh-Hans"}.get(code.lower(), "en")


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def viewer_zone(user: Any) -> zoneinfo.ZoneInfo:
    return zone(getattr(user, "timezone", "") or "UTC")


def home_for(user: Any) -> str:
    if not getattr(user, "is_authenticated", False):
        return reverse("web:login")
    if user.kind == User.KIND_CUSTOMER:
        return reverse("web:portal")
    if user.kind == User.KIND_STAFF:
        return reverse("web:console")
    return reverse("web:login")


def page(kind: str) -> Callable[[View], View]:
    """A page for one kind of user ("customer" or "staff"): anonymous visitors go to the
    login page, the other kind gets 403. The page speaks the viewer's language and shows
    times in the viewer's time zone."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated or not user.is_active:
                return redirect_to_login(request.get_full_path(), reverse("web:login"))
            if user.kind != kind:  # type: ignore[union-attr]
                if kind == User.KIND_CUSTOMER and user.kind == User.KIND_STAFF:  # type: ignore[union-attr]
                    return redirect("web:console")
                raise PermissionDenied(_("This page is for support staff only."))
            lang = django_language(user.language)  # type: ignore[union-attr]
            translation.activate(lang)
            request.LANGUAGE_CODE = lang  # type: ignore[attr-defined]
            timezone.activate(viewer_zone(user))
            try:
                return view(request, *args, **kwargs)
            finally:
                timezone.deactivate()

        return inner

    return wrap


# -- words for time ----------------------------------------------------------------------------


def duration_words(seconds: int | float) -> str:
    """'2 h 10 min', '3 d 4 h', '45 min', '< 1 min' (in the active language)."""
    total = int(abs(seconds)) // 60
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return ngettext("%(m)d min", "%(m)d min", minutes) % {"m": minutes}
    return _("less than 1 min")


def when_words(value: datetime | None, now: datetime | None = None) -> str:
    """A local time for people: '14:30' today, 'Thu 27 Nov, 14:30' another day."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localtime(now or timezone.now()).date()
    if local.date() == today:
        return formats.time_format(local, pgettext("time of day", "H:i"))
    if local.year == today.year:
        # Translators: a PHP-style date format (see Django's date filter) for a day this year.
        return formats.date_format(local, pgettext("day and time", "D j M, H:i"))
    return formats.date_format(local, pgettext("day and time with year", "D j M Y, H:i"))


def query_string(params: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})
