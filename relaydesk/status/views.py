"""The public status page: no login, server-rendered, no third-party assets, cacheable."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from relaydesk.incidents.models import Incident, IncidentUpdate

from . import data

PAGE_MAX_AGE = 30
FEED_MAX_AGE = 60


def _cache(resp: HttpResponse, max_age: int) -> HttpResponse:
    resp["Cache-Control"] = f"public, max-age={max_age}, stale-while-revalidate={max_age}"
    resp["Vary"] = "Accept-Language"
    return resp


def _lang(request: HttpRequest) -> str:
    return data.pick_language(request.GET.get("lang"), request.headers.get("Accept-Language"))


def _render(request: HttpRequest, template: str, lang: str, **kw: Any) -> HttpResponse:
    """Render in ``lang``; times in the ``?tz=`` zone when it is a real one, else in UTC (a
    small script then shows them in the browser's zone; each <time> keeps its UTC instant)."""
    tz = data.viewer_zone(request.GET.get("tz"))
    extra = {"tz": tz.key} if tz is not None else {}
    ctx = {
        "lang": lang,
        "other_lang": "en" if lang == "zh-Hans" else "zh-Hans",
        "q_lang": urlencode({"lang": lang, **extra}),
        "q_other": urlencode({"lang": "en" if lang == "zh-Hans" else "zh-Hans", **extra}),
        "tz_name": tz.key if tz is not None else "",
        "now": timezone.now().astimezone(UTC),
        **kw,
    }
    with translation.override(data.django_language(lang)), timezone.override(tz or UTC):
        return render(request, template, ctx)


@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    lang = _lang(request)
    cells = data.grid(lang)
    indicator, key = data.overall([c.status for c in cells])
    colour = data.COLOURS[
        {"none": "operational", "maintenance": "under_maintenance", "minor": "degraded_performance",
         "major": "partial_outage", "critical": "major_outage"}[indicator]
    ]
    regions = sorted({(c.region, c.region_name) for c in cells})
    services = sorted({(c.service, c.service_name) for c in cells})
    by_place = {(c.service, c.region): c for c in cells}
    matrix = [
        {"service": name, "cells": [by_place.get((code, r)) for r, _n in regions]}
        for code, name in services
    ]
    for c in cells:
        c.svg = data.bars_svg(c, lang)
        c.uptime_pct = f"{c.uptime * 100:.2f}%" if c.uptime is not None else ""
    resp = _render(
        request,
        "status/index.html",
        lang,
        cells=cells,
        matrix=matrix,
        regions=[{"code": r, "name": n} for r, n in regions],
        incidents=data.active_incidents(lang),
        maintenances=data.maintenances(lang),
        overall_label=data.text(key, lang),
        overall_colour=colour,
    )
    return _cache(resp, PAGE_MAX_AGE)


@require_GET
def incident_history(request: HttpRequest) -> HttpResponse:
    lang = _lang(request)
    resp = _render(request, "status/history.html", lang, incidents=data.history(lang))
    return _cache(resp, PAGE_MAX_AGE)


@require_GET
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    lang = _lang(request)
    inc = Incident.objects.select_related("service", "region").filter(pk=incident_id).first()
    if inc is None:
        raise Http404("no such incident")
    resp = _render(request, "status/incident.html", lang, incident=data.incident_public(inc, lang))
    return _cache(resp, PAGE_MAX_AGE)


@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    """Atom 1.0: one entry per public incident update, newest first."""
    lang = _lang(request)
    base = settings.RELAYDESK_BASE_URL
    updates = list(
        IncidentUpdate.objects.select_related("incident__service", "incident__region").order_by(
            "-created_at", "-id"
        )[:50]
    )
    updated = updates[0].created_at if updates else timezone.now()
    host = base.split("://", 1)[-1].split("/")[0].split(":")[0] or "relaydesk"
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{lang}">',
        f"<title>{escape(data.text('title', lang))}</title>",
        f"<id>tag:{host},2026:status:{lang}</id>",
        f'<link rel="self" href="{escape(base)}/status/feed.atom?lang={lang}"/>',
        f'<link rel="alternate" href="{escape(base)}/status/?lang={lang}"/>',
        f"<updated>{updated.astimezone(UTC).isoformat()}</updated>",
        "<author><name>RelayDesk</name></author>",
    ]
    from relaydesk.incidents.text import word

    for u in updates:
        inc = u.incident
        url = f"{base}/status/incidents/{inc.pk}?lang={lang}"
        title = f"[{word(lang, u.status)}] {inc.title(lang)} — {inc.service.name}, {inc.region.name}"
        out += [
            "<entry>",
            f"<id>tag:{host},2026:incident-update:{u.pk}</id>",
            f"<title>{escape(title)}</title>",
            f'<link rel="alternate" href="{escape(url)}"/>',
            f"<published>{u.created_at.astimezone(UTC).isoformat()}</published>",
            f"<updated>{u.created_at.astimezone(UTC).isoformat()}</updated>",
            f'<content type="text">{escape(u.body(lang))}</content>',
            "</entry>",
        ]
    out.append("</feed>")
    resp = HttpResponse("\n".join(out), content_type="application/atom+xml; charset=utf-8")
    return _cache(resp, FEED_MAX_AGE)
