"""Knowledge-base fixtures: the small fixture content in tests/kb/content loaded through the
real loader into the test database (SQLite or PostgreSQL, whichever the run uses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relaydesk.kb import loader
from relaydesk.kb.models import Article

CONTENT = Path(__file__).resolve().parent / "content"


@pytest.fixture
def kb(world: Any) -> dict[str, Article]:
    report = loader.load(CONTENT, strict=True)
    assert report.errors == []
    return {a.slug: a for a in Article.objects.all()}
