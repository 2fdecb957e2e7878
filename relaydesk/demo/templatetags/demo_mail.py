"""``{% demo_mail_link %}``: the console's navigation link to the demo mail sink, shown to
staff only while ``relaydesk demo`` runs its sink (nothing otherwise)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from relaydesk.demo import mailsink

register = template.Library()


@register.simple_tag(takes_context=True)
def demo_mail_link(context: Any) -> SafeString | str:
    user = context.get("user")
    if not mailsink.active_address() or user is None or getattr(user, "kind", "") != "staff":
        return ""
    return format_html(
        '<a href="{}" id="nav-demo-mail">{}</a>', reverse("demo:mail"), _("Demo mail")
    )
