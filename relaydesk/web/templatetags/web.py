"""Template filters of the web pages: times in the viewer's zone and language."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import pgettext

from relaydesk.web.common import duration_words, when_words

register = template.Library()


@register.filter
def stamp(value: datetime | None) -> str:
    """A full local date and time, e.g. '20 Nov 2026, 14:00' / '2026年11月20日 14:00'."""
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), pgettext("date and time", "j M Y, H:i"))


@register.filter
def when(value: datetime | None) -> str:
    return when_words(value)


@register.filter
def duration(seconds: int | float | None) -> str:
    return "" if seconds is None else duration_words(seconds)


@register.inclusion_tag("web/oncall/_presence_form.html", takes_context=True)
def presence_form(context: template.Context) -> dict[str, object]:
    """The agent's own presence as a small form in the header (a change submits at once)."""
    from relaydesk.web.oncall import my_presence, presence_choices

    return {
        "profile": my_presence(context["user"]),
        "presences": presence_choices(),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
