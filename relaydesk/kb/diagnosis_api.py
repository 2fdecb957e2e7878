"""Self-diagnosis API: ``GET /api/v1/diagnosis`` (mount with ``api.add_router("/v1", router)``).

Authentication required (token or session). Customers diagnose their own organisation
(another one's id answers 404); staff name the organisation (``organisation=``) among those
they may see. Bad input answers 422 with the field named; nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError

from relaydesk.api.auth import SessionAuth, TokenAuth, current_user

from . import diagnosis

router = Router(tags=["kb"], auth=[TokenAuth(), SessionAuth()])


@router.get(
    "/diagnosis",
    summary="Self-diagnosis: is it us or the network? (region quality vs the usual level, incidents, my footprint, verdict)",
)
def get_diagnosis(
    request: HttpRequest,
    region: str | None = None,
    service: str | None = None,
    start: str | None = None,
    end: str | None = None,
    app_id: str | None = None,
    channel: str | None = None,
    organisation: int | None = None,
    lang: str | None = None,
) -> dict[str, Any]:
    user = current_user(request)
    if lang not in (None, "", *diagnosis.LANGS):
        raise HttpError(422, f"lang: must be one of {', '.join(diagnosis.LANGS)}")
    params = {
        "organisation": organisation,
        "region": region,
        "service": service,
        "start": start,
        "end": end,
        "app_id": app_id,
        "channel": channel,
    }
    try:
        return diagnosis.as_json(diagnosis.run(user, params, lang))
    except diagnosis.DiagnosisError as exc:
        raise HttpError(exc.status, str(exc)) from None
