"""The portal page of the self-diagnosis: a form (region, service, window, app ID, channel)
and the answer — verdict, metrics against the usual level, incidents, the organisation's
own footprint, articles and a pre-filled "file a ticket" link. Customers only (their own
organisation); staff use the console's telemetry page or the API with ``organisation=``.

``form_context`` is the form handling both pages share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from relaydesk.core.models import Region, Service, User
from relaydesk.web.common import page

from . import diagnosis

FIELDS = ("region", "service", "start", "end", "app_id", "channel")


def form_context(
    request: HttpRequest, fields: Iterable[str], asks: Iterable[str]
) -> tuple[dict[str, Any], int]:
    """The page context of a diagnosis form over ``request.GET`` and its HTTP status: the
    form's ``values`` (each ``fields`` entry, trimmed), the words in the reader's language,
    regions and services to choose from, and — once any of ``asks`` is filled in — the
    ``result`` (a :class:`diagnosis.Diagnosis`) or the ``error`` naming its field (400, or
    404 for an organisation the reader may not see)."""
    user = request.user
    assert isinstance(user, User)
    lang = diagnosis.language(None, user)
    values = {k: request.GET.get(k, "").strip()[:200] for k in fields}
    ctx: dict[str, Any] = {
        "w": diagnosis.WORDS[lang],
        "values": values,
        "regions": Region.objects.order_by("name"),
        "services": Service.objects.order_by("code"),
        "error": None,
        "result": None,
    }
    status = 200
    if any(values.get(k) for k in asks):
        try:
            ctx["result"] = diagnosis.run(user, values, lang)
        except diagnosis.DiagnosisError as exc:
            ctx["error"] = exc
            status = 404 if exc.status == 404 else 400
    return ctx, status


@page(User.KIND_CUSTOMER)
def diagnosis_page(request: HttpRequest) -> HttpResponse:
    ctx, status = form_context(request, FIELDS, ("region", "start", "end", "channel"))
    return render(request, "kb/diagnosis.html", ctx, status=status)
