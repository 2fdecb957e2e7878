"""Add the visibility token (``xv<visibility>``) to every translation's search scope, so a
search can be narrowed to one visibility inside the index (``services.scope_tokens``).

Only the scope column is rewritten; on SQLite the FTS triggers carry the change into
``kb_search``, on PostgreSQL the generated tsvector follows by itself.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def add_token(apps: Any, schema_editor: Any) -> None:
    Translation = apps.get_model("kb", "Translation")
    for tr in Translation.objects.select_related("article").iterator(chunk_size=500):
        tokens = [t for t in tr.search_scope.split() if not t.startswith("xv")]
        tokens.append(f"xv{tr.article.visibility}")
        scope = " ".join(tokens)
        if scope != tr.search_scope:
            Translation.objects.filter(pk=tr.pk).update(search_scope=scope)


class Migration(migrations.Migration):
    dependencies = [("kb", "0002_fulltext")]

    operations = [migrations.RunPython(add_token, migrations.RunPython.noop)]
