"""Public status subscriptions on the web: the subscribe form (``/status/subscribe``), the
confirmation page behind the e-mailed link, and the one-click unsubscribe link of every
notice. No login; nothing here is cached; the words go through gettext (the status app's
own catalogue). The logic lives in ``relaydesk.incidents.subscribers``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from relaydesk.incidents import subscribers
from relaydesk.incidents.models import Component

from . import data


def _lang(request: HttpRequest) -> str:
    return data.pick_language(
        request.POST.get("lang") or request.GET.get("lang"), request.headers.get("Accept-Language")
    )


def _page(request: HttpRequest, lang: str, state: str, status: int = 200, **kw: Any) -> HttpResponse:
    ctx = {"lang": lang, "other_lang": "en" if lang == "zh-Hans" else "zh-Hans", "state": state, **kw}
    with translation.override("zh-hans" if lang == "zh-Hans" else "en"):
        resp = render(request, "status/subscribe.html", ctx, status=status)
    resp["Cache-Control"] = "no-store"
    resp["Vary"] = "Accept-Language, Cookie"
    return resp


def _components() -> list[dict[str, str]]:
    return [
        {"code": f"{c.service.code}/{c.region.code}", "name": f"{c.service.name} · {c.region.name}"}
        for c in Component.objects.select_related("service", "region").order_by(
            "service__code", "region__code"
        )
    ]


@require_http_methods(["GET", "POST"])
def subscribe_page(request: HttpRequest) -> HttpResponse:
    lang = _lang(request)
    if request.method == "GET":
        return _page(request, lang, "form", components=_components(), values={"language": lang})
    form = request.POST
    scope = form.get("scope", "all")
    values = {
        "email": form.get("email", ""),
        "language": form.get("language", lang),
        "components": form.getlist("components") if scope == "some" else [],
        "webhook_url": form.get("webhook_url", ""),
        "webhook_secret": form.get("webhook_secret", ""),
    }
    try:
        if scope == "some" and not values["components"]:
            raise subscribers.SubscribeError("choose at least one", "components")
        subscribers.subscribe(client=request.META.get("REMOTE_ADDR"), **values)
    except subscribers.SubscribeError as exc:
        shown = {**values, "webhook_secret": "", "scope": scope}
        with translation.override("zh-hans" if lang == "zh-Hans" else "en"):
            error = exc.localized()
        return _page(
            request, lang, "form", status=422, components=_components(), values=shown,
            error_field=exc.field, error=error,
        )
    except subscribers.RateLimited:
        return _page(request, lang, "limited", status=429)
    return _page(request, lang, "sent", status=202)


@require_http_methods(["GET", "POST"])
def confirm_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (a mail scanner following links must not confirm); POST confirms."""
    lang = _lang(request)
    if request.method == "GET":
        return _page(request, lang, "confirm", token=token)
    sub = subscribers.confirm(token)
    if sub is None:
        return _page(request, lang, "bad_link", status=400)
    return _page(request, sub.language, "confirmed", components=sub.components)


@csrf_exempt  # a signed link is the whole authority; mail clients POST it for one-click unsubscribe
@require_http_methods(["GET", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    lang = _lang(request)
    sub = subscribers.unsubscribe(token)
    if sub is None:
        return _page(request, lang, "bad_link", status=400)
    return _page(request, sub.language if "lang" not in request.GET else lang, "unsubscribed")
