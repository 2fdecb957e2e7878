"""Web pages of routing: acknowledge/resolve a page by signed link, iCal feeds by signed URL.

The signed value is the credential (a pager's phone or a calendar app sends no session), so
these views need no login; GET never changes anything, the button POSTs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt

from . import calendars, paging
from .models import Page

_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>Ticket #{number} ({priority}) from {org}: {subject}</p><p>Page status: <strong>{status}</strong></p>
<form method="post"><button type="submit">{button}</button></form></body></html>"""
_DONE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>Ticket #{number}: the page is now <strong>{status}</strong>.</p></body></html>"""


@csrf_exempt
def page_action(request: HttpRequest, signed: str) -> HttpResponse:
    try:
        n, action = paging.read_link(signed)
    except (signing.BadSignature, Page.DoesNotExist, paging.PageNotification.DoesNotExist, KeyError, ValueError):
        return HttpResponse("This link is invalid or has expired.", status=404, content_type="text/plain")
    page, ticket = n.page, n.page.ticket
    button = "Acknowledge" if action == "ack" else "Resolve"
    if request.method == "GET":
        return HttpResponse(
            format_html(_FORM, title=f"{button} page", number=ticket.number, priority=ticket.priority,
                        org=str(ticket.organisation), subject=ticket.subject, status=page.status, button=button)
        )
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    if action == "ack":
        page = paging.acknowledge(page, n.user, via="link")
    else:
        page = paging.resolve(page, n.user, via="link")
    return HttpResponse(format_html(_DONE, title=f"{button}d", number=ticket.number, status=page.status))


def ical_feed(request: HttpRequest, signed: str) -> HttpResponse:
    try:
        data = signing.loads(signed, salt=calendars.FEED_SALT)
        kind, pk = str(data["k"]), int(data["id"])
    except (signing.BadSignature, KeyError, ValueError, TypeError):
        return HttpResponse("This feed link is invalid.", status=404, content_type="text/plain")
    now = datetime.now(UTC)
    body = calendars.ical(kind, pk, now - timedelta(days=7), now + timedelta(days=35))
    if body is None:
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")
