"""The portal page of the self-diagnosis: a form (region, service, window, app ID, channel)
and the answer — verdict, metrics against the usual level, incidents, the organisation's
own footprint, articles and a pre-filled "file a ticket" link. Customers only (their own
organisation); staff use the API with ``organisation=``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from relaydesk.core.models import Region, Service, User
from relaydesk.web.common import page

from . import diagnosis

FIELDS = ("region", "service", "start", "end", "app_id", "channel")


@page(User.KIND_CUSTOMER)
def diagnosis_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    lang = diagnosis.language(None, user)
    values = {k: request.GET.get(k, "").strip()[:200] for k in FIELDS}
    ctx: dict[str, Any] = {
        "w": diagnosis.WORDS[lang],
        "values": values,
        "regions": Region.objects.order_by("name"),
        "services": Service.objects.order_by("code"),
        "error": None,
        "result": None,
    }
    status = 200
    if any(values[k] for k in ("region", "start", "end", "channel")):
        try:
            q = diagnosis.build_query(
                user,
                region=values["region"],
                service=values["service"],
                start=values["start"],
                end=values["end"],
                app_id=values["app_id"],
                channel=values["channel"],
            )
            ctx["result"] = diagnosis.diagnose(user, q, lang)
        except diagnosis.DiagnosisError as exc:
            ctx["error"] = exc
            status = 404 if exc.status == 404 else 400
    return render(request, "kb/diagnosis.html", ctx, status=status)
