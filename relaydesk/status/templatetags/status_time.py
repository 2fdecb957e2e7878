"""``{% at value %}``: an instant on the status page as ``<time datetime="…UTC…">`` showing the
viewer's zone (the ``?tz=`` zone, else UTC, which the page's script turns into the browser's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def at(context: Any, value: datetime | None) -> str:
    if value is None:
        return ""
    utc = value.astimezone(UTC)
    local = timezone.localtime(value)
    zone = context.get("tz_name") or "UTC"
    return format_html(
        '<time datetime="{}" data-local>{} {}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"), local.strftime("%Y-%m-%d %H:%M"), zone,
    )
