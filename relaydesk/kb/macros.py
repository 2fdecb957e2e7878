"""Solution templates (macros): a tiny substitution engine over an allow-listed context.

Only ``{{ name.part }}`` placeholders from ``PLACEHOLDERS`` are replaced, by plain string
lookup in a flat dict; nothing is evaluated, no attribute of any object is read, no filter or
tag exists. ``{%`` blocks and malformed ``{{ … }}`` are refused, so a template cannot smuggle in
code for another engine later. Pure module (no Django): the context is built by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDERS: dict[str, str] = {
    "customer.name": "the requester's name",
    "customer.email": "the requester's e-mail address",
    "customer.organisation": "the requester's organisation",
    "agent.name": "the agent applying the template",
    "ticket.number": "the ticket number",
    "ticket.subject": "the ticket subject",
    "ticket.region": "the ticket's region name",
    "ticket.priority": "the ticket priority (P1–P4)",
    "ticket.app_id": "the customer's app ID from the ticket",
    "ticket.channel_name": "the channel/room name from the ticket",
    "ticket.sdk": "the SDK named on the ticket",
    "ticket.sdk_version": "the SDK version named on the ticket",
    "ticket.platform": "the platform named on the ticket",
    "incident.url": "the status page link of the linked incident",
    "incident.title": "the title of the linked incident",
}

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")
MAX_BODY = 20_000


class TemplateError(ValueError):
    """A template that cannot be rendered; ``placeholder`` names the culprit if any."""

    def __init__(self, message: str, placeholder: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.placeholder = placeholder


def placeholders(body: str) -> list[str]:
    """The placeholders a body uses, in order of first use; raises for anything not allowed."""
    if len(body) > MAX_BODY:
        raise TemplateError(f"template body longer than {MAX_BODY} characters")
    if "{%" in body or "%}" in body:
        raise TemplateError("template tags ({% … %}) are not supported; use {{ placeholder }} only")
    found: list[str] = []
    for m in _PLACEHOLDER.finditer(body):
        name = m.group(1)
        if not _NAME.match(name):
            raise TemplateError(
                f"unknown placeholder '{{{{ {name} }}}}': only plain names such as "
                "{{ customer.name }} are allowed",
                placeholder=name,
            )
        if name not in PLACEHOLDERS:
            raise TemplateError(
                f"unknown placeholder '{{{{ {name} }}}}'; known: {', '.join(sorted(PLACEHOLDERS))}",
                placeholder=name,
            )
        if name not in found:
            found.append(name)
    rest = _PLACEHOLDER.sub("", body)
    if "{{" in rest or "}}" in rest:
        raise TemplateError("unbalanced '{{' or '}}' in template")
    return found


def render(body: str, context: Mapping[str, str | None]) -> str:
    """The body with each placeholder replaced by its value from ``context``.

    Raises ``TemplateError`` for an unknown placeholder, or for a known one the context has
    no value for (e.g. ``incident.url`` on a ticket without an incident)."""
    used = placeholders(body)
    for name in used:
        value = context.get(name)
        if value is None or value == "":
            raise TemplateError(
                f"placeholder '{{{{ {name} }}}}' has no value for this ticket", placeholder=name
            )

    def sub(m: re.Match[str]) -> str:
        value = context.get(m.group(1))
        return str(value)

    return _PLACEHOLDER.sub(sub, body)
