"""Staff pages of the demo mail sink: what the demo's SMTP sink received, newest first, and
one message with its threading headers and text body."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from relaydesk.web.common import page

from . import mailsink

PAGE_SIZE = 50

# OutboundEmail.kind -> what the page calls it (unknown kinds show their code).
KIND_LABELS = {
    "auto_ack": gettext_lazy("Acknowledgement"),
    "agent_reply": gettext_lazy("Agent reply"),
    "customer_reply": gettext_lazy("Customer reply copy"),
    "solved": gettext_lazy("Ticket solved"),
    "incident_notice": gettext_lazy("Incident notice"),
    "incident_key_account": gettext_lazy("Key-account alert"),
    "key_account": gettext_lazy("Key-account alert"),
    "page": gettext_lazy("On-call page"),
    "webhook_disabled": gettext_lazy("Webhook disabled"),
}

DETAIL_HEADERS = (
    "Date",
    "From",
    "To",
    "Cc",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "X-RelayDesk-Ticket",
)


def store() -> mailsink.MailStore:
    return mailsink.MailStore(mailsink.store_path(settings.DATA_DIR), keep=keep_setting())


def keep_setting() -> int:
    try:
        value = int(os.environ.get("RELAYDESK_DEMO_MAIL_KEEP", ""))
    except ValueError:
        return mailsink.DEFAULT_KEEP
    return value if 1 <= value <= mailsink.MAX_KEEP else mailsink.DEFAULT_KEEP


def _kinds(message_ids: list[str]) -> dict[str, str]:
    """Message-ID -> outbox kind, for the mail the product sent (others have none)."""
    from relaydesk.notify.models import OutboundEmail

    wanted = [m for m in message_ids if m]
    if not wanted:
        return {}
    return dict(
        OutboundEmail.objects.filter(message_id__in=wanted).values_list("message_id", "kind")
    )


def kind_label(kind: str) -> str:
    if not kind:
        return "—"
    return str(KIND_LABELS.get(kind, kind))


def _rows(messages: list[mailsink.StoredMessage]) -> list[dict[str, Any]]:
    kinds = _kinds([m.message_id for m in messages])
    return [
        {
            "m": m,
            "kind": kinds.get(m.message_id, ""),
            "kind_label": kind_label(kinds.get(m.message_id, "")),
        }
        for m in messages
    ]


def _before(request: HttpRequest) -> int | HttpResponse | None:
    raw = request.GET.get("before", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        return HttpResponseBadRequest(
            _("“before” must be a positive message number, got “%(value)s”.") % {"value": raw[:40]},
            content_type="text/plain; charset=utf-8",
        )
    return int(raw)


def _list_context(before: int | None) -> dict[str, Any]:
    s = store()
    messages = s.latest(limit=PAGE_SIZE + 1, before=before)
    more = len(messages) > PAGE_SIZE
    messages = messages[:PAGE_SIZE]
    total = s.count()
    summary = ngettext(
        "It holds %(n)s message (keeps the newest %(keep)s).",
        "It holds %(n)s messages (keeps the newest %(keep)s).",
        total,
    ) % {"n": total, "keep": s.keep}
    return {
        "rows": _rows(messages),
        "older": messages[-1].id if more else None,
        "before": before,
        "total": total,
        "summary": summary,
        "keep": s.keep,
        "sink": mailsink.active_address(),
        "store_path": s.path,
    }


@page("staff")
def mail_list(request: HttpRequest) -> HttpResponse:
    before = _before(request)
    if isinstance(before, HttpResponse):
        return before
    return render(request, "demo/mail_list.html", _list_context(before))


@page("staff")
def mail_rows(request: HttpRequest) -> HttpResponse:
    """The newest rows only (the list page polls this to stay current)."""
    return render(request, "demo/_mail_rows.html", _list_context(None))


@page("staff")
def mail_detail(request: HttpRequest, number: int) -> HttpResponse:
    s = store()
    m = s.get(number)
    if m is None:
        raise Http404(
            _("No message #%(number)s in the demo mail sink (it keeps only the newest %(keep)s).")
            % {"number": number, "keep": s.keep}
        )
    parsed = m.parsed()
    headers = []
    for name in DETAIL_HEADERS:
        values = parsed.get_all(name) or []
        for value in values:
            headers.append((name, " ".join(str(value).split())))
    kind = _kinds([m.message_id]).get(m.message_id, "")
    parent = s.find(m.in_reply_to) if m.in_reply_to else None
    ticket = parsed.get("X-RelayDesk-Ticket", "")
    return render(
        request,
        "demo/mail_detail.html",
        {
            "m": m,
            "headers": headers,
            "kind": kind,
            "kind_label": kind_label(kind),
            "body": m.text_body(),
            "parent": parent,
            "ticket_id": int(ticket) if str(ticket).strip().isdigit() else None,
            "sink": mailsink.active_address(),
        },
    )


@page("staff")
def mail_raw(request: HttpRequest, number: int) -> HttpResponse:
    m = store().get(number)
    if m is None:
        raise Http404(_("No message #%(number)s in the demo mail sink.") % {"number": number})
    resp = HttpResponse(m.raw, content_type="message/rfc822")
    resp["Content-Disposition"] = f'attachment; filename="demo-mail-{m.id}.eml"'
    return resp
