"""Article images, served by RelayDesk itself with the same access check as the article."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest

from . import services
from .models import Image


def image(request: HttpRequest, image_id: int, name: str) -> FileResponse:
    img = Image.objects.filter(pk=image_id).first()
    user = getattr(request, "user", None)
    reader = user if user is not None and user.is_authenticated else None
    if img is None or img.filename != name:
        raise Http404("image not found")
    if img.article_id is None:
        allowed = services.is_staff(reader)  # not attached yet: only staff see it
    else:
        allowed = services.visible_articles(reader).filter(pk=img.article_id).exists()
    if not allowed:
        raise Http404("image not found")
    resp = FileResponse(img.file.open("rb"), content_type=img.content_type)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp["Cache-Control"] = "private, max-age=3600"
    return resp
