"""The full-text index over the normalised search columns, in the database's own engine.

SQLite: an FTS5 external-content table over kb_translation, kept in step by triggers (so
every write path, bulk or not, updates it), plus an fts5vocab view for typo correction. The
fourth column, search_scope, holds who-may-see-it tokens so filters run inside the index.
PostgreSQL: a stored generated tsvector (title weight A, tags B, body D, plus the scope
tokens) with a GIN index.
The terms are already segmented and stemmed by relaydesk.kb.text, so both use plain
whitespace tokenisation ('unicode61' / 'simple').
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SQLITE_UP = [
    """CREATE VIRTUAL TABLE kb_search USING fts5(
        search_title, search_tags, search_body, search_scope,
        content='kb_translation', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
    """CREATE TRIGGER kb_search_ai AFTER INSERT ON kb_translation BEGIN
        INSERT INTO kb_search(rowid, search_title, search_tags, search_body, search_scope)
        VALUES (new.id, new.search_title, new.search_tags, new.search_body, new.search_scope);
    END""",
    """CREATE TRIGGER kb_search_ad AFTER DELETE ON kb_translation BEGIN
        INSERT INTO kb_search(kb_search, rowid, search_title, search_tags, search_body, search_scope)
        VALUES ('delete', old.id, old.search_title, old.search_tags, old.search_body, old.search_scope);
    END""",
    """CREATE TRIGGER kb_search_au AFTER UPDATE OF search_title, search_tags, search_body, search_scope
        ON kb_translation BEGIN
        INSERT INTO kb_search(kb_search, rowid, search_title, search_tags, search_body, search_scope)
        VALUES ('delete', old.id, old.search_title, old.search_tags, old.search_body, old.search_scope);
        INSERT INTO kb_search(rowid, search_title, search_tags, search_body, search_scope)
        VALUES (new.id, new.search_title, new.search_tags, new.search_body, new.search_scope);
    END""",
    "CREATE VIRTUAL TABLE kb_search_vocab USING fts5vocab(kb_search, 'col')",
]
SQLITE_DOWN = [
    "DROP TABLE IF EXISTS kb_search_vocab",
    "DROP TRIGGER IF EXISTS kb_search_au",
    "DROP TRIGGER IF EXISTS kb_search_ad",
    "DROP TRIGGER IF EXISTS kb_search_ai",
    "DROP TABLE IF EXISTS kb_search",
]
PG_UP = [
    """ALTER TABLE kb_translation ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, search_title), 'A')
        || setweight(to_tsvector('simple'::regconfig, search_tags), 'B')
        || setweight(to_tsvector('simple'::regconfig, search_body), 'D')
        || to_tsvector('simple'::regconfig, search_scope)) STORED""",
    # Keep the vector in the row (compressed) rather than out-of-line: ts_rank reads it for
    # every ranked row, and the long text columns are moved out first.
    "ALTER TABLE kb_translation ALTER COLUMN search_vector SET STORAGE MAIN",
    # fastupdate off: no pending list that every query would scan after a bulk load.
    "CREATE INDEX kb_translation_search ON kb_translation USING gin (search_vector) WITH (fastupdate = off)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS kb_translation_search",
    "ALTER TABLE kb_translation DROP COLUMN IF EXISTS search_vector",
]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": PG_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}),
        )
    ]
